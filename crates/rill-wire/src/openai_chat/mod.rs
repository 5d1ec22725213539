//! OpenAI Chat Completions (`POST /v1/chat/completions`).
//!
//! - [`parse_request`]: a client's request body -> [`rill_core::ChatRequest`];
//! - [`StreamEncoder`]: core events -> `chat.completion.chunk` payloads and `[DONE]`;
//! - [`completion_body`]: a collected answer -> the non-streaming `chat.completion` body;
//! - [`error_body`]: an error -> `{"error":{"message","type","param","code"}}`, and
//!   [`error_from_body`] for an upstream's HTTP error response;
//! - [`request_body`] and [`ChunkDecoder`]: the same dialect as an upstream, for
//!   OpenAI-compatible providers and `rill chat`.
//!
//! Every payload here is the text of one SSE `data:` field; framing is the caller's job.
//!
//! Reasoning signatures and redacted reasoning do not pass through this dialect: Chat
//! Completions has no standard field for them, in answers or in the history, so a
//! conversation held in it cannot give a provider its signatures back (Anthropic with
//! thinking, Gemini 3 with tools).

mod body;
mod client;
mod convert;
mod decode;
mod encode;
mod error;
mod out;
mod parse;
mod request;
mod response;

pub use body::request_body;
pub use client::{OpenAiChat, Options};
pub use decode::ChunkDecoder;
pub use encode::{DONE, StreamEncoder};
pub use error::{error_body, error_from_body};
pub use parse::{ParsedRequest, parse_request};
pub use response::completion_body;
