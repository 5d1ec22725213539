//! rill in front of an OpenAI-compatible upstream: a second rill on loopback, whose
//! requests are recorded, playing scripted answers and faults.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use futures_util::StreamExt;
use rill_providers::{
    AnthropicProvider, OpenAiProvider, ScriptConfig, ScriptedProvider, ScriptedToolCall,
};
use rill_server::{AppState, ModelEntry, ModelRegistry};
use secrecy::SecretString;
use serde_json::json;

use crate::support::*;

/// What the upstream received: the `authorization` header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;

struct Upstream {
    url: String,
    seen: Seen,
    observed: Observed,
}

/// A rill serving every model name with `script`, recording each request.
async fn upstream(script: ScriptConfig) -> Upstream {
    let observed = Observed::new(ScriptedProvider::new("upstream", script));
    let state = AppState::new(
        rill_server::ServerConfig::default(),
        ModelRegistry::catch_all(Arc::new(observed.clone())),
    );
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app =
        rill_server::app(state).layer(middleware::from_fn(move |request: Request, next: Next| {
            let record = Arc::clone(&record);
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let auth = parts
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                record.lock().unwrap().push((auth, json));
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    Upstream {
        url,
        seen,
        observed,
    }
}

fn gateway_entry(upstream: &Upstream, key: Option<&str>) -> ModelEntry {
    let provider = OpenAiProvider::new(
        "gpt",
        "upstream-id",
        &upstream.url,
        key.map(|k| SecretString::from(k.to_owned())),
    )
    .unwrap();
    ModelEntry {
        name: "gpt".into(),
        owned_by: "rill-openai",
        provider: Arc::new(provider),
    }
}

async fn ask(url: &str, stream: bool) -> reqwest::Response {
    post_chat(
        url,
        json!({"model": "gpt", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
}

fn chunks(events: &[(tokio::time::Instant, String)]) -> Vec<serde_json::Value> {
    events
        .iter()
        .filter(|(_, d)| d != "[DONE]")
        .map(|(_, d)| json(d))
        .collect()
}

fn content(chunks: &[serde_json::Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn streams_through_with_the_upstream_model_id_key_and_usage() {
    let up = upstream(text("Hello from the upstream model today", 40.0)).await;
    let gateway = spawn(state(vec![gateway_entry(&up, Some("sk-test-123"))])).await;
    let response = ask(&gateway.url, true).await;
    assert_eq!(response.status(), 200);
    let events = read_sse(response).await;
    assert_eq!(events.last().map(|(_, d)| d.as_str()), Some("[DONE]"));
    let chunks = chunks(&events);
    assert_eq!(content(&chunks), "Hello from the upstream model today");
    // Streamed, not buffered: 6 tokens at 40/s arrive over more than 100 ms.
    let first = events.first().unwrap().0;
    let last = events.last().unwrap().0;
    assert!(
        last - first > Duration::from_millis(100),
        "{:?}",
        last - first
    );
    // The client sees rill's model name.
    assert!(chunks.iter().all(|c| c["model"] == "gpt"), "{chunks:?}");
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("stop"));

    let seen = up.seen.lock().unwrap();
    let (auth, body) = seen.last().unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-123"));
    assert_eq!(body["model"], "upstream-id");
    assert_eq!(body["stream"], true);
    // Usage is asked for even though the client did not.
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn non_streaming_answers_and_tool_calls_come_through() {
    let script = ScriptConfig {
        text: Some("Checking.".into()),
        tool_calls: vec![ScriptedToolCall {
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris","unit":"celsius"}"#.into(),
        }],
        ..ScriptConfig::default()
    };
    let up = upstream(script).await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let body: serde_json::Value = ask(&gateway.url, false).await.json().await.unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Checking.");
    let call = &message["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    let arguments: serde_json::Value =
        serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert!(body["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    // No key configured: no authorization header sent.
    assert_eq!(up.seen.lock().unwrap().last().unwrap().0, None);
}

#[tokio::test]
async fn an_upstream_rate_limit_reaches_the_client_with_retry_after() {
    let up = upstream(ScriptConfig {
        fail_status: Some(429),
        ..ScriptConfig::default()
    })
    .await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let response = ask(&gateway.url, true).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
}

#[tokio::test]
async fn upstream_credential_failures_are_a_bad_gateway() {
    let up = upstream(ScriptConfig {
        fail_status: Some(401),
        ..ScriptConfig::default()
    })
    .await;
    let gateway = spawn(state(vec![gateway_entry(&up, Some("sk-wrong"))])).await;
    let response = ask(&gateway.url, true).await;
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("credentials"), "{message}");
    assert!(!message.contains("sk-wrong"), "the key leaked: {message}");
}

#[tokio::test]
async fn a_mid_stream_upstream_error_keeps_the_partial_answer() {
    let up = upstream(ScriptConfig {
        text: Some("one two three four five six".into()),
        error_after: Some(3),
        ..ScriptConfig::default()
    })
    .await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let events = read_sse(ask(&gateway.url, true).await).await;
    let chunks = chunks(&events);
    assert_eq!(content(&chunks), "one two three");
    assert!(
        chunks.last().unwrap()["error"]["message"].is_string(),
        "{chunks:?}"
    );
    assert_eq!(events.last().map(|(_, d)| d.as_str()), Some("[DONE]"));
}

#[tokio::test]
async fn an_upstream_that_closes_early_is_an_error_not_a_clean_end() {
    let up = upstream(ScriptConfig {
        text: Some("one two three four five six".into()),
        close_after: Some(2),
        ..ScriptConfig::default()
    })
    .await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let events = read_sse(ask(&gateway.url, true).await).await;
    let chunks = chunks(&events);
    assert_eq!(content(&chunks), "one two");
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null()),
        "a truncated upstream must not look finished: {chunks:?}"
    );
    assert!(chunks.last().unwrap()["error"].is_object(), "{chunks:?}");
}

#[tokio::test]
async fn a_client_that_goes_away_closes_the_upstream_generation() {
    let long = (0..500)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let up = upstream(text(&long, 50.0)).await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let response = ask(&gateway.url, true).await;
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    assert!(
        up.observed.wait_dropped(Duration::from_secs(2)).await,
        "the upstream kept generating for a client that left"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_bad_gateway() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let provider = OpenAiProvider::new("gpt", "gpt", &url, None).unwrap();
    let gateway = spawn(state(vec![ModelEntry {
        name: "gpt".into(),
        owned_by: "rill-openai",
        provider: Arc::new(provider),
    }]))
    .await;
    let response = ask(&gateway.url, true).await;
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(!body["error"]["message"].as_str().unwrap().contains(&url));
}

#[tokio::test]
async fn a_missing_key_variable_is_a_clear_start_up_error() {
    let config = rill_server::Config::from_toml(
        r#"
        [[models]]
        name = "gpt"
        provider = "openai"
        base_url = "http://127.0.0.1:9/v1"
        api_key_env = "RILL_TEST_SURELY_UNSET_KEY"
        "#,
    )
    .unwrap();
    let Err(error) = ModelRegistry::from_config(&config).await else {
        panic!("a model whose key variable is unset must not start");
    };
    let message = error.to_string();
    assert!(message.contains("RILL_TEST_SURELY_UNSET_KEY"), "{message}");
    assert!(message.contains("hint:"), "{message}");
}

fn anthropic_entry(upstream: &Upstream) -> ModelEntry {
    // rill speaks Anthropic Messages at the same root: it stands in for Anthropic's API.
    let root = upstream.url.trim_end_matches("/v1");
    let provider = AnthropicProvider::new(
        "claude",
        "upstream-id",
        root,
        Some(SecretString::from("sk-ant".to_owned())),
    )
    .unwrap();
    ModelEntry {
        name: "claude".into(),
        owned_by: "rill-anthropic",
        provider: Arc::new(provider),
    }
}

/// An OpenAI client, through rill, to an Anthropic upstream: text, parallel tool calls,
/// the finish reason and usage survive the translation.
#[tokio::test]
async fn openai_clients_reach_an_anthropic_upstream() {
    let script = ScriptConfig {
        text: Some("Let me check.".into()),
        tool_calls: vec![
            ScriptedToolCall {
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            },
            ScriptedToolCall {
                name: "get_time".into(),
                arguments: r#"{"tz":"Europe/Paris"}"#.into(),
            },
        ],
        ..ScriptConfig::default()
    };
    let up = upstream(script).await;
    let gateway = spawn(state(vec![anthropic_entry(&up)])).await;
    let body: serde_json::Value = post_chat(
        &gateway.url,
        json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Let me check.", "{body}");
    let calls = message["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["function"]["name"], "get_time");
    let arguments: serde_json::Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris"}));
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    let seen = up.seen.lock().unwrap();
    let (_, request) = seen.last().unwrap();
    assert_eq!(request["model"], "upstream-id");
    assert_eq!(request["stream"], true);
    assert!(request["max_tokens"].as_u64().unwrap() > 0);
}

/// An Anthropic client, through rill, to an OpenAI-compatible upstream, streamed.
#[tokio::test]
async fn anthropic_clients_reach_an_openai_upstream() {
    let up = upstream(text("Bonjour from the other side", 0.0)).await;
    let gateway = spawn(state(vec![gateway_entry(&up, None)])).await;
    let response = http()
        .post(format!("{}/v1/messages", gateway.url))
        .json(&json!({"model": "gpt", "max_tokens": 50, "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let events = rill_sse::Decoder::new().feed(body.as_bytes()).unwrap();
    let text: String = events
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .filter_map(|e| json(&e.data)["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Bonjour from the other side");
    let delta = events.iter().find(|e| e.event == "message_delta").unwrap();
    let delta = json(&delta.data);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert!(delta["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(events.last().unwrap().event, "message_stop");
}
