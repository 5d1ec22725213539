//! Every session of this server: the store of their logs, the generations running here,
//! the reaper that ends replay windows, and every task the sessions spawn.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rill_core::{Error, ErrorKind, EventStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::SessionsConfig;
use super::run::Run;
use super::store::{Found, Meta, SessionLog, SessionStore, Status};
use super::subscribe::Subscription;
use crate::account::Stopped;
use crate::cluster::{SharedSessions, Verdict};
use rill_ledger::Outcome;

/// The last wait before a stream that Redis does not know is called unknown (about twice
/// this in all).
const UNKNOWN_AFTER: Duration = Duration::from_millis(32);

pub struct Hub {
    config: SessionsConfig,
    /// Shutdown's abort token: ends every running generation.
    abort: CancellationToken,
    store: Arc<dyn SessionStore>,
    running: Mutex<HashMap<String, Arc<Run>>>,
    reaper: Arc<Reaper>,
    reaper_started: AtomicBool,
    /// Ends the reaper: at shutdown's abort, or once the server has closed its
    /// connections (a log nobody can read any more need not expire).
    closing: CancellationToken,
    tasks: TaskTracker,
    /// The logs other instances read too (`[cluster] redis_url`).
    shared: Option<Arc<SharedSessions>>,
}

impl Hub {
    pub fn new(
        config: SessionsConfig,
        store: Arc<dyn SessionStore>,
        abort: CancellationToken,
    ) -> Self {
        Self {
            config,
            closing: abort.child_token(),
            abort,
            reaper: Arc::new(Reaper {
                store: Arc::clone(&store),
                expiries: Mutex::default(),
                wake: Notify::new(),
            }),
            store,
            running: Mutex::default(),
            reaper_started: AtomicBool::new(false),
            tasks: TaskTracker::new(),
            shared: None,
        }
    }

