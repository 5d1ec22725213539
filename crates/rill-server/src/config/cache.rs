//! `[cache]` and a model's `cache = { ... }`: answers served again, as streams, to
//! identical requests.

use serde::{Deserialize, Serialize};

/// `[cache]` in the config: the default every model follows unless it sets its own.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Answer identical requests from the cache, and let an identical request that
    /// arrives while the first one is still generating share its generation. Off by
    /// default; a model can turn it on for itself (`cache = { enabled = true }`).
    pub enabled: bool,
    /// How long a stored answer is served.
    pub ttl_secs: u64,
    /// Stored answers take at most about this many bytes; past it the least useful go
    /// first.
    pub max_bytes: u64,
    /// An answer is served to any key, not only to the key that asked for it first.
    pub shared_across_keys: bool,
    /// How a stored answer streams out: `"instant"`, `"recorded"` (the gaps between its
    /// events when it was generated), or `{ tokens_per_sec = N }`.
    pub pacing: Pacing,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ttl_secs: 3600,
            max_bytes: 256 * 1024 * 1024,
            shared_across_keys: false,
            pacing: Pacing::Instant,
        }
    }
}

/// How a stored answer streams out.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pacing {
    /// As fast as the client reads.
    Instant,
    /// With the gaps between events it was generated with.
    Recorded,
    /// Content events at this rate.
    TokensPerSec(f64),
}

/// A model's own `cache = { ... }`; what it leaves out is `[cache]`'s.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCache {
    pub enabled: Option<bool>,
    pub ttl_secs: Option<u64>,
    /// Store answers sampled at a temperature above 0 without a seed too. Off: such
    /// answers differ every time by design, so serving one again would be wrong.
    #[serde(default)]
    pub sampled: bool,
}
