//! What every handler shares.

use std::sync::Arc;

use crate::access::Access;
use crate::config::ServerConfig;
use crate::config::{KeyConfig, KeyError};
use crate::metrics::Metrics;
use crate::models::ModelRegistry;
use crate::session::{Hub, MemoryStore, SessionsConfig};
use crate::shutdown::Shutdown;

#[derive(Clone)]
pub struct AppState {
    pub models: Arc<ModelRegistry>,
    pub server: Arc<ServerConfig>,
    pub shutdown: Shutdown,
    pub metrics: Metrics,
    pub sessions: Arc<Hub>,
    /// The keys, their limits, and the cap on running generations.
    pub access: Arc<Access>,
}

impl AppState {
    /// With the default `[sessions]` settings.
    pub fn new(server: ServerConfig, models: ModelRegistry) -> Self {
        let shutdown = Shutdown::default();
        let metrics = Metrics::default();
        let sessions = hub(SessionsConfig::default(), &shutdown, &metrics);
        let cap = server.max_concurrent_generations;
        let access = Access::without_keys(cap, metrics.clone());
        Self {
            models: Arc::new(models),
            server: Arc::new(server),
            shutdown,
            metrics,
            sessions,
            access: Arc::new(access),
        }
    }

    /// With these `[sessions]` settings (before any stream started).
    #[must_use]
    pub fn with_sessions(mut self, config: SessionsConfig) -> Self {
        self.sessions = hub(config, &self.shutdown, &self.metrics);
        self
    }

    /// With these keys (`[[keys]]`; before any request): from then on every request needs
    /// one of them, from every peer.
    pub fn with_keys(mut self, keys: Vec<KeyConfig>) -> Result<Self, KeyError> {
        let cap = self.server.max_concurrent_generations;
        self.access = Arc::new(Access::new(keys, cap, self.metrics.clone())?);
        Ok(self)
    }
}

/// Sessions kept in this process's memory, within `config`'s bounds.
fn hub(config: SessionsConfig, shutdown: &Shutdown, metrics: &Metrics) -> Arc<Hub> {
    let store = MemoryStore::new(
        config.max_finished,
        config.max_replay_bytes,
        metrics.replay_bytes(),
    );
    let abort = shutdown.abort_token().clone();
    Arc::new(Hub::new(config, Arc::new(store), abort))
}
