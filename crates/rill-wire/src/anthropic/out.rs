//! Serialise-side types shared by the stream encoder, the message body and the error
//! body. They borrow from core values: nothing is cloned to write an event.

use rill_core::{ToolCall, Usage};
use serde::Serialize;
use serde_json::Value;

pub use crate::SseEvent;
use crate::dialect::json_frame;
use rill_sse::FrameBuf;

/// A stream event's payload. The `type` tag is also the SSE event name.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum EventOut<'a> {
    MessageStart {
        message: MessageOut<'a>,
    },
    ContentBlockStart {
        index: u32,
        content_block: BlockOut<'a>,
    },
    ContentBlockDelta {
        index: u32,
        delta: DeltaOut<'a>,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDeltaOut,
        usage: UsageOut,
    },
    MessageStop,
    Error {
        error: ErrorOut<'a>,
    },
}

/// The payload that stands in for one that failed to serialise (which cannot happen:
/// these types hold only strings, numbers and pass-through JSON values).
pub(super) const FALLBACK: &str = r#"{"type":"error","error":{"type":"api_error","message":"rill failed to serialise a response"}}"#;

impl EventOut<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
            Self::Error { .. } => "error",
        }
    }

    /// Writes the event as one frame.
    pub(super) fn write(&self, out: &mut FrameBuf) {
        json_frame(out, Some(self.name()), self, (Some("error"), FALLBACK));
    }
}

/// A Message object: in `message_start` (empty content) and the non-streaming body.
#[derive(Serialize)]
pub(super) struct MessageOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: Vec<BlockOut<'a>>,
    pub stop_reason: Option<&'static str>,
    /// Always `null`: core does not say which stop sequence matched.
    pub stop_sequence: Option<&'a str>,
    pub usage: UsageOut,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BlockOut<'a> {
    Text {
        text: &'a str,
    },
    /// In a stream's `content_block_start` the signature is `""`: it comes in a
    /// `signature_delta` before the block stops. A block whose reasoning nobody signed
    /// keeps `""`, which keeps clients that read the field working.
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
}

#[derive(Serialize)]
#[serde(tag = "type")]
pub(super) enum DeltaOut<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

#[derive(Serialize)]
pub(super) struct MessageDeltaOut {
    pub stop_reason: &'static str,
    /// Always `null`: core does not say which stop sequence matched.
    pub stop_sequence: Option<&'static str>,
}

/// Anthropic counts cached and cache-written prompt tokens apart from `input_tokens`;
/// core counts them in.
#[derive(Serialize)]
pub(super) struct UsageOut {
    pub input_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    pub output_tokens: u64,
    /// What the tokens cost in US dollars, when rill knows the price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The counts are rill's estimate: the upstream reported none.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl From<&Usage> for UsageOut {
    fn from(usage: &Usage) -> Self {
        let (cached, written) = (usage.cached_input_tokens, usage.cache_write_tokens);
        Self {
            input_tokens: usage
                .input_tokens
                .saturating_sub(cached.unwrap_or_default())
                .saturating_sub(written.unwrap_or_default()),
            cache_creation_input_tokens: written,
            cache_read_input_tokens: cached,
            output_tokens: usage.output_tokens,
            cost: usage.cost_usd,
            estimated: usage.estimated,
        }
    }
}

#[derive(Serialize)]
pub(super) struct ErrorOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: &'a str,
}

/// A whole tool call's `input`, always an object in Anthropic's dialect: the arguments'
/// object, as far as it goes for a call cut off by `max_tokens` (what Anthropic's own
/// SDKs make of such a stream), and `{}` for arguments that are not one.
pub(super) fn tool_input(call: &ToolCall) -> Value {
    Value::Object(rill_core::arguments_object(&call.arguments))
}
