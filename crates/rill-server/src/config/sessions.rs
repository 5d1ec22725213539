//! `[sessions]`: how long streams can be resumed, and how much of them is kept.

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
    /// At most about this many bytes of finished streams are kept for replay; past it
    /// the oldest go first (410 Gone). Running streams are never cut short.
    pub max_replay_bytes: u64,
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
            max_replay_bytes: 256 * 1024 * 1024,
            grace_secs: 30,
            heartbeat_secs: 15,
        }
    }
}
