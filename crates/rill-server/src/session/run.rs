//! A running generation: the provider's stream, and who pulls it.
//!
//! A stream with one reader is pulled by that reader, in its own poll: an event costs one
//! task wake-up, the reader's, from the provider's socket to the client's. A driver task
//! takes the stream over when that stops sufficing: a second reader arrives (each must
//! read at its own pace, and none may slow the generation for the others), or the only
//! reader leaves a resumable stream (it must go on without anyone). Either way every
//! event is appended to the log first, so a resume replays it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, EventStream, StreamEvent};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use rill_ledger::Outcome;

use super::hub::Hub;
use super::store::SessionLog;
use crate::account::Stopped;

pub(super) struct Run {
    pub(super) log: Arc<dyn SessionLog>,
    slot: Mutex<Slot>,
    subscribers: AtomicUsize,
    /// A disconnect waits for a resume (the grace period) instead of cancelling.
    pub(super) resumable: bool,
    /// Stops a driver task (a reader that pulls checks the slot instead).
    stop: CancellationToken,
    /// Told why the generation was stopped, before its stream is dropped.
    stopped: Stopped,
    /// The error a stopped generation's log ends with (a cancel's when `None`).
    ending: Mutex<Option<Error>>,
    /// The log is a session's, kept in the hub's store for its replay window once
    /// complete; not a flight's (which is dropped with its last reader).
    in_store: bool,
}

/// Who has the provider's stream.
enum Slot {
    /// The one reader pulls it; `puller` is its waker while the stream has nothing, to
    /// be woken should a driver take over.
    Pull {
        stream: EventStream,
        puller: Option<Waker>,
    },
    Driven,
    Done,
}

/// What a reader's pull did.
pub(super) enum Pulled {
    /// The log changed: read it.
    Changed,
    /// Nothing yet; the reader is woken when there is.
    Pending,
    /// The stream is not the reader's to pull: follow the log.
    NotMine,
}

impl Run {
    pub(super) fn new(
        log: Arc<dyn SessionLog>,
        stream: EventStream,
        resumable: bool,
        stopped: Stopped,
        in_store: bool,
    ) -> Self {
        Self {
            in_store,
            log,
            slot: Mutex::new(Slot::Pull {
                stream,
                puller: None,
            }),
            subscribers: AtomicUsize::new(0),
            resumable,
            stop: CancellationToken::new(),
            stopped,
            ending: Mutex::new(None),
        }
    }

