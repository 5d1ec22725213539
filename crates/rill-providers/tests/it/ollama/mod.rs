//! `OllamaProvider` against a loopback upstream that speaks Ollama's `/api/chat`.

mod cancel;
mod failures;
mod fixtures;
mod request;

use rill_core::EventStream;
use rill_providers::OllamaProvider;
use secrecy::SecretString;

use crate::common;
use crate::upstream::Upstream;

/// rill's name for the model.
pub const NAME: &str = "local";
/// The upstream's name for it, which must be what the body names.
pub const UPSTREAM_MODEL: &str = "llama3.2:3b";
/// A proxy's key in front of Ollama.
pub const KEY: &str = "sk-proxy-test-key-0123456789";

pub fn provider(upstream: &Upstream) -> OllamaProvider {
    provider_at(&upstream.url)
}

pub fn provider_at(base_url: &str) -> OllamaProvider {
    OllamaProvider::new(
        NAME,
        UPSTREAM_MODEL,
        base_url,
        Some(SecretString::from(KEY)),
    )
    .unwrap()
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &OllamaProvider) -> EventStream {
    common::start(provider, NAME).await
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &OllamaProvider) -> rill_core::Error {
    common::refused(provider, NAME).await
}

pub use crate::common::{all_events, next};

/// An Ollama stream from `rill-wire`'s `tests/fixtures/ollama/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/ollama", name)
}
