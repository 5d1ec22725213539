//! Serialise-side types of the Response object's parts: output items, their content
//! parts, and the usage. The stream's events and the non-streaming body share them.

use std::borrow::Cow;

use rill_core::Usage;
use serde::Serialize;

/// An output item: in `output_item.added` / `.done` and a Response object's `output`.
/// Ids are borrowed from the encoder's state, or made for a non-streaming body.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ItemOut<'a> {
    Message {
        id: Cow<'a, str>,
        status: &'static str,
        role: &'static str,
        content: Vec<PartOut<'a>>,
    },
    /// `encrypted_content` is the reasoning's signature: only in `.done` and the Response
    /// object, and only when one sealed it.
    Reasoning {
        id: Cow<'a, str>,
        summary: Vec<SummaryOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<&'a str>,
    },
    FunctionCall {
        id: Cow<'a, str>,
        status: &'static str,
        call_id: Cow<'a, str>,
        name: &'a str,
        arguments: &'a str,
    },
}

impl ItemOut<'_> {
    /// Marks a message or function call as cut off (reasoning items have no status).
    pub(super) fn set_incomplete(&mut self) {
        if let Self::Message { status, .. } | Self::FunctionCall { status, .. } = self {
            *status = "incomplete";
        }
    }
}

/// A message's content part. rill sends no annotations and no log probabilities.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum PartOut<'a> {
    OutputText {
        annotations: [(); 0],
        logprobs: [(); 0],
        text: &'a str,
    },
    Refusal {
        refusal: &'a str,
    },
}

/// A reasoning item's summary part: rill's reasoning text.
#[derive(Serialize)]
pub(super) struct SummaryOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
}

impl<'a> SummaryOut<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            kind: "summary_text",
            text,
        }
    }
}

/// Token counts. The details are required fields: an unknown count is 0.
#[derive(Serialize)]
pub(super) struct UsageOut {
    pub input_tokens: u64,
    pub input_tokens_details: InputDetailsOut,
    pub output_tokens: u64,
    pub output_tokens_details: OutputDetailsOut,
    pub total_tokens: u64,
    /// What the tokens cost in US dollars, when rill knows the price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The counts are rill's estimate: the upstream reported none.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

#[derive(Serialize)]
pub(super) struct InputDetailsOut {
    pub cache_write_tokens: u64,
    pub cached_tokens: u64,
}

#[derive(Serialize)]
pub(super) struct OutputDetailsOut {
    pub reasoning_tokens: u64,
}

impl From<&Usage> for UsageOut {
    fn from(usage: &Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            input_tokens_details: InputDetailsOut {
                cache_write_tokens: usage.cache_write_tokens.unwrap_or_default(),
                cached_tokens: usage.cached_input_tokens.unwrap_or_default(),
            },
            output_tokens: usage.output_tokens,
            output_tokens_details: OutputDetailsOut {
                reasoning_tokens: usage.reasoning_tokens.unwrap_or_default(),
            },
            // Saturating: an upstream's counts are not trusted to be sane.
            total_tokens: usage.input_tokens.saturating_add(usage.output_tokens),
            cost: usage.cost_usd,
            estimated: usage.estimated,
        }
    }
}
