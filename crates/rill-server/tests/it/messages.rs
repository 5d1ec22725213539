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
