//! What the provider sends: the path, the headers and a streaming body for the upstream's
//! model id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rill_core::ErrorKind;
use rill_providers::AnthropicProvider;
use serde_json::json;

use super::{KEY, NAME, UPSTREAM_MODEL, refused};
use crate::upstream::{Seen, Upstream};

/// The checks every replayed fixture also runs on its request.
pub fn check(seen: &Seen) {
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert!(seen.header("authorization").is_none());
    assert_eq!(
        seen.body,
        json!({
            "model": UPSTREAM_MODEL,
            "max_tokens": 64,
            "system": "be brief",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
        })
    );
}

fn teapot() -> Response {
    StatusCode::IM_A_TEAPOT.into_response()
}

#[tokio::test]
async fn without_a_key_no_x_api_key_is_sent() {
    let mut upstream = Upstream::start(teapot).await;
    let provider = AnthropicProvider::new(NAME, UPSTREAM_MODEL, &upstream.url, None).unwrap();
    refused(&provider).await;
    let seen = upstream.seen().await;
    assert!(seen.header("x-api-key").is_none());
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // Following one would send the key to whatever host the redirect names.
    let mut elsewhere = Upstream::start(teapot).await;
    let location = format!("{}/v1/messages", elsewhere.url);
    let mut upstream = Upstream::start(move || {
        Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header("location", &location)
            .body(axum::body::Body::empty())
            .unwrap()
    })
    .await;
    let error = refused(&super::provider(&upstream)).await;
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    upstream.seen().await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(elsewhere.try_seen().is_none());
}
