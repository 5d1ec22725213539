//! One generation: its log, the task that fills it, and who is listening.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, EventStream, StreamEvent};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::Dialect;
use crate::sse::DialectEncoder;

/// Makes a fresh encoder of the request's dialect, for each subscriber.
pub type EncoderFactory = Box<dyn Fn() -> Box<dyn DialectEncoder> + Send + Sync>;

/// Whether the generation still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    /// The provider's stream ended (finished, failed, cancelled or aborted); the log is
    /// complete.
    Done,
}

/// What a session was started with, besides its stream.
pub struct Spec {
    /// The response id the client saw (`chatcmpl-...`, `msg_...`, `resp_...`).
    pub id: String,
    pub dialect: Dialect,
    pub encoder: EncoderFactory,
    /// Headers every response of this stream carries besides the SSE ones.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A disconnect waits for a resume (the grace period) instead of cancelling.
    pub resumable: bool,
    /// The name of the key that started the stream, the only one that may resume or
    /// cancel it (`None` when no keys are configured).
    pub owner: Option<String>,
}

pub struct Session {
    spec: Spec,
    log: Mutex<Log>,
    /// Bumped on every append and at the end; subscribers wait on it.
    changed: watch::Sender<u64>,
    cancel: CancellationToken,
    subscribers: AtomicUsize,
}

struct Log {
    events: Vec<StreamEvent>,
    status: Status,
}

impl Session {
    pub(super) fn new(spec: Spec) -> Arc<Self> {
        Arc::new(Self {
            spec,
            log: Mutex::new(Log {
                events: Vec::new(),
                status: Status::Running,
            }),
            changed: watch::channel(0).0,
            cancel: CancellationToken::new(),
            subscribers: AtomicUsize::new(0),
        })
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn dialect(&self) -> Dialect {
        self.spec.dialect
    }

    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.spec.headers
    }

    /// The name of the key that started the stream.
    pub fn owner(&self) -> Option<&str> {
        self.spec.owner.as_deref()
    }

    pub fn status(&self) -> Status {
        self.lock().status
    }

    /// Stops the generation at once: the provider's stream is dropped (which closes the
    /// upstream connection or stops the engine) before anything else happens. The log
    /// then ends with a `Cancelled` error. Idempotent; a no-op once done.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A new encoder of the stream's dialect.
    pub(super) fn encoder(&self) -> Box<dyn DialectEncoder> {
        (self.spec.encoder)()
    }

    pub(super) fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Hands the events from `from` on to `each`, under the log's lock (so they need not
    /// be copied; only this session's own task and readers ever wait on it), and returns
    /// how many there were and whether the log is complete.
    pub(super) fn read(&self, from: usize, mut each: impl FnMut(&StreamEvent)) -> (usize, Status) {
        let log = self.lock();
        let events = log.events.get(from..).unwrap_or_default();
        events.iter().for_each(&mut each);
        (events.len(), log.status)
    }

    pub(super) fn subscribed(&self) {
        self.subscribers.fetch_add(1, Ordering::SeqCst);
    }

    /// A subscriber left. The last one leaving a running generation cancels it, at once
    /// or, for a resumable one, after `grace` unless someone subscribed again by then.
    pub(super) fn unsubscribed(self: &Arc<Self>, grace: Duration) {
        if self.subscribers.fetch_sub(1, Ordering::SeqCst) != 1 || self.status() == Status::Done {
            return;
        }
        if !self.spec.resumable {
            tracing::info!(id = %self.spec.id, "client disconnected; generation cancelled");
            self.cancel();
            return;
        }
        let session = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            if session.subscribers.load(Ordering::SeqCst) == 0 {
                tracing::info!(id = %session.spec.id, "no client came back; generation cancelled");
                session.cancel();
            }
        });
    }

    /// Pulls `stream` into the log until it ends, is cancelled, or `abort` (shutdown)
    /// fires. Runs as the session's own task.
    pub(super) async fn drive(self: Arc<Self>, mut stream: EventStream, abort: CancellationToken) {
        // Made once: each `cancelled()` registers with its token on first poll, and the
        // shutdown token is shared by every session.
        let cancelled = self.cancel.cancelled();
        let aborted = abort.cancelled();
        tokio::pin!(cancelled, aborted);
        let last = loop {
            let event = tokio::select! {
                biased;
                () = &mut cancelled => {
                    break Some(Error::new(ErrorKind::Cancelled, "the generation was cancelled"));
                }
                () = &mut aborted => {
                    break Some(Error::new(
                        ErrorKind::Overloaded,
                        "the server is shutting down; retry the request",
                    ));
                }
                event = stream.next() => event,
            };
            match event {
                // Nothing follows an error.
                Some(StreamEvent::Error(error)) => break Some(error),
                Some(event) => self.append(event),
                None => break None,
            }
        };
        // First stop the work behind the stream, then tell the subscribers.
        drop(stream);
        let mut log = self.lock();
        if let Some(error) = last {
            log.events.push(StreamEvent::Error(error));
        }
        log.status = Status::Done;
        drop(log);
        self.changed.send_modify(|n| *n += 1);
    }

    fn append(&self, event: StreamEvent) {
        self.lock().events.push(event);
        self.changed.send_modify(|n| *n += 1);
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // The log is only pushed to; a panic elsewhere cannot leave it half-written.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
