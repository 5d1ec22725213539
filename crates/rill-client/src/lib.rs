//! A streaming client for OpenAI-compatible chat servers (rill itself included), and
//! the streaming machinery every upstream provider shares.
//!
//! The response body is decoded as it arrives, with `rill-sse` and a dialect's upstream
//! decoder from `rill-wire`, into core [`rill_core::StreamEvent`]s: the same events a
//! provider produces, so tools built on this client (`rill chat`, benchmarks) see
//! exactly what the server streamed, one delta at a time. Dropping the stream closes
//! the connection, which makes a rill server stop generating.
//!
//! - [`Client`]: an OpenAI-compatible server (`/v1/chat/completions`, `/v1/models`);
//! - for providers of other dialects: [`http_builder`] (rill's HTTP client settings;
//!   [`http_client`] with a connect timeout of one's own),
//!   [`error_for_status`] (a non-2xx answer -> the dialect's error, with
//!   `Retry-After`), [`event_stream`] (a response body -> core events through any
//!   [`UpstreamDecoder`]; [`ndjson_stream`] for newline-delimited JSON bodies) and
//!   [`transport_error`] (reqwest errors without URLs; [`send_error`] also names a
//!   connect timeout).
//!
//! The key design decision: one loop reads every upstream's body; a dialect only
//! supplies its [`UpstreamDecoder`].

mod client;
mod decoder;
mod framing;
mod http;
mod ndjson;
mod stream;

pub use client::Client;
pub use decoder::UpstreamDecoder;
pub use http::{
    DEFAULT_CONNECT_TIMEOUT, error_for_status, http_builder, http_client, send_error,
    transport_error,
};
pub use stream::{event_stream, ndjson_stream};
