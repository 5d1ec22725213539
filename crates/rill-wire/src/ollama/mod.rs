//! Ollama's native chat API (`POST /api/chat`), as an upstream.
//!
//! - [`request_body`]: a core request -> an `/api/chat` body, always `stream: true`;
//! - [`ChunkDecoder`]: the stream's lines (each a whole JSON object) -> core events. The
//!   stream ends with its `done: true` object; a body that stops before it was cut off;
//! - [`error_from_body`]: an HTTP error response (`{"error": "..."}`) -> a core error.
//!
//! Framing is the caller's job: the body is newline-delimited JSON, not SSE
//! (`rill_client::ndjson_stream` splits it).

mod body;
mod chunk;
mod decode;
mod error;
mod messages;

pub use body::request_body;
pub use decode::ChunkDecoder;
pub use error::error_from_body;
