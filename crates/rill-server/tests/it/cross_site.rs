//! A keyless rill on loopback and the web pages a browser on the same machine shows:
//! no page elsewhere may start a generation (a "simple" cross-site POST, a foreign
//! `Origin`) or read answers through a re-pointed name (`Host`), over real sockets.

use std::time::Duration;

use rill_server::{AppState, KeyConfig, ModelRegistry, ServerConfig};
use serde_json::{Value, json};

use crate::keys::{WEB, key};
use crate::support::*;

fn config() -> ServerConfig {
    ServerConfig {
        cors_origins: vec!["http://localhost:3000".into()],
        allowed_hosts: vec!["rill.internal".into()],
        ..ServerConfig::default()
    }
}

/// A keyless server whose one model reports when it is asked.
async fn server(keys: Vec<KeyConfig>) -> (Running, Observed) {
    let observed = Observed::new(rill_providers::ScriptedProvider::new(
        "echo",
        text("hello", 0.0),
    ));
    let state = AppState::new(config(), ModelRegistry::new(vec![observed.entry("echo")]));
    let state = if keys.is_empty() {
        state
    } else {
        state.with_keys(keys).unwrap()
    };
    (spawn(state).await, observed)
}

fn body(path: &str) -> Value {
    let messages = json!([{"role": "user", "content": "hi"}]);
    match path {
        "/api/chat" => {
            json!({"model": "echo", "messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hi"}]}]})
        }
        "/v1/responses" => json!({"model": "echo", "input": "hi"}),
        "/v1/messages" => json!({"model": "echo", "max_tokens": 10, "messages": messages}),
        _ => json!({"model": "echo", "messages": messages}),
    }
}

const PATHS: [&str; 4] = [
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/responses",
    "/api/chat",
];

/// Whether an error body is in the dialect of `path`.
fn in_dialect(path: &str, status: u16, body: &str) -> bool {
    match path {
        "/api/chat" => !body.is_empty() && serde_json::from_str::<Value>(body).is_err(),
        "/v1/messages" => {
            let v: Value = serde_json::from_str(body).unwrap_or_default();
            v["type"] == "error" && v["error"]["message"].is_string()
        }
        _ => {
            let v: Value = serde_json::from_str(body).unwrap_or_default();
            v["error"]["message"].is_string() && status >= 400
        }
    }
}

async fn post(url: &str, path: &str, headers: &[(&str, &str)], raw: Option<&str>) -> (u16, String) {
    let mut request = http().post(format!("{url}{path}"));
    let body = raw.map_or_else(|| body(path).to_string(), str::to_owned);
    request = request.body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_generation_body_that_is_not_json_gets_415_and_starts_nothing() {
    let (server, observed) = server(Vec::new()).await;
    for path in PATHS {
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let headers: Vec<(&str, &str)> =
                content_type.iter().map(|c| ("content-type", *c)).collect();
            let (status, text) = post(&server.url, path, &headers, None).await;
            assert_eq!(status, 415, "{path} {content_type:?}: {text}");
            assert!(in_dialect(path, status, &text), "{path}: {text}");
            assert!(text.contains("application/json"), "{path}: {text}");
        }
    }
    assert!(
        observed.produced.lock().unwrap().is_empty(),
        "a generation ran"
    );
    let (status, _) = post(
        &server.url,
        "/v1/chat/completions",
        &[("content-type", "application/json; charset=utf-8")],
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_the_page_itself_and_listed_origins_are_served() {
    let (server, observed) = server(Vec::new()).await;
    let own = server.url.clone();
    let json_type = ("content-type", "application/json");
    for path in PATHS {
        for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
            let (status, text) =
                post(&server.url, path, &[json_type, ("origin", origin)], None).await;
            assert_eq!(status, 403, "{path} from {origin}: {text}");
            assert!(in_dialect(path, status, &text), "{path}: {text}");
        }
    }
    assert!(
        observed.produced.lock().unwrap().is_empty(),
        "a generation ran"
    );
    for origin in [own.as_str(), "http://localhost:3000"] {
        let (status, text) = post(
            &server.url,
            "/v1/chat/completions",
            &[json_type, ("origin", origin)],
            None,
        )
        .await;
        assert_eq!(status, 200, "{origin}: {text}");
    }
    // Reading a stream is refused to a foreign page too.
    let stream = http()
        .get(format!("{}/v1/streams/nope", server.url))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 403);
}

