//! The request body's serde types: what a client may send to `POST /v1/chat/completions`.
//!
//! These types only describe the shape; [`super::parse`] validates and converts them. The
//! top level rejects unknown fields (like OpenAI does); nested objects ignore unknown
//! fields, so clients that add vendor extensions to a message or a tool keep working.
//! Fields that are accepted but deliberately ignored are prefixed with `_`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::string_or_seq::string_or_seq;

/// Every documented Chat Completions request field.
///
/// Harmlessly ignored (they tune billing, logging or caching at OpenAI, or ask for an
/// optimisation rill does not need to honour for a correct answer): `user`, `metadata`,
/// `store`, `service_tier`, `parallel_tool_calls`, `prediction`, `reasoning_effort`,
/// `verbosity`, `safety_identifier`, `prompt_cache_key`, `stream_options.include_obfuscation`,
/// a tool's `strict` flag, a message's `name` (and an assistant message's `refusal` and
/// `audio`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub(super) struct RawRequest {
    /// Absent: the server's default model; `null` is refused like any wrong type.
    #[serde(default, deserialize_with = "crate::request_json::non_null")]
    pub model: Option<String>,
    pub messages: Vec<RawMessage>,
    pub tools: Option<Vec<RawTool>>,
    pub tool_choice: Option<RawToolChoice>,
    /// Deprecated predecessor of `tools`.
    pub functions: Option<Vec<RawFunctionDef>>,
    /// Deprecated predecessor of `tool_choice`.
    pub function_call: Option<RawToolChoice>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub stop: Option<RawStop>,
    pub seed: Option<i64>,
    pub frequency_penalty: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub response_format: Option<RawResponseFormat>,
    pub stream: Option<bool>,
    pub stream_options: Option<RawStreamOptions>,
    pub n: Option<u32>,
    pub logprobs: Option<bool>,
    pub top_logprobs: Option<u32>,
    pub logit_bias: Option<BTreeMap<String, IgnoredAny>>,
    pub modalities: Option<Vec<String>>,
    pub audio: Option<IgnoredAny>,
    pub web_search_options: Option<IgnoredAny>,
    #[serde(rename = "user")]
    pub _user: Option<String>,
    #[serde(rename = "metadata")]
    pub _metadata: Option<IgnoredAny>,
    #[serde(rename = "store")]
    pub _store: Option<bool>,
    #[serde(rename = "service_tier")]
    pub _service_tier: Option<String>,
    #[serde(rename = "parallel_tool_calls")]
    pub _parallel_tool_calls: Option<bool>,
    #[serde(rename = "prediction")]
    pub _prediction: Option<IgnoredAny>,
    #[serde(rename = "reasoning_effort")]
    pub _reasoning_effort: Option<String>,
    #[serde(rename = "verbosity")]
    pub _verbosity: Option<String>,
    #[serde(rename = "safety_identifier")]
    pub _safety_identifier: Option<String>,
    #[serde(rename = "prompt_cache_key")]
    pub _prompt_cache_key: Option<String>,
}

/// One message. A flat struct rather than an enum tagged by `role`, so that serde reports
/// errors inside a message with their exact path.
#[derive(Deserialize)]
#[serde(expecting = "a message object")]
pub(super) struct RawMessage {
    pub role: RawRole,
    pub content: Option<RawContent>,
    pub tool_calls: Option<Vec<RawToolCall>>,
    pub tool_call_id: Option<String>,
    /// Ignored except on the deprecated `function` role, where it names the function.
    pub name: Option<String>,
    /// Deprecated predecessor of `tool_calls` on assistant messages.
    pub function_call: Option<RawFunctionCall>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawRole {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    /// Deprecated predecessor of `tool`.
    Function,
}

/// A message's `content`: a string or an array of content parts.
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

#[derive(Deserialize)]
#[serde(expecting = "a tool call object")]
pub(super) struct RawToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub function: Option<RawFunctionCall>,
}

#[derive(Deserialize)]
#[serde(expecting = "a function call object")]
pub(super) struct RawFunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a tool object")]
pub(super) struct RawTool {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub function: Option<RawFunctionDef>,
}

#[derive(Deserialize)]
#[serde(expecting = "a function object")]
pub(super) struct RawFunctionDef {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema, passed through untouched.
    pub parameters: Option<Value>,
    #[serde(rename = "strict")]
    pub _strict: Option<bool>,
}

/// `tool_choice` (or the deprecated `function_call`): a mode string or an object.
pub(super) enum RawToolChoice {
    Mode(String),
    Named(RawNamedChoice),
}

/// `{"type":"function","function":{"name":..}}`, or the legacy `{"name":..}`.
#[derive(Deserialize)]
#[serde(expecting = "a tool choice object")]
pub(super) struct RawNamedChoice {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub function: Option<RawName>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object with a `name`")]
pub(super) struct RawName {
    pub name: String,
}

/// `stop`: one sequence or an array of them.
pub(super) enum RawStop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(expecting = "a response format object")]
pub(super) struct RawResponseFormat {
    #[serde(rename = "type")]
    pub kind: RawFormatKind,
    pub json_schema: Option<RawJsonSchema>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawFormatKind {
    Text,
    JsonObject,
    JsonSchema,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON schema object")]
pub(super) struct RawJsonSchema {
    pub name: String,
    #[serde(rename = "description")]
    pub _description: Option<String>,
    /// Passed through untouched.
    pub schema: Option<Value>,
    pub strict: Option<bool>,
}

#[derive(Deserialize)]
#[serde(expecting = "a stream options object")]
pub(super) struct RawStreamOptions {
    pub include_usage: Option<bool>,
    #[serde(rename = "include_obfuscation")]
    pub _include_obfuscation: Option<bool>,
}

string_or_seq!(
    RawContent,
    Text,
    Parts,
    "a string or an array of content parts"
);
string_or_seq!(RawStop, One, Many, "a string or an array of strings");

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
