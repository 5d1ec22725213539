//! rill's dialect-independent model of a chat generation.
//!
//! Every wire dialect (OpenAI Chat, Responses, Anthropic Messages, ...) converts its
//! requests into a [`ChatRequest`] and its stream into [`StreamEvent`]s, and every
//! provider produces [`StreamEvent`]s. Translation between any two dialects therefore
//! goes through this crate and nothing here knows a wire format or HTTP.
//!
//! The key design decision: a generation is *only* a stream. A non-streaming answer is
//! the same stream folded by [`collect`], so there is exactly one code path per provider.

mod collect;
mod error;
mod event;
mod partial_json;
mod provider;
mod request;
mod tally;

pub use collect::{Completion, ToolCallAccumulator, collect};
pub use error::{Error, ErrorKind};
pub use event::{FinishReason, Reasoning, StreamEvent, ToolCall, Usage};
pub use partial_json::{arguments_object, parse_partial};
pub use provider::{EventStream, Provider, ProviderFuture, terminated};
pub use request::{ChatRequest, Message, ResponseFormat, Sampling, Tool, ToolChoice};
pub use tally::Tally;
