//! Timeouts, retries and fallbacks through the real server: models built from the config
//! (`ModelRegistry::from_config`) or chains of providers that count their calls; loopback
//! upstreams that fail, limit or never answer; real short timeouts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use rill_core::{ChatRequest, Provider, ProviderFuture};
use rill_providers::{Backoff, Link, Policy, Resilient, ScriptConfig, ScriptedProvider, Timeouts};
use rill_server::{AppState, Config, ModelEntry, ModelRegistry, ServerConfig};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::support::{http, json, post_chat, read_sse, spawn, state, text};

/// Plays `parts[n]` on its n-th call (the last part on every later call), counting calls.
#[derive(Clone)]
struct Counted {
    parts: Arc<[Arc<dyn Provider>]>,
    calls: Arc<AtomicUsize>,
}

impl Counted {
    fn new(parts: Vec<ScriptConfig>) -> Self {
        let parts: Vec<Arc<dyn Provider>> = parts
            .into_iter()
            .map(|script| Arc::new(ScriptedProvider::new("upstream-id", script)) as _)
            .collect();
        Self {
            parts: parts.into(),
            calls: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Provider for Counted {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.parts[n.min(self.parts.len() - 1)].start(request)
    }
}

/// Two attempts, short pauses, 300 ms to the first token, 300 ms idle.
fn policy() -> Policy {
    Policy {
        max_attempts: 2,
        backoff: Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_secs(2),
        },
        timeouts: Timeouts {
            first_token: Some(Duration::from_millis(300)),
            idle: Some(Duration::from_millis(300)),
            total: None,
        },
    }
}

/// A model `name` served by `chain[0]`, then its fallbacks.
fn chain(name: &str, chain: &[(&str, &Counted)]) -> ModelEntry {
    let mut links = chain
        .iter()
        .map(|(name, provider)| Link::new(*name, Arc::new((*provider).clone()), policy()));
    let first = links.next().unwrap();
    ModelEntry {
        name: name.into(),
        owned_by: "rill",
        provider: Arc::new(Resilient::new(first, links.collect())),
    }
}

async fn from_config(toml: &str) -> AppState {
    let config = Config::from_toml(toml).unwrap();
    let models = ModelRegistry::from_config(&config).await.unwrap();
    AppState::new(ServerConfig::default(), models)
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

/// The data of every SSE event of `response`.
async fn datas(response: reqwest::Response) -> Vec<String> {
    read_sse(response)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

/// The text of a Chat Completions stream.
fn streamed_text(datas: &[String]) -> String {
    datas
        .iter()
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            json(d)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// How many chunks of a Chat Completions stream announce the assistant's role.
fn role_chunks(datas: &[String]) -> usize {
    datas
        .iter()
        .filter(|d| *d != "[DONE]" && json(d)["choices"][0]["delta"].get("role").is_some())
        .count()
}

/// The in-stream error of a Chat Completions stream: the event before `[DONE]`.
fn stream_error(datas: &[String]) -> Value {
    assert_eq!(
        datas.last().map(String::as_str),
        Some("[DONE]"),
        "{datas:?}"
    );
    let error = json(&datas[datas.len() - 2]);
    assert!(error.get("error").is_some(), "no error event: {datas:?}");
    error["error"].clone()
}

/// An OpenAI-compatible upstream on loopback that answers its n-th request with
/// `reply(n)`, and records when each came.
async fn upstream(
    reply: impl Fn(usize) -> Response + Clone + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Instant>>>) {
    let seen: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let record = Arc::clone(&seen);
    let handler = move || {
        let (record, reply) = (Arc::clone(&record), reply.clone());
        async move {
            let n = {
                let mut seen = record.lock().unwrap();
                seen.push(Instant::now());
                seen.len() - 1
            };
            reply(n)
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(handler);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn openai_error(status: u16, retry_after: Option<&str>) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(after) = retry_after {
        response = response.header("retry-after", after);
    }
    let body = json!({"error": {"message": "try later", "type": "server_error", "param": null, "code": null}});
    response.body(Body::from(body.to_string())).unwrap()
}

/// An OpenAI-style streamed answer of `words`.
fn openai_answer(words: &[&str]) -> Response {
    let chunk = |delta: Value, finish: Value| {
        let chunk = json!({"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1,
            "model": "upstream-model", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {chunk}\n\n")
    };
    let mut body = chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    for word in words {
        body.push_str(&chunk(json!({"content": word}), Value::Null));
    }
    body.push_str(&chunk(json!({}), json!("stop")));
    body.push_str("data: [DONE]\n\n");
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_stall_mid_answer_ends_in_an_idle_timeout_and_the_log_keeps_the_partial_answer() {
    let state = from_config(
        r#"
        [[models]]
        name = "stalls"
        provider = "scripted"
        script = { text = "one two three four", tokens_per_second = 50, stall_after = 2, stall_ms = 60000 }
        timeouts = { idle_secs = 0.3 }
        "#,
    )
    .await;
    let server = spawn(state).await;
    let response = post_chat(&server.url, chat("stalls", true)).await;
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let began = Instant::now();
    let got = datas(response).await;
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(streamed_text(&got), "one two");
    let error = stream_error(&got);
    assert_eq!(error["type"], "timeout_error", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("idle timeout of 0.3 s"), "{message}");

    // The session log kept the partial answer and its end.
    let replay = http()
        .get(format!("{}/v1/streams/{id}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(datas(replay).await, got);
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_then_success_is_one_stream_after_the_delay() {
    let (url, seen) = upstream(|n| match n {
        0 => openai_error(429, Some("1")),
        _ => openai_answer(&["Hello", " there"]),
    })
    .await;
    let state = from_config(&format!(
        "[[models]]\nname = \"up\"\nprovider = \"openai\"\nbase_url = \"{url}\"\n"
    ))
    .await;
    let server = spawn(state).await;
    let response = post_chat(&server.url, chat("up", true)).await;
    assert_eq!(response.status(), 200);
    let got = datas(response).await;
    assert_eq!(streamed_text(&got), "Hello there");
    assert_eq!(role_chunks(&got), 1, "{got:?}");
    assert_eq!(got.last().map(String::as_str), Some("[DONE]"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let waited = seen[1] - seen[0];
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_failing_upstream_falls_back_and_the_answer_names_the_model_that_served() {
    let (url, seen) = upstream(|_| openai_error(500, None)).await;
    let state = from_config(&format!(
        r#"
        [retries]
        base_delay_ms = 10
        [[models]]
        name = "primary"
        provider = "openai"
        base_url = "{url}"
        fallbacks = ["backup"]
        [[models]]
        name = "backup"
        provider = "scripted"
        script = {{ text = "from the backup" }}
        "#
    ))
    .await;
    let server = spawn(state).await;

    let response = post_chat(&server.url, chat("primary", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-rill-served-by"], "backup");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "from the backup");
    // The primary's two attempts, then the fallback.
    assert_eq!(seen.lock().unwrap().len(), 2);

    let response = post_chat(&server.url, chat("primary", true)).await;
    let got = datas(response).await;
    assert_eq!(streamed_text(&got), "from the backup");
    assert_eq!(role_chunks(&got), 1, "{got:?}");

    // The Anthropic dialect: one `message_start`, the fallback's text.
    let response = http()
        .post(format!("{}/v1/messages", server.url))
        .json(
            &json!({"model": "primary", "max_tokens": 64, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    let got = datas(response).await;
    let types: Vec<String> = got
        .iter()
        .map(|d| json(d)["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.iter().filter(|t| *t == "message_start").count(), 1);
    assert_eq!(types.last().map(String::as_str), Some("message_stop"));
    let text: String = got
        .iter()
        .filter_map(|d| json(d)["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "from the backup");

    let response = http()
        .post(format!("{}/v1/messages", server.url))
        .json(&json!({"model": "primary", "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-rill-served-by"], "backup");
    // The model asked for serves itself when it can.
    let direct = post_chat(&server.url, chat("backup", false)).await;
    assert_eq!(direct.headers()["x-rill-served-by"], "backup");
}

#[tokio::test]
async fn an_error_in_the_stream_before_the_first_token_is_retried_with_one_role_chunk() {
    let failing = ScriptConfig {
        error_after: Some(0),
        ..text("never", 0.0)
    };
    let a = Counted::new(vec![failing, text("second attempt", 100.0)]);
    let server = spawn(state(vec![chain("a", &[("a", &a)])])).await;
    let got = datas(post_chat(&server.url, chat("a", true)).await).await;
    assert_eq!(streamed_text(&got), "second attempt");
    assert_eq!(role_chunks(&got), 1, "{got:?}");
    assert!(!got.iter().any(|d| d.contains("\"error\"")), "{got:?}");
    assert_eq!(a.calls(), 2);
}

#[tokio::test]
async fn an_error_after_the_first_token_is_an_error_event_never_a_switch() {
    let breaking = ScriptConfig {
        error_after: Some(2),
        ..text("one two three four", 100.0)
    };
    let a = Counted::new(vec![breaking]);
    let b = Counted::new(vec![text("fallback", 100.0)]);
    let server = spawn(state(vec![chain("a", &[("a", &a), ("b", &b)])])).await;
    let response = post_chat(&server.url, chat("a", true)).await;
    let id = response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let got = datas(response).await;
    assert_eq!(streamed_text(&got), "one two");
    assert_eq!(stream_error(&got)["type"], "upstream_error");
    assert_eq!((a.calls(), b.calls()), (1, 0));
    let replay = http()
        .get(format!("{}/v1/streams/{id}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(datas(replay).await, got);
}

#[tokio::test]
async fn a_clients_own_400_is_neither_retried_nor_sent_to_the_fallback() {
    let refusing = ScriptConfig {
        fail_status: Some(400),
        ..ScriptConfig::default()
    };
    let a = Counted::new(vec![refusing]);
    let b = Counted::new(vec![text("fallback", 100.0)]);
    let server = spawn(state(vec![chain("a", &[("a", &a), ("b", &b)])])).await;
    for stream in [true, false] {
        let response = post_chat(&server.url, chat("a", stream)).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    assert_eq!((a.calls(), b.calls()), (2, 0));
}

#[tokio::test]
async fn a_stall_before_the_first_token_is_retried_then_falls_back_or_times_out() {
    let stalled = ScriptConfig {
        stall_ms: Some(60_000),
        ..text("stuck", 100.0)
    };
    let a = Counted::new(vec![stalled.clone()]);
    let b = Counted::new(vec![text("rescued", 100.0)]);
    let alone = Counted::new(vec![stalled]);
    let server = spawn(state(vec![
        chain("a", &[("a", &a), ("b", &b)]),
        chain("alone", &[("alone", &alone)]),
    ]))
    .await;

    let began = Instant::now();
    let got = datas(post_chat(&server.url, chat("a", true)).await).await;
    assert_eq!(streamed_text(&got), "rescued");
    assert_eq!(role_chunks(&got), 1, "{got:?}");
    assert_eq!((a.calls(), b.calls()), (2, 1));
    assert!(
        began.elapsed() >= Duration::from_millis(600),
        "{:?}",
        began.elapsed()
    );

    // Without a fallback the stream, already accepted, ends in the timeout.
    let response = post_chat(&server.url, chat("alone", true)).await;
    assert_eq!(response.status(), 200);
    let got = datas(response).await;
    let error = stream_error(&got);
    assert_eq!(error["type"], "timeout_error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("first-token timeout of 0.3 s"),
        "{message}"
    );
    assert_eq!(streamed_text(&got), "");
    assert_eq!(alone.calls(), 2);
}

#[tokio::test]
async fn an_upstream_that_sends_no_response_headers_is_a_504_after_the_retries() {
    // Accepts connections and reads, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            open.push(socket);
        }
    });
    let state = from_config(&format!(
        r#"
        [timeouts]
        first_token_secs = 0.3
        [[models]]
        name = "mute"
        provider = "openai"
        base_url = "{url}"
        "#
    ))
    .await;
    let server = spawn(state).await;
    for stream in [true, false] {
        let response = post_chat(&server.url, chat("mute", stream)).await;
        assert_eq!(response.status(), 504);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "timeout_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("first-token timeout of 0.3 s"),
            "{message}"
        );
    }
    // Two attempts each; a timed-out request's connection is not reused.
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn the_total_timeout_ends_a_long_answer() {
    let state = from_config(
        r#"
        [[models]]
        name = "long"
        provider = "scripted"
        script = { text = "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w", tokens_per_second = 20 }
        timeouts = { total_secs = 0.3 }
        "#,
    )
    .await;
    let server = spawn(state).await;
    let response = post_chat(&server.url, chat("long", false)).await;
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("total timeout of 0.3 s"), "{message}");

    let got = datas(post_chat(&server.url, chat("long", true)).await).await;
    let words = streamed_text(&got).matches('w').count();
    assert!((1..30).contains(&words), "{got:?}");
    assert!(
        stream_error(&got)["message"]
            .as_str()
            .unwrap()
            .contains("total timeout of 0.3 s")
    );
}
