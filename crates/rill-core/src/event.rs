//! The events of a generation, in the order a provider produces them.

use crate::Error;

/// One step of a streamed generation.
///
/// A well-formed stream is `Start`, then any mix of deltas and tool-call events, then
/// optionally `Usage`, then exactly one terminal event: `Finish` or `Error`. `Usage` may
/// also come after `Finish` (some upstreams send it last); consumers must accept both.
/// [`crate::terminated`] turns a stream that ends without a terminal event into one that
/// ends with an `Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The generation began. `model` is the model that actually serves it.
    Start { model: String },
    /// A piece of the answer's text.
    TextDelta(String),
    /// A piece of the model's reasoning ("thinking"), shown apart from the answer.
    ReasoningDelta(String),
    /// A piece of a refusal message (OpenAI's `refusal`), kept apart from the answer.
    RefusalDelta(String),
    /// A tool call begins. `index` orders parallel calls (0, 1, ...) within the answer.
    ToolCallStart {
        index: u32,
        id: String,
        name: String,
    },
    /// A fragment of a tool call's JSON arguments; fragments concatenate.
    ToolCallDelta { index: u32, arguments: String },
    /// A tool call's arguments are complete.
    ToolCallEnd { index: u32 },
    /// Token counts so far; a later `Usage` replaces an earlier one.
    Usage(Usage),
    /// The generation ended normally.
    Finish(FinishReason),
    /// The generation failed; nothing follows.
    Error(Error),
}

impl StreamEvent {
    /// `Finish` and `Error` end a stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Finish(_) | Self::Error(_))
    }

    /// Whether this event carries generated content (the "first token" for TTFT).
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            Self::TextDelta(_)
                | Self::ReasoningDelta(_)
                | Self::RefusalDelta(_)
                | Self::ToolCallStart { .. }
                | Self::ToolCallDelta { .. }
        )
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// A stop sequence from the request matched.
    StopSequence,
    /// `max_tokens` (or the context) ran out.
    Length,
    /// The model wants tool results.
    ToolCalls,
    /// Output was withheld or refused by a safety system.
    ContentFilter,
}

/// Token counts. `None` means the provider did not report that figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of `output_tokens`, how many were reasoning.
    pub reasoning_tokens: Option<u64>,
    /// Of `input_tokens`, how many were served from a prompt cache.
    pub cached_input_tokens: Option<u64>,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// A complete tool call, as found in an assistant message or a collected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the JSON text the model wrote.
    pub arguments: String,
}
