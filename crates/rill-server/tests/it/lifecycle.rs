//! Disconnects and shutdown: streams never outlive their reason to exist.

use std::time::Duration;

use futures_util::StreamExt;
use rill_providers::{ScriptConfig, ScriptedProvider};
use serde_json::json;

use crate::support::*;

fn long_text() -> String {
    (0..1000)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn start_stream(url: &str, model: &str) -> reqwest::Response {
    let response = post_chat(
        url,
        json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "go"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    response
}

#[tokio::test]
async fn client_disconnect_drops_the_provider_stream() {
    let observed = Observed::new(ScriptedProvider::new("slow", text(&long_text(), 50.0)));
    let server = spawn(state(vec![observed.entry("slow")])).await;
    let response = start_stream(&server.url, "slow").await;
    let mut body = response.bytes_stream();
    assert!(body.next().await.is_some());
    drop(body);
    assert!(
        observed.wait_dropped(Duration::from_secs(2)).await,
        "the generation must stop on disconnect"
    );
    let produced = observed.produced.lock().unwrap().len();
    assert!(
        produced < 200,
        "generation went on after the disconnect: {produced} events"
    );
}

#[tokio::test]
async fn client_disconnect_during_a_stall_drops_the_provider_stream() {
    let stalled = ScriptConfig {
        stall_ms: Some(60_000),
        stall_after: 1,
        ..text(&long_text(), 0.0)
    };
    let observed = Observed::new(ScriptedProvider::new("stalled", stalled));
    let server = spawn(state(vec![observed.entry("stalled")])).await;
    let response = start_stream(&server.url, "stalled").await;
    let mut body = response.bytes_stream();
    assert!(body.next().await.is_some());
    drop(body);
    assert!(
        observed.wait_dropped(Duration::from_secs(2)).await,
        "a stalled generation must stop on disconnect"
    );
}

#[tokio::test]
async fn shutdown_lets_streams_finish_within_the_grace_period() {
    let server = spawn(state(vec![scripted(
        "quick",
        text("one two three four", 20.0),
    )]))
    .await;
    let response = start_stream(&server.url, "quick").await;
    server.state.shutdown.begin(Duration::from_secs(5));
    let events = read_sse(response).await;
    assert_eq!(events.last().unwrap().1, "[DONE]");
    assert!(events.iter().all(|(_, d)| !d.contains("\"error\"")));
    tokio::time::timeout(Duration::from_secs(5), server.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_ends_streams_past_the_grace_period_with_an_error_event() {
    let observed = Observed::new(ScriptedProvider::new("slow", text(&long_text(), 20.0)));
    let server = spawn(state(vec![observed.entry("slow")])).await;
    let response = start_stream(&server.url, "slow").await;
    server.state.shutdown.begin(Duration::from_millis(300));
    // New connections are refused while draining.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        http()
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_err()
    );

    let events = read_sse(response).await;
    let data: Vec<&str> = events.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let error = json(data[data.len() - 2]);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shutting down"),
        "{error}"
    );
    assert!(data.len() > 3, "the stream ran during the grace period");
    assert!(observed.wait_dropped(Duration::from_secs(1)).await);
    tokio::time::timeout(Duration::from_secs(5), server.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
