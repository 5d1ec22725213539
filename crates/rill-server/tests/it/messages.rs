//! `POST /v1/messages` over a real socket: Anthropic's event names on the wire, and
//! Anthropic-shaped errors for everything that can go wrong before a handler runs too.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rill_providers::ScriptConfig;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

async fn call(method: &str, path: &str, body: impl Into<Body>) -> (StatusCode, Value) {
    let app = router(state(vec![scripted("echo", ScriptConfig::default())]));
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn anthropic_error(body: &Value) -> &str {
    assert_eq!(body["type"], "error", "{body}");
    body["error"]["type"].as_str().unwrap()
}

#[tokio::test]
async fn errors_before_the_handler_are_anthropic_shaped() {
    let (status, body) = call("GET", "/v1/messages", Body::empty()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(anthropic_error(&body), "invalid_request_error");

    let (status, body) = call("POST", "/v1/messages/count_tokens", "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(anthropic_error(&body), "not_found_error");

    let huge = format!(
        r#"{{"model":"echo","max_tokens":5,"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(70_000)
    );
    let (status, body) = call("POST", "/v1/messages", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(anthropic_error(&body), "request_too_large");

    let (status, body) = call("POST", "/v1/messages", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(anthropic_error(&body), "invalid_request_error");

    let request =
        json!({"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let (status, body) = call("POST", "/v1/messages", request.to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(anthropic_error(&body), "not_found_error");
    // The OpenAI routes keep their own shape.
    let (status, body) = call("GET", "/v1/chat/completions", Body::empty()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"]["message"].is_string() && body.get("type").is_none());
}

#[tokio::test]
async fn every_event_carries_its_name_on_the_wire() {
    let server = spawn(state(vec![scripted("story", text("one two three", 0.0))])).await;
    let response = http()
        .post(format!("{}/v1/messages", server.url))
        .json(&json!({"model": "story", "max_tokens": 20, "stream": true,
                      "messages": [{"role": "user", "content": "go"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await.unwrap();
    let mut decoder = rill_sse::Decoder::new();
    let events = decoder.feed(body.as_bytes()).unwrap();
    assert!(events.len() >= 7, "{body}");
    for event in &events {
        let data = json(&event.data);
        assert_eq!(event.event, data["type"].as_str().unwrap(), "{body}");
    }
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(
        &names[names.len() - 2..],
        &["message_delta", "message_stop"]
    );
    assert!(!body.contains("[DONE]"), "Anthropic streams have no [DONE]");
}

/// Records the requests it is given, and answers with a script.
#[derive(Clone)]
struct Recording {
    script: rill_providers::ScriptedProvider,
    requests: std::sync::Arc<std::sync::Mutex<Vec<rill_core::ChatRequest>>>,
}

impl rill_core::Provider for Recording {
    fn start(&self, request: rill_core::ChatRequest) -> rill_core::ProviderFuture {
        self.requests.lock().unwrap().push(request.clone());
        self.script.start(request)
    }
}

/// A signature the upstream sealed its reasoning with reaches the client, and comes back
/// to the provider with the client's next request.
#[tokio::test]
async fn a_reasoning_signature_goes_to_the_client_and_comes_back() {
    let script = ScriptConfig {
        text: Some(String::new()),
        reasoning: Some("Look it up.".into()),
        reasoning_signature: Some("sig-1".into()),
        tool_calls: vec![rill_providers::ScriptedToolCall {
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        ..ScriptConfig::default()
    };
    let recording = Recording {
        script: rill_providers::ScriptedProvider::new("thinker", script),
        requests: std::sync::Arc::default(),
    };
    let entry = rill_server::ModelEntry {
        name: "thinker".into(),
        owned_by: "rill",
        provider: std::sync::Arc::new(recording.clone()),
    };
    let server = spawn(state(vec![entry])).await;
    let body = http()
        .post(format!("{}/v1/messages", server.url))
        .json(
            &json!({"model": "thinker", "max_tokens": 50, "stream": true,
                      "messages": [{"role": "user", "content": "Weather in Paris?"}]}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = rill_sse::Decoder::new().feed(body.as_bytes()).unwrap();
    let deltas: Vec<Value> = events
        .iter()
        .map(|e| json(&e.data))
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| d["delta"].clone())
        .collect();
    // No thinking asked for: no reasoning text, but the signature.
    assert_eq!(
        deltas[0],
        json!({"type": "signature_delta", "signature": "sig-1"})
    );
    assert!(!body.contains("thinking_delta"), "{body}");

    let call_id = events
        .iter()
        .map(|e| json(&e.data))
        .find(|d| d["content_block"]["type"] == "tool_use")
        .unwrap()["content_block"]["id"]
        .clone();
    let next = json!({"model": "thinker", "max_tokens": 50, "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "", "signature": "sig-1"},
            {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"city": "Paris"}}
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call_id, "content": "sunny"}]}
    ]});
    let response = http()
        .post(format!("{}/v1/messages", server.url))
        .json(&next)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let requests = recording.requests.lock().unwrap().clone();
    let rill_core::Message::Assistant { reasoning, .. } = &requests[1].messages[1] else {
        panic!("{:?}", requests[1].messages);
    };
    assert_eq!(reasoning, &[rill_core::Reasoning::signed("", "sig-1")]);
}
