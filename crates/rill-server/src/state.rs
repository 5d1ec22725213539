//! What every handler shares.

use std::sync::Arc;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::models::ModelRegistry;
use crate::shutdown::Shutdown;

#[derive(Clone)]
pub struct AppState {
    pub models: Arc<ModelRegistry>,
    pub server: Arc<ServerConfig>,
    pub shutdown: Shutdown,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(server: ServerConfig, models: ModelRegistry) -> Self {
        Self {
            models: Arc::new(models),
            server: Arc::new(server),
            shutdown: Shutdown::default(),
            metrics: Metrics::default(),
        }
    }
}
