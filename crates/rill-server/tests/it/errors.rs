//! Every bad input gets a clear OpenAI-style error with the right status, never a panic.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rill_providers::ScriptConfig;
use serde_json::Value;
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
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{method} {path}"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn error(body: &Value) -> (&str, &str) {
    let e = &body["error"];
    (e["type"].as_str().unwrap(), e["message"].as_str().unwrap())
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (status, body) = call("POST", "/v1/chat/completions", "{\"model\": \"echo\", ").await;
    assert_eq!(status, 400);
    let (kind, message) = error(&body);
    assert_eq!(kind, "invalid_request_error");
    assert!(message.contains("not valid JSON"), "{message}");
}

#[tokio::test]
async fn empty_body_is_400() {
    let (status, body) = call("POST", "/v1/chat/completions", "").await;
    assert_eq!(status, 400);
    assert!(error(&body).1.contains("empty"), "{body}");
}

#[tokio::test]
async fn missing_messages_is_400_naming_the_field() {
    let (status, body) = call("POST", "/v1/chat/completions", r#"{"model":"echo"}"#).await;
    assert_eq!(status, 400);
    assert!(error(&body).1.contains("`messages`"), "{body}");
}

#[tokio::test]
async fn wrong_types_are_400_naming_the_path() {
    let cases = [
        (r#"{"model":"echo","messages":"hi"}"#, "messages"),
        (
            r#"{"model":"echo","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
            "temperature",
        ),
        (
            r#"{"model":"echo","messages":[{"role":"user","content":"x"}],"max_tokens":-1}"#,
            "max_tokens",
        ),
        (
            r#"{"model":7,"messages":[{"role":"user","content":"x"}]}"#,
            "model",
        ),
        (
            r#"{"model":"echo","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#,
            "stream",
        ),
    ];
    for (input, field) in cases {
        let (status, body) = call("POST", "/v1/chat/completions", input).await;
        assert_eq!(status, 400, "{input}");
        assert!(error(&body).1.contains(field), "{input} -> {body}");
    }
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let big = format!(
        r#"{{"model":"echo","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(70 * 1024)
    );
    let (status, body) = call("POST", "/v1/chat/completions", big).await;
    assert_eq!(status, 413);
    assert!(error(&body).1.contains("65536 bytes"), "{body}");
}

#[tokio::test]
async fn unknown_model_is_404_model_not_found() {
    let (status, body) = call(
        "POST",
        "/v1/chat/completions",
        r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(error(&body).1.contains("`nope`"));
}

#[tokio::test]
async fn unknown_path_is_404_and_wrong_method_is_405() {
    let (status, body) = call("GET", "/v1/nothing-here", Body::empty()).await;
    assert_eq!(status, 404);
    assert!(error(&body).1.contains("/v1/nothing-here"));
    let (status, body) = call("GET", "/v1/chat/completions", Body::empty()).await;
    assert_eq!(status, 405);
    assert!(error(&body).1.contains("`GET`"), "{body}");
}

#[tokio::test]
async fn remote_peers_are_refused_unless_allowed() {
    let remote = MockConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000)));
    let app =
        rill_server::app(state(vec![scripted("echo", ScriptConfig::default())])).layer(remote);
    let response = app
        .oneshot(Request::get("/v1/models").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let mut open = state(vec![scripted("echo", ScriptConfig::default())]);
    open.server = std::sync::Arc::new(rill_server::ServerConfig {
        allow_remote: true,
        ..(*open.server).clone()
    });
    let app = rill_server::app(open).layer(remote);
    let response = app
        .oneshot(Request::get("/v1/models").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn hostile_inputs_never_panic() {
    let inputs: Vec<Vec<u8>> = vec![
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"str\"".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"{\"model\":\"echo\",\"messages\":[null]}".to_vec(),
        b"{\"model\":\"echo\",\"messages\":[{}]}".to_vec(),
        b"{\"model\":\"echo\",\"messages\":[{\"role\":\"user\"}]}".to_vec(),
        b"{\"model\":\"echo\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}".to_vec(),
        format!("{}{}", "[".repeat(10000), "]".repeat(10000)).into_bytes(),
    ];
    for input in inputs {
        let (status, body) = call("POST", "/v1/chat/completions", input.clone()).await;
        assert_eq!(status, 400, "{} -> {body}", String::from_utf8_lossy(&input));
        assert!(!error(&body).1.is_empty());
    }
}

/// A JSON error with status `status` from `path` on a real server, whose error body is
/// OpenAI's shape (the streams routes and Responses share it).
async fn get_error(url: &str, path: &str, status: u16) -> String {
    let response = http().get(format!("{url}{path}")).send().await.unwrap();
    assert_eq!(response.status(), status, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{path}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["type"], "invalid_request_error",
        "{path}: {body}"
    );
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn bad_query_and_path_parameters_get_json_errors_on_every_route() {
    let server = spawn(state(vec![scripted("echo", text("a b c", 0.0))])).await;
    let started = http()
        .post(format!("{}/v1/responses", server.url))
        .json(&serde_json::json!({"model": "echo", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let id = started.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    all_frames(started).await;
    let cases = [
        (
            format!("/v1/streams/{id}?after=1&after=2"),
            "more than once",
        ),
        (format!("/v1/streams/{id}?after=abc"), "`abc`"),
        (
            format!("/v1/responses/{id}?stream=true&starting_after=abc"),
            "`abc`",
        ),
        (
            format!("/v1/responses/{id}?stream=true&starting_after=-1"),
            "`-1`",
        ),
        (format!("/v1/responses/{id}?stream=maybe"), "`maybe`"),
        ("/v1/streams/%FF%FE".to_owned(), "path"),
        ("/v1/streams/%FF%FE/cancel".to_owned(), "path"),
        ("/v1/models/%FF".to_owned(), "path"),
    ];
    for (path, says) in cases {
        let method_get = !path.ends_with("/cancel");
        let message = if method_get {
            get_error(&server.url, &path, 400).await
        } else {
            let response = http()
                .post(format!("{}{path}", server.url))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path}");
            let body: Value = response.json().await.unwrap();
            body["error"]["message"].as_str().unwrap().to_owned()
        };
        assert!(message.contains(says), "{path}: {message}");
    }
    // The good forms still work.
    let replay = http()
        .get(format!(
            "{}/v1/responses/{id}?stream=true&starting_after=2",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 200);
}

/// Collects what the server logs, at every level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_in_query_strings_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // A current-thread runtime: every task of this test logs through this subscriber.
    let _log = tracing::subscriber::set_default(subscriber);
    // See `keys::keys_never_reach_the_logs`: two dispatchers keep call sites from being
    // cached as disabled by another test's thread.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let server = spawn(state(vec![scripted("echo", text("a", 0.0))])).await;
    for path in [
        "/v1/models?api_key=sk-rill-hunter2",
        "/v1/streams/x?after=1&token=hunter2",
        "/v1/nothing?key=AIzaHunter2",
    ] {
        http()
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("api_key=REDACTED"), "{logs}");
    assert!(logs.contains("after=1&token=REDACTED"), "{logs}");
    assert!(
        !logs.to_lowercase().contains("hunter2"),
        "a secret reached the log:\n{logs}"
    );
}
