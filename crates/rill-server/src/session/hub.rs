//! Every session of this server, by id, and the ids whose replay window has passed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rill_core::{Error, ErrorKind, EventStream};
use tokio_util::sync::CancellationToken;

use super::SessionsConfig;
use super::generation::{Session, Spec};
use super::subscribe::Subscription;
use crate::error::Dialect;

/// How many expired ids are remembered (to answer 410 rather than 404); the oldest are
/// forgotten first. About 50 bytes each.
const GONE_CAPACITY: usize = 100_000;

pub struct Hub {
    config: SessionsConfig,
    /// Shutdown's abort token: ends every running generation.
    abort: CancellationToken,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, Arc<Session>>,
    /// Finished sessions still live, oldest first (some may have expired already).
    finished: VecDeque<String>,
    /// Expired ids, with the dialect their errors speak.
    gone: HashMap<String, Dialect>,
    gone_order: VecDeque<String>,
}

impl Hub {
    pub fn new(config: SessionsConfig, abort: CancellationToken) -> Self {
        Self {
            config,
            abort,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn config(&self) -> &SessionsConfig {
        &self.config
    }

    /// Starts a session that pulls `stream` on a task of its own, and subscribes the
    /// response that asked for it.
    pub fn start(self: &Arc<Self>, spec: Spec, stream: EventStream) -> Subscription {
        let session = Session::new(spec);
        let id = session.id().to_owned();
        self.lock().live.insert(id.clone(), Arc::clone(&session));
        let subscription = self.subscribe(&session, None);
        let hub = Arc::clone(self);
        let ttl = Duration::from_secs(self.config.ttl_secs);
        tokio::spawn(async move {
            let abort = hub.abort.clone();
            session.drive(stream, abort).await;
            hub.finished(&id);
            // The replay window.
            tokio::time::sleep(ttl).await;
            hub.expire(&id);
        });
        subscription
    }

    /// The session `id`: 404 if this server never had it, 410 once its replay window has
    /// passed.
    pub fn get(&self, id: &str) -> Result<Arc<Session>, (Dialect, Error)> {
        let inner = self.lock();
        if let Some(session) = inner.live.get(id) {
            return Ok(Arc::clone(session));
        }
        if let Some(dialect) = inner.gone.get(id) {
            let message = format!(
                "the stream `{id}` has expired: streams can be resumed for {} s after they end",
                self.config.ttl_secs
            );
            return Err((*dialect, Error::new(ErrorKind::Gone, message)));
        }
        let message = format!("there is no stream `{id}`");
        Err((
            Dialect::OpenAiChat,
            Error::new(ErrorKind::NotFound, message),
        ))
    }

    /// A new subscriber of `session`: its frames after frame number `after` (all of them
    /// for `None`).
    pub fn subscribe(&self, session: &Arc<Session>, after: Option<u64>) -> Subscription {
        Subscription::new(
            Arc::clone(session),
            after,
            Duration::from_secs(self.config.heartbeat_secs),
            Duration::from_secs(self.config.grace_secs),
        )
    }

    /// `id` finished: the oldest finished sessions past `max_finished` expire now.
    fn finished(&self, id: &str) {
        let mut inner = self.lock();
        inner.finished.push_back(id.to_owned());
        while inner.finished.len() > self.config.max_finished {
            if let Some(old) = inner.finished.pop_front() {
                Self::expire_locked(&mut inner, &old);
            }
        }
    }

    fn expire(&self, id: &str) {
        let mut inner = self.lock();
        if let Some(at) = inner.finished.iter().position(|f| f == id) {
            inner.finished.remove(at);
        }
        Self::expire_locked(&mut inner, id);
    }

    fn expire_locked(inner: &mut Inner, id: &str) {
        let Some(session) = inner.live.remove(id) else {
            return;
        };
        inner.gone.insert(id.to_owned(), session.dialect());
        inner.gone_order.push_back(id.to_owned());
        while inner.gone_order.len() > GONE_CAPACITY {
            if let Some(old) = inner.gone_order.pop_front() {
                inner.gone.remove(&old);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
