//! `OllamaProvider` against a loopback upstream that speaks Ollama's `/api/chat`.

mod cancel;
mod failures;
mod fixtures;
mod request;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ChatRequest, EventStream, Message, Provider, Sampling, StreamEvent};
use rill_providers::OllamaProvider;
use secrecy::SecretString;

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

pub fn request() -> ChatRequest {
    ChatRequest {
        model: NAME.into(),
        messages: vec![
            Message::System {
                text: "be brief".into(),
            },
            Message::User { text: "hi".into() },
        ],
        sampling: Sampling {
            max_tokens: Some(64),
            ..Sampling::default()
        },
        ..ChatRequest::default()
    }
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &OllamaProvider) -> EventStream {
    match provider.start(request()).await {
        Ok(stream) => stream,
        Err(error) => panic!("the provider failed before the stream: {error:?}"),
    }
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &OllamaProvider) -> rill_core::Error {
    match provider.start(request()).await {
        Ok(_) => panic!("the provider streamed instead of failing"),
        Err(error) => error,
    }
}

/// Every event of a stream, which must end by itself within 5 s.
pub async fn all_events(stream: EventStream) -> Vec<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(5), stream.collect())
        .await
        .expect("the stream did not end")
}

/// The next event, within 5 s.
pub async fn next(stream: &mut EventStream) -> Option<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no event within 5 s")
}

/// An Ollama stream from `rill-wire`'s `tests/fixtures/ollama/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rill-wire/tests/fixtures/ollama"
    ));
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
