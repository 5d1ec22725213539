//! What only Gemini has: its retry delay in the error body, its 400 for a wrong key, and
//! a body that must end cleanly even after the finish reason. The failures every kind
//! shares are in `conformance`.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use rill_core::{Error, ErrorKind, StreamEvent};

use super::{KIND, all_events, fixture, provider, refused, start};
use crate::common::text;
use crate::conformance::broken_after;
use crate::upstream::Upstream;

/// The text of `text_with_usage.sse` before its last chunk.
pub const HEAD_TEXT: &str = "The sky looks blue because sunlight is scattered by the air's molecules, and blue light scatters far more than red.";

/// A Gemini error response: `code`, the `status` name, the message and details.
pub fn error(code: u16, status: &str, message: &str, details: serde_json::Value) -> Response {
    let body = serde_json::json!({
        "error": {"code": code, "message": message, "status": status, "details": details},
    });
    Response::builder()
        .status(code)
        .header("content-type", "application/json; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// `text_with_usage.sse` without its last event: the text of two chunks, no finish
/// reason.
pub fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.rfind("data: ").unwrap();
    bytes[..cut].to_vec()
}

#[tokio::test]
async fn a_rate_limit_s_delay_comes_from_the_body_unless_a_header_says_otherwise() {
    let message = "You exceeded your current quota, please check your plan and billing details.";
    let retry_info = serde_json::json!([
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"},
    ]);
    // Gemini's own delay, from the body.
    let body = retry_info.clone();
    let upstream =
        Upstream::start(move || error(429, "RESOURCE_EXHAUSTED", message, body.clone())).await;
    let error_seen = refused(&provider(&upstream)).await;
    assert_eq!(
        error_seen,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(35))
    );
    assert_eq!(error_seen.status_code(), 429);
    // A proxy's `Retry-After` header wins.
    let upstream = Upstream::start(move || {
        let mut response = error(429, "RESOURCE_EXHAUSTED", message, retry_info.clone());
        response
            .headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("7"));
        response
    })
    .await;
    let error_seen = refused(&provider(&upstream)).await;
    assert_eq!(error_seen.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(error_seen.kind, ErrorKind::RateLimited);
}

#[tokio::test]
async fn a_wrong_key_s_400_is_still_a_bad_gateway() {
    // Gemini's answer to a wrong key is a 400 with `API_KEY_INVALID`: still not the
    // client's fault.
    let details = serde_json::json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
    }]);
    let message = "API key not valid. Please pass a valid API key.";
    let upstream =
        Upstream::start(move || error(400, "INVALID_ARGUMENT", message, details.clone())).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.status_code(), 502, "{error:?}");
    assert!(error.message.contains("credentials"), "{error:?}");
}

#[tokio::test]
async fn a_connection_that_breaks_after_the_finish_reason_is_still_an_error() {
    // The body must end cleanly for the answer to count as finished.
    let bytes = fixture("text_with_usage.sse");
    let upstream = Upstream::start(move || broken_after(&KIND, bytes.clone())).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    assert_eq!(
        text(&events),
        format!("{HEAD_TEXT} This is called Rayleigh scattering.")
    );
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Finish(_))),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Upstream),
        "{events:?}"
    );
}
