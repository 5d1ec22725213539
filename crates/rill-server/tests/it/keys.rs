//! Virtual API keys: 401 in each dialect without a valid one, either header form, keys
//! enforced for loopback peers too, the page and `/health` public, models a key may not
//! use answered like models that do not exist, streams only for the key that started
//! them, keys never in the logs, and `[[keys]]` in the config.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use rill_server::{AppState, Config, KeyConfig, ModelEntry, hash_key};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

pub const WEB: &str = "sk-rill-web-4f6c0a1e9b2d7c3e8a5f";
pub const OTHER: &str = "sk-rill-other-71b9d2c4e6f8a0b3c5d7";

pub fn key(name: &str, secret: &str) -> KeyConfig {
    KeyConfig::new(name, hash_key(secret))
}

pub fn keyed(models: Vec<ModelEntry>, keys: Vec<KeyConfig>) -> AppState {
    state(models).with_keys(keys).unwrap()
}

/// How a request carries its key.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
}

impl Auth<'_> {
    pub fn apply(self, request: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Auth::None => request,
            Auth::Bearer(key) => request.header("authorization", format!("Bearer {key}")),
            Auth::ApiKey(key) => request.header("x-api-key", key),
        }
    }

    pub fn reqwest(self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => request,
            Auth::Bearer(key) => request.bearer_auth(key),
            Auth::ApiKey(key) => request.header("x-api-key", key),
        }
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        json(&self.body)
    }

    pub fn retry_after(&self) -> &str {
        self.headers["retry-after"].to_str().unwrap()
    }
}

