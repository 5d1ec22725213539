//! rill's HTTP server.
//!
//! [`app`] builds the whole axum [`Router`](axum::Router) from an [`AppState`], so tests
//! drive it in-process or on an ephemeral port exactly as `rill serve` does. Handlers are
//! thin: parse the dialect's request into a core [`ChatRequest`](rill_core::ChatRequest),
//! start a provider, and hand its stream to a session (`session`): the generation
//! belongs to the session, and responses subscribe to it, each encoding the session's
//! events into its dialect as they come, frame by numbered frame. Nothing is buffered
//! between provider and socket beyond the session's own log, which is what lets a client
//! resume; a disconnect cancels the generation at once unless the request asked to be
//! resumable.

mod access;
mod account;
mod cache;
mod cluster;
mod config;
mod error;
mod listener;
mod metrics;
mod models;
mod resilience;
mod routes;
mod session;
mod shutdown;
mod sse;
mod state;
mod telemetry;

pub use access::Access;
pub use cache::CACHE_HEADER;
pub use cluster::{Cluster, ClusterError};
pub use config::{
    CacheConfig, ClusterConfig, Config, ConfigError, EngineConfig, KEY_PREFIX, KeyConfig,
    KeyDigest, KeyError, LedgerConfig, ModelCache, ModelConfig, ModelTimeouts, Pacing, Price,
    ProviderKind, RetriesConfig, ServerConfig, TelemetryConfig, TimeoutsConfig, data_dir, hash_key,
    new_key,
};
pub use metrics::Metrics;
pub use models::{BuildError, ModelEntry, ModelRegistry};
pub use routes::app;
pub use session::SessionsConfig;
pub use shutdown::Shutdown;
pub use state::{AppState, LedgerError};
pub use telemetry::{Telemetry, TelemetryError};

pub use listener::serve;
