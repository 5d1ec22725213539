//! Serialise-side types shared by the encoder, the response body and the request body.
//! They borrow from core values: nothing is cloned to write a chunk.

use rill_core::{ToolCall, Usage};
use serde::Serialize;

/// One streamed chunk (`chat.completion.chunk`).
#[derive(Serialize)]
pub(super) struct ChunkOut<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: &'a [ChoiceOut<'a>],
    /// Absent without `include_usage`; `null` on every chunk but the usage chunk with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<UsageOut>>,
}

#[derive(Serialize)]
pub(super) struct ChoiceOut<'a> {
    pub index: u32,
    pub delta: DeltaOut<'a>,
    /// Always `null`: rill does not produce log probabilities.
    pub logprobs: (),
    pub finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
pub(super) struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<[ToolCallDeltaOut<'a>; 1]>,
}

#[derive(Serialize)]
pub(super) struct ToolCallDeltaOut<'a> {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub function: FunctionDeltaOut<'a>,
}

#[derive(Serialize)]
pub(super) struct FunctionDeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub arguments: &'a str,
}

/// A whole tool call, in a response message or an assistant message of a request.
#[derive(Serialize)]
pub(super) struct ToolCallOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionOut<'a>,
}

#[derive(Serialize)]
pub(super) struct FunctionOut<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

impl<'a> From<&'a ToolCall> for ToolCallOut<'a> {
    fn from(call: &'a ToolCall) -> Self {
        Self {
            id: &call.id,
            kind: "function",
            function: FunctionOut {
                name: &call.name,
                arguments: &call.arguments,
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct UsageOut {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptDetailsOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionDetailsOut>,
    /// What the tokens cost in US dollars, when rill knows the price (as OpenRouter's
    /// `usage.cost`); clients that do not know the field ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The counts are rill's estimate: the upstream reported none.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

#[derive(Serialize)]
pub(super) struct PromptDetailsOut {
    pub cached_tokens: u64,
}

#[derive(Serialize)]
pub(super) struct CompletionDetailsOut {
    pub reasoning_tokens: u64,
}

impl From<&Usage> for UsageOut {
    fn from(usage: &Usage) -> Self {
        Self {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens(),
            prompt_tokens_details: usage
                .cached_input_tokens
                .map(|cached_tokens| PromptDetailsOut { cached_tokens }),
            completion_tokens_details: usage
                .reasoning_tokens
                .map(|reasoning_tokens| CompletionDetailsOut { reasoning_tokens }),
            cost: usage.cost_usd,
            estimated: usage.estimated,
        }
    }
}

/// Serialises one of this module's types. They contain only strings, numbers and
/// pass-through JSON values, so this cannot fail; the fallback exists to avoid a panic.
pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| {
        r#"{"error":{"message":"rill failed to serialise a response","type":"server_error","param":null,"code":null}}"#
            .to_owned()
    })
}