/// One in-process request, its body read to the end.
pub async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    body: Option<&Value>,
) -> Answer {
    let request = auth
        .apply(Request::builder().method(method).uri(path))
        .header("content-type", "application/json");
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(bytes.to_vec()).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// A request for `model` to each generation endpoint, non-streaming where the dialect
/// has that form.
pub fn bodies(model: &str) -> Vec<(&'static str, Value)> {
    let messages = json!([{"role": "user", "content": "hi"}]);
    vec![
        (
            "/v1/chat/completions",
            json!({"model": model, "messages": messages}),
        ),
        (
            "/v1/messages",
            json!({"model": model, "max_tokens": 50, "messages": messages}),
        ),
        ("/v1/responses", json!({"model": model, "input": "hi"})),
        (
            "/api/chat",
            json!({"model": model, "id": "c1", "trigger": "submit-message", "messages": [
                {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}
            ]}),
        ),
    ]
}

/// The error's kind as the endpoint's dialect spells it.
pub fn error_type(path: &str, answer: &Answer) -> String {
    match path {
        "/v1/messages" => {
            let body = answer.json();
            assert_eq!(body["type"], "error", "{body}");
            body["error"]["type"].as_str().unwrap().to_owned()
        }
        "/api/chat" => {
            let content_type = answer.headers["content-type"].to_str().unwrap();
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            assert!(!answer.body.is_empty());
            assert!(serde_json::from_str::<Value>(&answer.body).is_err());
            "text".to_owned()
        }
        _ => answer.json()["error"]["type"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn every_dialect_refuses_a_missing_or_wrong_key_with_401_and_serves_either_header() {
    let app = router(keyed(
        vec![scripted("echo", text("hello there", 0.0))],
        vec![key("web", WEB), key("other", OTHER)],
    ));
    for (path, body) in bodies("echo") {
        let prefix = &WEB[..WEB.len() - 1];
        let mut wrong_bodies = Vec::new();
        for auth in [
            Auth::None,
            Auth::Bearer("sk-rill-wrong"),
            Auth::ApiKey("sk-rill-wrong-too"),
            Auth::Bearer(prefix),
            Auth::ApiKey(""),
        ] {
            let answer = call(&app, "POST", path, auth, Some(&body)).await;
            assert_eq!(answer.status, 401, "{path} {auth:?}: {}", answer.body);
            assert_eq!(answer.headers["www-authenticate"], "Bearer");
            let kind = error_type(path, &answer);
            if path != "/api/chat" {
                assert_eq!(kind, "authentication_error", "{path}");
            }
            assert!(!answer.body.contains("sk-rill"), "{}", answer.body);
            if !matches!(auth, Auth::None | Auth::ApiKey("")) {
                wrong_bodies.push(answer.body);
            }
        }
        // Every wrong key gets the same answer, however close it is to a real one.
        assert!(
            wrong_bodies.windows(2).all(|w| w[0] == w[1]),
            "{wrong_bodies:?}"
        );
        for auth in [Auth::Bearer(WEB), Auth::ApiKey(WEB), Auth::ApiKey(OTHER)] {
            let answer = call(&app, "POST", path, auth, Some(&body)).await;
            assert_eq!(answer.status, 200, "{path} {auth:?}: {}", answer.body);
            assert!(answer.body.contains("hello"), "{path}: {}", answer.body);
        }
    }
}

#[tokio::test]
async fn header_forms_follow_the_sdks() {
    let app = router(keyed(
        vec![scripted("echo", text("ok", 0.0))],
        vec![key("web", WEB)],
    ));
    let body = json!({"model": "echo", "messages": [{"role": "user", "content": "hi"}]});
    let send = |headers: Vec<(&'static str, String)>| {
        let app = app.clone();
        let body = body.clone();
        async move {
            let mut request =
                Request::post("/v1/chat/completions").header("content-type", "application/json");
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = app
                .oneshot(request.body(Body::from(body.to_string())).unwrap())
                .await
                .unwrap();
            response.status()
        }
    };
    // The scheme is case-insensitive; surrounding whitespace is not part of the key.
    assert_eq!(
        send(vec![("authorization", format!("bearer {WEB}"))]).await,
        200
    );
    assert_eq!(
        send(vec![("authorization", format!("Bearer  {WEB} "))]).await,
        200
    );
    // The same key in both headers is fine (some clients send both); two keys are not.
    let both = vec![
        ("authorization", format!("Bearer {WEB}")),
        ("x-api-key", WEB.to_owned()),
    ];
    assert_eq!(send(both).await, 200);
    let two = vec![
        ("authorization", format!("Bearer {WEB}")),
        ("x-api-key", OTHER.to_owned()),
    ];
    assert_eq!(send(two).await, 401);
    // Another scheme carries no key of ours.
    assert_eq!(
        send(vec![("authorization", format!("Basic {WEB}"))]).await,
        401
    );
}

#[tokio::test]
async fn with_keys_loopback_needs_one_remote_peers_with_one_are_served_and_the_page_is_public() {
    let models = || vec![scripted("echo", text("ok", 0.0))];
    let remote = MockConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000)));
    // `allow_remote` is off: a key, not the address, is what lets a peer in.
    let from_remote = rill_server::app(keyed(models(), vec![key("web", WEB)])).layer(remote);
    let from_loopback = router(keyed(models(), vec![key("web", WEB)]));
    for app in [&from_remote, &from_loopback] {
        for path in ["/", "/rill-client.js", "/health"] {
            let answer = call(app, "GET", path, Auth::None, None).await;
            assert_eq!(answer.status, 200, "{path}");
        }
        for path in [
            "/v1/models",
            "/metrics",
            "/v1/streams/chatcmpl-x",
            "/v1/nothing",
        ] {
            let answer = call(app, "GET", path, Auth::None, None).await;
            assert_eq!(answer.status, 401, "{path}: {}", answer.body);
        }
        let answer = call(app, "GET", "/v1/models", Auth::Bearer(WEB), None).await;
        assert_eq!(answer.status, 200);
        let answer = call(app, "GET", "/metrics", Auth::Bearer(WEB), None).await;
        assert_eq!(answer.status, 200);
        // Unknown routes are not told apart from known ones without a key.
        let answer = call(app, "GET", "/v1/nothing", Auth::Bearer(WEB), None).await;
        assert_eq!(answer.status, 404);
    }
    // Without keys, remote peers are still refused unless `allow_remote`.
    let open = rill_server::app(state(models())).layer(remote);
    let answer = call(&open, "GET", "/v1/models", Auth::Bearer(WEB), None).await;
    assert_eq!(answer.status, 403);
}

#[tokio::test]
async fn a_key_sees_and_uses_only_its_models() {
    let picky = KeyConfig {
        models: Some(vec!["gpt".into()]),
        ..key("web", WEB)
    };
    let app = router(keyed(
        vec![
            scripted("claude", text("from claude", 0.0)),
            scripted("gpt", text("from gpt", 0.0)),
        ],
        vec![picky, key("other", OTHER)],
    ));
    for (path, body) in bodies("claude") {
        let refused = call(&app, "POST", path, Auth::Bearer(WEB), Some(&body)).await;
        assert_eq!(refused.status, 404, "{path}");
        // Just what a model that does not exist gets.
        let mut missing_body = body.clone();
        missing_body["model"] = json!("claudf");
        let missing = call(&app, "POST", path, Auth::Bearer(WEB), Some(&missing_body)).await;
        assert_eq!(
            refused.body.replace("claude", "claudf"),
            missing.body,
            "{path}"
        );
        let allowed = call(&app, "POST", path, Auth::Bearer(OTHER), Some(&body)).await;
        assert_eq!(allowed.status, 200, "{path}");
    }
    let listed = |answer: Answer| -> Vec<String> {
        let body = answer.json();
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let models = call(&app, "GET", "/v1/models", Auth::Bearer(WEB), None).await;
    assert_eq!(listed(models), ["gpt"]);
    let models = call(&app, "GET", "/v1/models", Auth::Bearer(OTHER), None).await;
    assert_eq!(listed(models), ["claude", "gpt"]);
    let one = call(&app, "GET", "/v1/models/claude", Auth::Bearer(WEB), None).await;
    assert_eq!(one.status, 404);
    let one = call(&app, "GET", "/v1/models/gpt", Auth::Bearer(WEB), None).await;
    assert_eq!(one.status, 200);

    // `useChat` names no model: the first one the key may use.
    let mut ui = bodies("").pop().unwrap().1;
    ui.as_object_mut().unwrap().remove("model");
    let answer = call(&app, "POST", "/api/chat", Auth::Bearer(WEB), Some(&ui)).await;
    assert!(answer.body.contains(r#""delta":" gpt""#), "{}", answer.body);
    let answer = call(&app, "POST", "/api/chat", Auth::Bearer(OTHER), Some(&ui)).await;
    assert!(
        answer.body.contains(r#""delta":" claude""#),
        "{}",
        answer.body
    );
}

async fn frames(response: reqwest::Response) -> Vec<String> {
    read_sse(response)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

#[tokio::test]
async fn only_the_key_that_started_a_stream_may_resume_or_cancel_it() {
    let story = "one two three four five six seven eight nine ten";
    let server = spawn(keyed(
        vec![
            scripted("story", text(story, 20.0)),
            scripted("long", text(&story.repeat(10), 20.0)),
        ],
        vec![key("a", WEB), key("b", OTHER)],
    ))
    .await;
    let url = &server.url;
    let start = |path: &'static str, body: Value| {
        Auth::Bearer(WEB)
            .reqwest(http().post(format!("{url}{path}")))
            .json(&body)
            .send()
    };
    let chat =
        json!({"model": "story", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let first = start("/v1/chat/completions", chat.clone()).await.unwrap();
    let id = first.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let responses = json!({"model": "long", "stream": true, "input": "hi"});
    let second = start("/v1/responses", responses).await.unwrap();
    let rid = second.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let get =
        |path: String, auth: Auth<'static>| auth.reqwest(http().get(format!("{url}{path}"))).send();
    let cancel = |id: &str, auth: Auth<'static>| {
        auth.reqwest(http().post(format!("{url}/v1/streams/{id}/cancel")))
            .send()
    };
    let unknown = get("/v1/streams/chatcmpl-none".into(), Auth::Bearer(OTHER))
        .await
        .unwrap();
    let unknown = unknown.text().await.unwrap();
    for (path, stream_id) in [
        (format!("/v1/streams/{id}"), &id),
        (format!("/v1/streams/{rid}"), &rid),
        (format!("/v1/responses/{rid}?stream=true"), &rid),
    ] {
        for auth in [Auth::Bearer(OTHER), Auth::ApiKey(OTHER)] {
            let refused = get(path.clone(), auth).await.unwrap();
            assert_eq!(refused.status(), 404, "{path}");
            // Word for word what an id that never existed gets.
            let body = refused.text().await.unwrap();
            assert_eq!(
                body.replace(stream_id.as_str(), "chatcmpl-none"),
                unknown,
                "{path}"
            );
        }
        let refused = get(path.clone(), Auth::None).await.unwrap();
        assert_eq!(refused.status(), 401, "{path}");
    }
    let refused = cancel(&id, Auth::Bearer(OTHER)).await.unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(cancel(&id, Auth::None).await.unwrap().status(), 401);

    // The owner resumes from the start and sees the whole answer: the other key's
    // cancel changed nothing.
    let resumed = get(format!("/v1/streams/{id}"), Auth::ApiKey(WEB))
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let (whole, resumed) = tokio::join!(frames(first), frames(resumed));
    assert_eq!(whole, resumed);
    assert_eq!(whole.last().unwrap(), "[DONE]");
    assert!(!whole.iter().any(|d| d.contains("cancelled")), "{whole:?}");

    // The owner may cancel.
    let cancelled = cancel(&rid, Auth::Bearer(WEB)).await.unwrap();
    assert_eq!(cancelled.status(), 200);
    let events = frames(second).await;
    assert!(events.iter().any(|d| d.contains("cancelled")), "{events:?}");
}

/// Everything written to the log while it is set, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn keys_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: every task of this test logs through this subscriber.
    let _log = tracing::subscriber::set_default(subscriber);
    // tracing caches whether a call site is enabled when it is first hit; while only one
    // dispatcher is registered, a first hit on another test's thread (no subscriber)
    // would cache "never" for this one too. With two, every call site asks both.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let limited = KeyConfig {
        max_concurrent: std::num::NonZeroU32::new(1),
        ..key("web", WEB)
    };
    let app = router(keyed(
        vec![
            scripted("slow", text(&"word ".repeat(50), 20.0)),
            scripted("echo", text("ok", 0.0)),
        ],
        vec![limited],
    ));
    let wrong = "sk-rill-not-a-key-5e1d";
    let body = json!({"model": "echo", "messages": [{"role": "user", "content": "hi"}]});
    for auth in [
        Auth::Bearer(WEB),
        Auth::ApiKey(WEB),
        Auth::Bearer(wrong),
        Auth::ApiKey(wrong),
        Auth::None,
    ] {
        call(&app, "POST", "/v1/chat/completions", auth, Some(&body)).await;
        call(&app, "GET", "/v1/models", auth, None).await;
    }
    // A running stream, a refusal by the key's limit, a resume, a cancel.
    let request = Auth::Bearer(WEB)
        .apply(Request::post("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
        ))
        .unwrap();
    let running = app.clone().oneshot(request).await.unwrap();
    let id = running.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut stream = running.into_body().into_data_stream();
    stream.next().await.unwrap().unwrap();
    let refused = call(
        &app,
        "POST",
        "/v1/chat/completions",
        Auth::ApiKey(WEB),
        Some(&body),
    )
    .await;
    assert_eq!(refused.status, 429);
    let path = format!("/v1/streams/{id}/cancel");
    assert_eq!(
        call(&app, "POST", &path, Auth::Bearer(WEB), None)
            .await
            .status,
        200
    );
    while stream.next().await.is_some() {}

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("finished processing request"), "{logs}");
    assert!(logs.contains("key=web"), "{logs}");
    for secret in [WEB, wrong] {
        assert!(!logs.contains(secret), "a key reached the log:\n{logs}");
    }
}

#[tokio::test]
async fn keys_come_from_the_config_file() {
    let digest = hash_key(WEB).to_hex();
    let config = Config::from_toml(&format!(
        r#"
        [server]
        max_concurrent_generations = 8
        [[models]]
        name = "gpt"
        provider = "scripted"
        [[keys]]
        name = "web-app"
        sha256 = "{digest}"
        max_concurrent = 4
        requests_per_minute = 60
        tokens_per_minute = 20000
        models = ["gpt"]
        [[keys]]
        name = "ops"
        sha256 = "{}"
        "#,
        hash_key(OTHER).to_hex().to_uppercase()
    ))
    .unwrap();
    assert_eq!(config.server.max_concurrent_generations.unwrap().get(), 8);
    assert_eq!(config.keys[0].sha256, hash_key(WEB));
    assert_eq!(config.keys[0].tokens_per_minute.unwrap().get(), 20000);
    assert_eq!(config.keys[1].sha256, hash_key(OTHER));
    assert_eq!(config.keys[1].models, None);

    let refused = |toml: String, needle: &str| {
        let error = Config::from_toml(&toml).unwrap_err().to_string();
        assert!(error.contains(needle), "{needle:?} not in: {error}");
    };
    let entry = |extra: &str| format!("[[keys]]\nname = \"a\"\nsha256 = \"{digest}\"\n{extra}");
    refused(
        "[[keys]]\nname = \"a\"\nsha256 = \"abc\"".into(),
        "64 hex digits",
    );
    refused(entry("max_concurrent = 0"), "max_concurrent");
    refused(entry("tokens_per_minute = -1"), "tokens_per_minute");
    refused(entry("key = \"sk-plain\""), "`key`");
    refused(entry("models = [\"nope\"]"), "`nope`");
    refused(
        format!("{}\n{}", entry(""), entry("")),
        "two keys are named `a`",
    );
    let twin = format!("{}[[keys]]\nname = \"b\"\nsha256 = \"{digest}\"", entry(""));
    refused(twin, "the same `sha256`");
    refused(
        "[server]\nmax_concurrent_generations = 0".into(),
        "max_concurrent_generations",
    );

    // Duplicates are refused through the library too.
    let twice = state(Vec::new()).with_keys(vec![key("a", WEB), key("a", OTHER)]);
    assert!(twice.is_err());
}

#[tokio::test]
async fn an_expired_stream_is_gone_to_its_owner_and_unknown_to_anyone_else() {
    let state = keyed(
        vec![scripted("story", text("short answer", 0.0))],
        vec![key("a", WEB), key("b", OTHER)],
    )
    .with_sessions(rill_server::SessionsConfig {
        ttl_secs: 1,
        ..rill_server::SessionsConfig::default()
    });
    let server = spawn(state).await;
    let url = &server.url;
    let chat =
        json!({"model": "story", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let started = Auth::Bearer(WEB)
        .reqwest(http().post(format!("{url}/v1/chat/completions")))
        .json(&chat)
        .send()
        .await
        .unwrap();
    let id = started.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(frames(started).await.last().unwrap(), "[DONE]");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let resume = |auth: Auth<'static>| {
        auth.reqwest(http().get(format!("{url}/v1/streams/{id}")))
            .send()
    };
    let cancel = |auth: Auth<'static>| {
        auth.reqwest(http().post(format!("{url}/v1/streams/{id}/cancel")))
            .send()
    };
    assert_eq!(resume(Auth::Bearer(WEB)).await.unwrap().status(), 410);
    assert_eq!(cancel(Auth::Bearer(WEB)).await.unwrap().status(), 410);
    let unknown = Auth::Bearer(OTHER)
        .reqwest(http().get(format!("{url}/v1/streams/chatcmpl-none")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = resume(Auth::Bearer(OTHER)).await.unwrap();
    assert_eq!(refused.status(), 404);
    let body = refused.text().await.unwrap();
    assert_eq!(body.replace(id.as_str(), "chatcmpl-none"), unknown);
    assert_eq!(cancel(Auth::Bearer(OTHER)).await.unwrap().status(), 404);
}
