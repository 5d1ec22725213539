//! The request body's serde types: what `useChat`'s `DefaultChatTransport` POSTs.
//!
//! The transport sends `{...body, id, messages, trigger, messageId}`, where `body` is
//! whatever the app passed to `useChat`/`sendMessage` (`body: {model: "..."}`). The top
//! level takes the transport's fields and the options rill honours; anything else is
//! refused, as the other dialects refuse fields they do not know, so that an option rill
//! would ignore (`n`, `stream`, `base_url`) is never ignored silently.
//! Messages and parts ignore unknown fields (`state` of a text part,
//! `callProviderMetadata`, `title`, other providers' `providerMetadata`, ...). These
//! types only describe the shape; [`super::parse`] and [`super::convert`] validate and
//! convert them. Fields that are accepted but deliberately ignored are prefixed with
//! `_`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// The top level: the transport's own fields, and the app's `body` fields rill reads
/// (the AI SDK's call-setting names, plus `max_tokens`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub(super) struct RawRequest {
    pub messages: Vec<RawMessage>,
    /// Absent: the server's default model; `null` is refused like any wrong type.
    #[serde(default, deserialize_with = "crate::request_json::non_null")]
    pub model: Option<String>,
    pub temperature: Option<f32>,
    #[serde(rename = "topP")]
    pub top_p: Option<f32>,
    #[serde(rename = "topK")]
    pub top_k: Option<u32>,
    #[serde(rename = "maxOutputTokens")]
    pub max_output_tokens: Option<u32>,
    pub max_tokens: Option<u32>,
    #[serde(rename = "stopSequences")]
    pub stop_sequences: Option<Vec<String>>,
    pub seed: Option<i64>,
    #[serde(rename = "presencePenalty")]
    pub presence_penalty: Option<f32>,
    #[serde(rename = "frequencyPenalty")]
    pub frequency_penalty: Option<f32>,
    /// The chat's id: rill keeps no chats.
    #[serde(rename = "id")]
    pub _id: Option<IgnoredAny>,
    /// `submit-message` or `regenerate-message`: the messages already say which.
    #[serde(rename = "trigger")]
    pub _trigger: Option<IgnoredAny>,
    /// The message being replaced or continued: the messages already say which.
    #[serde(rename = "messageId")]
    pub _message_id: Option<IgnoredAny>,
}

/// One `UIMessage`. `role` stays a string so that a wrong one gets a clear error.
#[derive(Deserialize)]
#[serde(expecting = "a UI message object")]
pub(super) struct RawMessage {
    pub id: Option<String>,
    pub role: String,
    pub parts: Option<Vec<RawPart>>,
    /// AI SDK 4's message text: only read to say why `parts` is missing.
    pub content: Option<IgnoredAny>,
    #[serde(rename = "metadata")]
    pub _metadata: Option<IgnoredAny>,
}

/// One part of a message. A flat struct rather than an enum tagged by `type`, so that
/// serde reports errors inside a part with their exact path and an unknown part type
/// gets a clear error. Tool parts are `tool-<name>` (or `dynamic-tool` with `toolName`).
#[derive(Deserialize)]
#[serde(expecting = "a message part object")]
pub(super) struct RawPart {
    #[serde(rename = "type")]
    pub kind: String,
    /// `text` and `reasoning` parts.
    pub text: Option<String>,
    /// Tool parts.
    #[serde(rename = "toolCallId")]
    pub tool_call_id: Option<String>,
    /// `dynamic-tool` parts.
    #[serde(rename = "toolName")]
    pub tool_name: Option<String>,
    pub state: Option<String>,
    /// The call's input as a JSON value (absent while it streams or when it failed).
    pub input: Option<Value>,
    /// The raw input text, kept by newer clients beside `input`.
    #[serde(rename = "rawInput")]
    pub raw_input: Option<Value>,
    pub output: Option<Value>,
    #[serde(rename = "errorText")]
    pub error_text: Option<String>,
    /// An output that is still streaming from the tool.
    pub preliminary: Option<bool>,
    /// `reasoning` parts: what rill's stream put there (`{"rill": {...}}`).
    #[serde(rename = "providerMetadata")]
    pub provider_metadata: Option<RawProviderMetadata>,
}

/// A part's `providerMetadata`: only rill's namespace is read.
#[derive(Deserialize)]
#[serde(expecting = "a provider metadata object")]
pub(super) struct RawProviderMetadata {
    pub rill: Option<RawRillMetadata>,
}

/// What rill's stream puts in a reasoning part's metadata.
#[derive(Deserialize)]
#[serde(expecting = "an object")]
pub(super) struct RawRillMetadata {
    pub signature: Option<String>,
    #[serde(rename = "redactedData")]
    pub redacted_data: Option<String>,
}
