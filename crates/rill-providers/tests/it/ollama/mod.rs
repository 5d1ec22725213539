//! `OllamaProvider` against a loopback upstream that speaks Ollama's `/api/chat`.

mod failures;
mod fixtures;
mod request;

use axum::body::Body;
use axum::response::Response;
use rill_core::{Error, ErrorKind, EventStream, StreamEvent};
use rill_providers::OllamaProvider;
use secrecy::SecretString;

use crate::common;
use crate::conformance::Kind;
use crate::upstream::{Upstream, ndjson};

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

pub use crate::common::all_events;

/// An Ollama stream from `rill-wire`'s `tests/fixtures/ollama/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/ollama", name)
}

/// Ollama's `/api/chat`, for the shared cases (`conformance`).
pub static KIND: Kind = Kind {
    name: NAME,
    key: KEY,
    provider: |url, key| {
        let key = key.map(SecretString::from);
        Box::new(OllamaProvider::new(NAME, UPSTREAM_MODEL, url, key).unwrap())
    },
    key_header: "authorization",
    keyless: |seen| {
        assert_eq!(seen.path, "/api/chat");
        assert_eq!(seen.body["model"], UPSTREAM_MODEL);
    },
    path: "/api/chat",
    serve: |chunks| ndjson(chunks),
    // Ollama's error bodies have no type.
    error: |status, _, message| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(Body::from(
                serde_json::json!({ "error": message }).to_string(),
            ))
            .unwrap()
    },
    rate_limit: ("", "too many requests, slow down"),
    refused_key: (401, "", "unauthorized", "credentials"),
    statuses: &[
        (400, "", ErrorKind::InvalidRequest),
        // A model Ollama has not pulled is the operator's problem.
        (404, "", ErrorKind::Upstream),
        (500, "", ErrorKind::Upstream),
        (503, "", ErrorKind::Overloaded),
    ],
    cut: failures::cut_text_with_usage,
    cut_text: failures::HEAD_TEXT,
    pause: b"\n",
    endless: (String::new, ENDLESS_TICK),
    mid_stream_error: Some(error_mid_stream),
    whole: Some((|| fixture("text_with_usage.ndjson"), failures::HEAD_TEXT)),
};

/// A text line, sent every 20 ms forever.
const ENDLESS_TICK: &str = "{\"model\":\"llama3.2:3b\",\"created_at\":\"2025-06-12T09:41:07.1Z\",\"message\":{\"role\":\"assistant\",\"content\":\"tick \"},\"done\":false}\n";

/// `error_mid_stream.ndjson`: text, then an error line.
fn error_mid_stream() -> (Vec<u8>, Vec<StreamEvent>) {
    let events = vec![
        StreamEvent::Start {
            model: "llama3.1:70b".into(),
        },
        StreamEvent::TextDelta("Here is".into()),
        StreamEvent::TextDelta(" the first part".into()),
        StreamEvent::Error(Error::new(
            ErrorKind::Upstream,
            "an error was encountered while running the model: unexpected EOF",
        )),
    ];
    (fixture("error_mid_stream.ndjson"), events)
}
