//! Several instances sharing state through a real Redis (Debian's `redis-server`, on a
//! loopback port, started by `scripts/test`): stored answers serve every instance, a Redis
//! that cannot be reached stops the start, and a Redis restart costs hits, not answers.

use std::time::Duration;

use rill_server::{AppState, Cluster, ClusterConfig, Config, ModelRegistry, ServerConfig};
use serde_json::{Value, json};

use crate::support::*;

/// Tests hold this to read; the one that restarts Redis, to write.
static REDIS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn redis_url() -> String {
    std::env::var("RILL_TEST_REDIS_URL")
        .expect("RILL_TEST_REDIS_URL: run ./scripts/test, which starts redis-server")
}

/// An instance of the service `prefix` names (its keys in Redis), caching its answers.
async fn instance(prefix: &str) -> Running {
    let config = Config::from_toml(&format!(
        r#"
        [cache]
        enabled = true
        [cluster]
        redis_url = "{}"
        key_prefix = "{prefix}"
        [[models]]
        name = "m"
        provider = "scripted"
        script = {{ reasoning = "Easy.", text = "Four, of course.", tool_calls = [{{ name = "add", arguments = '{{"a":2}}' }}] }}
        "#,
        redis_url()
    ))
    .unwrap();
    let cluster = Cluster::connect(&config.cluster).await.unwrap();
    assert!(cluster.is_some());
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let models = config.effective_models();
    let state = AppState::new(ServerConfig::default(), registry).with_cache(
        &config.cache,
        &models,
        cluster.as_ref(),
    );
    spawn(state).await
}

fn new_prefix() -> String {
    format!("rill-test-{}", fastrand::u64(..))
}

/// Asks `url` in `path`'s dialect; returns the cache header and the body.
async fn ask(url: &str, path: &str, body: &Value) -> (String, Value) {
    let response = http()
        .post(format!("{url}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cache = response.headers()["x-rill-cache"]
        .to_str()
        .unwrap()
        .to_owned();
    (cache, response.json().await.unwrap())
}

fn chat() -> Value {
    json!({"model": "m", "temperature": 0, "max_tokens": 50,
           "messages": [{"role": "user", "content": "2 + 2?"}]})
}

/// The same question through Anthropic Messages, showing the reasoning (how the answer is
/// shown, not what is asked).
fn messages() -> Value {
    json!({"model": "m", "temperature": 0, "max_tokens": 50,
           "thinking": {"type": "enabled", "budget_tokens": 1024},
           "messages": [{"role": "user", "content": "2 + 2?"}]})
}

/// Asks until the answer is a hit (an answer is stored in the background); `None` if it
/// never was within `limit`.
async fn until_hit(url: &str, path: &str, body: &Value, limit: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let (cache, body) = ask(url, path, body).await;
        if cache == "hit" {
            return Some(body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn an_answer_stored_by_one_instance_is_a_hit_on_another() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let (a, b) = (instance(&prefix).await, instance(&prefix).await);
    let (cache, original) = ask(&a.url, "/v1/chat/completions", &chat()).await;
    assert_eq!(cache, "miss");
    // Another instance, another dialect: the answer as it was generated.
    let hit = until_hit(&b.url, "/v1/messages", &messages(), Duration::from_secs(5))
        .await
        .expect("never a hit on the other instance");
    let message = &original["choices"][0]["message"];
    assert_eq!(hit["content"][0]["thinking"], "Easy.");
    assert_eq!(hit["content"][1]["text"], message["content"]);
    assert_eq!(hit["content"][2]["id"], message["tool_calls"][0]["id"]);
    assert_eq!(
        hit["usage"]["output_tokens"],
        original["usage"]["completion_tokens"]
    );
    // A service of another prefix shares nothing with these two.
    let other = instance(&new_prefix()).await;
    let (cache, _) = ask(&other.url, "/v1/chat/completions", &chat()).await;
    assert_eq!(cache, "miss");
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_with_a_hint() {
    let config = ClusterConfig {
        redis_url: Some("redis://:hunter2@127.0.0.1:1".into()),
        ..ClusterConfig::default()
    };
    let error = Cluster::connect(&config).await.err().unwrap().to_string();
    assert!(
        error.contains("cannot reach Redis at redis://***@127.0.0.1:1"),
        "{error}"
    );
    assert!(
        error.contains("hint:") && !error.contains("hunter2"),
        "{error}"
    );
    let error = Config::from_toml("[cluster]\nredis_url = 'rediss://:pw@h:6380'")
        .unwrap_err()
        .to_string();
    assert!(error.contains("TLS") && !error.contains("pw"), "{error}");
    assert!(
        Cluster::connect(&ClusterConfig::default())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_redis_restart_costs_hits_not_answers() {
    let _alone = REDIS.write().await;
    let server = instance(&new_prefix()).await;
    let url = &server.url;
    ask(url, "/v1/chat/completions", &chat()).await;
    until_hit(url, "/v1/chat/completions", &chat(), Duration::from_secs(5))
        .await
        .expect("stored");
    control("RILL_TEST_REDIS_CTL", "stop");
    for _ in 0..3 {
        let (cache, body) = ask(url, "/v1/chat/completions", &chat()).await;
        assert_eq!(cache, "miss");
        assert_eq!(body["choices"][0]["message"]["content"], "Four, of course.");
    }
    let text = metrics(url).await;
    assert!(metric(&text, "rill_cache_store_failures_total") >= 3.0);
    control("RILL_TEST_REDIS_CTL", "start");
    // Redis came back empty: once rill has reconnected, an answer is stored again.
    let hit = until_hit(
        url,
        "/v1/chat/completions",
        &chat(),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        hit.expect("no hit after Redis came back")["choices"][0]["message"]["content"],
        "Four, of course."
    );
}
