//! Streaming and non-streaming chat completions over a real socket.

use std::time::Duration;

use rill_core::StreamEvent;
use rill_providers::{ScriptConfig, ScriptedProvider, ScriptedToolCall};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn stream_has_sse_headers_role_first_content_finish_and_done() {
    let server = spawn(state(vec![scripted(
        "story",
        text("Hello streaming world", 0.0),
    )]))
    .await;
    let response = post_chat(
        &server.url,
        json!({"model": "story", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.get("content-encoding").is_none());
    assert!(
        headers.get("content-length").is_none(),
        "a stream must not be buffered to count it"
    );

    let events = read_sse(response).await;
    let data: Vec<&str> = events.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<serde_json::Value> = data[..data.len() - 1].iter().map(|d| json(d)).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello streaming world");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    let id = &chunks[0]["id"];
    assert!(id.as_str().unwrap().starts_with("chatcmpl-"));
    assert!(
        chunks
            .iter()
            .all(|c| &c["id"] == id && c["model"] == "story")
    );
}

#[tokio::test]
async fn include_usage_adds_a_usage_chunk_before_done() {
    let server = spawn(state(vec![scripted("echo", ScriptConfig::default())])).await;
    let response = post_chat(
        &server.url,
        json!({"model": "echo", "stream": true, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "one two"}]}),
    )
    .await;
    let events = read_sse(response).await;
    let usage = json(&events[events.len() - 2].1);
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 2);
    assert_eq!(usage["usage"]["completion_tokens"], 2);
    assert_eq!(usage["usage"]["total_tokens"], 4);
}

/// The first chunk reaches the client while the provider is still producing, and every
/// chunk arrives right after it was produced: nothing on the way buffers.
#[tokio::test]
async fn chunks_arrive_as_they_are_produced() {
    let words = (0..30)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let observed = Observed::new(ScriptedProvider::new("slow", text(&words, 20.0)));
    let server = spawn(state(vec![observed.entry("slow")])).await;
    let response = post_chat(
        &server.url,
        json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "go"}]}),
    )
    .await;
    let events = read_sse(response).await;
    let arrivals: Vec<_> = events
        .iter()
        .filter(|(_, d)| d.contains("\"content\":\"") && !d.contains("\"content\":\"\""))
        .map(|(t, _)| *t)
        .collect();
    let produced: Vec<_> = observed
        .produced
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| matches!(e, StreamEvent::TextDelta(_)))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(arrivals.len(), 30);
    assert_eq!(produced.len(), 30);
    let last_produced = *produced.last().unwrap();
    assert!(
        arrivals[0] < last_produced,
        "the first chunk must arrive before the last is produced"
    );
    assert!(
        last_produced - produced[0] >= Duration::from_millis(1200),
        "the script spreads tokens out"
    );
    for (i, (arrived, made)) in arrivals.iter().zip(&produced).enumerate() {
        let lag = arrived.duration_since(*made);
        assert!(
            lag < Duration::from_millis(200),
            "chunk {i} arrived {lag:?} after it was produced"
        );
    }
}

#[tokio::test]
async fn non_streaming_answer_is_the_collected_stream() {
    let tool = ScriptConfig {
        text: Some("Let me check.".into()),
        tool_calls: vec![ScriptedToolCall {
            name: "weather".into(),
            arguments: r#"{"city":"Oslo"}"#.into(),
        }],
        ..ScriptConfig::default()
    };
    let server = spawn(state(vec![scripted("tool", tool)])).await;
    let response = post_chat(
        &server.url,
        json!({"model": "tool", "messages": [{"role": "user", "content": "weather?"}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Let me check.");
    assert_eq!(
        choice["message"]["tool_calls"][0]["function"]["name"],
        "weather"
    );
    assert_eq!(
        choice["message"]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Oslo"}"#
    );
    // "Let", " me", " check", "." + the call + 9 argument pieces.
    assert_eq!(body["usage"]["completion_tokens"], 14);
}

#[tokio::test]
async fn mid_stream_error_keeps_the_partial_answer_and_ends_with_an_error_chunk() {
    let flaky = ScriptConfig {
        error_after: Some(2),
        ..text("a b c d", 0.0)
    };
    let server = spawn(state(vec![scripted("flaky", flaky)])).await;
    let events = read_sse(
        post_chat(&server.url, json!({"model": "flaky", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    let data: Vec<&str> = events.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let error = json(data[data.len() - 2]);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scripted error after 2 tokens")
    );
    let text: String = data
        .iter()
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "a b");
}

#[tokio::test]
async fn truncated_provider_stream_is_an_error_never_a_clean_finish() {
    let truncated = ScriptConfig {
        close_after: Some(2),
        ..text("a b c d", 0.0)
    };
    let server = spawn(state(vec![scripted("cut", truncated)])).await;
    let events = read_sse(
        post_chat(
            &server.url,
            json!({"model": "cut", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    let data: Vec<&str> = events.iter().map(|(_, d)| d.as_str()).collect();
    assert!(!data.iter().any(|d| d.contains("finish_reason\":\"stop")));
    let error = json(data[data.len() - 2]);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ended before"),
        "{error}"
    );
}

#[tokio::test]
async fn models_health_and_model_lookup() {
    let server = spawn(state(vec![
        scripted("a", ScriptConfig::default()),
        scripted("b/c", ScriptConfig::default()),
    ]))
    .await;
    let list: serde_json::Value = http()
        .get(format!("{}/v1/models", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b/c"]);
    let one: serde_json::Value = http()
        .get(format!("{}/v1/models/b/c", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], "b/c");
    let health = http()
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
