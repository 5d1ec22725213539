//! Sessions: a generation belongs to a session, never to an HTTP connection.
//!
//! A [`Session`] owns the provider's stream: a task of its own pulls every core event
//! and appends it to the session's log (events 0, 1, 2, ...), whoever is listening. HTTP
//! responses *subscribe*: each one replays the log through a fresh encoder of the
//! request's dialect and then follows it live, so
//!
//! - every SSE frame a client receives carries an `id:`, its frame number; encoders are
//!   deterministic, so replaying the log reproduces the same frames, and a client that
//!   reconnects with `Last-Event-ID: N` gets exactly the frames after `N`: nothing lost,
//!   nothing twice;
//! - several subscribers (two tabs) each get the whole stream, each at its own pace: a
//!   slow reader only lags behind in the shared log, it never slows the generation or the
//!   other readers, and holds no buffer of its own;
//! - the generation ends when the provider's stream does, when it is cancelled
//!   ([`Session::cancel`], or its last subscriber left: at once, or after a grace period
//!   when the request asked to be resumable), or when shutdown aborts it;
//! - a finished session stays for its replay window ([`SessionsConfig::ttl_secs`], and
//!   while it is among the last [`SessionsConfig::max_finished`] to finish); after that
//!   [`Hub::get`] says it is gone (410), never that it never existed.
//!
//! Non-streaming requests have no session: their answer is the response.

mod generation;
mod hub;
mod subscribe;

pub use generation::{EncoderFactory, Session, Spec, Status};
pub use hub::Hub;
pub use subscribe::Subscription;

use serde::{Deserialize, Serialize};

/// `[sessions]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// How long a finished stream can still be replayed (`GET /v1/streams/{id}`).
    pub ttl_secs: u64,
    /// At most this many finished streams are kept for replay; past it the oldest go
    /// first (410 Gone), whatever their age. Bounds the memory of busy servers: each one
    /// keeps its whole answer.
    pub max_finished: usize,
    /// How long a resumable generation goes on after its last client left, waiting for
    /// one to come back.
    pub grace_secs: u64,
    /// An SSE comment goes out after this long without a frame, so proxies keep idle
    /// connections open.
    pub heartbeat_secs: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 600,
            max_finished: 10_000,
            grace_secs: 30,
            heartbeat_secs: 15,
        }
    }
}
