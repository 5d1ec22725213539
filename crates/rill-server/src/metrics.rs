//! Prometheus metrics, served at `GET /metrics`.
//!
//! Each [`AppState`](crate::AppState) has its own registry (no process-wide recorder), so
//! tests that run several servers in one process see only their own numbers.

use std::sync::Arc;

use futures_util::StreamExt;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rill_core::EventStream;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    streams_active: Gauge,
    streams: Counter,
    stream_events: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let streams_active = Gauge::default();
        let streams = Counter::default();
        let stream_events = Counter::default();
        let mut registry = Registry::with_prefix("rill");
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
        Self {
            registry: Arc::new(registry),
            streams_active,
            streams,
            stream_events,
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

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
