//! The deserialise-side types of a Responses stream, as an upstream sends it, and the
//! parsing of one event's data.
//!
//! Tagged by `type`, each with a catch-all: a new event, item or part type is ignored,
//! never an error. Every field an event needs but may lack has a default. Fields rill
//! has no use for (`sequence_number`, `item_id`, `obfuscation`, `logprobs`, the
//! Response object's echo of the request) are ignored.

use rill_core::{Error, Usage};
use serde::Deserialize;
use serde_json::error::Category;

use super::error::FailureIn;

#[derive(Deserialize)]
#[serde(tag = "type")]
pub(super) enum EventIn {
    #[serde(rename = "response.created", alias = "response.in_progress")]
    Created { response: Option<ResponseIn> },
    #[serde(rename = "response.output_item.added")]
    ItemAdded {
        #[serde(default)]
        output_index: u32,
        item: ItemIn,
    },
    #[serde(rename = "response.output_item.done")]
    ItemDone {
        #[serde(default)]
        output_index: u32,
        item: ItemIn,
    },
    #[serde(rename = "response.output_text.delta")]
    TextDelta {
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta {
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.reasoning_summary_part.added")]
    SummaryPartAdded {
        #[serde(default)]
        summary_index: u32,
    },
    /// Summary text, or (`response.reasoning_text.delta`, from open-weight models) the
    /// reasoning itself.
    #[serde(
        rename = "response.reasoning_summary_text.delta",
        alias = "response.reasoning_text.delta"
    )]
    ReasoningDelta {
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    ArgumentsDelta {
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    ArgumentsDone {
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        arguments: String,
    },
    #[serde(rename = "response.completed")]
    Completed { response: Option<ResponseIn> },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: Option<ResponseIn> },
    #[serde(rename = "response.failed")]
    Failed { response: Option<ResponseIn> },
    /// Read again by [`super::error::error_event_in`], which takes either shape.
    #[serde(rename = "error")]
    Error {},
    #[serde(other)]
    Unknown,
}

/// The parts of a Response object the decoder reads.
#[derive(Deserialize, Default)]
pub(super) struct ResponseIn {
    pub model: Option<String>,
    pub usage: Option<UsageIn>,
    pub incomplete_details: Option<IncompleteIn>,
    pub error: Option<FailureIn>,
}

#[derive(Deserialize)]
pub(super) struct IncompleteIn {
    pub reason: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ItemIn {
    Message {
        #[serde(default)]
        content: Vec<PartIn>,
    },
    FunctionCall {
        #[serde(default)]
        call_id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        arguments: String,
    },
    /// `encrypted_content` only when the request asked for it (`include:
    /// ["reasoning.encrypted_content"]`), usually only in `.done`.
    Reasoning {
        summary: Option<Vec<SummaryIn>>,
        encrypted_content: Option<String>,
    },
    /// Built-in tools' calls, and whatever comes next.
    #[serde(other)]
    Other,
}

/// A reasoning item's summary part (`summary_text`).
#[derive(Deserialize, Clone)]
pub(super) struct SummaryIn {
    #[serde(default)]
    pub text: String,
}

#[derive(Deserialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum PartIn {
    OutputText {
        #[serde(default)]
        text: String,
    },
    Refusal {
        #[serde(default)]
        refusal: String,
    },
    #[serde(other)]
    Other,
}

/// Token counts; every field may be absent or `null`. `input_tokens` counts the cached
/// ones in, as core does.
#[derive(Deserialize)]
pub(super) struct UsageIn {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<InputDetailsIn>,
    output_tokens_details: Option<OutputDetailsIn>,
}

#[derive(Deserialize)]
struct InputDetailsIn {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct OutputDetailsIn {
    reasoning_tokens: Option<u64>,
}

impl From<UsageIn> for Usage {
    fn from(usage: UsageIn) -> Self {
        Usage {
            input_tokens: usage.input_tokens.unwrap_or_default(),
            output_tokens: usage.output_tokens.unwrap_or_default(),
            reasoning_tokens: usage.output_tokens_details.and_then(|d| d.reasoning_tokens),
            cached_input_tokens: usage.input_tokens_details.and_then(|d| d.cached_tokens),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }
    }
}

/// Parses an event's data.
pub(super) fn parse(data: &str) -> Result<EventIn, Error> {
    serde_json::from_str(data).map_err(|e| match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid event: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent an event that is not valid JSON: {e}"
        )),
    })
}
