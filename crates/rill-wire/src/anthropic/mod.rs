//! Anthropic Messages (`POST /v1/messages`).
//!
//! - [`parse_request`]: a client's request body -> [`rill_core::ChatRequest`];
//! - [`StreamEncoder`]: core events -> Anthropic stream events ([`SseEvent`]: an event
//!   name and its JSON data; the name is always the data's `type`, which the official
//!   SDKs dispatch on);
//! - [`message_body`]: a collected answer -> the non-streaming Message body;
//! - [`error_body`]: an error -> `{"type":"error","error":{"type","message"}}` (the HTTP
//!   body and the in-stream `error` event's data), and [`error_from_body`] for an
//!   upstream's HTTP error response;
//! - [`request_body`] and [`EventDecoder`]: the same dialect as an upstream: a core
//!   request -> the request body, and an Anthropic upstream's stream events -> core
//!   events.
//!
//! Thinking blocks' signatures and `redacted_thinking` blocks pass both ways: from an
//! upstream's stream into core, to a client in its stream and body, and from a client's
//! history to an upstream, first in the assistant's content as Anthropic wants.
//!
//! Framing is the caller's job: `rill_sse::Frame::data(&e.data).event(e.event)`.

mod blocks;
mod body;
mod client;
mod convert;
mod decode;
mod encode;
mod error;
mod events_in;
mod options;
mod out;
mod parse;
mod request;
mod response;
mod turns;

pub use body::{DEFAULT_MAX_TOKENS, request_body};
pub use client::{AnthropicMessages, Options};
pub use decode::EventDecoder;
pub use encode::StreamEncoder;
pub use error::{error_body, error_from_body};
pub use out::SseEvent;
pub use parse::{ParsedRequest, parse_request};
pub use response::message_body;
