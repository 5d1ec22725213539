//! Failures before the stream, (b) a rate limit and (c) the operator's and upstream's
//! errors; and in it, (d) a body that ends without a finish reason, a broken connection
//! and (f) an error chunk.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, StreamEvent, Usage};
use tokio::sync::mpsc;

use super::{KEY, all_events, fixture, next, provider, refused, start};
use crate::upstream::{Upstream, abort, hang, on_drop, sse, trickle};

const MS: Duration = Duration::from_millis(1);

/// An upstream that answers every request with `status`, a Gemini error body with this
/// `status` name, message and details, and these headers.
async fn failing(
    code: u16,
    status: &'static str,
    message: &str,
    details: serde_json::Value,
    headers: &'static [(&'static str, &'static str)],
) -> Upstream {
    let message = message.to_owned();
    Upstream::start(move || {
        let body = serde_json::json!({
            "error": {"code": code, "message": message, "status": status, "details": details},
        });
        let mut response = Response::builder()
            .status(code)
            .header("content-type", "application/json; charset=UTF-8");
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        response.body(Body::from(body.to_string())).unwrap()
    })
    .await
}

fn no_details() -> serde_json::Value {
    serde_json::json!([])
}

#[tokio::test]
async fn a_rate_limit_passes_through_with_its_retry_after() {
    let message = "You exceeded your current quota, please check your plan and billing details.";
    let retry_info = serde_json::json!([
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"},
    ]);
    // Gemini's own delay, from the body.
    let upstream = failing(429, "RESOURCE_EXHAUSTED", message, retry_info.clone(), &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(
        error,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(35))
    );
    assert_eq!(error.status_code(), 429);
    // A proxy's `Retry-After` header wins.
    let headers = &[("retry-after", "7")];
    let upstream = failing(429, "RESOURCE_EXHAUSTED", message, retry_info, headers).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(error.kind, ErrorKind::RateLimited);
}

#[tokio::test]
async fn a_refused_key_is_a_bad_gateway_that_never_shows_the_key() {
    let message = "Request had invalid authentication credentials.";
    let upstream = failing(401, "UNAUTHENTICATED", message, no_details(), &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.status_code(), 502);
    assert!(error.message.contains("`gem`"), "{error:?}");
    assert!(error.message.contains(message), "{error:?}");
    assert!(!error.message.contains(KEY), "{error:?}");

    // Gemini's answer to a wrong key is a 400 with `API_KEY_INVALID`: still not the
    // client's fault.
    let details = serde_json::json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
    }]);
    let message = "API key not valid. Please pass a valid API key.";
    let upstream = failing(400, "INVALID_ARGUMENT", message, details, &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.status_code(), 502, "{error:?}");
    assert!(error.message.contains("credentials"), "{error:?}");

    // A proxy that quotes the key it refused.
    let echo = format!("API key `{KEY}` is not valid");
    let upstream = failing(401, "UNAUTHENTICATED", &echo, no_details(), &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.status_code(), 502);
    assert!(!error.message.contains(KEY), "{error:?}");
    assert!(error.message.contains("[redacted]"), "{error:?}");
}

#[tokio::test]
async fn each_status_maps_to_what_rill_s_client_should_see() {
    let cases = [
        (400, "INVALID_ARGUMENT", ErrorKind::InvalidRequest),
        (400, "FAILED_PRECONDITION", ErrorKind::Upstream),
        (403, "PERMISSION_DENIED", ErrorKind::Upstream),
        (404, "NOT_FOUND", ErrorKind::Upstream),
        (500, "INTERNAL", ErrorKind::Upstream),
        (503, "UNAVAILABLE", ErrorKind::Overloaded),
        (504, "DEADLINE_EXCEEDED", ErrorKind::Timeout),
    ];
    for (code, status, expected) in cases {
        let upstream = failing(code, status, "from upstream", no_details(), &[]).await;
        let error = refused(&provider(&upstream)).await;
        assert_eq!(error.kind, expected, "{code} {status}: {error:?}");
        assert!(error.message.contains("from upstream"), "{code}: {error:?}");
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

/// `text_with_usage.sse` without its last event: the text of two chunks, no finish
/// reason.
fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.rfind("data: ").unwrap();
    bytes[..cut].to_vec()
}

/// An SSE comment 50 ms later, so that what came before is flushed before an abort (the
/// server drops unflushed bytes when a body fails).
fn pause() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(Bytes::from_static(b": pause\n"))
    })
}

const HEAD_TEXT: &str = "The sky looks blue because sunlight is scattered by the air's molecules, and blue light scatters far more than red.";

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
async fn a_body_that_ends_without_a_finish_reason_ends_in_an_error() {
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
async fn a_connection_that_breaks_after_the_finish_reason_is_still_an_error() {
    // The body must end cleanly for the answer to count as finished.
    let bytes = fixture("text_with_usage.sse");
    let upstream =
        Upstream::start(move || sse(trickle(&bytes, MS).chain(pause()).chain(abort()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    assert_eq!(
        texts(&events),
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

#[tokio::test]
async fn an_error_chunk_mid_stream_follows_the_partial_text_and_ends_the_stream() {
    let error = "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";
    let mut bytes = cut_text_with_usage();
    bytes.extend_from_slice(error.as_bytes());
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
    let usage = |output| {
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: output,
            reasoning_tokens: Some(600),
            cached_input_tokens: None,
        })
    };
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: "gemini-2.5-flash".into()
            },
            StreamEvent::TextDelta("The sky looks blue because sunlight is scattered".into()),
            usage(609),
            StreamEvent::TextDelta(
                " by the air's molecules, and blue light scatters far more than red.".into()
            ),
            usage(624),
            StreamEvent::Error(Error::new(
                ErrorKind::Overloaded,
                "The model is overloaded. Please try again later."
            )),
        ]
    );
    // Still holding the stream: it is over, and the connection is already closed.
    assert_eq!(next(&mut stream).await, None);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream connection stayed open after the error");
}
