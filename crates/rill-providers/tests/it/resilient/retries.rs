//! Which failures are tried again, after how long, and that a retried stream reads as one.

use std::time::Duration;

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_providers::{Resilient, ScriptConfig};

use super::*;

fn rate_limited(after: Duration) -> Fails {
    Fails(Error::new(ErrorKind::RateLimited, "slow down").with_retry_after(after))
}

fn usage(output_tokens: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: 3,
        output_tokens,
        ..Usage::default()
    })
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_is_retried_after_its_retry_after_into_one_stream() {
    let a = Calls::new(vec![
        Arc::new(rate_limited(Duration::from_secs(3))),
        Arc::new(scripted(script("hello there"))),
    ]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let out = events(start(&resilient).await).await;
    assert_eq!(text(&out), "hello there");
    assert_eq!(starts(&out), ["a"]);
    assert!(matches!(
        out.last(),
        Some(StreamEvent::Finish(FinishReason::Stop))
    ));
    let times = a.times();
    assert_eq!(times.len(), 2);
    // Exactly the upstream's delay: no jitter on top of it.
    assert_eq!(times[1] - times[0], Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_capped_by_the_longest_delay() {
    let a = Calls::new(vec![
        Arc::new(rate_limited(Duration::from_secs(3600))),
        Arc::new(scripted(script("ok"))),
    ]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    assert_eq!(text(&events(start(&resilient).await).await), "ok");
    let times = a.times();
    assert_eq!(times[1] - times[0], Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_with_full_jitter_until_the_attempts_run_out() {
    let a = Calls::always(Fails(Error::upstream("request failed: connection refused")));
    let mut policy = policy();
    policy.max_attempts = 4;
    let resilient = Resilient::new(link("a", &a, policy), Vec::new());
    let Err(error) = resilient.start(request("a")).await else {
        panic!("a failing upstream was accepted");
    };
    assert_eq!(error, Error::upstream("request failed: connection refused"));
    let times = a.times();
    assert_eq!(times.len(), 4);
    for (retry, ceiling) in [(1, 100), (2, 200), (3, 400)] {
        let pause = times[retry] - times[retry - 1];
        assert!(
            pause <= Duration::from_millis(ceiling),
            "retry {retry}: {pause:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_error_in_the_stream_before_the_first_token_is_retried_without_a_second_start() {
    let first = Play::new(vec![
        StreamEvent::Start {
            model: "upstream-id".into(),
        },
        usage(0),
        StreamEvent::ReasoningSignature("sig-of-the-failed-attempt".into()),
        StreamEvent::Error(Error::new(ErrorKind::Overloaded, "overloaded_error")),
    ]);
    let second = Play::new(vec![
        StreamEvent::Start {
            model: "upstream-id-2".into(),
        },
        usage(0),
        StreamEvent::TextDelta("fine".into()),
        usage(1),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    let a = Calls::new(vec![Arc::new(first), Arc::new(second)]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let out = events(start(&resilient).await).await;
    assert_eq!(
        out,
        [
            StreamEvent::Start { model: "a".into() },
            usage(0),
            StreamEvent::TextDelta("fine".into()),
            usage(1),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
    assert_eq!((a.count(), a.dropped()), (2, 2));

    // The scripted provider's own fault: `Start`, then an error, before any token.
    let failing = ScriptConfig {
        error_after: Some(0),
        ..script("x")
    };
    let a = Calls::new(vec![
        Arc::new(scripted(failing)),
        Arc::new(scripted(script("second try"))),
    ]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let out = events(start(&resilient).await).await;
    assert_eq!(starts(&out), ["a"]);
    assert_eq!(text(&out), "second try");
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_ends_before_its_first_token_is_retried() {
    let closing = ScriptConfig {
        close_after: Some(0),
        ..script("x")
    };
    let a = Calls::new(vec![
        Arc::new(scripted(closing)),
        Arc::new(scripted(script("whole"))),
    ]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let out = events(start(&resilient).await).await;
    assert_eq!((starts(&out), text(&out).as_str()), (vec!["a"], "whole"));
}

#[tokio::test(start_paused = true)]
async fn an_error_after_the_first_token_is_passed_on_never_retried_or_switched() {
    let breaking = ScriptConfig {
        error_after: Some(2),
        ..script("one two three")
    };
    let a = Calls::always(scripted(breaking));
    let b = Calls::always(scripted(script("fallback")));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let out = events(start(&resilient).await).await;
    assert_eq!(text(&out), "one two");
    assert_eq!(starts(&out), ["a"]);
    let error = error(&out);
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert!(error.message.contains("after 2 tokens"), "{error:?}");
    assert_eq!((a.count(), b.count()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn the_clients_own_error_is_not_retried_nor_sent_to_a_fallback() {
    let bad = Error::invalid_request("`temperature` must be at most 2").with_param("temperature");
    let a = Calls::always(Fails(bad.clone()));
    let b = Calls::always(scripted(script("fallback")));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let Err(error) = resilient.start(request("a")).await else {
        panic!("a refused request was accepted");
    };
    assert_eq!(error, bad);
    assert_eq!((a.count(), b.count()), (1, 0));

    // The same in the stream, before the first token.
    let a = Calls::always(Play::new(vec![
        StreamEvent::Start { model: "m".into() },
        StreamEvent::Error(bad.clone()),
    ]));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let out = events(start(&resilient).await).await;
    assert_eq!(out, [StreamEvent::Error(bad)]);
    assert_eq!((a.count(), b.count()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn one_attempt_means_no_retry_and_a_full_engine_queue_is_retried() {
    let a = Calls::always(Fails(Error::new(ErrorKind::Overloaded, "busy")));
    let mut once = policy();
    once.max_attempts = 1;
    let resilient = Resilient::new(link("a", &a, once), Vec::new());
    assert!(resilient.start(request("a")).await.is_err());
    assert_eq!(a.count(), 1);

    // What the engine answers when its queue is full.
    let full = Error::new(ErrorKind::RateLimited, "the engine is overloaded")
        .with_code("overloaded")
        .with_retry_after(Duration::from_secs(1));
    let a = Calls::new(vec![
        Arc::new(Fails(full)),
        Arc::new(scripted(script("in"))),
    ]);
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    assert_eq!(text(&events(start(&resilient).await).await), "in");
    let times = a.times();
    assert_eq!(times[1] - times[0], Duration::from_secs(1));
}
