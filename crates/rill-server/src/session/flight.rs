//! A generation several requests share: identical requests (the response cache's
//! single-flight) read one running generation, each through a session of its own.
//!
//! The flight's events go into a log of their own, outside the store; each request's
//! session reads it through a [`Follower`], a stream of core events, so each gets the
//! whole answer in its own dialect, with its own frame numbers, resume and cancel. A
//! follower is one reader of the flight: one follower pulls the generation itself, a
//! second moves it to a driver task, and the last one leaving stops it. So one client
//! cancelling or leaving stops only its own session; the generation goes on for the
//! others.
//!
//! With `[cluster] redis_url` a flight's log is mirrored to Redis like a stream's, and an
//! identical request on another instance reads it there ([`Hub::joined`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use rill_core::{EventStream, StreamEvent};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::hub::Hub;
use super::run::{Pulled, Run, abort_future};
use super::store::{Meta, SessionLog, Status, detached};
use crate::account::Stopped;

/// A running generation others may join.
#[derive(Clone)]
pub struct Flight {
    log: Arc<dyn SessionLog>,
    run: Arc<Run>,
}

impl Hub {
    /// Starts sharing `stream`'s generation; returns the flight and its first reader.
    pub fn flight(
        self: &Arc<Self>,
        meta: Meta,
        stream: EventStream,
        stopped: Stopped,
    ) -> (Flight, EventStream) {
        let mut log = detached(meta);
        if let Some(shared) = self.shared() {
            log = shared.mirror(log);
        }
        let run = Arc::new(Run::new(Arc::clone(&log), stream, false, stopped, false));
        run.subscribed();
        let flight = Flight { log, run };
        let first = flight.follower(self);
        (flight, first)
    }

    /// A reader of another instance's flight, from its first event, given the copy of
    /// its log that follows it (reading it keeps the flight going there).
    pub fn joined(self: &Arc<Self>, log: Arc<dyn SessionLog>) -> EventStream {
        Box::pin(Follower::new(self, log, None))
    }
}

impl Flight {
    /// A new reader of the whole generation, from its first event; `None` when every
    /// reader has left (the generation is stopping).
    pub fn join(&self, hub: &Arc<Hub>) -> Option<EventStream> {
        if self.run.try_subscribed()? > 1 {
            self.run.hand_off(hub);
        }
        Some(self.follower(hub))
    }

    fn follower(&self, hub: &Arc<Hub>) -> EventStream {
        let log = Arc::clone(&self.log);
        Box::pin(Follower::new(hub, log, Some(Arc::clone(&self.run))))
    }
}

/// One reader of a flight, as a stream of its events. Dropping it leaves the flight.
struct Follower {
    hub: Arc<Hub>,
    log: Arc<dyn SessionLog>,
    /// The generation, when it runs here (a reader may pull it).
    run: Option<Arc<Run>>,
    /// The next log event to read.
    cursor: usize,
    /// Events read from the log, not yet taken.
    ready: VecDeque<StreamEvent>,
    abort: Pin<Box<WaitForCancellationFutureOwned>>,
    done: bool,
}

impl Follower {
    fn new(hub: &Arc<Hub>, log: Arc<dyn SessionLog>, run: Option<Arc<Run>>) -> Self {
        Self {
            abort: abort_future(hub.abort_token()),
            hub: Arc::clone(hub),
            log,
            run,
            cursor: 0,
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Reads what the log has past the cursor; `follow` is woken at its next change if
    /// there was nothing. Returns whether anything changed.
    fn read(&mut self, follow: Option<&std::task::Waker>) -> bool {
        let ready = &mut self.ready;
        let (read, status) = self.log.read(
            self.cursor,
            &mut |event| ready.push_back(event.clone()),
            follow,
        );
        self.cursor += read;
        if read == 0 && status == Status::Done {
            self.done = true;
        }
        read > 0 || self.done
    }
}

impl Stream for Follower {
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(event));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.read(None) {
                continue;
            }
            let pulled = match &this.run {
                Some(run) => run.pull(&this.hub, cx, &mut this.abort),
                None => Pulled::NotMine,
            };
            match pulled {
                Pulled::Changed => {}
                Pulled::Pending => return Poll::Pending,
                Pulled::NotMine => {
                    if !this.read(Some(cx.waker())) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            self.hub.unsubscribed(run);
        }
    }
}
