//! What the provider sends: the path, the headers (the key only as a Bearer token) and
//! the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rill_core::ErrorKind;
use rill_providers::CohereProvider;
use serde_json::json;

use super::{KEY, NAME, UPSTREAM_MODEL, refused};
use crate::upstream::{Seen, Upstream};

/// The checks every replayed fixture also runs on its request.
pub fn check(seen: &Seen) {
    assert_eq!(seen.path, "/v2/chat");
    assert_eq!(seen.query, None);
    let bearer = format!("Bearer {KEY}");
    assert_eq!(seen.header("authorization"), Some(bearer.as_str()));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    let in_other_headers = seen
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "authorization")
        .any(|(_, value)| value.to_str().unwrap_or_default().contains(KEY));
    assert!(!in_other_headers, "{:?}", seen.headers);
    assert!(!seen.body.to_string().contains(KEY));
    assert_eq!(
        seen.body,
        json!({
            "model": UPSTREAM_MODEL,
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
            ],
            "stream": true,
            "max_tokens": 64,
        })
    );
}

fn teapot() -> Response {
    StatusCode::IM_A_TEAPOT.into_response()
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let mut upstream = Upstream::start(teapot).await;
    let provider = CohereProvider::new(NAME, UPSTREAM_MODEL, &upstream.url, None).unwrap();
    refused(&provider).await;
    let seen = upstream.seen().await;
    assert!(seen.header("authorization").is_none());
    assert_eq!(seen.path, "/v2/chat");
    assert_eq!(seen.body["model"], UPSTREAM_MODEL);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // Following one would send the key to whatever host the redirect names.
    let mut elsewhere = Upstream::start(teapot).await;
    let location = format!("{}/v2/chat", elsewhere.url);
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
