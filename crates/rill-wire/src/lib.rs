//! rill's wire dialects: the JSON and SSE formats that clients and upstream providers
//! speak, translated to and from the dialect-independent model in [`rill_core`].
//!
//! There is one module per dialect. Each module owns that dialect's serde types and does
//! four jobs:
//!
//! - **request -> core**: parse a client's request body into a [`rill_core::ChatRequest`],
//!   with errors that name the offending field (`messages[1].role`);
//! - **core events -> dialect events**: a stateful encoder turns
//!   [`rill_core::StreamEvent`]s into the dialect's stream payloads (and a collected
//!   [`rill_core::Completion`] into its non-streaming body);
//! - **dialect events -> core**: a stateful decoder turns an upstream's stream payloads
//!   back into [`rill_core::StreamEvent`]s;
//! - **error bodies**: a [`rill_core::Error`] in the dialect's own error shape.
//!
//! The key design decision: no wire type crosses into `rill-core`, and conversions are
//! explicit code between typed serde structs and core types. There is no
//! `serde_json::Value` round trip, except for fields that are opaque to rill and passed
//! through untouched (a tool's parameter schema, a response JSON schema). Encoders
//! serialise borrowed structs straight to JSON text: they run once per token.
//!
//! This crate knows nothing about HTTP servers or clients: SSE framing is `rill-sse`'s
//! job, and the server and providers glue the pieces together. Small non-streaming
//! bodies that belong to no one dialect's chat flow live in their own modules
//! ([`openai_models`]: `GET /v1/models`).
//!
//! The dialects:
//!
//! - [`openai_chat`]: OpenAI Chat Completions (`POST /v1/chat/completions`), as a client
//!   dialect and as an upstream;
//! - [`anthropic`]: Anthropic Messages (`POST /v1/messages`), as a client dialect and
//!   as an upstream.
//! - [`openai_responses`]: OpenAI Responses (`POST /v1/responses`), as a client dialect
//!   and as an upstream.
//! - [`vercel_ui`]: the Vercel AI SDK UI message stream (what `useChat` reads), as a
//!   client dialect.
//! - [`gemini`]: Google Gemini (`streamGenerateContent?alt=sse`), as an upstream.
//! - [`ollama`]: Ollama's native chat API (`POST /api/chat`, NDJSON), as an upstream.
//! - [`cohere`]: Cohere's chat API v2 (`POST /v2/chat`, SSE), as an upstream.

pub mod anthropic;
pub mod cohere;
pub mod gemini;
pub mod ollama;
pub mod openai_chat;
pub mod openai_models;
pub mod openai_responses;
pub mod query;
pub mod vercel_ui;

mod de_error;
mod dialect;
mod sse_event;

pub use anthropic::AnthropicMessages;
pub use dialect::{Answer, ClientDialect, Dialect, EventEncoder, Resume, payloads};
pub use openai_chat::OpenAiChat;
pub use openai_responses::OpenAiResponses;
pub use rill_sse::FrameBuf;
pub use sse_event::SseEvent;
pub use vercel_ui::VercelUi;
mod request_json;
mod string_or_seq;
