//! `POST /api/chat` (the AI SDK's `useChat`) and CORS for pages on other origins.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rill_server::{AppState, ModelRegistry, ServerConfig};
use serde_json::json;
use tower::ServiceExt;

use crate::support::*;

fn use_chat_body(text: &str) -> serde_json::Value {
    json!({"id": "chat-1", "trigger": "submit-message", "messages": [
        {"id": "m1", "role": "user", "parts": [{"type": "text", "text": text}]}
    ]})
}

#[tokio::test]
async fn use_chat_bodies_stream_from_the_first_model() {
    let server = spawn(state(vec![
        scripted("story", text("one two three", 0.0)),
        scripted("other", text("wrong model", 0.0)),
    ]))
    .await;
    let response = http()
        .post(format!("{}/api/chat", server.url))
        .json(&use_chat_body("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-vercel-ai-ui-message-stream"], "v1");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = read_sse(response).await;
    let data: Vec<&str> = events.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<serde_json::Value> = data[..data.len() - 1].iter().map(|d| json(d)).collect();
    assert_eq!(chunks[0]["type"], "start");
    let text: String = chunks
        .iter()
        .filter(|c| c["type"] == "text-delta")
        .map(|c| c["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "one two three");
    assert_eq!(chunks.last().unwrap()["type"], "finish");
}

#[tokio::test]
async fn errors_before_the_stream_are_plain_text() {
    let app = router(state(vec![scripted("story", text("x", 0.0))]));
    let mut body = use_chat_body("hi");
    body["model"] = json!("no-such-model");
    for (payload, status) in [
        (body.to_string(), StatusCode::NOT_FOUND),
        ("{not json".to_owned(), StatusCode::BAD_REQUEST),
        (json!({"messages": []}).to_string(), StatusCode::BAD_REQUEST),
    ] {
        let request = Request::post("/api/chat")
            .header("content-type", "application/json")
            .body(Body::from(payload.clone()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), status, "{payload}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"),
            "{payload}"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert!(
            !bytes.is_empty(),
            "{payload}: an empty message helps no one"
        );
    }
}

async fn preflight(app: axum::Router, origin: &str) -> axum::response::Response {
    let request = Request::options("/api/chat")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    app.oneshot(request).await.unwrap()
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let server = ServerConfig {
        cors_origins: vec!["http://localhost:3000".into()],
        ..ServerConfig::default()
    };
    let app = router(AppState::new(
        server,
        ModelRegistry::new(vec![scripted("story", text("x", 0.0))]),
    ));
    let allowed = preflight(app.clone(), "http://localhost:3000").await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let other = preflight(app, "http://evil.example").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // Without configuration, no page elsewhere is allowed.
    let plain = router(state(vec![scripted("story", text("x", 0.0))]));
    let response = preflight(plain, "http://localhost:3000").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[test]
fn cors_origins_are_checked_at_start_up() {
    for bad in ["localhost:3000", "http://localhost:3000/", "ftp://x"] {
        let toml = format!("[server]\ncors_origins = [{bad:?}]\n");
        let error = rill_server::Config::from_toml(&toml)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("cors_origins") && error.contains("hint:"),
            "{error}"
        );
    }
    assert!(rill_server::Config::from_toml("[server]\ncors_origins = [\"*\"]\n").is_ok());
}
