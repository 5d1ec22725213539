//! One OpenTelemetry span per generation, exported over OTLP/HTTP (JSON) when
//! `[telemetry] otlp_endpoint` is set, with the GenAI semantic conventions' attributes.
//!
//! The span is made from the generation's ledger record when it settles (start and end
//! times included), so it costs nothing while the generation streams; the SDK's batch
//! processor exports from a thread of its own.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry::{KeyValue, StringValue, Value};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use rill_ledger::Record;

use crate::config::TelemetryConfig;

/// Where generation spans go; off without an endpoint. Cheap to clone.
#[derive(Clone, Default)]
pub struct Telemetry(Option<(SdkTracerProvider, SdkTracer)>);

/// The OTLP exporter could not be built (an endpoint that is not a URL).
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: `telemetry.otlp_endpoint`: {0}")]
pub struct TelemetryError(String);

impl Telemetry {
    /// Spans for `config`'s endpoint, if it has one.
    pub fn new(config: &TelemetryConfig) -> Result<Self, TelemetryError> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(Self(None));
        };
        let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        // The exporter's HTTP client is reqwest's with rustls, whose crypto provider rill
        // picks (ring, as for every client of rill); it must exist before the client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(traces)
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| TelemetryError(e.to_string()))?;
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("rill");
        tracing::info!(endpoint = %endpoint, "a span per generation goes to OTLP");
        Ok(Self(Some((provider, tracer))))
    }

    /// The span of the generation `record` describes.
    pub fn generation(&self, record: &Record) {
        let Some((_, tracer)) = &self.0 else { return };
        let at = |ms: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(ms.max(0.0) / 1e3);
        let start = at(record.started_at_ms as f64);
        let end = at(record.started_at_ms as f64 + record.duration_ms);
        let tokens = &record.tokens;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", record.model_requested.clone()),
            KeyValue::new("gen_ai.response.id", record.id.clone()),
            KeyValue::new("gen_ai.usage.input_tokens", count(tokens.input)),
            KeyValue::new("gen_ai.usage.output_tokens", count(tokens.output)),
            KeyValue::new(
                "gen_ai.response.finish_reasons",
                Value::Array(vec![StringValue::from(record.outcome.as_str())].into()),
            ),
            KeyValue::new("rill.outcome", record.outcome.as_str()),
            KeyValue::new("rill.dialect", record.dialect.clone()),
            KeyValue::new("rill.attempts", i64::from(record.attempts)),
            KeyValue::new(
                "rill.usage.estimated",
                tokens.input_estimated || tokens.output_estimated,
            ),
        ];
        let optional = [
            ("gen_ai.response.model", record.model_served.clone()),
            ("gen_ai.provider.name", record.provider.clone()),
            ("rill.key", record.key.clone()),
            ("error.type", record.error_kind.clone()),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                attributes.push(KeyValue::new(name, value));
            }
        }
        if tokens.cached_input > 0 {
            attributes.push(KeyValue::new(
                "gen_ai.usage.cache_read.input_tokens",
                count(tokens.cached_input),
            ));
        }
        if tokens.cache_write > 0 {
            attributes.push(KeyValue::new(
                "gen_ai.usage.cache_creation.input_tokens",
                count(tokens.cache_write),
            ));
        }
        if tokens.reasoning > 0 {
            attributes.push(KeyValue::new(
                "gen_ai.usage.reasoning.output_tokens",
                count(tokens.reasoning),
            ));
        }
        if let Some(ttft) = record.ttft_ms {
            attributes.push(KeyValue::new(
                "gen_ai.server.time_to_first_token",
                ttft / 1e3,
            ));
        }
        if let Some(cost) = record.cost_usd {
            attributes.push(KeyValue::new("rill.cost_usd", cost));
        }
        let mut span = tracer
            .span_builder(format!("chat {}", record.model_requested))
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes)
            .start(tracer);
        if let Some(kind) = &record.error_kind {
            span.set_status(Status::error(kind.clone()));
        }
        span.end_with_timestamp(end);
    }

    /// Exports every span ended so far (blocking: call off the async workers).
    pub fn flush(&self) {
        if let Some((provider, _)) = &self.0
            && let Err(error) = provider.force_flush()
        {
            tracing::warn!(%error, "could not export generation spans");
        }
    }

    /// Exports what is left and stops the exporter (blocking: call off the async workers).
    pub fn shutdown(&self) {
        if let Some((provider, _)) = &self.0
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "could not export the last generation spans");
        }
    }
}