#[tokio::test]
async fn a_rebound_host_name_is_refused_loopback_names_addresses_and_listed_hosts_are_served() {
    let (server, _) = server(Vec::new()).await;
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let json_type = ("content-type", "application/json");
    for host in ["rebind.attacker.example", "localhost.attacker.example"] {
        let host = format!("{host}:{port}");
        for path in PATHS {
            let (status, text) = post(&server.url, path, &[json_type, ("host", &host)], None).await;
            assert_eq!(status, 403, "{path} as {host}: {text}");
            assert!(in_dialect(path, status, &text), "{path}: {text}");
        }
        let page = http()
            .get(format!("{}/", server.url))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 403, "the page, as {host}");
    }
    for host in [
        "localhost",
        "app.localhost",
        "127.0.0.1",
        "[::1]",
        "rill.internal",
    ] {
        let host = format!("{host}:{port}");
        let (status, text) = post(
            &server.url,
            "/v1/chat/completions",
            &[json_type, ("host", &host)],
            None,
        )
        .await;
        assert_eq!(status, 200, "{host}: {text}");
    }
}

#[tokio::test]
async fn with_keys_host_and_origin_are_not_checked() {
    let (server, _) = server(vec![key("web", WEB)]).await;
    let bearer = format!("Bearer {WEB}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
        ("host", "rill.example.com"),
        ("origin", "https://app.example.com"),
    ];
    let (status, text) = post(&server.url, "/v1/chat/completions", &headers, None).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn preflights_answer_for_configured_origins_keyless_and_keyed() {
    for keys in [Vec::new(), vec![key("web", WEB)]] {
        let (server, _) = server(keys).await;
        for path in PATHS {
            let response = http()
                .request(reqwest::Method::OPTIONS, format!("{}{path}", server.url))
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type,authorization",
                )
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let headers = response.headers();
            assert_eq!(
                headers["access-control-allow-origin"],
                "http://localhost:3000"
            );
            let allowed = headers["access-control-allow-headers"].to_str().unwrap();
            assert!(
                allowed.contains("content-type") && allowed.contains("authorization"),
                "{allowed}"
            );
            let foreign = http()
                .request(reqwest::Method::OPTIONS, format!("{}{path}", server.url))
                .header("origin", "http://evil.example")
                .header("access-control-request-method", "POST")
                .send()
                .await
                .unwrap();
            assert!(
                foreign
                    .headers()
                    .get("access-control-allow-origin")
                    .is_none()
            );
        }
    }
}

#[tokio::test]
async fn a_listed_origin_may_read_the_headers_of_every_dialect_s_stream() {
    let (server, _) = server(Vec::new()).await;
    for path in PATHS {
        let mut request = body(path);
        if path != "/api/chat" {
            // The UI message stream is always a stream, and has no such field.
            request["stream"] = Value::Bool(true);
        }
        let response = http()
            .post(format!("{}{path}", server.url))
            .header("origin", "http://localhost:3000")
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let exposed = response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_owned();
        for name in response.headers().keys() {
            let own =
                name.as_str().starts_with("x-rill-") || name.as_str().starts_with("x-vercel-");
            assert!(
                !own || exposed.contains(name.as_str()),
                "{path}: `{name}` is not exposed: {exposed}"
            );
        }
        assert!(exposed.contains("x-rill-stream-id"), "{exposed}");
        if path == "/api/chat" {
            assert!(
                exposed.contains("x-vercel-ai-ui-message-stream"),
                "{exposed}"
            );
        }
    }
}
