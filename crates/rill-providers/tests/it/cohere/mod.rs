//! `CohereProvider` against a loopback upstream that speaks Cohere's `/v2/chat`.

mod cancel;
mod failures;
mod fixtures;
mod request;

use rill_core::EventStream;
use rill_providers::CohereProvider;
use secrecy::SecretString;

use crate::common;
use crate::upstream::Upstream;

/// rill's name for the model.
pub const NAME: &str = "command";
/// Cohere's id for it, which must be what the body names (and what `Start` carries:
/// Cohere's stream does not name the model).
pub const UPSTREAM_MODEL: &str = "command-a-03-2025";
pub const KEY: &str = "co-test-key-0123456789abcdef";

pub fn provider(upstream: &Upstream) -> CohereProvider {
    provider_at(&upstream.url)
}

pub fn provider_at(base_url: &str) -> CohereProvider {
    CohereProvider::new(
        NAME,
        UPSTREAM_MODEL,
        base_url,
        Some(SecretString::from(KEY)),
    )
    .unwrap()
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &CohereProvider) -> EventStream {
    common::start(provider, NAME).await
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &CohereProvider) -> rill_core::Error {
    common::refused(provider, NAME).await
}

pub use crate::common::{all_events, next};

/// A Cohere stream from `rill-wire`'s `tests/fixtures/cohere/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/cohere", name)
}
