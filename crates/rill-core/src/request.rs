//! A chat request, as every dialect can express it.

use serde_json::Value;

use crate::{Reasoning, Tally, ToolCall};

/// What a client asks of a model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The model name as the client asked for it (rill's name, not the upstream's).
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub sampling: Sampling,
    pub response_format: Option<ResponseFormat>,
    /// Where a provider that counts tokens as it goes (the embedded engine) keeps its
    /// counts for whoever started the generation; not part of what is asked.
    pub tally: Tally,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    System {
        text: String,
    },
    User {
        text: String,
    },
    /// An earlier answer: its reasoning came first, then its text, then its calls.
    Assistant {
        text: Option<String>,
        tool_calls: Vec<ToolCall>,
        /// The answer's reasoning blocks, in order, as the client sent them back.
        /// Providers want their signed and redacted blocks back with the content they
        /// led to; each upstream dialect sends those it can carry (see its
        /// `request_body`). Signatures are opaque: nothing tells one provider's from
        /// another's, so a conversation moved to another provider carries the first
        /// one's.
        reasoning: Vec<Reasoning>,
    },
    Tool {
        tool_call_id: String,
        text: String,
    },
}

impl Message {
    pub fn role(&self) -> &'static str {
        match self {
            Self::System { .. } => "system",
            Self::User { .. } => "user",
            Self::Assistant { .. } => "assistant",
            Self::Tool { .. } => "tool",
        }
    }

    /// The message's text, if it has any.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::System { text } | Self::User { text } | Self::Tool { text, .. } => Some(text),
            Self::Assistant { text, .. } => text.as_deref(),
        }
    }
}

/// Sampling and length controls. `None` means "the provider's default".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sampling {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub top_k: Option<u32>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    pub seed: Option<u64>,
    pub frequency_penalty: Option<f32>,
    pub presence_penalty: Option<f32>,
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments, passed through untouched.
    pub parameters: Value,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Tool(String),
}

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: bool,
    },
}
