//! Per generation, once it ends: latency histograms, tokens, cost and outcomes, by model
//! and provider. Names follow OpenTelemetry's GenAI semantic conventions where they have
//! one (`gen_ai.server.time_to_first_token` is `gen_ai_server_time_to_first_token_seconds`
//! here, its attributes labels with `_` for `.`); rill's own carry the `rill_` prefix.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use rill_ledger::Record;

/// A model and the kind of provider that served it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Model {
    gen_ai_request_model: String,
    gen_ai_provider_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenType {
    gen_ai_request_model: String,
    gen_ai_provider_name: String,
    gen_ai_token_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Ended {
    gen_ai_request_model: String,
    gen_ai_provider_name: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    gen_ai_request_model: String,
    status: u16,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // OpenTelemetry's advice for time to first token, up to 10 s, then longer answers.
    Histogram::new([
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        30.0, 60.0, 300.0,
    ])
}

fn per_token() -> Histogram {
    Histogram::new([
        0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
    ])
}

fn rates() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 12))
}

fn tokens() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 14))
}

#[derive(Clone)]
pub(super) struct GenerationMetrics {
    ttft: Histograms<Model>,
    per_output_token: Histograms<Model>,
    duration: Histograms<Model>,
    tokens_per_second: Histograms<Model>,
    token_usage: Histograms<TokenType>,
    tokens: Family<TokenType, Counter>,
    cost: Family<Model, Counter<f64, std::sync::atomic::AtomicU64>>,
    ended: Family<Ended, Counter>,
    retries: Family<Model, Counter>,
    fallbacks: Family<Model, Counter>,
    errors: Family<Status, Counter>,
}

impl GenerationMetrics {
    /// Registers the GenAI convention's metrics on `root` as they are named, rill's own
    /// under `rill_`.
    pub(super) fn register(root: &mut Registry) -> Self {
        let this = Self {
            ttft: Family::new_with_constructor(seconds),
            per_output_token: Family::new_with_constructor(per_token),
            duration: Family::new_with_constructor(seconds),
            tokens_per_second: Family::new_with_constructor(rates),
            token_usage: Family::new_with_constructor(tokens),
            tokens: Family::default(),
            cost: Family::default(),
            ended: Family::default(),
            retries: Family::default(),
            fallbacks: Family::default(),
            errors: Family::default(),
        };
        root.register_with_unit(
            "gen_ai_server_time_to_first_token",
            "Time from a generation's admission to its first generated content",
            Unit::Seconds,
            this.ttft.clone(),
        );
        root.register_with_unit(
            "gen_ai_server_time_per_output_token",
            "A generation's mean gap between output tokens after the first: (duration - time to first token) / (output tokens - 1)",
            Unit::Seconds,
            this.per_output_token.clone(),
        );
        root.register_with_unit(
            "gen_ai_server_request_duration",
            "Time from a generation's admission to its end, however it ended",
            Unit::Seconds,
            this.duration.clone(),
        );
        root.register(
            "gen_ai_client_token_usage",
            "Tokens per generation, by type (input, output)",
            this.token_usage.clone(),
        );
        let rill = root.sub_registry_with_prefix("rill");
        rill.register(
            "output_tokens_per_second",
            "A generation's output tokens over its time from the first token to the end",
            this.tokens_per_second.clone(),
        );
        rill.register(
            "tokens",
            "Tokens of ended generations, by type: input, output, cached_input, cache_write, reasoning (the last three are parts of the first two)",
            this.tokens.clone(),
        );
        rill.register(
            "cost_usd",
            "What ended generations cost at their models' prices, in US dollars",
            this.cost.clone(),
        );
        rill.register(
            "generations_ended",
            "Generations by how they ended: stop, length, tool_calls, content_filter, cancelled, disconnected, timeout, error, shutdown",
            this.ended.clone(),
        );
        rill.register(
            "retries",
            "Attempts beyond a generation's first (retries on the model and on its fallbacks)",
            this.retries.clone(),
        );
        rill.register(
            "fallbacks",
            "Generations served by a fallback instead of the model asked for",
            this.fallbacks.clone(),
        );
        rill.register(
            "upstream_errors",
            "Provider failures by the HTTP status each stands for (502 upstream, 503 overloaded, 504 timeout, ...): every attempt that failed before its first token, retried or not, and every error that ended a started stream",
            this.errors.clone(),
        );
        this
    }

    /// Counts `record` and its upstream `failures` (statuses); `model` is the label for the
    /// model it asked for (bounded by the caller).
    pub(super) fn observe(&self, record: &Record, model: &str, failures: &[u16]) {
        let labels = Model {
            gen_ai_request_model: model.to_owned(),
            // Answers from the cache are counted apart from the provider's own.
            gen_ai_provider_name: match record.cache {
                Some(_) => "cache".into(),
                None => record.provider.clone().unwrap_or_else(|| "none".into()),
            },
        };
        let tokens = &record.tokens;
        let duration = record.duration_ms / 1e3;
        self.duration.get_or_create(&labels).observe(duration);
        if let Some(ttft) = record.ttft_ms.map(|ms| ms / 1e3) {
            self.ttft.get_or_create(&labels).observe(ttft);
            let streaming = duration - ttft;
            if tokens.output > 1 {
                let per_token = streaming / (tokens.output - 1) as f64;
                self.per_output_token
                    .get_or_create(&labels)
                    .observe(per_token);
            }
            if tokens.output > 0 && streaming > 0.0 {
                let rate = tokens.output as f64 / streaming;
                self.tokens_per_second.get_or_create(&labels).observe(rate);
            }
        }
        let kinds = [
            ("input", tokens.input),
            ("output", tokens.output),
            ("cached_input", tokens.cached_input),
            ("cache_write", tokens.cache_write),
            ("reasoning", tokens.reasoning),
        ];
        for (kind, count) in kinds {
            let typed = TokenType {
                gen_ai_request_model: labels.gen_ai_request_model.clone(),
                gen_ai_provider_name: labels.gen_ai_provider_name.clone(),
                gen_ai_token_type: kind,
            };
            if matches!(kind, "input" | "output") && record.model_served.is_some() {
                self.token_usage.get_or_create(&typed).observe(count as f64);
            }
            self.tokens.get_or_create(&typed).inc_by(count);
        }
        if let Some(cost) = record.cost_usd {
            self.cost.get_or_create(&labels).inc_by(cost);
        }
        self.ended
            .get_or_create(&Ended {
                gen_ai_request_model: labels.gen_ai_request_model.clone(),
                gen_ai_provider_name: labels.gen_ai_provider_name.clone(),
                outcome: record.outcome.as_str(),
            })
            .inc();
        let retries = u64::from(record.attempts.saturating_sub(1));
        self.retries.get_or_create(&labels).inc_by(retries);
        let fallback = record
            .model_served
            .as_ref()
            .is_some_and(|served| *served != record.model_requested);
        if fallback {
            self.fallbacks.get_or_create(&labels).inc();
        }
        for &status in failures {
            self.errors
                .get_or_create(&Status {
                    gen_ai_request_model: labels.gen_ai_request_model.clone(),
                    status,
                })
                .inc();
        }
    }
}
