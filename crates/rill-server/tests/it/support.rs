//! A server on an ephemeral port, providers that report what happened to them, and SSE
//! reading helpers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use futures_util::StreamExt;
use rill_core::{ChatRequest, Provider, ProviderFuture, StreamEvent};
use rill_providers::{ScriptConfig, ScriptedProvider};
use rill_server::{AppState, ModelEntry, ModelRegistry, ServerConfig};
use tokio::sync::Notify;
use tokio::time::Instant;

pub fn scripted(name: &str, script: ScriptConfig) -> ModelEntry {
    ModelEntry {
        name: name.into(),
        owned_by: "rill",
        provider: Arc::new(ScriptedProvider::new(name, script)),
    }
}

pub fn text(text: &str, tokens_per_second: f64) -> ScriptConfig {
    ScriptConfig {
        text: Some(text.into()),
        tokens_per_second: Some(tokens_per_second),
        ..ScriptConfig::default()
    }
}

pub fn state(models: Vec<ModelEntry>) -> AppState {
    AppState::new(
        ServerConfig {
            max_body_bytes: 64 * 1024,
            ..ServerConfig::default()
        },
        ModelRegistry::new(models),
    )
}

/// The router for in-process requests, as if from a loopback peer.
pub fn router(state: AppState) -> axum::Router {
    rill_server::app(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))))
}

pub struct Running {
    pub url: String,
    pub state: AppState,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn spawn(state: AppState) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(rill_server::serve(listener, state.clone()));
    Running { url, state, server }
}

/// `rill mock-upstream`: an OpenAI-compatible server on loopback playing `script` for any
/// model.
pub async fn mock_upstream(script: ScriptConfig) -> Running {
    let provider = Arc::new(ScriptedProvider::new("mock", script));
    spawn(AppState::new(
        ServerConfig::default(),
        ModelRegistry::catch_all(provider),
    ))
    .await
}

/// Runs `scripts/test`'s control script for one of its servers (PostgreSQL, Redis), named
/// by the environment variable `var`, with `action` (`stop` or `start`).
pub fn control(var: &str, action: &str) {
    let ctl = std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} (set by scripts/test) stops and starts the server"));
    let status = std::process::Command::new(ctl)
        .arg(action)
        .status()
        .unwrap();
    assert!(status.success(), "{var} {action}: {status}");
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub async fn post_chat(url: &str, body: serde_json::Value) -> reqwest::Response {
    http()
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Reads an SSE body to its end; returns each event's data with its arrival time.
pub async fn read_sse(response: reqwest::Response) -> Vec<(Instant, String)> {
    let mut decoder = rill_sse::Decoder::new();
    let mut body = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let now = Instant::now();
        for event in decoder.feed(&chunk.unwrap()).unwrap() {
            out.push((now, event.data));
        }
    }
    out
}

pub fn json(data: &str) -> serde_json::Value {
    serde_json::from_str(data).unwrap_or_else(|e| panic!("not JSON ({e}): {data}"))
}

/// Wraps a provider: records when each event was produced and notices when the stream
/// is dropped.
#[derive(Clone)]
pub struct Observed {
    inner: Arc<dyn Provider>,
    pub produced: Arc<Mutex<Vec<(Instant, StreamEvent)>>>,
    pub dropped: Arc<Notify>,
}

impl Observed {
    pub fn new(inner: impl Provider) -> Self {
        Self {
            inner: Arc::new(inner),
            produced: Arc::default(),
            dropped: Arc::new(Notify::new()),
        }
    }

    pub fn entry(&self, name: &str) -> ModelEntry {
        ModelEntry {
            name: name.into(),
            owned_by: "rill",
            provider: Arc::new(self.clone()),
        }
    }

    /// Waits until the provider stream was dropped; false if not within `limit`.
    pub async fn wait_dropped(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.dropped.notified())
            .await
            .is_ok()
    }
}

struct DropGuard(Arc<Notify>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

impl Provider for Observed {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let this = self.clone();
        Box::pin(async move {
            let stream = this.inner.start(request).await?;
            let guard = DropGuard(Arc::clone(&this.dropped));
            let produced = Arc::clone(&this.produced);
            let observed = stream.map(move |event| {
                let _keep = &guard;
                produced
                    .lock()
                    .unwrap()
                    .push((Instant::now(), event.clone()));
                event
            });
            Ok(Box::pin(observed) as rill_core::EventStream)
        })
    }
}

/// An SSE frame as a client sees it: its `id:` (the last event id), event name and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub id: String,
    pub event: String,
    pub data: String,
}

/// Reads SSE frames from `response` until `stop` says enough or the body ends; each read
/// must come within 10 s.
pub async fn frames_until(
    response: reqwest::Response,
    mut stop: impl FnMut(&[Frame]) -> bool,
) -> Vec<Frame> {
    let mut decoder = rill_sse::Decoder::new();
    let mut body = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("no frame within 10 s")
    {
        for event in decoder.feed(&chunk.unwrap()).unwrap() {
            out.push(Frame {
                id: event.last_event_id,
                event: event.event,
                data: event.data,
            });
        }
        if stop(&out) {
            break;
        }
    }
    out
}

/// Every SSE frame of `response`, to the end of its body.
pub async fn all_frames(response: reqwest::Response) -> Vec<Frame> {
    frames_until(response, |_| false).await
}

/// The value of `series` (a metric name and its labels) in a `/metrics` text.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no `{series}` in\n{text}"))
        .parse()
        .unwrap()
}

/// How many streams the server at `url` started (an upstream: how many requests it got).
pub async fn streams_started(url: &str) -> f64 {
    metric(&metrics(url).await, "rill_streams_total")
}

/// The server's `/metrics` text (for a server without keys).
pub async fn metrics(url: &str) -> String {
    http()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
