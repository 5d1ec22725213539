//! `AnthropicProvider` against a loopback upstream that speaks Anthropic Messages.

mod cancel;
mod failures;
mod fixtures;
mod request;

use rill_core::EventStream;
use rill_providers::AnthropicProvider;
use secrecy::SecretString;

use crate::common;
use crate::upstream::Upstream;

/// rill's name for the model.
pub const NAME: &str = "claude";
/// The upstream's id for it, which must be what the request body names.
pub const UPSTREAM_MODEL: &str = "claude-upstream-id";
pub const KEY: &str = "sk-ant-api03-test-key-0123456789";

pub fn provider(upstream: &Upstream) -> AnthropicProvider {
    provider_at(&upstream.url)
}

pub fn provider_at(base_url: &str) -> AnthropicProvider {
    AnthropicProvider::new(
        NAME,
        UPSTREAM_MODEL,
        base_url,
        Some(SecretString::from(KEY)),
    )
    .unwrap()
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &AnthropicProvider) -> EventStream {
    common::start(provider, NAME).await
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &AnthropicProvider) -> rill_core::Error {
    common::refused(provider, NAME).await
}

pub use crate::common::{all_events, next};

/// A recorded stream from the repository's `tests/fixtures/anthropic-messages/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../../tests/fixtures/anthropic-messages", name)
}
