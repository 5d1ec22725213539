//! Cohere's chat API v2 (`POST /v2/chat`), as an upstream.
//!
//! - [`request_body`]: a core request -> a `/v2/chat` body, always `stream: true`;
//! - [`EventDecoder`]: the stream's SSE events (named after their data's `type`:
//!   `message-start`, `content-delta`, `tool-call-start`, ..., `message-end`) -> core
//!   events. The stream ends with `message-end`; a body that stops before it was cut off;
//! - [`error_from_body`]: an HTTP error response (`{"message": "..."}`) -> a core error.
//!
//! Framing is the caller's job: the body is SSE (`rill_client::event_stream` reads it).

mod body;
mod decode;
mod error;
mod events_in;
mod messages;

pub use body::request_body;
pub use decode::EventDecoder;
pub use error::error_from_body;
