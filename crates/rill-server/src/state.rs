//! What every handler shares.

use std::sync::Arc;

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
}

impl AppState {
    /// With the default `[sessions]` settings.
    pub fn new(server: ServerConfig, models: ModelRegistry) -> Self {
        let shutdown = Shutdown::default();
        let sessions = Hub::new(SessionsConfig::default(), shutdown.abort_token().clone());
        Self {
            models: Arc::new(models),
            server: Arc::new(server),
            shutdown,
            metrics: Metrics::default(),
            sessions: Arc::new(sessions),
        }
    }

    /// With these `[sessions]` settings (before any stream started).
    #[must_use]
    pub fn with_sessions(mut self, config: SessionsConfig) -> Self {
        self.sessions = Arc::new(Hub::new(config, self.shutdown.abort_token().clone()));
        self
    }
}
