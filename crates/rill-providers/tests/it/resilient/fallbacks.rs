//! The chain: when a model fails before its first token, the next one serves, as one
//! stream that names it.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use rill_core::{Error, ErrorKind, StreamEvent};
use rill_providers::{OpenAiProvider, Resilient, ScriptConfig};
use tokio::time::Instant;

use super::*;
use crate::upstream::Upstream;

fn failing_with(status: u16) -> ScriptConfig {
    ScriptConfig {
        fail_status: Some(status),
        ..script("never")
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_model_is_retried_then_its_fallback_serves_one_stream() {
    let a = Calls::always(scripted(failing_with(500)));
    let b = Calls::always(scripted(script("from the fallback")));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let out = events(start(&resilient).await).await;
    assert_eq!(starts(&out), ["b"]);
    assert_eq!(text(&out), "from the fallback");
    assert!(
        matches!(out.last(), Some(StreamEvent::Finish(_))),
        "{out:?}"
    );
    assert_eq!((a.count(), b.count()), (2, 1));
    // Moving on to the next model does not wait.
    assert_eq!(b.times()[0], *a.times().last().unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_stall_before_the_first_token_falls_back_after_the_retries() {
    let stalled = ScriptConfig {
        stall_ms: Some(3_600_000),
        ..script("stuck")
    };
    let a = Calls::always(scripted(stalled));
    let b = Calls::always(scripted(script("rescued")));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let began = Instant::now();
    let out = events(start(&resilient).await).await;
    assert_eq!((starts(&out), text(&out).as_str()), (vec!["b"], "rescued"));
    assert_eq!((a.count(), a.dropped(), b.count()), (2, 2, 1));
    let switched = b.times()[0] - began;
    let slack = Duration::from_millis(100);
    assert!(
        switched >= Duration::from_secs(2) && switched <= Duration::from_secs(2) + slack,
        "{switched:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn each_model_of_the_chain_keeps_its_own_attempts_and_the_last_error_is_reported() {
    let a = Calls::always(Fails(Error::new(ErrorKind::Overloaded, "a is busy")));
    let b = Calls::always(Fails(Error::new(ErrorKind::Overloaded, "b is busy")));
    let limited = Error::new(ErrorKind::RateLimited, "c is limited")
        .with_retry_after(Duration::from_secs(30));
    let c = Calls::always(Fails(limited.clone()));
    let mut once = policy();
    once.max_attempts = 1;
    let mut thrice = policy();
    thrice.max_attempts = 3;
    let chain = vec![link("b", &b, thrice), link("c", &c, once.clone())];
    let resilient = Resilient::new(link("a", &a, once), chain);
    assert_eq!(resilient.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    let Err(error) = resilient.start(request("a")).await else {
        panic!("a chain of failing models was accepted");
    };
    // The client may retry after the last model's delay.
    assert_eq!(error, limited);
    assert_eq!((a.count(), b.count(), c.count()), (1, 3, 1));
}

#[tokio::test(start_paused = true)]
async fn a_fallback_that_fails_in_its_stream_passes_on_to_the_next() {
    let broken = ScriptConfig {
        error_after: Some(0),
        ..script("x")
    };
    let a = Calls::always(scripted(failing_with(503)));
    let b = Calls::always(scripted(broken));
    let c = Calls::always(scripted(script("third")));
    let mut once = policy();
    once.max_attempts = 1;
    let chain = vec![link("b", &b, once.clone()), link("c", &c, once.clone())];
    let resilient = Resilient::new(link("a", &a, once), chain);
    let out = events(start(&resilient).await).await;
    assert_eq!((starts(&out), text(&out).as_str()), (vec!["c"], "third"));
    assert_eq!((a.count(), b.count(), c.count()), (1, 1, 1));
}

#[tokio::test]
async fn an_upstream_that_refuses_rills_key_is_not_asked_again_but_a_fallback_serves() {
    let mut upstream = Upstream::start(|| {
        Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            ))
            .unwrap()
    })
    .await;
    let openai = OpenAiProvider::new("a", "gpt-x", &upstream.url, None).unwrap();
    let a = Calls::always(openai);
    let b = Calls::always(scripted(ScriptConfig {
        tokens_per_second: None,
        ..script("served by b")
    }));
    let resilient = Resilient::new(link("a", &a, policy()), vec![link("b", &b, policy())]);
    let out = events(start(&resilient).await).await;
    assert_eq!(
        (starts(&out), text(&out).as_str()),
        (vec!["b"], "served by b")
    );
    upstream.seen().await;
    assert!(
        upstream.try_seen().is_none(),
        "the refused key was tried again"
    );
    assert_eq!((a.count(), b.count()), (1, 1));

    // Without a fallback the refusal is the client's bad gateway, at once.
    let resilient = Resilient::new(link("a", &a, policy()), Vec::new());
    let Err(error) = resilient.start(request("a")).await else {
        panic!("a refused key was accepted");
    };
    assert_eq!(error.status_code(), 502);
    assert!(error.message.contains("credentials"), "{error:?}");
    assert_eq!(a.count(), 2);
}
