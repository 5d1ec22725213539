//! OpenAI Responses (`POST /v1/responses`).
//!
//! - [`parse_request`]: a client's request body -> [`rill_core::ChatRequest`], and the
//!   [`Echo`] of its settings that every Response object repeats;
//! - [`StreamEncoder`]: core events -> Responses stream events ([`SseEvent`]: an event
//!   name and its JSON data; the name is always the data's `type`, and every event
//!   carries a `sequence_number` counting from 0);
//! - [`response_body`]: a collected answer -> the non-streaming Response object;
//! - [`error_body`]: an error -> `{"error":{"message","type","param","code"}}` (the same
//!   body as Chat Completions'), and [`error_from_body`] for an upstream's HTTP error
//!   response;
//! - [`request_body`] and [`EventDecoder`]: the same dialect as an upstream: a core
//!   request -> the request body, and a Responses upstream's stream events -> core
//!   events.
//!
//! rill keeps no responses: `previous_response_id`, `conversation` and `background` are
//! refused, and every Response object says `store: false`. Reasoning signatures travel
//! as reasoning items' `encrypted_content`, the stateless way, in both directions.
//!
//! Framing is the caller's job: `rill_sse::Frame::data(&e.data).event(e.event)`.

mod body;
mod client;
mod decode;
mod echo;
mod encode;
mod error;
mod events_in;
mod input;
mod item_out;
mod items;
mod options;
mod out;
mod parse;
mod request;
mod response;

pub use body::request_body;
pub use client::{OpenAiResponses, Options};
pub use decode::EventDecoder;
pub use echo::Echo;
pub use encode::StreamEncoder;
pub use error::{error_body, error_from_body};
pub use out::SseEvent;
pub use parse::{ParsedRequest, parse_request};
pub use response::response_body;
