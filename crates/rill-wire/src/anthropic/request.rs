//! The request body's serde types: what a client may send to `POST /v1/messages`.
//!
//! These types only describe the shape; [`super::parse`] validates and converts them. The
//! top level rejects unknown fields (Anthropic does too: "Extra inputs are not
//! permitted"); nested objects ignore unknown fields, so `cache_control`, `citations`
//! and other per-block extensions keep working. Fields that are accepted but
//! deliberately ignored are prefixed with `_`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::string_or_seq::string_or_seq;

/// Every documented (non-beta) Messages request field.
///
/// Harmlessly ignored (they tune billing, logging, caching or placement at Anthropic):
/// `metadata`, `service_tier`, `cache_control`, `inference_geo`. Beta-only fields
/// (`mcp_servers`, `context_management`, ...) are unknown here and refused by name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub(super) struct RawRequest {
    /// Absent: the server's default model; `null` is refused like any wrong type.
    #[serde(default, deserialize_with = "crate::request_json::non_null")]
    pub model: Option<String>,
    pub max_tokens: Option<u32>,
    pub messages: Vec<RawMessage>,
    pub system: Option<RawSystem>,
    pub stop_sequences: Option<Vec<String>>,
    pub stream: Option<bool>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub top_k: Option<u32>,
    pub tools: Option<Vec<RawTool>>,
    pub tool_choice: Option<RawToolChoice>,
    pub thinking: Option<RawThinking>,
    pub output_config: Option<RawOutputConfig>,
    /// The code-execution container: refused (rill runs no server tools).
    pub container: Option<IgnoredAny>,
    #[serde(rename = "metadata")]
    pub _metadata: Option<IgnoredAny>,
    #[serde(rename = "service_tier")]
    pub _service_tier: Option<String>,
    #[serde(rename = "cache_control")]
    pub _cache_control: Option<IgnoredAny>,
    #[serde(rename = "inference_geo")]
    pub _inference_geo: Option<String>,
}

/// One message. `role` stays a string so that `system` gets a message with a hint.
#[derive(Deserialize)]
#[serde(expecting = "a message object")]
pub(super) struct RawMessage {
    pub role: String,
    pub content: Option<RawContent>,
}

/// A message's `content`: a string or an array of content blocks.
pub(super) enum RawContent {
    Text(String),
    Blocks(Vec<RawBlock>),
}

/// One content block. A flat struct rather than an enum tagged by `type`, so that serde
/// reports errors inside a block with their exact path and an unsupported block gets a
/// clear error.
#[derive(Deserialize)]
#[serde(expecting = "a content block object")]
pub(super) struct RawBlock {
    #[serde(rename = "type")]
    pub kind: String,
    /// `text` blocks.
    pub text: Option<String>,
    /// `tool_use` blocks.
    pub id: Option<String>,
    pub name: Option<String>,
    /// `tool_use` blocks: the call's arguments as a JSON value.
    pub input: Option<Value>,
    /// `thinking` blocks: the reasoning and its signature.
    pub thinking: Option<String>,
    pub signature: Option<String>,
    /// `redacted_thinking` blocks.
    pub data: Option<String>,
    /// `tool_result` blocks.
    pub tool_use_id: Option<String>,
    pub content: Option<RawResultContent>,
    pub is_error: Option<bool>,
}

/// `system`, or a `tool_result`'s `content`: a string or an array of blocks.
pub(super) enum RawResultContent {
    Text(String),
    Blocks(Vec<RawTextBlock>),
}

/// A block that may only be text (`system`), or text or media (a tool result).
#[derive(Deserialize)]
#[serde(expecting = "a content block object")]
pub(super) struct RawTextBlock {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
}

/// `system`: a string or an array of text blocks.
pub(super) type RawSystem = RawResultContent;

#[derive(Deserialize)]
#[serde(expecting = "a tool object")]
pub(super) struct RawTool {
    /// Absent or `custom` for a client tool; anything else is a server tool.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// JSON Schema, passed through untouched.
    pub input_schema: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a tool choice object")]
pub(super) struct RawToolChoice {
    #[serde(rename = "type")]
    pub kind: RawChoiceKind,
    pub name: Option<String>,
    /// Ignored, like OpenAI's `parallel_tool_calls`: core has no such switch.
    #[serde(rename = "disable_parallel_tool_use")]
    pub _disable_parallel_tool_use: Option<bool>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawChoiceKind {
    Auto,
    Any,
    Tool,
    None,
}

#[derive(Deserialize)]
#[serde(expecting = "a thinking object")]
pub(super) struct RawThinking {
    #[serde(rename = "type")]
    pub kind: RawThinkingKind,
    /// Accepted and ignored: core has no reasoning budget.
    #[serde(rename = "budget_tokens")]
    pub _budget_tokens: Option<u32>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawThinkingKind {
    Enabled,
    Disabled,
    Adaptive,
}

#[derive(Deserialize)]
#[serde(expecting = "an output config object")]
pub(super) struct RawOutputConfig {
    /// Accepted and ignored, like OpenAI's `reasoning_effort`.
    #[serde(rename = "effort")]
    pub _effort: Option<String>,
    pub format: Option<RawOutputFormat>,
}

#[derive(Deserialize)]
#[serde(expecting = "an output format object")]
pub(super) struct RawOutputFormat {
    #[serde(rename = "type")]
    pub kind: RawFormatKind,
    /// Passed through untouched.
    pub schema: Option<Value>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawFormatKind {
    JsonSchema,
}

string_or_seq!(
    RawContent,
    Text,
    Blocks,
    "a string or an array of content blocks"
);
string_or_seq!(
    RawResultContent,
    Text,
    Blocks,
    "a string or an array of content blocks"
);
