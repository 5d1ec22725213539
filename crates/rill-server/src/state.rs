//! What every handler shares.

use std::sync::Arc;

use std::time::Duration;

use rill_ledger::{Ledger, Options, Target};

use crate::access::Access;
use crate::cache::ResponseCache;
use crate::cluster::{Cluster, SharedLimits, SharedSessions};
use crate::config::ServerConfig;
use crate::config::{CacheConfig, ModelConfig};
use crate::config::{KeyConfig, KeyError, LedgerConfig};
use crate::metrics::Metrics;
use crate::models::ModelRegistry;
use crate::session::{Hub, MemoryStore, SessionsConfig};
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;

#[derive(Clone)]
pub struct AppState {
    pub models: Arc<ModelRegistry>,
    pub server: Arc<ServerConfig>,
    pub shutdown: Shutdown,
    pub metrics: Metrics,
    pub sessions: Arc<Hub>,
    /// The keys, their limits, and the cap on running generations.
    pub access: Arc<Access>,
    /// Where every generation's record goes (disabled unless [`AppState::with_ledger`]).
    pub ledger: Ledger,
    /// Whether the usage clients receive carries its cost (`ledger.cost_in_usage`).
    pub cost_in_usage: bool,
    /// Where a span per generation goes (nowhere unless [`AppState::with_telemetry`]).
    pub telemetry: Telemetry,
    /// Answers served again to identical requests (no model uses it unless
    /// [`AppState::with_cache`]).
    pub cache: Arc<ResponseCache>,
}

impl AppState {
    /// With the default `[sessions]` settings.
    pub fn new(server: ServerConfig, models: ModelRegistry) -> Self {
        let shutdown = Shutdown::default();
        let metrics = Metrics::default();
        let sessions = hub(SessionsConfig::default(), &shutdown, &metrics);
        let cap = server.max_concurrent_generations;
        let access = Access::without_keys(cap, metrics.clone());
        let cache = Arc::new(ResponseCache::disabled(metrics.cache_stats()));
        Self {
            models: Arc::new(models),
            server: Arc::new(server),
            shutdown,
            metrics,
            sessions,
            access: Arc::new(access),
            ledger: Ledger::disabled(),
            cost_in_usage: true,
            telemetry: Telemetry::default(),
            cache,
        }
    }

    /// With the response cache `config` describes, and `models`' own cache settings
    /// (before any request); its answers in `cluster`'s Redis when there is one.
    #[must_use]
    pub fn with_cache(
        mut self,
        config: &CacheConfig,
        models: &[ModelConfig],
        cluster: Option<&Cluster>,
    ) -> Self {
        let stats = self.metrics.cache_stats();
        self.cache = Arc::new(ResponseCache::new(config, models, cluster, stats));
        self
    }

    /// With spans for every generation to this telemetry (before any request); the
    /// server's shutdown exports the last ones.
    #[must_use]
    pub fn with_telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// With the ledger `config` describes (disabled, or its database with this state's
    /// metrics), as [`AppState::with_ledger`]. Call within a tokio runtime.
    pub fn with_ledger_config(mut self, config: &LedgerConfig) -> Result<Self, LedgerError> {
        self.cost_in_usage = config.cost_in_usage;
        if !config.enabled {
            return Ok(self.with_ledger(Ledger::disabled()));
        }
        let target = Target::new(config.url.as_deref(), &crate::config::data_dir())?;
        let options = Options {
            flush_interval: Duration::from_millis(config.flush_ms),
            max_pending: config.max_pending,
            ..Options::default()
        };
        let ledger = Ledger::open(&target, options, self.metrics.ledger_stats())?;
        Ok(self.with_ledger(ledger))
    }

    /// Reads what each key with a budget spent this period from the ledger (before any
    /// request), so a restart does not forget it.
    pub async fn load_budgets(&self) {
        if let Some(reader) = self.ledger.reader() {
            self.access.load_spend(reader).await;
        }
    }

    /// With this ledger (before any request): every generation's record goes to it, and
    /// the server's shutdown waits until it has written them.
    #[must_use]
    pub fn with_ledger(mut self, ledger: Ledger) -> Self {
        self.ledger = ledger;
        self
    }

    /// With these `[sessions]` settings (before any stream started).
    #[must_use]
    pub fn with_sessions(mut self, config: SessionsConfig) -> Self {
        self.sessions = hub(config, &self.shutdown, &self.metrics);
        self
    }

    /// With every stream's log and the keys' limits shared through `cluster`'s Redis, if
    /// there is one (after [`AppState::with_sessions`] and [`AppState::with_keys`], before
    /// any request; within a tokio runtime).
    #[must_use]
    pub fn with_cluster(mut self, cluster: Option<&Cluster>) -> Self {
        let Some(cluster) = cluster else {
            return self;
        };
        let config = self.sessions.config().clone();
        let ttl = Duration::from_secs(config.ttl_secs);
        let shared = Arc::new(SharedSessions::new(cluster.clone(), ttl));
        let store = memory_store(&config, &self.metrics);
        let abort = self.shutdown.abort_token().clone();
        let hub = Arc::new(Hub::new(config, Arc::new(store), abort).sharing(shared));
        hub.launch();
        self.sessions = hub;
        self.access.share(SharedLimits::new(cluster.clone()));
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
    let store = memory_store(&config, metrics);
    let abort = shutdown.abort_token().clone();
    Arc::new(Hub::new(config, Arc::new(store), abort))
}

fn memory_store(config: &SessionsConfig, metrics: &Metrics) -> MemoryStore {
    MemoryStore::new(
        config.max_finished,
        config.max_replay_bytes,
        metrics.replay_bytes(),
    )
}

/// The ledger `[ledger]` describes cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid configuration: {0}")]
    Url(#[from] rill_ledger::TargetError),
    #[error(transparent)]
    Open(#[from] rill_ledger::OpenError),
}
