//! What every handler shares.

use std::sync::Arc;

use crate::access::{Access, KeyConfig, KeyError};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::models::ModelRegistry;
use crate::session::{Hub, SessionsConfig};
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
        let sessions = Hub::new(SessionsConfig::default(), shutdown.abort_token().clone());
        let metrics = Metrics::default();
        let cap = server.max_concurrent_generations;
        let access = Access::without_keys(cap, metrics.clone());
        Self {
            models: Arc::new(models),
            server: Arc::new(server),
            shutdown,
            metrics,
            sessions: Arc::new(sessions),
            access: Arc::new(access),
        }
    }

    /// With these `[sessions]` settings (before any stream started).
    #[must_use]
    pub fn with_sessions(mut self, config: SessionsConfig) -> Self {
        self.sessions = Arc::new(Hub::new(config, self.shutdown.abort_token().clone()));
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
