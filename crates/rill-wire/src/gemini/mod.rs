//! Google Gemini (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`), as an
//! upstream.
//!
//! - [`request_body`]: a core request -> a `GenerateContentRequest` body (the model is in
//!   the URL, not the body);
//! - [`EventDecoder`]: the stream's `data:` payloads (each a whole
//!   `GenerateContentResponse`) -> core events. Gemini sends no end-of-stream marker: the
//!   stream is over when the connection closes, so the caller tells the decoder with
//!   [`EventDecoder::end`], which is when `Finish` comes out. A part's
//!   `thoughtSignature` becomes a reasoning signature, and goes back on the part Gemini
//!   put it on in the next request (see `contents.rs`);
//! - [`error_from_body`]: an upstream's HTTP error response
//!   (`{"error":{"code","message","status","details"}}`) -> a core error.
//!
//! Framing is the caller's job: the stream is data-only SSE (`rill_sse` handles its CRLF
//! line ends).

mod body;
mod chunk;
mod contents;
mod decode;
mod error;

pub use body::request_body;
pub use decode::EventDecoder;
pub use error::error_from_body;
