//! `AnthropicProvider` against a loopback upstream that speaks Anthropic Messages.

mod fixtures;
mod request;

use axum::body::Body;
use axum::response::Response;
use rill_core::{Error, ErrorKind, EventStream, StreamEvent, Usage};
use rill_providers::AnthropicProvider;
use secrecy::SecretString;

use crate::common;
use crate::conformance::Kind;
use crate::upstream::{frame, sse};

/// rill's name for the model.
pub const NAME: &str = "claude";
/// The upstream's id for it, which must be what the request body names.
pub const UPSTREAM_MODEL: &str = "claude-upstream-id";
pub const KEY: &str = "sk-ant-api03-test-key-0123456789";

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

/// A recorded stream from the repository's `tests/fixtures/anthropic-messages/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../../tests/fixtures/anthropic-messages", name)
}

/// Anthropic Messages, for the shared cases (`conformance`).
pub static KIND: Kind = Kind {
    name: NAME,
    key: KEY,
    provider: |url, key| {
        let key = key.map(SecretString::from);
        Box::new(AnthropicProvider::new(NAME, UPSTREAM_MODEL, url, key).unwrap())
    },
    key_header: "x-api-key",
    keyless: |seen| assert_eq!(seen.header("anthropic-version"), Some("2023-06-01")),
    path: "/v1/messages",
    serve: |chunks| sse(chunks),
    error: |status, kind, message| {
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        });
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    },
    rate_limit: (
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
    ),
    refused_key: (
        401,
        "authentication_error",
        "invalid x-api-key",
        "invalid x-api-key",
    ),
    statuses: &[
        (400, "invalid_request_error", ErrorKind::InvalidRequest),
        (403, "permission_error", ErrorKind::Upstream),
        (404, "not_found_error", ErrorKind::Upstream),
        (413, "request_too_large", ErrorKind::RequestTooLarge),
        (500, "api_error", ErrorKind::Upstream),
        (529, "overloaded_error", ErrorKind::Overloaded),
    ],
    cut: cut_basic_response,
    cut_text: "Hello there!",
    pause: b": pause\n\n",
    endless: (endless_head, ENDLESS_TICK),
    mid_stream_error: Some(error_mid_stream),
    whole: None,
};

/// `basic_response.sse` up to (not including) its `message_delta`: the text, no end.
fn cut_basic_response() -> Vec<u8> {
    let bytes = fixture("basic_response.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.find("event: message_delta").unwrap();
    bytes[..cut].to_vec()
}

/// `message_start` and a text block, before a `text_delta` every 20 ms, forever.
fn endless_head() -> String {
    frame(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#,
    ) + &frame(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    )
}

const ENDLESS_TICK: &str = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tick \"}}\n\n";

/// The cut answer, then an `error` event.
fn error_mid_stream() -> (Vec<u8>, Vec<StreamEvent>) {
    let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let mut bytes = cut_basic_response();
    bytes.extend_from_slice(frame("error", error).as_bytes());
    let usage = Usage {
        input_tokens: 11,
        output_tokens: 1,
        ..Usage::default()
    };
    let events = vec![
        StreamEvent::Start {
            model: "claude-3-opus-latest".into(),
        },
        StreamEvent::Usage(usage),
        StreamEvent::TextDelta("Hello".into()),
        StreamEvent::TextDelta(" there".into()),
        StreamEvent::TextDelta("!".into()),
        StreamEvent::Error(Error::new(ErrorKind::Overloaded, "Overloaded")),
    ];
    (bytes, events)
}
