//! What the ledger keeps of one generation.

use serde::{Deserialize, Serialize};

/// One generation, however it ended: who asked, what served it, what it used and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The response id the client saw (`chatcmpl-...`, `msg_...`, `resp_...`).
    pub id: String,
    /// When the request was admitted, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// The name of the key that asked (`None` when no keys are configured).
    pub key: Option<String>,
    /// The client dialect (`openai-chat`, `anthropic-messages`, `openai-responses`,
    /// `vercel-ui`).
    pub dialect: String,
    /// The model the request named.
    pub model_requested: String,
    /// The model that served it, after retries and fallbacks (`None` when none did).
    pub model_served: Option<String>,
    /// The provider kind of the model that served (`openai`, `anthropic`, `engine`, ...).
    pub provider: Option<String>,
    /// Attempts taken across the model's chain (1 when the first one served).
    pub attempts: u32,
    /// Time from admission to the first generated content, if any came.
    pub ttft_ms: Option<f64>,
    /// Time from admission to the end.
    pub duration_ms: f64,
    pub tokens: Tokens,
    /// What it cost, when the model has a price.
    pub cost_usd: Option<f64>,
    /// The prices the cost was computed with.
    pub price: Option<Price>,
    pub outcome: Outcome,
    /// For a failure, its kind (`timeout`, `upstream`, `rate_limited`, ...).
    pub error_kind: Option<String>,
    /// Answered without a generation of its own: from the response cache, or by sharing
    /// an identical request's running generation. Its cost is then 0, and `tokens` are
    /// what the answer counted when it was generated.
    pub cache: Option<CacheUse>,
    /// For a cached answer, what it would have cost at its model's price.
    pub saved_usd: Option<f64>,
}

/// How an answer came from the response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheUse {
    /// A stored answer, replayed.
    Hit,
    /// An identical request's generation, running when this one arrived, shared.
    Joined,
}

impl CacheUse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Joined => "joined",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Hit, Self::Joined]
            .into_iter()
            .find(|use_| use_.as_str() == name)
    }
}

/// Token counts of a generation. `input` includes `cached_input` and `cache_write` (the
/// whole prompt, whichever way the provider counts it); `output` includes `reasoning`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
    pub cache_write: u64,
    pub reasoning: u64,
    /// The input count is rill's estimate: the provider reported none.
    pub input_estimated: bool,
    /// The output count is rill's estimate: the stream ended without a report.
    pub output_estimated: bool,
}

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Input read from the provider's prompt cache; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_mtok: Option<f64>,
    /// Input written to the provider's prompt cache; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<f64>,
    /// Reasoning output; the output price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_per_mtok: Option<f64>,
}

impl Price {
    /// What `tokens` cost at these prices. Cached and cache-written input are priced apart
    /// from the rest of the input, reasoning apart from the rest of the output.
    pub fn cost(&self, tokens: &Tokens) -> f64 {
        let cached = tokens.cached_input.min(tokens.input);
        let written = tokens.cache_write.min(tokens.input - cached);
        let plain_input = tokens.input - cached - written;
        let reasoning = tokens.reasoning.min(tokens.output);
        let plain_output = tokens.output - reasoning;
        let per = |tokens: u64, price: f64| tokens as f64 * price / 1e6;
        per(plain_input, self.input_per_mtok)
            + per(
                cached,
                self.cached_input_per_mtok.unwrap_or(self.input_per_mtok),
            )
            + per(
                written,
                self.cache_write_per_mtok.unwrap_or(self.input_per_mtok),
            )
            + per(plain_output, self.output_per_mtok)
            + per(
                reasoning,
                self.reasoning_per_mtok.unwrap_or(self.output_per_mtok),
            )
    }
}

/// How a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Finished: the model ended its answer (or a stop sequence matched).
    Stop,
    /// Finished at `max_tokens` or the context's end.
    Length,
    /// Finished asking for tool results.
    ToolCalls,
    /// Finished with output withheld by a safety system.
    ContentFilter,
    /// Cancelled by a client (`POST /v1/streams/{id}/cancel` and the dialects' forms).
    Cancelled,
    /// Its client went away (and, for a resumable stream, did not come back in time).
    Disconnected,
    /// A timeout ended it (first token, idle or total).
    Timeout,
    /// It failed: the upstream's error, or no attempt was accepted.
    Error,
    /// Shutdown's grace period ran out while it ran.
    Shutdown,
}

impl Outcome {
    pub const ALL: [Self; 9] = [
        Self::Stop,
        Self::Length,
        Self::ToolCalls,
        Self::ContentFilter,
        Self::Cancelled,
        Self::Disconnected,
        Self::Timeout,
        Self::Error,
        Self::Shutdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Cancelled => "cancelled",
            Self::Disconnected => "disconnected",
            Self::Timeout => "timeout",
            Self::Error => "error",
            Self::Shutdown => "shutdown",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_written_and_reasoning_tokens_have_their_own_prices() {
        let price = Price {
            input_per_mtok: 2.0,
            output_per_mtok: 8.0,
            cached_input_per_mtok: Some(0.5),
            cache_write_per_mtok: Some(2.5),
            reasoning_per_mtok: None,
        };
        let tokens = Tokens {
            input: 1_000_000,
            cached_input: 400_000,
            cache_write: 100_000,
            output: 500_000,
            reasoning: 200_000,
            ..Tokens::default()
        };
        // 500k plain input at 2, 400k cached at 0.5, 100k written at 2.5, 500k output
        // (reasoning at the output price) at 8.
        let expected = 1.0 + 0.2 + 0.25 + 4.0;
        assert!((price.cost(&tokens) - expected).abs() < 1e-9);
    }

    #[test]
    fn counts_that_do_not_add_up_are_never_priced_twice() {
        let price = Price {
            input_per_mtok: 1.0,
            output_per_mtok: 1.0,
            cached_input_per_mtok: Some(0.0),
            ..Price::default()
        };
        // More cached than input (a careless upstream): all of the input is cached.
        let tokens = Tokens {
            input: 10,
            cached_input: 50,
            ..Tokens::default()
        };
        assert_eq!(price.cost(&tokens), 0.0);
    }

    #[test]
    fn outcome_names_round_trip() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(Outcome::parse("finished"), None);
    }
}
