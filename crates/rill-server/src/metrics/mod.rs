//! Prometheus metrics, served at `GET /metrics`.
//!
//! Each [`AppState`](crate::AppState) has its own registry (no process-wide recorder), so
//! tests that run several servers in one process see only their own numbers.

use std::sync::Arc;

use futures_util::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rill_core::EventStream;
use rill_ledger::Record;

mod generation;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    streams_active: Gauge,
    streams: Counter,
    stream_events: Counter,
    connections_open: Gauge,
    replay_bytes: Gauge,
    connections_closed: Family<ReasonLabel, Counter>,
    keys: KeyMetrics,
    ledger: rill_ledger::Stats,
    generations: generation::GenerationMetrics,
    cache: CacheStats,
}

/// The response cache's numbers.
#[derive(Clone, Default)]
pub struct CacheStats {
    lookups: Family<ResultLabel, Counter>,
    bytes: Gauge,
    evictions: Family<ReasonLabel, Counter>,
    stored: Counter,
    store_failures: Counter,
    saved_usd: Counter<f64, std::sync::atomic::AtomicU64>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

impl CacheStats {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "cache_lookups",
            "Requests to models that cache, by how the response cache answered: `hit` (a stored answer), `joined` (an identical running generation shared), `miss` (generated), `bypass` (sampled without a seed, or `cache-control: no-cache`)",
            self.lookups.clone(),
        );
        registry.register(
            "cache_bytes",
            "Bytes the response cache's stored answers take (bounded by `cache.max_bytes`)",
            self.bytes.clone(),
        );
        registry.register(
            "cache_evictions",
            "Stored answers removed before being asked for again: `size` (to stay under `cache.max_bytes`), `expired` (`ttl_secs` passed)",
            self.evictions.clone(),
        );
        registry.register(
            "cache_stored",
            "Answers stored in the response cache",
            self.stored.clone(),
        );
        registry.register(
            "cache_store_failures",
            "Lookups and stores the response cache's shared store (Redis) failed or did not answer in time; the requests were answered afresh",
            self.store_failures.clone(),
        );
        registry.register(
            "cache_saved_usd",
            "What answers served from the cache (stored or shared) would have cost at their models' prices, in US dollars",
            self.saved_usd.clone(),
        );
    }

    pub(crate) fn lookup(&self, result: &'static str) {
        self.lookups.get_or_create(&ResultLabel { result }).inc();
    }

    pub(crate) fn held(&self, bytes: u64) {
        self.bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    pub(crate) fn evicted(&self, reason: &'static str) {
        self.evictions.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub(crate) fn stored(&self) {
        self.stored.inc();
    }

    pub(crate) fn store_failed(&self) {
        self.store_failures.inc();
    }

    #[cfg(test)]
    pub(crate) fn evictions(&self, reason: &'static str) -> u64 {
        self.evictions.get_or_create(&ReasonLabel { reason }).get()
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        u64::try_from(self.bytes.get()).unwrap_or(0)
    }
}

/// Per key, by the key's name (the configured names, so the label set stays small).
#[derive(Clone, Default)]
struct KeyMetrics {
    requests: Family<KeyLabel, Counter>,
    limited: Family<LimitLabels, Counter>,
    tokens: Family<KeyLabel, Counter>,
    estimated_tokens: Family<KeyLabel, Counter>,
    unauthorized: Counter,
    capacity_refused: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabel {
    key: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    key: String,
    limit: String,
}

impl KeyMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "key_requests",
            "Requests that presented this key",
            self.requests.clone(),
        );
        registry.register(
            "key_limited",
            "Generation requests refused by this key's limit (concurrency, requests, tokens)",
            self.limited.clone(),
        );
        registry.register(
            "key_tokens",
            "Prompt plus completion tokens charged to this key's generations (reported, or estimated when a stream ended without a report)",
            self.tokens.clone(),
        );
        registry.register(
            "key_estimated_tokens",
            "Of `rill_key_tokens`, those estimated: the stream ended without a usage report (cancelled, disconnected, failed)",
            self.estimated_tokens.clone(),
        );
        registry.register(
            "unauthorized_requests",
            "Requests refused for a missing or wrong key",
            self.unauthorized.clone(),
        );
        registry.register(
            "generations_refused",
            "Generation requests refused by `server.max_concurrent_generations`",
            self.capacity_refused.clone(),
        );
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let streams_active = Gauge::default();
        let streams = Counter::default();
        let stream_events = Counter::default();
        let mut root = Registry::default();
        let generations = generation::GenerationMetrics::register(&mut root);
        let registry = root.sub_registry_with_prefix("rill");
        registry.register(
            "streams_active",
            "Generations running now (provider streams alive)",
            streams_active.clone(),
        );
        registry.register("streams", "Generations started", streams.clone());
        registry.register(
            "stream_events",
            "Events produced by providers (text, reasoning, tool-call fragments, usage, ...)",
            stream_events.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Client connections open now",
            connections_open.clone(),
        );
        let replay_bytes = Gauge::default();
        registry.register(
            "sessions_replay_bytes",
            "Bytes the session logs held for replay take (running and finished streams; bounded by `sessions.max_replay_bytes`)",
            replay_bytes.clone(),
        );
        let connections_closed = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "connections_closed",
            "Connections the server closed or refused: `evicted` (idle, to make room at `server.max_connections`), `refused` (at the cap with all busy), `header_timeout`, `idle_timeout`",
            connections_closed.clone(),
        );
        let keys = KeyMetrics::default();
        keys.register(registry);
        let cache = CacheStats::default();
        cache.register(registry);
        let ledger = rill_ledger::Stats::default();
        registry.register(
            "ledger_written",
            "Usage records written to the ledger's database",
            ledger.written.clone(),
        );
        registry.register(
            "ledger_dropped",
            "Usage records dropped: the queue was full while the database was away, or shutdown came first",
            ledger.dropped.clone(),
        );
        registry.register(
            "ledger_pending",
            "Usage records waiting to be written",
            ledger.pending.clone(),
        );
        Self {
            registry: Arc::new(root),
            streams_active,
            streams,
            stream_events,
            connections_open,
            replay_bytes,
            connections_closed,
            keys,
            ledger,
            generations,
            cache,
        }
    }
}

