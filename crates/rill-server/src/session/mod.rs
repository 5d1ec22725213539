//! Sessions: a generation belongs to a session, never to an HTTP connection.
//!
//! Every core event of a streamed generation is appended to the session's *log* (events
//! 0, 1, 2, ...), which lives in a [`SessionStore`] ([`MemoryStore`] in this process).
//! HTTP responses *subscribe*: each one replays the log through a fresh encoder of the
//! request's dialect and then follows it live, so
//!
//! - every SSE frame a client receives carries an `id:`, its frame number; encoders are
//!   deterministic, so replaying the log reproduces the same frames, and a client that
//!   reconnects with `Last-Event-ID: N` gets exactly the frames after `N`: nothing lost,
//!   nothing twice;
//! - a stream's only reader pulls the provider's stream itself (one task wake-up per
//!   event); a second reader, or a resumable stream's reader leaving, moves the
//!   generation to a driver task, so that several readers (two tabs) each get the whole
//!   stream at its own pace: a slow reader only lags behind in the shared log, it never
//!   slows the generation or the other readers;
//! - the generation ends when the provider's stream does, when it is cancelled
//!   ([`Hub::cancel`], or its last reader left: at once, or after a grace period when the
//!   request asked to be resumable), or when shutdown aborts it;
//! - a finished log stays for its replay window ([`SessionsConfig::ttl_secs`], ended by
//!   one reaper task for all logs), and while the store's bounds keep it
//!   ([`SessionsConfig::max_finished`] logs, [`SessionsConfig::max_replay_bytes`]
//!   bytes; the oldest go first); after that [`Hub::find`] says it is gone (410, to its
//!   owner), never that it never existed.
//!
//! Identical requests may share one generation ([`Flight`]): each reads it through a
//! session of its own.
//!
//! Non-streaming requests have no session: their answer is the response.

mod flight;
mod hub;
mod run;
mod store;
mod subscribe;

pub use flight::Flight;
pub(crate) use hub::lock;
pub use hub::{Hub, not_found};
pub use store::{
    EncoderFactory, Found, MemoryStore, Meta, Origin, SessionLog, Status, encoder_factory,
};
pub(crate) use store::{detached, event_text};
pub use subscribe::Subscription;

pub use crate::config::SessionsConfig;

/// An id such as `chatcmpl-3vQ8...` (a response's), `flight_...` or none but the random
/// part (an instance's epoch): the prefix and 24 random alphanumerics.
pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}
