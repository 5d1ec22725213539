//! The events of a generation, in the order a provider produces them.

use crate::Error;

/// One step of a streamed generation.
///
/// A well-formed stream is `Start`, then any mix of deltas and tool-call events, then
/// optionally `Usage`, then exactly one terminal event: `Finish` or `Error`. `Usage` may
/// also come after `Finish` (some upstreams send it last); consumers must accept both.
/// [`crate::terminated`] turns a stream that ends without a terminal event into one that
/// ends with an `Error`.
///
/// Reasoning comes in blocks: the `ReasoningDelta`s since the last signature, redacted
/// block or other content. A `ReasoningSignature` comes after the reasoning it seals and
/// ends its block; one that follows other content (or nothing) seals an empty block, as
/// when a provider signs a tool call or the text it just wrote (Gemini). A
/// `ReasoningRedacted` is a block of its own. Neither counts as content
/// ([`StreamEvent::is_content`]).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The generation began. `model` is the model that actually serves it.
    Start { model: String },
    /// A piece of the answer's text.
    TextDelta(String),
    /// A piece of the model's reasoning ("thinking"), shown apart from the answer.
    ReasoningDelta(String),
    /// The reasoning streamed so far in this block is sealed with this signature: an
    /// opaque value (Anthropic's thinking `signature`, Gemini's `thoughtSignature`,
    /// OpenAI's `encrypted_content`) that only the provider that made it can check, and
    /// that it wants back, with the reasoning it seals, when the conversation goes on
    /// (Anthropic and Gemini refuse a tool call's follow-up without it). It carries no
    /// text and ends the block.
    ReasoningSignature(String),
    /// A block of reasoning the provider withheld (Anthropic's `redacted_thinking`): the
    /// opaque data that stands for it, to be sent back like a signed block. It has no
    /// text to show.
    ReasoningRedacted(String),
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

    /// Whether this event carries generated content (the "first token" for TTFT). A
    /// signature or a redacted block is not: nothing of it can be shown.
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
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of `output_tokens`, how many were reasoning.
    pub reasoning_tokens: Option<u64>,
    /// Of `input_tokens`, how many were served from a prompt cache.
    pub cached_input_tokens: Option<u64>,
    /// Of `input_tokens`, how many were written to a prompt cache (Anthropic's
    /// `cache_creation_input_tokens`).
    pub cache_write_tokens: Option<u64>,
    /// What these tokens cost in US dollars, when rill knows the model's price: filled in
    /// by the server, never by a provider.
    pub cost_usd: Option<f64>,
    /// The counts are rill's estimate, not the provider's: the stream finished without a
    /// usage report (an upstream such as llama.cpp's server sends none).
    pub estimated: bool,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// One block of a model's reasoning, as found in an assistant message or a collected
/// answer: what a provider needs back, in order, before the content it led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reasoning {
    /// Reasoning shown as text, and the signature its provider sealed it with
    /// ([`StreamEvent::ReasoningSignature`]), if any. The text may be empty: providers
    /// sign reasoning they do not show (Gemini's signature on a function call).
    Text {
        text: String,
        signature: Option<String>,
    },
    /// Reasoning the provider withheld: the opaque data that stands for it
    /// ([`StreamEvent::ReasoningRedacted`]).
    Redacted { data: String },
}

impl Reasoning {
    /// Unsigned reasoning text.
    pub fn unsigned(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            signature: None,
        }
    }

    /// Reasoning text sealed with `signature`.
    pub fn signed(text: impl Into<String>, signature: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            signature: Some(signature.into()),
        }
    }

    /// The reasoning's text: empty for a redacted block.
    pub fn text(&self) -> &str {
        match self {
            Self::Text { text, .. } => text,
            Self::Redacted { .. } => "",
        }
    }

    /// The signature of a signed text block.
    pub fn signature(&self) -> Option<&str> {
        match self {
            Self::Text { signature, .. } => signature.as_deref(),
            Self::Redacted { .. } => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_or_a_redacted_block_is_not_the_first_token() {
        assert!(StreamEvent::ReasoningDelta("hm".into()).is_content());
        assert!(!StreamEvent::ReasoningSignature("sig".into()).is_content());
        assert!(!StreamEvent::ReasoningRedacted("data".into()).is_content());
        assert!(!StreamEvent::ReasoningSignature("sig".into()).is_terminal());
    }

    #[test]
    fn reasoning_blocks_say_their_text_and_signature() {
        let signed = Reasoning::signed("because", "sig");
        assert_eq!(
            (signed.text(), signed.signature()),
            ("because", Some("sig"))
        );
        let plain = Reasoning::unsigned("so");
        assert_eq!((plain.text(), plain.signature()), ("so", None));
        let redacted = Reasoning::Redacted { data: "x".into() };
        assert_eq!((redacted.text(), redacted.signature()), ("", None));
    }
}
