//! The Vercel AI SDK UI message stream (protocol `v1`): what `useChat` speaks, so that a
//! React app on `ai` 5 or later with its default `DefaultChatTransport` (POST to
//! `/api/chat`) works against rill without custom code.
//!
//! - [`parse_request`]: the body `useChat` POSTs (`{id, messages: UIMessage[], trigger,
//!   messageId, ...body}`) -> [`rill_core::ChatRequest`], and the id of the assistant
//!   message the answer continues ([`ParsedRequest::continues`]);
//! - [`StreamEncoder`]: core events -> UI message chunks (`start`, `start-step`,
//!   `text-*`, `reasoning-*`, `tool-input-*`, `finish-step`, `finish`, `error`, `abort`)
//!   and `[DONE]`; a reasoning signature or redacted block ends its reasoning part with
//!   `providerMetadata: {rill: {...}}`, which `useChat` keeps and sends back;
//! - [`error_body`]: an error before the stream -> a plain-text body, which `useChat`
//!   shows as `error.message`.
//!
//! The response is data-only SSE: frame every payload as `data: <payload>\n\n` (no
//! `event:` names). Besides the usual SSE headers (`content-type: text/event-stream`,
//! `cache-control: no-cache`, `x-accel-buffering: no`), the response carries
//! [`STREAM_HEADER`] (`x-vercel-ai-ui-message-stream: v1`). An error body goes out with
//! [`ERROR_CONTENT_TYPE`].
//!
//! Verified against the real package, read from its source (`node_modules/ai/dist`):
//! `ai@5.0.0`, whose `uiMessageChunkSchema` makes every chunk a `z.strictObject` (an
//! extra key, or an unknown `type`, fails the stream in the browser), `ai@5.0.277` (the
//! last 5.x) and `ai@6.0.326`, which read the same protocol with loose objects. Every
//! chunk rill sends has exactly the keys 5.0.0 allows; `finish.finishReason`, which only
//! 5.0.92 and later accept, is opt-in ([`StreamEncoder::with_finish_reason`]). The node
//! test in `tests/vercel_ui/` (beside this crate's Rust tests) pins those three versions
//! and runs the encoder's output through each one's own transport, schema and
//! `AbstractChat`: `cargo test -p rill-wire`, then
//! `cd crates/rill-wire/tests/vercel_ui && npm ci && node --test`.

mod calls;
mod client;
mod convert;
mod encode;
mod error;
mod input;
mod out;
mod parse;
mod request;

pub use client::{Options, VercelUi};
pub use encode::{DONE, StreamEncoder};
pub use error::{ERROR_CONTENT_TYPE, error_body};
pub use parse::{ParsedRequest, parse_request};

/// The response header that marks a UI message stream: `x-vercel-ai-ui-message-stream:
/// v1` (name, value).
pub const STREAM_HEADER: (&str, &str) = ("x-vercel-ai-ui-message-stream", "v1");