    pub(super) fn id(&self) -> &str {
        &self.log.meta().id
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A reader arrived; returns how many there are now.
    pub(super) fn subscribed(&self) -> usize {
        self.subscribers.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// A reader arrived, unless every reader had left already (the generation is then
    /// stopping): returns how many there are now.
    pub(super) fn try_subscribed(&self) -> Option<usize> {
        self.subscribers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > 0).then_some(n + 1)
            })
            .ok()
            .map(|n| n + 1)
    }

    /// A reader left; returns how many remain.
    pub(super) fn unsubscribed(&self) -> usize {
        self.subscribers.fetch_sub(1, Ordering::SeqCst) - 1
    }

    pub(super) fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::SeqCst)
    }

    /// The next event, pulled by the reader polling with `cx`, if the stream is its.
    pub(super) fn pull(
        &self,
        hub: &Hub,
        cx: &mut Context<'_>,
        abort: &mut Pin<Box<WaitForCancellationFutureOwned>>,
    ) -> Pulled {
        let mut slot = self.lock();
        let Slot::Pull { stream, puller } = &mut *slot else {
            return Pulled::NotMine;
        };
        let outcome = match stream.poll_next_unpin(cx) {
            Poll::Ready(Some(StreamEvent::Error(error))) => Some(error),
            Poll::Ready(Some(event)) => {
                self.log.append(event);
                return Pulled::Changed;
            }
            Poll::Ready(None) => None,
            Poll::Pending => {
                if abort.as_mut().poll(cx).is_pending() {
                    // The same reader polls every time: clone its waker only once.
                    if !puller.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *puller = Some(cx.waker().clone());
                    }
                    return Pulled::Pending;
                }
                self.stopped.set(Outcome::Shutdown);
                Some(shutting_down())
            }
        };
        self.conclude(hub, slot, outcome);
        Pulled::Changed
    }

    /// Hands the stream to a driver task on `hub`, if a reader was pulling it.
    pub(super) fn hand_off(self: &Arc<Self>, hub: &Arc<Hub>) {
        let mut slot = self.lock();
        if !matches!(*slot, Slot::Pull { .. }) {
            return;
        }
        let Slot::Pull { stream, puller } = std::mem::replace(&mut *slot, Slot::Driven) else {
            return;
        };
        drop(slot);
        if let Some(puller) = puller {
            puller.wake();
        }
        let (run, driver) = (Arc::clone(self), Arc::clone(hub));
        hub.tasks()
            .spawn(async move { run.drive(&driver, stream).await });
    }

    /// Stops the generation at once, cancelled by a client or because its clients left
    /// (`why`): the provider's stream is dropped, which closes the upstream connection or
    /// stops the engine, before the log ends with the cancel error.
    pub(super) fn stop(&self, hub: &Hub, why: Outcome) {
        self.stop_with(hub, why, cancelled());
    }

    /// Stops the generation at once, as [`Run::stop`], its log ending with `error`.
    pub(super) fn stop_with(&self, hub: &Hub, why: Outcome, error: Error) {
        self.stopped.set(why);
        let slot = self.lock();
        match &*slot {
            Slot::Pull { .. } => self.conclude(hub, slot, Some(error)),
            // The driver stops itself, with the error.
            Slot::Driven => {
                *self.ending.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                self.stop.cancel();
            }
            Slot::Done => {}
        }
    }

    /// Pulls the stream into the log until it ends, is stopped, or shutdown aborts it.
    async fn drive(&self, hub: &Hub, mut stream: EventStream) {
        // Made once: each `cancelled()` registers with its token on first poll.
        let stopped = self.stop.cancelled();
        let aborted = hub.abort_token().cancelled();
        tokio::pin!(stopped, aborted);
        let outcome = loop {
            let event = tokio::select! {
                biased;
                () = &mut stopped => {
                    let ending = self.ending.lock().unwrap_or_else(PoisonError::into_inner).take();
                    break Some(ending.unwrap_or_else(cancelled));
                }
                () = &mut aborted => {
                    self.stopped.set(Outcome::Shutdown);
                    break Some(shutting_down());
                }
                event = stream.next() => event,
            };
            match event {
                // Nothing follows an error.
                Some(StreamEvent::Error(error)) => break Some(error),
                Some(event) => self.log.append(event),
                None => break None,
            }
        };
        drop(stream);
        self.conclude(hub, self.lock(), outcome);
    }

    /// The generation ended: its stream goes first (stopping the work behind it), then
    /// the log is completed, which wakes every reader.
    fn conclude(&self, hub: &Hub, mut slot: MutexGuard<'_, Slot>, outcome: Option<Error>) {
        let previous = std::mem::replace(&mut *slot, Slot::Done);
        drop(slot);
        let puller = match previous {
            Slot::Done => return,
            Slot::Pull { stream, puller } => {
                drop(stream);
                puller
            }
            Slot::Driven => None,
        };
        self.log.finish(outcome);
        if let Some(puller) = puller {
            puller.wake();
        }
        if self.in_store {
            hub.finished(self);
        }
    }
}

pub(super) fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "the generation was cancelled")
}

fn shutting_down() -> Error {
    Error::new(
        ErrorKind::Overloaded,
        "the server is shutting down; retry the request",
    )
}

/// Resolves when shutdown aborts streams; polled by a reader that pulls.
pub(super) fn abort_future(token: &CancellationToken) -> Pin<Box<WaitForCancellationFutureOwned>> {
    Box::pin(token.clone().cancelled_owned())
}