    /// Shares every stream's log with the other instances through `shared` (before any
    /// stream started).
    #[must_use]
    pub fn sharing(mut self, shared: Arc<SharedSessions>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The logs shared with other instances, if they are.
    pub fn shared(&self) -> Option<&Arc<SharedSessions>> {
        self.shared.as_ref()
    }

    /// Starts what sharing runs in the background (within a tokio runtime).
    pub fn launch(self: &Arc<Self>) {
        let Some(shared) = &self.shared else {
            return;
        };
        let hub = Arc::downgrade(self);
        shared.launch(move |id, verdict| {
            if let Some(hub) = hub.upgrade() {
                hub.stop_here(id, verdict);
            }
        });
    }

    /// Whether a new generation may start here (not while the shared state is out of
    /// reach).
    pub fn available(&self) -> Result<(), Error> {
        self.shared
            .as_ref()
            .map_or(Ok(()), |shared| shared.available())
    }

    /// Stops generation `id` if it runs here, as another instance asked.
    fn stop_here(&self, id: &str, verdict: Verdict) {
        let Some(run) = lock(&self.running).get(id).cloned() else {
            return;
        };
        match verdict {
            Verdict::Cancelled => {
                run.log.cancel();
                tracing::info!(id, "generation cancelled from another instance");
                run.stop(self, Outcome::Cancelled);
            }
            Verdict::Fenced => {
                let error = Error::new(
                    ErrorKind::Overloaded,
                    "this server lost its shared state store (Redis) for too long and gave the stream up; ask again",
                );
                run.stop_with(self, Outcome::Shutdown, error);
            }
        }
    }

    pub fn config(&self) -> &SessionsConfig {
        &self.config
    }

    /// Every task the sessions run (drivers, grace periods, the reaper): shutdown waits
    /// for them.
    pub fn tasks(&self) -> &TaskTracker {
        &self.tasks
    }

    /// Waits for every task the sessions run, once the server takes no more requests:
    /// drivers end with their generations (at the latest at shutdown's abort).
    pub async fn close(&self) {
        self.closing.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        if let Some(shared) = &self.shared {
            shared.close().await;
        }
    }

    pub(super) fn abort_token(&self) -> &CancellationToken {
        &self.abort
    }

    /// Opens a log for `stream`'s generation and subscribes the response that asked for
    /// it; that response pulls the stream itself while it is the only reader.
    pub fn start(
        self: &Arc<Self>,
        meta: Meta,
        resumable: bool,
        stream: EventStream,
        stopped: Stopped,
    ) -> Subscription {
        let mut log = self.store.open(meta);
        if let Some(shared) = &self.shared {
            log = shared.mirror(log);
        }
        let run = Arc::new(Run::new(Arc::clone(&log), stream, resumable, stopped, true));
        let id = log.meta().id.clone();
        lock(&self.running).insert(id, Arc::clone(&run));
        run.subscribed();
        Subscription::new(Arc::clone(self), log, Some(run), None)
    }

    /// The log of stream `id`: this server's, or a copy of another's that follows it.
    pub async fn find(&self, id: &str) -> Found {
        let found = self.store.find(id);
        let (Found::Unknown, Some(shared)) = (&found, &self.shared) else {
            return found;
        };
        // A stream that has just started elsewhere reaches Redis with its owner's next
        // write, a few milliseconds on, while its client may already hold its id (a
        // cancel sent at once): look again for a while before calling it unknown.
        let mut pause = Duration::from_millis(2);
        loop {
            match shared.find(id).await {
                Found::Unknown if pause <= UNKNOWN_AFTER => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                found => return found,
            }
        }
    }

    /// A new reader of `log`: its frames after frame number `after` (all of them for
    /// `None`). A second reader of a running generation moves it to a driver task.
    pub fn subscribe(
        self: &Arc<Self>,
        log: Arc<dyn SessionLog>,
        after: Option<u64>,
    ) -> Subscription {
        let run = lock(&self.running).get(&log.meta().id).cloned();
        if let Some(run) = &run
            && run.subscribed() > 1
        {
            run.hand_off(self);
        }
        Subscription::new(Arc::clone(self), log, run, after)
    }

    /// Raises `log`'s cancel flag and stops its generation at once, here or on the
    /// instance running it; returns the log's status from before (a cancel of a
    /// finished stream changes nothing).
    pub async fn cancel(&self, log: &dyn SessionLog) -> Status {
        let run = lock(&self.running).get(&log.meta().id).cloned();
        let status = if log.cancel() {
            Status::Running
        } else {
            Status::Done
        };
        match (run, &self.shared) {
            (Some(run), _) => run.stop(self, Outcome::Cancelled),
            // A copy of another instance's log.
            (None, Some(shared)) if status == Status::Running => {
                return shared.cancel(&log.meta().id).await;
            }
            (None, _) => {}
        }
        status
    }

    /// A reader left. The last one leaving a running generation cancels it, at once or,
    /// for a resumable one, after the grace period unless another subscribed by then.
    pub(super) fn unsubscribed(self: &Arc<Self>, run: &Arc<Run>) {
        if run.unsubscribed() != 0 || run.log.status() == Status::Done {
            return;
        }
        if !run.resumable && self.shared.is_none() {
            tracing::info!(id = %run.id(), "client disconnected; generation cancelled");
            run.stop(self, Outcome::Disconnected);
            return;
        }
        run.hand_off(self);
        let (hub, run) = (Arc::clone(self), Arc::clone(run));
        let mut wait = if run.resumable {
            Duration::from_secs(self.config.grace_secs)
        } else {
            Duration::ZERO
        };
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    // The abort ends the generation itself.
                    () = hub.abort.cancelled() => return,
                }
                if run.subscribers() != 0 || run.log.status() == Status::Done {
                    return;
                }
                // A reader on another instance keeps it going too.
                match &hub.shared {
                    Some(shared) if shared.followed(run.id()).await => wait = shared.recheck(),
                    _ => break,
                }
            }
            if run.subscribers() == 0 && run.log.status() == Status::Running {
                tracing::info!(id = %run.id(), "no client came back; generation cancelled");
                run.stop(&hub, Outcome::Disconnected);
            }
        });
    }

    /// `run`'s log is complete: it stays for its replay window, and while the store's
    /// bounds keep it.
    pub(super) fn finished(&self, run: &Run) {
        let id = run.id();
        lock(&self.running).remove(id);
        self.store.finished(id);
        let due = Instant::now() + Duration::from_secs(self.config.ttl_secs);
        let mut expiries = lock(&self.reaper.expiries);
        expiries.push_back((due, id.to_owned()));
        // The reaper sleeps until its front is due; only a first entry is news to it.
        if expiries.len() == 1 {
            self.reaper.wake.notify_one();
        }
        drop(expiries);
        if !self.reaper_started.swap(true, Ordering::SeqCst) {
            let (reaper, closing) = (Arc::clone(&self.reaper), self.closing.clone());
            self.tasks.spawn(reaper.run(closing));
        }
    }
}

/// Ends replay windows: one task for every log, not a timer each.
struct Reaper {
    store: Arc<dyn SessionStore>,
    /// Finished logs in finishing order, each with the end of its replay window. The
    /// window is the same for all, so this is a delay queue: its front is due first.
    expiries: Mutex<VecDeque<(Instant, String)>>,
    wake: Notify,
}

impl Reaper {
    async fn run(self: Arc<Self>, closing: CancellationToken) {
        loop {
            let next = {
                let mut expiries = lock(&self.expiries);
                let now = Instant::now();
                while let Some((_, id)) = expiries.front().filter(|(due, _)| *due <= now) {
                    self.store.expire(id);
                    expiries.pop_front();
                }
                expiries.front().map(|(due, _)| *due)
            };
            let sleep = async {
                match next {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = closing.cancelled() => return,
                () = self.wake.notified() => {}
                () = sleep => {}
            }
        }
    }
}

/// Locks `mutex`; a panic elsewhere while it was held leaves nothing half-done here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 410 for an expired stream, to the key that started it; 404 to anyone else, as for an
/// id that never existed: a key cannot even learn that another's stream exists.
pub fn not_found(id: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("there is no stream `{id}`"))
}
