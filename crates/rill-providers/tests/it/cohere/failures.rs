//! Failures before the stream (a rate limit, the operator's and the upstream's errors)
//! and in it (a body that ends before `message-end`, a broken connection, the rest of a
//! body after the end).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, StreamEvent};

use super::{KEY, all_events, fixture, provider, refused, start};
use crate::upstream::{Upstream, abort, hang, sse, trickle};

const MS: Duration = Duration::from_millis(1);

/// An upstream that answers every request with `status`, Cohere's error body with
/// `message`, and these headers.
async fn failing(
    status: u16,
    message: &str,
    headers: &'static [(&'static str, &'static str)],
) -> Upstream {
    let body = serde_json::json!({
        "id": "0f7e8a2b-4c1d-4e5f-9a6b-7c8d9e0f1a2b",
        "message": message,
    })
    .to_string();
    Upstream::start(move || {
        let mut response = Response::builder()
            .status(status)
            .header("content-type", "application/json");
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        response.body(Body::from(body.clone())).unwrap()
    })
    .await
}

#[tokio::test]
async fn a_rate_limit_passes_through_with_its_retry_after() {
    let message = "You are using a Trial key, which is limited to 20 API calls / minute.";
    let upstream = failing(429, message, &[("retry-after", "7")]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(
        error,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(7))
    );
    assert_eq!(error.status_code(), 429);
}

#[tokio::test]
async fn a_refused_key_is_a_bad_gateway_that_never_shows_the_key() {
    let upstream = failing(401, "invalid api token", &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.status_code(), 502);
    assert!(error.message.contains("`command`"), "{error:?}");
    assert!(error.message.contains("invalid api token"), "{error:?}");
    assert!(!error.message.contains(KEY), "{error:?}");

    // A proxy that quotes the key it refused.
    let upstream = failing(401, &format!("key {KEY} is not valid"), &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.status_code(), 502);
    assert!(!error.message.contains(KEY), "{error:?}");
    assert!(error.message.contains("[redacted]"), "{error:?}");
}

#[tokio::test]
async fn each_status_maps_to_what_rill_s_client_should_see() {
    let cases = [
        (400, ErrorKind::InvalidRequest),
        (404, ErrorKind::Upstream),
        (422, ErrorKind::InvalidRequest),
        // Cohere's invalid token: the operator's credentials.
        (498, ErrorKind::Upstream),
        (500, ErrorKind::Upstream),
        (503, ErrorKind::Overloaded),
    ];
    for (status, expected) in cases {
        let upstream = failing(status, "from upstream", &[]).await;
        let error = refused(&provider(&upstream)).await;
        assert_eq!(error.kind, expected, "{status}: {error:?}");
        assert!(
            error.message.contains("from upstream"),
            "{status}: {error:?}"
        );
        assert_eq!(error.retry_after, None);
    }
}

#[tokio::test]
async fn nothing_listening_is_an_upstream_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = refused(&super::provider_at(&url)).await;
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(!error.message.contains(&url), "{error:?}");
}

/// `text_with_usage.sse` up to (not including) its `message-end`.
fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.find("event: message-end").unwrap();
    bytes[..cut].to_vec()
}

/// A comment line 50 ms later, so that what came before is flushed before an abort (the
/// server drops unflushed bytes when a body fails).
fn pause() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(Bytes::from_static(b": pause\n\n"))
    })
}

const HEAD_TEXT: &str =
    "The sky is blue because of Rayleigh scattering — “short” waves scatter most.";

fn texts(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The stream ends in an error event after all the text, and never finishes.
#[track_caller]
fn ends_in_an_error(events: &[StreamEvent]) -> &Error {
    assert_eq!(texts(events), HEAD_TEXT);
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Finish(_))),
        "{events:?}"
    );
    match events.last() {
        Some(StreamEvent::Error(error)) => error,
        other => panic!("the stream ended with {other:?}"),
    }
}

#[tokio::test]
async fn a_body_that_ends_before_message_end_ends_in_an_error() {
    let head = cut_text_with_usage();
    let upstream = Upstream::start(move || sse(trickle(&head, MS))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(
        *error,
        Error::upstream("the stream ended before the generation finished")
    );
}

#[tokio::test]
async fn a_body_cut_inside_message_end_ends_in_an_error() {
    let bytes = fixture("text_with_usage.sse");
    let head = bytes[..bytes.len() - 20].to_vec();
    let upstream = Upstream::start(move || sse(trickle(&head, MS))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
}

#[tokio::test]
async fn a_connection_that_breaks_mid_stream_ends_in_an_error() {
    let head = cut_text_with_usage();
    let upstream =
        Upstream::start(move || sse(trickle(&head, MS).chain(pause()).chain(abort()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.starts_with("request failed"), "{error:?}");
}

#[tokio::test]
async fn after_message_end_the_rest_of_the_body_is_not_read() {
    // An upstream that keeps the connection open after `message-end` must not hold the
    // stream open.
    let bytes = fixture("text_with_usage.sse");
    let upstream = Upstream::start(move || sse(trickle(&bytes, MS).chain(hang()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    assert_eq!(texts(&events), HEAD_TEXT);
    assert!(
        matches!(events.last(), Some(StreamEvent::Finish(_))),
        "{events:?}"
    );
}
