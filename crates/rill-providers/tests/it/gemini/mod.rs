//! `GeminiProvider` against a loopback upstream that speaks Gemini's
//! `streamGenerateContent?alt=sse`.

mod cancel;
mod failures;
mod fixtures;
mod request;

use rill_core::EventStream;
use rill_providers::GeminiProvider;
use secrecy::SecretString;

use crate::common;
use crate::upstream::Upstream;

/// rill's name for the model.
pub const NAME: &str = "gem";
/// The upstream's id for it, which must be what the URL names.
pub const UPSTREAM_MODEL: &str = "gemini-upstream-id";
pub const KEY: &str = "AIzaSyD-test-key_0123456789abcdefghijk";

pub fn provider(upstream: &Upstream) -> GeminiProvider {
    provider_at(&upstream.url)
}

pub fn provider_at(base_url: &str) -> GeminiProvider {
    GeminiProvider::new(
        NAME,
        UPSTREAM_MODEL,
        base_url,
        Some(SecretString::from(KEY)),
    )
    .unwrap()
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &GeminiProvider) -> EventStream {
    common::start(provider, NAME).await
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &GeminiProvider) -> rill_core::Error {
    common::refused(provider, NAME).await
}

pub use crate::common::{all_events, next};

/// A Gemini stream from `rill-wire`'s `tests/fixtures/gemini/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/gemini", name)
}
