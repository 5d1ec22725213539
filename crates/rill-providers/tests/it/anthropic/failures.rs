//! Failures before the stream, (b) a rate limit and (c) the operator's and upstream's
//! errors; and in it, (d) a body cut off and (f) an `error` event.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, StreamEvent, Usage};
use tokio::sync::mpsc;

use super::{KEY, all_events, fixture, next, provider, refused, start};
use crate::upstream::{Upstream, abort, frame, hang, on_drop, sse, trickle};

const MS: Duration = Duration::from_millis(1);

/// An upstream that answers every request with `status`, an Anthropic error body of
/// this type and message, and these headers.
async fn failing(
    status: u16,
    kind: &'static str,
    message: &str,
    headers: &'static [(&'static str, &'static str)],
) -> Upstream {
    let message = message.to_owned();
    Upstream::start(move || {
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        });
        let mut response = Response::builder()
            .status(status)
            .header("content-type", "application/json");
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        response.body(Body::from(body.to_string())).unwrap()
    })
    .await
}

#[tokio::test]
async fn a_rate_limit_passes_through_with_its_retry_after() {
    let message = "Number of request tokens has exceeded your per-minute rate limit";
    let upstream = failing(429, "rate_limit_error", message, &[("retry-after", "7")]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(
        error,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(7))
    );
    assert_eq!(error.status_code(), 429);
}

#[tokio::test]
async fn a_refused_key_is_a_bad_gateway_that_never_shows_the_key() {
    let upstream = failing(401, "authentication_error", "invalid x-api-key", &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.status_code(), 502);
    assert!(error.message.contains("`claude`"), "{error:?}");
    assert!(error.message.contains("invalid x-api-key"), "{error:?}");
    assert!(!error.message.contains(KEY), "{error:?}");

    // A proxy that quotes the key it refused.
    let echo = format!("invalid x-api-key `{KEY}`");
    let upstream = failing(401, "authentication_error", &echo, &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.status_code(), 502);
    assert!(!error.message.contains(KEY), "{error:?}");
    assert!(error.message.contains("[redacted]"), "{error:?}");
}

#[tokio::test]
async fn each_status_maps_to_what_rill_s_client_should_see() {
    let cases = [
        (400, "invalid_request_error", ErrorKind::InvalidRequest),
        (403, "permission_error", ErrorKind::Upstream),
        (404, "not_found_error", ErrorKind::Upstream),
        (413, "request_too_large", ErrorKind::RequestTooLarge),
        (500, "api_error", ErrorKind::Upstream),
        (529, "overloaded_error", ErrorKind::Overloaded),
    ];
    for (status, kind, expected) in cases {
        let upstream = failing(status, kind, "from upstream", &[]).await;
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

/// `basic_response.sse` up to (not including) its `message_delta`: the text, no end.
fn cut_basic_response() -> Vec<u8> {
    let bytes = fixture("basic_response.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.find("event: message_delta").unwrap();
    bytes[..cut].to_vec()
}

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
    assert_eq!(texts(events), "Hello there!");
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
async fn a_body_that_ends_before_message_stop_ends_in_an_error() {
    let head = cut_basic_response();
    let upstream = Upstream::start(move || sse(trickle(&head, MS))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(
        error.message,
        "the stream ended before the generation finished"
    );
}

#[tokio::test]
async fn a_connection_that_breaks_mid_stream_ends_in_an_error() {
    let head = cut_basic_response();
    let upstream = Upstream::start(move || sse(trickle(&head, MS).chain(abort()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.starts_with("request failed"), "{error:?}");
}

#[tokio::test]
async fn an_error_event_mid_stream_follows_the_partial_text_and_ends_the_stream() {
    let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let mut bytes = cut_basic_response();
    bytes.extend_from_slice(frame("error", error).as_bytes());
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    // After the error the upstream keeps the connection open: the provider must stop
    // by itself, and let go of the connection.
    let upstream = Upstream::start(move || {
        sse(on_drop(
            trickle(&bytes, MS).chain(hang()),
            dropped_tx.clone(),
        ))
    })
    .await;
    let mut stream = start(&provider(&upstream)).await;
    let mut events = Vec::new();
    while let Some(event) = next(&mut stream).await {
        let last = matches!(event, StreamEvent::Error(_));
        events.push(event);
        if last {
            break;
        }
    }
    let usage = Usage {
        input_tokens: 11,
        output_tokens: 1,
        ..Usage::default()
    };
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: "claude-3-opus-latest".into()
            },
            StreamEvent::Usage(usage),
            StreamEvent::TextDelta("Hello".into()),
            StreamEvent::TextDelta(" there".into()),
            StreamEvent::TextDelta("!".into()),
            StreamEvent::Error(Error::new(ErrorKind::Overloaded, "Overloaded")),
        ]
    );
    // Still holding the stream: it is over, and the connection is already closed.
    assert_eq!(next(&mut stream).await, None);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream connection stayed open after the error");
}
