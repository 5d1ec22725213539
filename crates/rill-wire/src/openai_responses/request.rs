//! The request body's serde types: what a client may send to `POST /v1/responses`.
//!
//! These types only describe the shape; [`super::parse`] validates and converts them. The
//! top level rejects unknown fields (like OpenAI does); nested objects ignore unknown
//! fields, so the `id` and `status` that clients echo back on earlier output items, and
//! vendor extensions, keep working. Fields that are accepted but deliberately ignored are
//! prefixed with `_`.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::string_or_seq::string_or_seq;

/// Every documented Responses request field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub(super) struct RawRequest {
    /// Absent: the server's default model; `null` is refused like any wrong type.
    #[serde(default, deserialize_with = "crate::request_json::non_null")]
    pub model: Option<String>,
    pub input: Option<RawInput>,
    pub instructions: Option<String>,
    pub tools: Option<Vec<RawTool>>,
    pub tool_choice: Option<RawToolChoice>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub stream: Option<bool>,
    pub text: Option<RawText>,
    /// Refused: rill keeps no responses to continue from.
    pub previous_response_id: Option<String>,
    /// Refused: rill keeps no conversations.
    pub conversation: Option<IgnoredAny>,
    /// Refused when `true`: rill has no background mode.
    pub background: Option<bool>,
    /// Refused: rill has no stored prompt templates.
    pub prompt: Option<IgnoredAny>,
    pub include: Option<Vec<String>>,
    pub top_logprobs: Option<u32>,
    #[serde(rename = "reasoning")]
    pub _reasoning: Option<RawReasoning>,
    #[serde(rename = "stream_options")]
    pub _stream_options: Option<RawStreamOptions>,
    #[serde(rename = "store")]
    pub _store: Option<bool>,
    #[serde(rename = "metadata")]
    pub _metadata: Option<IgnoredAny>,
    #[serde(rename = "user")]
    pub _user: Option<String>,
    #[serde(rename = "parallel_tool_calls")]
    pub _parallel_tool_calls: Option<bool>,
    #[serde(rename = "truncation")]
    pub _truncation: Option<String>,
    #[serde(rename = "max_tool_calls")]
    pub _max_tool_calls: Option<u32>,
    #[serde(rename = "service_tier")]
    pub _service_tier: Option<String>,
    #[serde(rename = "safety_identifier")]
    pub _safety_identifier: Option<String>,
    #[serde(rename = "prompt_cache_key")]
    pub _prompt_cache_key: Option<String>,
    #[serde(rename = "prompt_cache_retention")]
    pub _prompt_cache_retention: Option<String>,
}

/// `input`: one user message as a string, or an array of input items.
pub(super) enum RawInput {
    Text(String),
    Items(Vec<RawItem>),
}

/// One input item. A flat struct rather than an enum tagged by `type` (which a message
/// may leave out), so that serde reports errors inside an item with their exact path and
/// an unsupported item gets a clear error.
#[derive(Deserialize)]
#[serde(expecting = "an input item object")]
pub(super) struct RawItem {
    /// Absent or `message` for a message.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Messages.
    pub role: Option<RawRole>,
    pub content: Option<RawContent>,
    /// `function_call` and `function_call_output` items.
    pub call_id: Option<String>,
    /// `function_call` items.
    pub name: Option<String>,
    pub arguments: Option<String>,
    /// `function_call_output` items: a string or content parts.
    pub output: Option<RawContent>,
    /// `reasoning` items: the summary parts (their `content`, `reasoning_text` parts,
    /// is read too) and the signature.
    pub summary: Option<Vec<RawPart>>,
    pub encrypted_content: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawRole {
    User,
    Assistant,
    System,
    Developer,
}

/// A message's `content`, or a function call's `output`: a string or content parts.
pub(super) enum RawContent {
    Text(String),
    Parts(Vec<RawPart>),
}

/// One content part. `kind` stays a string so that an unsupported part gets a clear error.
#[derive(Deserialize)]
#[serde(expecting = "a content part object")]
pub(super) struct RawPart {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
}

/// A tool: Responses tools are flat (`name` and `parameters` beside `type`).
#[derive(Deserialize)]
#[serde(expecting = "a tool object")]
pub(super) struct RawTool {
    /// Absent or `function`; anything else is a built-in or custom tool.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// JSON Schema, passed through untouched.
    pub parameters: Option<Value>,
    /// Ignored: rill does not constrain arguments to the schema (so Response objects
    /// report `strict: false`).
    #[serde(rename = "strict")]
    pub _strict: Option<bool>,
    /// Only read to tell a Chat Completions tool (`{"function":{...}}`) apart.
    pub function: Option<IgnoredAny>,
}

/// `tool_choice`: a mode string or an object.
pub(super) enum RawToolChoice {
    Mode(String),
    Named(RawNamedChoice),
}

/// `{"type":"function","name":..}`, or a built-in tool's type.
#[derive(Deserialize)]
#[serde(expecting = "a tool choice object")]
pub(super) struct RawNamedChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a text options object")]
pub(super) struct RawText {
    pub format: Option<RawFormat>,
    /// Ignored: a hint about answer length that core has no field for.
    #[serde(rename = "verbosity")]
    pub _verbosity: Option<String>,
}

/// `text.format`. Unlike Chat Completions, a JSON schema's fields sit beside `type`.
#[derive(Deserialize)]
#[serde(expecting = "a text format object")]
pub(super) struct RawFormat {
    #[serde(rename = "type")]
    pub kind: RawFormatKind,
    pub name: Option<String>,
    /// Passed through untouched.
    pub schema: Option<Value>,
    pub strict: Option<bool>,
    #[serde(rename = "description")]
    pub _description: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawFormatKind {
    Text,
    JsonObject,
    JsonSchema,
}

/// Accepted and ignored: core has no reasoning effort, and reasoning is always sent.
#[derive(Deserialize)]
#[serde(expecting = "a reasoning options object")]
pub(super) struct RawReasoning {
    #[serde(rename = "effort")]
    pub _effort: Option<String>,
    #[serde(rename = "summary")]
    pub _summary: Option<String>,
    /// Deprecated spelling of `summary`.
    #[serde(rename = "generate_summary")]
    pub _generate_summary: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a stream options object")]
pub(super) struct RawStreamOptions {
    #[serde(rename = "include_obfuscation")]
    pub _include_obfuscation: Option<bool>,
}

string_or_seq!(RawInput, Text, Items, "a string or an array of input items");
string_or_seq!(
    RawContent,
    Text,
    Parts,
    "a string or an array of content parts"
);

impl<'de> Deserialize<'de> for RawToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawToolChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawToolChoice, E> {
                Ok(RawToolChoice::Mode(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawToolChoice, A::Error> {
                Deserialize::deserialize(MapAccessDeserializer::new(map)).map(RawToolChoice::Named)
            }
        }
        deserializer.deserialize_any(V)
    }
}