/// Counts a generation as active for as long as it lives.
struct Active(Gauge);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Wraps a provider stream so that it counts as active until dropped (finished,
    /// cancelled by a disconnect, or ended by shutdown) and counts its events.
    pub fn meter(&self, stream: EventStream) -> EventStream {
        self.streams.inc();
        self.streams_active.inc();
        let active = Active(self.streams_active.clone());
        let events = self.stream_events.clone();
        Box::pin(stream.map(move |event| {
            let _alive = &active;
            events.inc();
            event
        }))
    }

    /// Shows the key's counters (at 0) before its first request.
    pub(crate) fn register_key(&self, key: &str) {
        let label = KeyLabel {
            key: key.to_owned(),
        };
        self.keys.requests.get_or_create(&label).inc_by(0);
        self.keys.tokens.get_or_create(&label).inc_by(0);
        self.keys.estimated_tokens.get_or_create(&label).inc_by(0);
    }

    pub(crate) fn key_request(&self, key: &str) {
        let label = KeyLabel {
            key: key.to_owned(),
        };
        self.keys.requests.get_or_create(&label).inc();
    }

    pub(crate) fn key_limited(&self, key: &str, limit: &str) {
        let labels = LimitLabels {
            key: key.to_owned(),
            limit: limit.to_owned(),
        };
        self.keys.limited.get_or_create(&labels).inc();
    }

    pub(crate) fn key_tokens(&self, key: &str, tokens: u64) {
        let label = KeyLabel {
            key: key.to_owned(),
        };
        self.keys.tokens.get_or_create(&label).inc_by(tokens);
    }

    /// Tokens charged to `key` that are estimates, not an upstream's report.
    pub(crate) fn key_estimated_tokens(&self, key: &str, tokens: u64) {
        let label = KeyLabel {
            key: key.to_owned(),
        };
        self.keys
            .estimated_tokens
            .get_or_create(&label)
            .inc_by(tokens);
    }

    /// Counts an ended generation (its ledger record): latencies, tokens, cost, outcome.
    /// `model` labels it: the model asked for, if configured (the label set stays small).
    /// `failures`: the HTTP status each upstream failure of it stands for.
    pub(crate) fn generation_ended(&self, record: &Record, model: &str, failures: &[u16]) {
        self.generations.observe(record, model, failures);
        if let Some(saved) = record.saved_usd {
            self.cache.saved_usd.inc_by(saved);
        }
    }

    /// The response cache's numbers.
    pub(crate) fn cache_stats(&self) -> CacheStats {
        self.cache.clone()
    }

    /// The ledger's counters, for its writer.
    pub fn ledger_stats(&self) -> rill_ledger::Stats {
        self.ledger.clone()
    }

    /// The gauge of open client connections.
    pub(crate) fn connections_open(&self) -> Gauge {
        self.connections_open.clone()
    }

    /// The gauge of the bytes session logs hold.
    pub(crate) fn replay_bytes(&self) -> Gauge {
        self.replay_bytes.clone()
    }

    /// The server closed or refused a connection, for `reason`.
    pub(crate) fn connection_closed(&self, reason: &'static str) {
        self.connections_closed
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub(crate) fn unauthorized(&self) {
        self.keys.unauthorized.inc();
    }

    pub(crate) fn capacity_refused(&self) {
        self.keys.capacity_refused.inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
