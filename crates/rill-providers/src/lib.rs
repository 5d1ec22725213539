//! Providers: where generations come from, apart from the embedded engine.
//!
//! - [`openai`]: any OpenAI-compatible chat server upstream, streamed through
//!   `rill-client`;
//! - [`openai_responses`]: OpenAI's Responses API (or a server that speaks it), streamed
//!   through `rill-client`'s body decoding with `rill-wire`'s Responses dialect;
//! - [`anthropic`]: Anthropic's Messages API (or a proxy that speaks it), streamed
//!   through `rill-client`'s body decoding with `rill-wire`'s Anthropic dialect;
//! - [`gemini`]: Google's Gemini API (`streamGenerateContent`), the same way;
//! - [`ollama`]: Ollama's native chat API (`/api/chat`, an NDJSON body), the same way;
//! - [`cohere`]: Cohere's chat API v2 (`/v2/chat`), the same way;
//! - [`scripted`]: plays a configured answer at a configured token rate and injects
//!   faults (stalls, abrupt closes, errors, failures before the first token). It is a
//!   product feature for testing error handling, and the server's test double;
//! - [`resilient`]: wraps any of these (and the engine): timeouts, retries with backoff
//!   and a chain of fallback models, all before the first token only.
//!
//! The HTTP upstreams other than `openai` share [`endpoint`]'s request and error
//! handling; each adds its URL, its key header and its dialect. Each is an
//! [`HttpUpstream`], whose connect timeout can be set.
//!
//! Every provider implements [`rill_core::Provider`]; the returned stream is cancelled by
//! dropping it, which must stop the work behind it at once.

pub mod anthropic;
pub mod cohere;
mod endpoint;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod openai_responses;
pub mod resilient;
pub mod scripted;
mod upstream_error;

pub use anthropic::AnthropicProvider;
pub use cohere::CohereProvider;
pub use endpoint::HttpUpstream;
pub use gemini::GeminiProvider;
pub use ollama::OllamaProvider;
pub use openai::OpenAiProvider;
pub use openai_responses::OpenAiResponsesProvider;
pub use resilient::{Backoff, Link, Policy, Resilient, Timeouts};
pub use rill_client::DEFAULT_CONNECT_TIMEOUT;
pub use scripted::{ScriptConfig, ScriptedProvider, ScriptedToolCall};
