//! Failures before the stream (a rate limit, the operator's and the upstream's errors)
//! and in it (a body that ends before `done: true`, a broken connection, an error line).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, StreamEvent};
use tokio::sync::mpsc;

use super::{KEY, all_events, fixture, next, provider, refused, start};
use crate::upstream::{Upstream, abort, hang, ndjson, on_drop, trickle};

const MS: Duration = Duration::from_millis(1);

/// An upstream that answers every request with `status`, Ollama's error body with
/// `message`, and these headers.
async fn failing(
    status: u16,
    message: &str,
    headers: &'static [(&'static str, &'static str)],
) -> Upstream {
    let body = serde_json::json!({ "error": message }).to_string();
    Upstream::start(move || {
        let mut response = Response::builder()
            .status(status)
            .header("content-type", "application/json; charset=utf-8");
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        response.body(Body::from(body.clone())).unwrap()
    })
    .await
}

#[tokio::test]
async fn a_rate_limit_passes_through_with_its_retry_after() {
    let message = "too many requests, slow down";
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
    let upstream = failing(401, "unauthorized", &[]).await;
    let error = refused(&provider(&upstream)).await;
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.status_code(), 502);
    assert!(error.message.contains("`local`"), "{error:?}");
    assert!(error.message.contains("credentials"), "{error:?}");
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
        // A model Ollama has not pulled is the operator's problem.
        (404, ErrorKind::Upstream),
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

/// `text_with_usage.ndjson` without its `done: true` line.
fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.ndjson");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap() + 1;
    bytes[..cut].to_vec()
}

/// A blank line 50 ms later, so that what came before is flushed before an abort (the
/// server drops unflushed bytes when a body fails).
fn pause() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(Bytes::from_static(b"\n"))
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
async fn a_body_that_ends_before_done_ends_in_an_error() {
    let head = cut_text_with_usage();
    let upstream = Upstream::start(move || ndjson(trickle(&head, MS))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(
        *error,
        Error::upstream("the stream ended before the generation finished")
    );
}

#[tokio::test]
async fn a_body_cut_inside_the_done_line_ends_in_an_error() {
    let bytes = fixture("text_with_usage.ndjson");
    let head = bytes[..bytes.len() - 20].to_vec();
    let upstream = Upstream::start(move || ndjson(trickle(&head, MS))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.contains("not valid JSON"), "{error:?}");
}

#[tokio::test]
async fn a_connection_that_breaks_mid_stream_ends_in_an_error() {
    let head = cut_text_with_usage();
    let upstream =
        Upstream::start(move || ndjson(trickle(&head, MS).chain(pause()).chain(abort()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.starts_with("request failed"), "{error:?}");
}

#[tokio::test]
async fn an_error_line_mid_stream_follows_the_partial_text_and_ends_the_stream() {
    let bytes = fixture("error_mid_stream.ndjson");
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    // After the error the upstream keeps the connection open: the provider must stop
    // by itself, and let go of the connection.
    let upstream = Upstream::start(move || {
        ndjson(on_drop(
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
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: "llama3.1:70b".into()
            },
            StreamEvent::TextDelta("Here is".into()),
            StreamEvent::TextDelta(" the first part".into()),
            StreamEvent::Error(Error::new(
                ErrorKind::Upstream,
                "an error was encountered while running the model: unexpected EOF"
            )),
        ]
    );
    assert_eq!(next(&mut stream).await, None);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream connection stayed open after the error");
}

#[tokio::test]
async fn after_done_the_rest_of_the_body_is_not_read() {
    // Ollama closes after `done: true`; one that does not must not hold the stream open.
    let bytes = fixture("text_with_usage.ndjson");
    let upstream = Upstream::start(move || ndjson(trickle(&bytes, MS).chain(hang()))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    assert_eq!(texts(&events), HEAD_TEXT);
    assert!(
        matches!(events.last(), Some(StreamEvent::Finish(_))),
        "{events:?}"
    );
}
