//! `CohereProvider` against a loopback upstream that speaks Cohere's `/v2/chat`.

mod failures;
mod fixtures;
mod request;

use axum::body::Body;
use axum::response::Response;
use rill_core::{ErrorKind, EventStream};
use rill_providers::CohereProvider;
use secrecy::SecretString;

use crate::common;
use crate::conformance::Kind;
use crate::upstream::{Upstream, frame, sse};

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

pub use crate::common::all_events;

/// A Cohere stream from `rill-wire`'s `tests/fixtures/cohere/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/cohere", name)
}

/// Cohere's `/v2/chat`, for the shared cases (`conformance`).
pub static KIND: Kind = Kind {
    name: NAME,
    key: KEY,
    provider: |url, key| {
        let key = key.map(SecretString::from);
        Box::new(CohereProvider::new(NAME, UPSTREAM_MODEL, url, key).unwrap())
    },
    key_header: "authorization",
    keyless: |seen| {
        assert_eq!(seen.path, "/v2/chat");
        assert_eq!(seen.body["model"], UPSTREAM_MODEL);
    },
    path: "/v2/chat",
    serve: |chunks| sse(chunks),
    // Cohere's error bodies have no type.
    error: |status, _, message| {
        let body = serde_json::json!({
            "id": "0f7e8a2b-4c1d-4e5f-9a6b-7c8d9e0f1a2b",
            "message": message,
        });
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    },
    rate_limit: (
        "",
        "You are using a Trial key, which is limited to 20 API calls / minute.",
    ),
    refused_key: (401, "", "invalid api token", "invalid api token"),
    statuses: &[
        (400, "", ErrorKind::InvalidRequest),
        (404, "", ErrorKind::Upstream),
        (422, "", ErrorKind::InvalidRequest),
        // Cohere's invalid token: the operator's credentials.
        (498, "", ErrorKind::Upstream),
        (500, "", ErrorKind::Upstream),
        (503, "", ErrorKind::Overloaded),
    ],
    cut: failures::cut_text_with_usage,
    cut_text: failures::HEAD_TEXT,
    pause: b": pause\n\n",
    endless: (endless_head, ENDLESS_TICK),
    mid_stream_error: None,
    whole: Some((|| fixture("text_with_usage.sse"), failures::HEAD_TEXT)),
};

/// `message-start` and a text block, before a `content-delta` every 20 ms, forever.
fn endless_head() -> String {
    frame(
        "message-start",
        r#"{"id":"c14c80c3","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
    ) + &frame(
        "content-start",
        r#"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
    )
}

const ENDLESS_TICK: &str = "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"tick \"}}}}\n\n";
