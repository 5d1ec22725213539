//! `OpenAiResponsesProvider` against a loopback upstream that speaks `/v1/responses`:
//! the request it sends, each fixture folding to its answer, failures before and in the
//! stream, and cancellation.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rill_core::{
    Completion, Error, ErrorKind, EventStream, FinishReason, StreamEvent, ToolCall, Usage, collect,
};
use rill_providers::OpenAiResponsesProvider;
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use crate::common;
use crate::upstream::{Seen, Upstream, frame, on_drop, sse, trickle};

const NAME: &str = "gpt";
const UPSTREAM_MODEL: &str = "gpt-4.1";
const KEY: &str = "sk-test-responses-0123456789";

fn provider_at(base_url: &str) -> OpenAiResponsesProvider {
    let key = Some(SecretString::from(KEY));
    OpenAiResponsesProvider::new(NAME, UPSTREAM_MODEL, base_url, key).unwrap()
}

async fn start(provider: &OpenAiResponsesProvider) -> EventStream {
    common::start(provider, NAME).await
}

fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/openai-responses", name)
}

/// What every request must be: the path, the key only as a bearer token, and a body
/// that streams, stores nothing and carries the whole conversation.
fn check(seen: &Seen) {
    assert_eq!(seen.path, "/v1/responses");
    let bearer = format!("Bearer {KEY}");
    assert_eq!(seen.header("authorization"), Some(bearer.as_str()));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert_eq!(
        seen.body,
        json!({
            "model": UPSTREAM_MODEL,
            "input": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
            ],
            "max_output_tokens": 64,
            "store": false,
            "stream": true,
        })
    );
}

/// Replays `name` in chunks of 1 to 13 bytes a millisecond apart and folds the stream.
/// `suffix` goes after the upstream's root: the base URL may or may not name `/v1`.
async fn replay(name: &str, suffix: &str) -> Result<Completion, Error> {
    let bytes = fixture(name);
    let mut upstream =
        Upstream::start(move || sse(trickle(&bytes, Duration::from_millis(1)))).await;
    let provider = provider_at(&format!("{}{suffix}", upstream.url));
    let stream = start(&provider).await;
    check(&upstream.seen().await);
    tokio::time::timeout(Duration::from_secs(10), collect(stream))
        .await
        .expect("the stream did not end")
}

fn usage(input: u64, output: u64, reasoning: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: Some(reasoning),
        cached_input_tokens: Some(0),
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    })
}

#[tokio::test]
async fn text_with_usage() {
    assert_eq!(
        replay("text_with_usage.sse", "").await.unwrap(),
        Completion {
            model: Some("gpt-4.1-2025-04-14".into()),
            text: "Hello! How can I help you today?".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(19, 10, 0),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn a_function_call() {
    assert_eq!(
        replay("function_call.sse", "/v1/").await.unwrap(),
        Completion {
            model: Some("gpt-4.1-2025-04-14".into()),
            tool_calls: vec![ToolCall {
                id: "call_Xy7pQ2nR8sT4uV6wZ1aB3cD5".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris, France\"}".into(),
            }],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(62, 18, 0),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn reasoning_then_text() {
    let completion = replay("reasoning_text.sse", "/v1").await.unwrap();
    assert_eq!(
        completion.reasoning,
        "**Adding numbers**\n\nThe user asks for 17 + 25.\n\n**Checking**\n\n17 + 25 = 42."
    );
    assert_eq!(completion.text, "17 + 25 = **42**.");
    assert_eq!(completion.usage, usage(24, 212, 192));
}

#[tokio::test]
async fn an_incomplete_response_finishes_with_length() {
    let completion = replay("incomplete.sse", "").await.unwrap();
    assert_eq!(completion.finish_reason, Some(FinishReason::Length));
    assert!(!completion.text.is_empty());
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_the_text_before_it() {
    let bytes = fixture("error_nested.sse");
    let upstream = Upstream::start(move || sse(trickle(&bytes, Duration::from_millis(1)))).await;
    let events = common::all_events(start(&provider_at(&upstream.url)).await).await;
    let text: String = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "The answer is");
    let Some(StreamEvent::Error(error)) = events.last() else {
        panic!("no error at the end: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Internal, "{error:?}");
}

#[tokio::test]
async fn a_body_that_ends_before_the_terminal_event_is_an_error() {
    let bytes = fixture("text_with_usage.sse");
    let cut = String::from_utf8(bytes).unwrap();
    let cut = cut[..cut.find("event: response.completed").unwrap()].to_owned();
    // The body ends cleanly, as a server that closes its connection too early.
    let upstream =
        Upstream::start(move || sse(trickle(cut.as_bytes(), Duration::from_millis(1)))).await;
    let events = common::all_events(start(&provider_at(&upstream.url)).await).await;
    assert!(
        matches!(events.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Upstream),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Finish(_))));
}

#[tokio::test]
async fn a_rate_limit_passes_through_with_its_retry_after() {
    let upstream = Upstream::start(|| {
        let body = json!({"error": {
            "message": "Rate limit reached for gpt-4.1 on tokens per min (TPM).",
            "type": "tokens",
            "param": null,
            "code": "rate_limit_exceeded",
        }});
        Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("content-type", "application/json")
            .header("retry-after", "3")
            .body(Body::from(body.to_string()))
            .unwrap()
    })
    .await;
    let error = common::refused(&provider_at(&upstream.url), NAME).await;
    assert_eq!(error.kind, ErrorKind::RateLimited, "{error:?}");
    assert_eq!(error.retry_after, Some(Duration::from_secs(3)));
    assert!(error.message.contains("Rate limit reached"), "{error:?}");
}

#[tokio::test]
async fn a_refused_key_is_the_operators_problem_and_is_never_shown() {
    let upstream = Upstream::start(|| {
        let body = json!({"error": {
            "message": format!("Incorrect API key provided: {KEY}."),
            "type": "invalid_request_error",
            "param": null,
            "code": "invalid_api_key",
        }});
        (StatusCode::UNAUTHORIZED, body.to_string()).into_response()
    })
    .await;
    let error = common::refused(&provider_at(&upstream.url), NAME).await;
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(!error.message.contains(KEY), "{error:?}");
}

/// `response.created`, a message item, then a text delta every 20 ms, forever.
fn endless() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let head = frame(
        "response.created",
        r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-4.1","output":[]}}"#,
    ) + &frame(
        "response.output_item.added",
        r#"{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}}"#,
    );
    let tick = frame(
        "response.output_text.delta",
        r#"{"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"tick "}"#,
    );
    let ticks = futures_util::stream::iter(0u64..).then(move |_| {
        let tick = tick.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Bytes::from(tick))
        }
    });
    futures_util::stream::once(async move { Ok(Bytes::from(head)) }).chain(ticks)
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    let upstream = Upstream::start(move || sse(on_drop(endless(), dropped_tx.clone()))).await;
    let mut stream = start(&provider_at(&upstream.url)).await;
    let mut ticks = 0;
    while ticks < 3 {
        match common::next(&mut stream).await {
            Some(StreamEvent::TextDelta(text)) => {
                assert_eq!(text, "tick ");
                ticks += 1;
            }
            Some(StreamEvent::Start { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(dropped.try_recv(), Err(TryRecvError::Empty));
    drop(stream);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream kept streaming for a second after the stream was dropped");
}
