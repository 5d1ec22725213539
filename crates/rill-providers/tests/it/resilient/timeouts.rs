//! The first-token, idle and total timeouts, and the connect timeout of an HTTP upstream.

use std::time::Duration;

use rill_core::{ErrorKind, FinishReason, Provider, StreamEvent};
use rill_providers::{
    AnthropicProvider, HttpUpstream, OpenAiProvider, Resilient, ScriptConfig, Timeouts,
};
use tokio::time::Instant;

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn stalled(after: u32) -> ScriptConfig {
    ScriptConfig {
        stall_ms: Some(3_600_000),
        stall_after: after,
        ..script("one two three four five six")
    }
}

#[tokio::test(start_paused = true)]
async fn a_stall_before_the_first_token_is_retried_then_ends_in_a_timeout_naming_it() {
    let a = Calls::always(scripted(stalled(0)));
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let began = Instant::now();
    let out = events(start(&resilient).await).await;
    let error = error(&out);
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(
        error.message.contains("`a`") && error.message.contains("first-token timeout of 1 s"),
        "{error:?}"
    );
    // Nothing of the failed attempts came out: no `Start`, no text.
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((a.count(), a.dropped()), (2, 2));
    // Two attempts of one second each and one pause of at most 100 ms.
    let took = began.elapsed();
    assert!(
        took >= 2 * SECOND && took <= 2 * SECOND + Duration::from_millis(100),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_upstream_that_sends_no_headers_fails_the_start_with_its_timeout() {
    let a = Calls::always(Silent);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let Err(error) = resilient.start(request("a")).await else {
        panic!("a silent upstream was accepted");
    };
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert_eq!(error.status_code(), 504);
    assert!(
        error.message.contains("first-token timeout of 1 s"),
        "{error:?}"
    );
    assert_eq!(a.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_stall_mid_answer_ends_in_an_idle_timeout_after_the_partial_text() {
    let a = Calls::always(scripted(stalled(2)));
    let b = Calls::always(scripted(script("never")));
    let mut policy = policy();
    policy.timeouts.idle = Some(Duration::from_millis(1500));
    let resilient = Resilient::new(link("a", &a, policy.clone()), vec![link("b", &b, policy)]);
    let mut stream = start(&resilient).await;
    let mut out = Vec::new();
    let mut second_token = None;
    while let Some(event) = futures_util::StreamExt::next(&mut stream).await {
        if matches!(event, StreamEvent::TextDelta(_)) {
            second_token = Some(Instant::now());
        }
        out.push(event);
    }
    assert_eq!(text(&out), "one two");
    let error = error(&out);
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(error.message.contains("idle timeout of 1.5 s"), "{error:?}");
    // The error came when the idle timeout ran out, and the stream was dropped then: no
    // retry and no fallback after the first token.
    let since = second_token.unwrap().elapsed();
    assert_eq!(since, Duration::from_millis(1500));
    assert_eq!((a.count(), a.dropped(), b.count()), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn the_total_timeout_ends_a_long_answer_and_before_the_first_token_is_retried() {
    let long = "w ".repeat(100);
    let a = Calls::always(scripted(script(&long)));
    let mut policy = policy();
    policy.timeouts = Timeouts {
        first_token: None,
        idle: Some(SECOND),
        total: Some(Duration::from_millis(550)),
    };
    let resilient = Resilient::new(link("a", &a, policy.clone()), Vec::new());
    let began = Instant::now();
    let out = events(start(&resilient).await).await;
    assert_eq!(began.elapsed(), Duration::from_millis(550));
    // Tokens at 100, 200, ... 500 ms.
    assert_eq!(text(&out).matches('w').count(), 5, "{out:?}");
    let error = error(&out);
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(
        error.message.contains("total timeout of 0.55 s"),
        "{error:?}"
    );
    assert_eq!((a.count(), a.dropped()), (1, 1));

    // A total timeout shorter than the wait for the first token fails that attempt,
    // which is retried.
    let slow = Calls::always(scripted(stalled(0)));
    policy.timeouts.total = Some(Duration::from_millis(300));
    let resilient = Resilient::new(link("a", &slow, policy), Vec::new());
    let out = events(start(&resilient).await).await;
    assert!(
        super::error(&out)
            .message
            .contains("total timeout of 0.3 s"),
        "{out:?}"
    );
    assert_eq!(slow.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_finished_answer_is_not_failed_by_a_late_timeout() {
    // An upstream that keeps the connection open after its answer.
    let answer = vec![
        StreamEvent::Start { model: "m".into() },
        StreamEvent::TextDelta("done".into()),
        StreamEvent::Finish(FinishReason::Stop),
    ];
    let a = Calls::always(Play::hanging(answer));
    let mut policy = policy();
    policy.timeouts.idle = Some(SECOND);
    policy.timeouts.total = Some(Duration::from_secs(5));
    let resilient = Resilient::new(link("a", &a, policy), Vec::new());
    let began = Instant::now();
    let out = events(start(&resilient).await).await;
    assert_eq!(text(&out), "done");
    assert!(
        matches!(out.last(), Some(StreamEvent::Finish(_))),
        "{out:?}"
    );
    // The idle timeout ended the stream quietly, and dropped the upstream's.
    assert_eq!(began.elapsed(), SECOND);
    assert_eq!(a.dropped(), 1);
}

/// A listening socket whose accept queue is full, so that a new connection is never made
/// (Linux drops the SYN); the sockets filling the queue must be kept alive.
async fn unreachable() -> (String, impl Sized) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(address);
        match tokio::time::timeout(Duration::from_millis(200), connect).await {
            Ok(Ok(stream)) => filling.push(stream),
            _ => break,
        }
    }
    (format!("http://{address}/v1"), (listener, filling))
}

#[tokio::test]
async fn a_connection_that_is_not_made_in_time_names_the_connect_timeout() {
    let (url, _filling) = unreachable().await;
    let timeout = Some(Duration::from_millis(300));
    let openai = OpenAiProvider::new("a", "m", &url, None).unwrap();
    let anthropic = AnthropicProvider::new("a", "m", &url, None).unwrap();
    // The OpenAI-compatible client, and the endpoint every other upstream shares.
    let providers: [Box<dyn Provider>; 2] = [
        Box::new(openai.with_connect_timeout(timeout).unwrap()),
        Box::new(anthropic.with_connect_timeout(timeout).unwrap()),
    ];
    for provider in providers {
        let began = std::time::Instant::now();
        let started = tokio::time::timeout(Duration::from_secs(5), provider.start(request("a")));
        let Ok(Err(error)) = started.await else {
            panic!("a full accept queue took the connection");
        };
        assert_eq!(error.kind, ErrorKind::Timeout, "{error:?}");
        let message = &error.message;
        assert!(message.contains("connect timeout of 0.3 s"), "{error:?}");
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "{:?}",
            began.elapsed()
        );
    }
}

/// Each event only on the second poll after it is asked for, as an upstream's body is
/// when its connection task has yet to hand over bytes already received.
struct Yielding;

impl Provider for Yielding {
    fn start(&self, _: rill_core::ChatRequest) -> rill_core::ProviderFuture {
        let events = ["one ", "two ", "three"].map(|t| StreamEvent::TextDelta(t.into()));
        let stream = futures_util::stream::iter(events)
            .chain(futures_util::stream::iter([StreamEvent::Finish(
                rill_core::FinishReason::Stop,
            )]))
            .then(|event| async move {
                tokio::task::yield_now().await;
                event
            });
        Box::pin(async move { Ok(Box::pin(stream) as rill_core::EventStream) })
    }
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_pauses_longer_than_the_idle_timeout_is_not_timed_out_for_it() {
    let a = Calls::always(Yielding);
    let mut policy = policy();
    policy.timeouts.idle = Some(Duration::from_millis(500));
    let resilient = Resilient::new(link("a", &a, policy), vec![]);
    let mut stream = start(&resilient).await;
    let mut out = vec![futures_util::StreamExt::next(&mut stream).await.unwrap()];
    // The reader is away (its own client is slow) for four idle timeouts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Some(event) = futures_util::StreamExt::next(&mut stream).await {
        out.push(event);
    }
    assert_eq!(text(&out), "one two three");
    assert!(
        matches!(out.last(), Some(StreamEvent::Finish(_))),
        "{out:?}"
    );
}
