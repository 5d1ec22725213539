//! Limits per key (generations in flight, requests and tokens per minute) and the
//! server's cap on running generations: 429 or 503 with `Retry-After` in each dialect,
//! and a generation's slot given back however it ends.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use futures_util::StreamExt;
use rill_server::{AppState, KeyConfig, ModelRegistry, ServerConfig, SessionsConfig};
use serde_json::{Value, json};

use crate::keys::{Answer, Auth, OTHER, WEB, bodies, call, error_type, key, keyed};
use crate::support::*;

/// Two seconds at 20 tokens per second.
fn story() -> String {
    (0..40).map(|i| format!("w{i} ")).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

async fn post(url: &str, path: &str, auth: Auth<'_>, body: &Value) -> Answer {
    let response = auth
        .reqwest(http().post(format!("{url}{path}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    Answer {
        status: axum::http::StatusCode::from_u16(status.as_u16()).unwrap(),
        headers: convert(&headers),
        body: response.text().await.unwrap(),
    }
}

fn convert(headers: &reqwest::header::HeaderMap) -> axum::http::HeaderMap {
    headers
        .iter()
        .map(|(name, value)| {
            (
                axum::http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                axum::http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            )
        })
        .collect()
}

/// A streamed chat generation, once its headers are in.
async fn start(url: &str, auth: Auth<'_>, resumable: bool) -> reqwest::Response {
    let body =
        json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut request = auth
        .reqwest(http().post(format!("{url}/v1/chat/completions")))
        .json(&body);
    if resumable {
        request = request.header("x-rill-resumable", "true");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// A quick non-streaming generation.
async fn quick(url: &str, auth: Auth<'_>) -> Answer {
    post(url, "/v1/chat/completions", auth, &bodies("quick")[0].1).await
}

/// Whether a quick generation gets in within `limit`, asking every 20 ms.
async fn admitted_within(url: &str, auth: Auth<'_>, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let answer = quick(url, auth).await;
        if answer.status == 200 {
            return true;
        }
        assert_eq!(answer.status, 429, "{}", answer.body);
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn max_concurrent_refuses_while_a_generation_runs_and_admits_again_however_it_ends() {
    let web = KeyConfig {
        max_concurrent: NonZeroU32::new(1),
        ..key("web", WEB)
    };
    let sessions = SessionsConfig {
        grace_secs: 1,
        ..SessionsConfig::default()
    };
    let state = keyed(
        vec![
            scripted("slow", text(&story(), 20.0)),
            scripted("quick", text("ok", 0.0)),
        ],
        vec![web, key("other", OTHER)],
    )
    .with_sessions(sessions);
    let server = spawn(state).await;
    let url = &server.url;

    // A stream that ends by itself.
    let running = start(url, Auth::Bearer(WEB), false).await;
    for (path, body) in bodies("quick") {
        let refused = post(url, path, Auth::ApiKey(WEB), &body).await;
        assert_eq!(refused.status, 429, "{path}: {}", refused.body);
        assert_eq!(refused.retry_after(), "1", "{path}");
        let kind = error_type(path, &refused);
        if path != "/api/chat" {
            assert_eq!(kind, "rate_limit_error", "{path}");
        }
        assert!(
            refused.body.contains("1 concurrent generations"),
            "{path}: {}",
            refused.body
        );
    }
    // Another key has its own count.
    assert_eq!(quick(url, Auth::Bearer(OTHER)).await.status, 200);
    let events: Vec<String> = read_sse(running)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(events.last().unwrap(), "[DONE]");
    // The slot was given back before the last frame went out.
    assert_eq!(quick(url, Auth::Bearer(WEB)).await.status, 200);

    // Cancelled.
    let running = start(url, Auth::Bearer(WEB), false).await;
    let id = running.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(quick(url, Auth::Bearer(WEB)).await.status, 429);
    let cancel = Auth::Bearer(WEB)
        .reqwest(http().post(format!("{url}/v1/streams/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    assert!(admitted_within(url, Auth::Bearer(WEB), secs(2)).await);
    drop(running);

    // The client went away.
    let running = start(url, Auth::Bearer(WEB), false).await;
    let mut body = running.bytes_stream();
    body.next().await.unwrap().unwrap();
    assert_eq!(quick(url, Auth::Bearer(WEB)).await.status, 429);
    drop(body);
    assert!(admitted_within(url, Auth::Bearer(WEB), secs(2)).await);

    // A resumable stream whose client went away goes on in its session, slot and all,
    // until its grace period is over.
    let running = start(url, Auth::Bearer(WEB), true).await;
    let mut body = running.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(quick(url, Auth::Bearer(WEB)).await.status, 429);
    assert!(admitted_within(url, Auth::Bearer(WEB), secs(3)).await);

    let text = post(url, "/metrics", Auth::None, &json!({})).await;
    assert_eq!(text.status, 401);
    let metrics = Auth::Bearer(OTHER)
        .reqwest(http().get(format!("{url}/metrics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let limited = metric(
        &metrics,
        r#"rill_key_limited_total{key="web",limit="concurrency"}"#,
    );
    assert!(limited >= 7.0, "{metrics}");
    assert!(metric(&metrics, r#"rill_key_requests_total{key="web"}"#) >= 15.0);
    assert!(metric(&metrics, r#"rill_key_requests_total{key="other"}"#) >= 1.0);
    assert_eq!(metric(&metrics, "rill_streams_active"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn requests_per_minute_is_a_sliding_window_of_sixty_seconds() {
    let web = KeyConfig {
        requests_per_minute: NonZeroU32::new(2),
        ..key("web", WEB)
    };
    let app = router(keyed(vec![scripted("quick", text("ok", 0.0))], vec![web]));
    let body = bodies("quick").remove(0).1;
    let ask = || {
        call(
            &app,
            "POST",
            "/v1/chat/completions",
            Auth::Bearer(WEB),
            Some(&body),
        )
    };
    assert_eq!(ask().await.status, 200); // at 0 s
    tokio::time::advance(secs(20)).await;
    assert_eq!(ask().await.status, 200); // at 20 s
    let refused = ask().await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after(), "40");
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("2 requests per minute"), "{message}");
    assert_eq!(refused.json()["error"]["code"], "rate_limit_exceeded");
    tokio::time::advance(secs(39)).await;
    assert_eq!(ask().await.retry_after(), "1");
    // At 60 s the first request has left the window; the second leaves at 80 s.
    tokio::time::advance(secs(1)).await;
    assert_eq!(ask().await.status, 200);
    assert_eq!(ask().await.retry_after(), "20");
    // Refusals count for nothing, in whichever dialect.
    for (path, body) in bodies("quick") {
        let refused = call(&app, "POST", path, Auth::ApiKey(WEB), Some(&body)).await;
        assert_eq!(refused.status, 429, "{path}");
        assert_eq!(refused.retry_after(), "20", "{path}");
        let kind = error_type(path, &refused);
        if path != "/api/chat" {
            assert_eq!(kind, "rate_limit_error", "{path}");
        }
    }
    tokio::time::advance(secs(20)).await;
    assert_eq!(ask().await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn tokens_per_minute_counts_the_usage_each_generation_reports() {
    let web = KeyConfig {
        tokens_per_minute: NonZeroU64::new(5),
        ..key("web", WEB)
    };
    let app = router(keyed(
        vec![scripted("six", text("one two three four five six", 0.0))],
        vec![web],
    ));
    let body = bodies("six").remove(0).1;
    let ask = || {
        call(
            &app,
            "POST",
            "/v1/chat/completions",
            Auth::Bearer(WEB),
            Some(&body),
        )
    };
    // Under the limit (nothing used yet), so admitted, though it then uses more.
    let first = ask().await;
    assert_eq!(first.status, 200);
    let used = first.json()["usage"]["total_tokens"].as_u64().unwrap();
    assert!(used >= 7, "{}", first.body);
    let refused = ask().await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after(), "60");
    assert!(
        refused.body.contains("5 tokens per minute"),
        "{}",
        refused.body
    );
    tokio::time::advance(secs(59)).await;
    assert_eq!(ask().await.retry_after(), "1");
    tokio::time::advance(secs(1)).await;
    assert_eq!(ask().await.status, 200);

    let metrics = call(&app, "GET", "/metrics", Auth::Bearer(WEB), None)
        .await
        .body;
    let tokens = metric(&metrics, r#"rill_key_tokens_total{key="web"}"#);
    assert_eq!(tokens, 2.0 * used as f64, "{metrics}");
    let limited = metric(
        &metrics,
        r#"rill_key_limited_total{key="web",limit="tokens"}"#,
    );
    assert_eq!(limited, 2.0, "{metrics}");
}

#[tokio::test]
async fn a_streamed_generation_charges_its_usage_as_it_arrives() {
    let web = KeyConfig {
        tokens_per_minute: NonZeroU64::new(5),
        ..key("web", WEB)
    };
    let server = spawn(keyed(
        vec![scripted("slow", text("one two three four five six", 50.0))],
        vec![web],
    ))
    .await;
    let running = start(&server.url, Auth::Bearer(WEB), false).await;
    let events: Vec<String> = read_sse(running)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(events.last().unwrap(), "[DONE]");
    let body =
        json!({"model": "slow", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]});
    let refused = post(&server.url, "/v1/messages", Auth::ApiKey(WEB), &body).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(error_type("/v1/messages", &refused), "rate_limit_error");
    let wait: u64 = refused.retry_after().parse().unwrap();
    assert!((58..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn the_server_cap_counts_every_generation_whoever_asks_and_answers_503() {
    let server = ServerConfig {
        max_concurrent_generations: NonZeroU32::new(1),
        ..ServerConfig::default()
    };
    let models = || {
        ModelRegistry::new(vec![
            scripted("slow", text(&story(), 20.0)),
            scripted("quick", text("ok", 0.0)),
        ])
    };
    let open = spawn(AppState::new(server.clone(), models())).await;
    let running = start(&open.url, Auth::None, false).await;
    for (path, body) in bodies("quick") {
        let refused = post(&open.url, path, Auth::None, &body).await;
        assert_eq!(refused.status, 503, "{path}: {}", refused.body);
        assert_eq!(refused.retry_after(), "1", "{path}");
        let kind = error_type(path, &refused);
        match path {
            "/v1/messages" => assert_eq!(kind, "overloaded_error"),
            "/api/chat" => {}
            _ => {
                assert_eq!(kind, "server_error", "{path}");
                assert_eq!(refused.json()["error"]["code"], "overloaded", "{path}");
            }
        }
    }
    read_sse(running).await;
    assert_eq!(quick(&open.url, Auth::None).await.status, 200);
    let metrics = http()
        .get(format!("{}/metrics", open.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(metric(&metrics, "rill_generations_refused_total"), 4.0);

    // With keys, one key's generation fills the cap for every key.
    let state = AppState::new(server, models())
        .with_keys(vec![key("a", WEB), key("b", OTHER)])
        .unwrap();
    let keyed = spawn(state).await;
    let mut running = start(&keyed.url, Auth::Bearer(WEB), false)
        .await
        .bytes_stream();
    running.next().await.unwrap().unwrap();
    assert_eq!(quick(&keyed.url, Auth::Bearer(OTHER)).await.status, 503);
    drop(running);
    let deadline = tokio::time::Instant::now() + secs(2);
    while quick(&keyed.url, Auth::Bearer(OTHER)).await.status != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
