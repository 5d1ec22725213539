//! The UI message chunks rill sends, exactly the keys `ai@5.0.0`'s strict schema
//! (`uiMessageChunkSchema`, every member a `z.strictObject`) allows. They borrow from
//! the encoder's state: nothing is cloned to write a chunk.

use rill_core::Usage;
use rill_sse::FrameBuf;
use serde::Serialize;

use crate::dialect::json_frame;
use serde_json::Value;

/// One chunk. The `type` tags are the schema's literals.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(super) enum ChunkOut<'a> {
    #[serde(rename_all = "camelCase")]
    Start {
        message_id: &'a str,
    },
    StartStep,
    TextStart {
        id: &'a str,
    },
    TextDelta {
        id: &'a str,
        delta: &'a str,
    },
    TextEnd {
        id: &'a str,
    },
    ReasoningStart {
        id: &'a str,
    },
    ReasoningDelta {
        id: &'a str,
        delta: &'a str,
    },
    /// `providerMetadata` when a signature sealed the reasoning, or for a redacted block.
    #[serde(rename_all = "camelCase")]
    ReasoningEnd {
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        provider_metadata: Option<ProviderMetadataOut<'a>>,
    },
    #[serde(rename_all = "camelCase")]
    ToolInputStart {
        tool_call_id: &'a str,
        tool_name: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    ToolInputDelta {
        tool_call_id: &'a str,
        input_text_delta: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    ToolInputAvailable {
        tool_call_id: &'a str,
        tool_name: &'a str,
        input: &'a Value,
    },
    #[serde(rename_all = "camelCase")]
    ToolOutputError {
        tool_call_id: &'a str,
        error_text: &'a str,
    },
    FinishStep,
    #[serde(rename_all = "camelCase")]
    Finish {
        /// Only in `ai` >= 5.0.92's schema: sent only when asked for.
        #[serde(skip_serializing_if = "Option::is_none")]
        finish_reason: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message_metadata: Option<MetadataOut>,
    },
    #[serde(rename_all = "camelCase")]
    Error {
        error_text: &'a str,
    },
    Abort,
}

/// A reasoning part's `providerMetadata`: `{"rill": {"signature": ...}}`, or `{"rill":
/// {"redactedData": ...}}` for a redacted block. The schema takes any `{provider: {key:
/// JSON}}`; the namespace is rill's own, since which upstream serves a model is rill's
/// business. `useChat` keeps it on the part and sends it back with the message.
#[derive(Serialize)]
pub(super) struct ProviderMetadataOut<'a> {
    pub rill: ReasoningMetadataOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ReasoningMetadataOut<'a> {
    Signature(&'a str),
    RedactedData(&'a str),
}

/// What rill puts in the answer's `metadata`: `{finishReason, usage?}`. The finish reason
/// rides here too because `finish.finishReason` is refused by `ai` before 5.0.92, while
/// `metadata` reaches every version's `message.metadata`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MetadataOut {
    pub finish_reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageOut>,
}

/// The AI SDK's own `LanguageModelUsage` shape (what `streamText` reports).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UsageOut {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
}

impl From<&Usage> for UsageOut {
    fn from(usage: &Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            // Saturating: provider counts are never trusted not to overflow.
            total_tokens: usage.input_tokens.saturating_add(usage.output_tokens),
            reasoning_tokens: usage.reasoning_tokens,
            cached_input_tokens: usage.cached_input_tokens,
        }
    }
}

/// The chunk that stands in for one that failed to serialise (which cannot happen:
/// these types hold only strings, numbers and parsed JSON values).
const FALLBACK: &str = r#"{"type":"error","errorText":"rill failed to serialise a stream chunk"}"#;

impl ChunkOut<'_> {
    /// Writes the chunk as one frame's data.
    pub(super) fn write(&self, out: &mut FrameBuf) {
        json_frame(out, None, self, (None, FALLBACK));
    }
}
