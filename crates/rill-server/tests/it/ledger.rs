//! Every generation lands in the ledger, however it ends: finished (stop, length, tool
//! calls), cancelled, disconnected, timed out, failed, refused before its first token,
//! served by a fallback, or ended by shutdown; with the counts the provider reported, or
//! estimates marked as such, and the cost at the model's price.

use std::path::PathBuf;
use std::time::Duration;

use rill_ledger::{CacheUse, Filter, Outcome, Price, Reader, Record, Target, Tokens};
use rill_server::{AppState, Config, LedgerConfig, ModelRegistry, ServerConfig};
use serde_json::json;

use crate::support::*;

/// A fresh SQLite ledger file.
fn sqlite() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!(
            "ledger-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ))
        .join("ledger.sqlite")
}

const MODELS: &str = r#"
[retries]
base_delay_ms = 1
max_delay_ms = 5

[[models]]
name = "fast"
provider = "scripted"
script = { text = "one two three four", tokens_per_second = 0 }
price = { input_per_mtok = 1.0, output_per_mtok = 4.0 }

[[models]]
name = "slow"
provider = "scripted"
script = { text = "a b c d e f g h i j k l m n o p q r s t u v w x y z", tokens_per_second = 50 }

[[models]]
name = "tool"
provider = "scripted"
script = { tool_calls = [{ name = "get_weather", arguments = '{"city":"Paris"}' }] }

[[models]]
name = "stall"
provider = "scripted"
script = { text = "a b c d", stall_after = 2, stall_ms = 10000 }
timeouts = { idle_secs = 0.2 }

[[models]]
name = "failing"
provider = "scripted"
script = { text = "a b c d", error_after = 2 }

[[models]]
name = "down"
provider = "scripted"
script = { fail_status = 503 }
max_attempts = 2

[[models]]
name = "primary"
provider = "scripted"
script = { fail_status = 503 }
max_attempts = 2
fallbacks = ["fast"]
"#;

/// A server for `config` (models and keys, as `rill serve` builds them) whose ledger is a
/// fresh SQLite file, written every `flush_ms`.
async fn server(config: &str, flush_ms: u64) -> (Running, PathBuf) {
    let path = sqlite();
    (server_on(config, flush_ms, &path).await, path)
}

/// The same on the ledger file at `path`.
async fn server_on(config: &str, flush_ms: u64, path: &std::path::Path) -> Running {
    server_at(config, flush_ms, format!("sqlite://{}", path.display())).await
}

/// The same on the ledger at `url`.
async fn server_at(config: &str, flush_ms: u64, url: String) -> Running {
    let config = Config::from_toml(config).unwrap();
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let ledger = LedgerConfig {
        url: Some(url),
        flush_ms,
        ..config.ledger
    };
    let models = config.effective_models();
    let state = AppState::new(ServerConfig::default(), registry)
        .with_cache(&config.cache, &models, None)
        .with_keys(config.keys)
        .unwrap()
        .with_ledger_config(&ledger)
        .unwrap();
    state.load_budgets().await;
    spawn(state).await
}

/// The record of generation `id`, once it is written.
async fn record(state: &AppState, id: &str) -> Record {
    let reader = state.ledger.reader().unwrap();
    for _ in 0..250 {
        state.ledger.flush().await;
        let records = reader.records(&Filter::default(), 1000).await.unwrap();
        if let Some(record) = records.into_iter().find(|r| r.id == id) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no record of {id}");
}

async fn start(url: &str, model: &str, extra: serde_json::Value) -> reqwest::Response {
    let mut body = json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "What is the weather like in Paris today?"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let response = post_chat(url, body).await;
    assert_eq!(response.status(), 200);
    response
}

/// A non-streaming Anthropic Messages request.
async fn anthropic_message(url: &str, model: &str) -> reqwest::Response {
    http()
        .post(format!("{url}/v1/messages"))
        .json(&json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

fn stream_id(response: &reqwest::Response) -> String {
    response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Reads until some content arrived.
async fn read_some(response: &mut reqwest::Response) {
    let mut seen = String::new();
    while !seen.contains("\"content\":\"") {
        let chunk = response.chunk().await.unwrap().expect("ended early");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn read_all(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// Tests on the PostgreSQL server hold this to read; the one that stops it, to write.
static POSTGRES: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn postgres_url() -> String {
    std::env::var("RILL_TEST_POSTGRES_URL")
        .expect("RILL_TEST_POSTGRES_URL: run ./scripts/test, which starts PostgreSQL")
}

#[tokio::test]
async fn every_way_a_generation_ends_is_recorded() {
    let (server, _) = server(MODELS, 10).await;
    every_way_a_generation_ends(&server).await;
}

#[tokio::test]
async fn every_way_a_generation_ends_is_recorded_on_postgresql() {
    let _running = POSTGRES.read().await;
    let server = server_at(MODELS, 10, postgres_url()).await;
    every_way_a_generation_ends(&server).await;
}

async fn every_way_a_generation_ends(server: &Running) {
    let url = &server.url;
    let http = http();

    // Finished, each way a model finishes.
    let finished = [
        ("fast", json!({}), Outcome::Stop),
        ("fast", json!({"max_tokens": 2}), Outcome::Length),
        ("tool", json!({}), Outcome::ToolCalls),
    ];
    for (model, extra, outcome) in finished {
        let response = start(url, model, extra).await;
        let id = stream_id(&response);
        let body = read_all(response).await;
        let r = record(&server.state, &id).await;
        assert_eq!(r.outcome, outcome, "{body}");
        assert_eq!(r.model_requested, model);
        assert_eq!(r.model_served.as_deref(), Some(model));
        assert_eq!(r.provider.as_deref(), Some("scripted"));
        assert_eq!((r.attempts, r.error_kind.as_deref()), (1, None));
        assert_eq!(r.dialect, "openai-chat");
        assert!(r.ttft_ms.is_some() && r.duration_ms >= r.ttft_ms.unwrap());
        assert!(r.tokens.input > 0 && r.tokens.output > 0, "{:?}", r.tokens);
        assert!(!r.tokens.input_estimated && !r.tokens.output_estimated);
    }

    // Cancelled by the client, and the client gone.
    for outcome in [Outcome::Cancelled, Outcome::Disconnected] {
        let mut response = start(url, "slow", json!({})).await;
        let id = stream_id(&response);
        read_some(&mut response).await;
        if outcome == Outcome::Cancelled {
            let cancel = http
                .post(format!("{url}/v1/streams/{id}/cancel"))
                .send()
                .await
                .unwrap();
            assert_eq!(cancel.status(), 200);
        }
        drop(response);
        let r = record(&server.state, &id).await;
        assert_eq!(r.outcome, outcome);
        assert!(r.tokens.output_estimated, "{:?}", r.tokens);
        assert!(r.duration_ms < 5_000.0);
    }

    // Failed mid-stream: stalled past the idle timeout, or an error from the provider.
    for (model, outcome, kind) in [
        ("stall", Outcome::Timeout, "timeout"),
        ("failing", Outcome::Error, "upstream"),
    ] {
        let response = start(url, model, json!({})).await;
        let id = stream_id(&response);
        read_all(response).await;
        let r = record(&server.state, &id).await;
        assert_eq!((r.outcome, r.error_kind.as_deref()), (outcome, Some(kind)));
        assert!(r.ttft_ms.is_some());
    }
}

#[tokio::test]
async fn refused_before_the_first_token_and_served_by_a_fallback() {
    let (server, path) = server(MODELS, 10).await;
    let url = &server.url;

    // Every attempt failed: the client gets the error, the ledger a record of it.
    let response = post_chat(
        url,
        json!({"model": "down", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status(), 503);
    server.state.ledger.flush().await;
    let reader = Reader::open(&Target::Sqlite(path)).await.unwrap();
    let only_down = Filter {
        model: Some("down".into()),
        ..Filter::default()
    };
    let records = reader.records(&only_down, 10).await.unwrap();
    let [down] = records.as_slice() else {
        panic!("{records:?}")
    };
    assert_eq!(
        (down.outcome, down.error_kind.as_deref()),
        (Outcome::Error, Some("overloaded"))
    );
    assert_eq!((down.model_served.as_deref(), down.attempts), (None, 2));
    assert_eq!(down.tokens, Tokens::default());
    assert_eq!(down.cost_usd, None);

    // The model asked for failed twice; its fallback served, at the fallback's price.
    let response = start(url, "primary", json!({})).await;
    let id = stream_id(&response);
    let body = read_all(response).await;
    let r = record(&server.state, &id).await;
    assert_eq!(r.outcome, Outcome::Stop, "{body}");
    assert_eq!(
        (r.model_requested.as_str(), r.model_served.as_deref()),
        ("primary", Some("fast"))
    );
    assert_eq!(r.attempts, 3);
    let price = Price {
        input_per_mtok: 1.0,
        output_per_mtok: 4.0,
        ..Price::default()
    };
    assert_eq!(r.price, Some(price));
    let cost = r.cost_usd.unwrap();
    let expected = (r.tokens.input as f64 * 1.0 + r.tokens.output as f64 * 4.0) / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");

    // Non-streaming, another dialect.
    let response = anthropic_message(url, "fast").await;
    assert_eq!(response.status(), 200);
    let message: serde_json::Value = response.json().await.unwrap();
    let id = message["id"].as_str().unwrap();
    let r = record(&server.state, id).await;
    assert_eq!(
        (r.dialect.as_str(), r.outcome),
        ("anthropic-messages", Outcome::Stop)
    );
    assert_eq!(
        r.tokens.output,
        message["usage"]["output_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn shutdown_ends_streams_and_writes_every_record_before_the_server_stops() {
    // Records would wait a minute to be written but for the shutdown.
    let (server, path) = server(MODELS, 60_000).await;
    let mut response = start(&server.url, "slow", json!({})).await;
    let id = stream_id(&response);
    read_some(&mut response).await;
    let finished = start(&server.url, "fast", json!({})).await;
    let finished_id = stream_id(&finished);
    read_all(finished).await;

    server.state.shutdown.begin(Duration::ZERO);
    read_all(response).await;
    tokio::time::timeout(Duration::from_secs(10), server.server)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();

    let reader = Reader::open(&Target::Sqlite(path)).await.unwrap();
    let records = reader.records(&Filter::default(), 10).await.unwrap();
    let outcome = |id: &str| records.iter().find(|r| r.id == id).map(|r| r.outcome);
    assert_eq!(outcome(&id), Some(Outcome::Shutdown), "{records:?}");
    assert_eq!(outcome(&finished_id), Some(Outcome::Stop));
}

fn upstream_models(mock: &Running) -> String {
    format!(
        "[[models]]\nname = \"gpt\"\nprovider = \"openai\"\nbase_url = \"{}/v1\"\n",
        mock.url
    )
}

#[tokio::test]
async fn a_cancelled_upstream_stream_is_billed_with_estimated_counts() {
    let words: String = (0..400).map(|i| format!("word{i} ")).collect();
    let mock = mock_upstream(text(&words, 200.0)).await;
    let (server, _) = server(&upstream_models(&mock), 10).await;
    let mut response = start(&server.url, "gpt", json!({})).await;
    let id = stream_id(&response);
    let mut delivered = String::new();
    while delivered.matches("word").count() < 20 {
        let chunk = response.chunk().await.unwrap().expect("ended early");
        delivered.push_str(&String::from_utf8_lossy(&chunk));
    }
    let cancel = http()
        .post(format!("{}/v1/streams/{id}/cancel", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let r = record(&server.state, &id).await;
    assert_eq!(r.outcome, Outcome::Cancelled);
    assert_eq!(r.provider.as_deref(), Some("openai"));
    // No usage came: both counts are estimates, the output at least what was delivered
    // (each "wordN " is two or three tokens) and well under the whole answer.
    assert!(
        r.tokens.input_estimated && r.tokens.output_estimated,
        "{:?}",
        r.tokens
    );
    assert!(r.tokens.input >= 5, "{:?}", r.tokens);
    assert!((40..1200).contains(&r.tokens.output), "{:?}", r.tokens);
}

#[tokio::test]
async fn reported_counts_are_kept_as_reported() {
    let mock = mock_upstream(text("The weather in Paris is sunny.", 0.0)).await;
    let (server, _) = server(&upstream_models(&mock), 10).await;
    let response = start(&server.url, "gpt", json!({})).await;
    let id = stream_id(&response);
    let body = read_all(response).await;
    // The usage the client saw is what the upstream reported.
    let usage = stream_usage(&body);
    let r = record(&server.state, &id).await;
    assert_eq!(r.outcome, Outcome::Stop);
    assert_eq!(r.tokens.input, usage["prompt_tokens"].as_u64().unwrap());
    assert_eq!(
        r.tokens.output,
        usage["completion_tokens"].as_u64().unwrap()
    );
    assert!(!r.tokens.input_estimated && !r.tokens.output_estimated);
}

const ADMIN: &str = "sk-rill-admin-0b1c2d3e4f5a6b7c8d9e";

/// `MODELS` with two keys: `web` (a budget of a millionth of a dollar a day) and `ops`
/// (an admin).
fn with_keys(budget: bool) -> String {
    let budget = if budget {
        "budget_usd = 0.000001\nbudget_period = \"day\"\n"
    } else {
        ""
    };
    format!(
        "{MODELS}\n[[keys]]\nname = \"web\"\nsha256 = \"{}\"\n{budget}\n[[keys]]\nname = \"ops\"\nsha256 = \"{}\"\nadmin = true\n",
        rill_server::hash_key(crate::keys::WEB),
        rill_server::hash_key(ADMIN),
    )
}

async fn chat_as(url: &str, key: &str, model: &str) -> reqwest::Response {
    http()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

async fn usage_as(url: &str, key: Option<&str>, query: &str) -> reqwest::Response {
    let request = http().get(format!("{url}/v1/usage{query}"));
    match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn usage_is_read_back_by_admin_keys_only() {
    let (server, _) = server(&with_keys(false), 10).await;
    let url = &server.url;
    for model in ["fast", "fast", "tool"] {
        assert_eq!(chat_as(url, crate::keys::WEB, model).await.status(), 200);
    }
    assert_eq!(chat_as(url, ADMIN, "fast").await.status(), 200);

    assert_eq!(usage_as(url, None, "").await.status(), 401);
    let refused = usage_as(url, Some(crate::keys::WEB), "").await;
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("admin"),
        "{body}"
    );

    let by_key: serde_json::Value = usage_as(url, Some(ADMIN), "?group_by=key")
        .await
        .json()
        .await
        .unwrap();
    let requests = |v: &serde_json::Value, group: &str| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == group)
            .map(|g| g["requests"].as_u64().unwrap())
    };
    assert_eq!(
        (requests(&by_key, "web"), requests(&by_key, "ops")),
        (Some(3), Some(1)),
        "{by_key}"
    );
    assert_eq!(by_key["total"]["requests"], 4);
    // Only `fast` has a price.
    let fast_cost: f64 = by_key["total"]["cost_usd"].as_f64().unwrap();
    assert!(fast_cost > 0.0, "{by_key}");

    let web_by_model: serde_json::Value = usage_as(url, Some(ADMIN), "?group_by=model&key=web")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            requests(&web_by_model, "fast"),
            requests(&web_by_model, "tool")
        ),
        (Some(2), Some(1))
    );
    let today = rill_ledger::day(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let by_day: serde_json::Value = usage_as(url, Some(ADMIN), "?group_by=day&since=2000-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requests(&by_day, &today), Some(4), "{by_day}");
    let future: serde_json::Value = usage_as(url, Some(ADMIN), "?since=2999-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["data"], json!([]));

    for (query, param) in [
        ("?group_by=week", "group_by"),
        ("?since=yesterday", "since"),
    ] {
        let bad = usage_as(url, Some(ADMIN), query).await;
        assert_eq!(bad.status(), 400, "{query}");
        let body: serde_json::Value = bad.json().await.unwrap();
        assert_eq!(body["error"]["param"], param, "{body}");
    }
}

#[tokio::test]
async fn a_budget_is_enforced_and_survives_a_restart() {
    let config = with_keys(true);
    let (server, path) = server(&config, 10).await;
    let url = &server.url;
    // Under the budget: admitted; its cost puts the key over.
    assert_eq!(chat_as(url, crate::keys::WEB, "fast").await.status(), 200);
    let over = chat_as(url, crate::keys::WEB, "fast").await;
    assert_eq!(over.status(), 429);
    let retry: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    let body: serde_json::Value = over.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("budget for this day") && message.contains("T00:00:00Z"),
        "{message}"
    );
    assert_eq!(body["error"]["code"], "budget_exceeded");
    // Another key has no budget.
    assert_eq!(chat_as(url, ADMIN, "fast").await.status(), 200);

    // A new server on the same ledger remembers what the key spent today.
    server.state.ledger.close().await;
    let again = server_on(&config, 10, &path).await;
    assert_eq!(
        chat_as(&again.url, crate::keys::WEB, "fast").await.status(),
        429
    );
}

#[tokio::test]
async fn metrics_count_every_ended_generation_by_model_and_outcome() {
    let (server, _) = server(MODELS, 10).await;
    let url = &server.url;
    for model in ["fast", "failing", "primary"] {
        let response = start(url, model, json!({})).await;
        let id = stream_id(&response);
        read_all(response).await;
        record(&server.state, &id).await;
    }
    let text = metrics(url).await;
    let fast = r#"gen_ai_request_model="fast",gen_ai_provider_name="scripted""#;
    let primary = r#"gen_ai_request_model="primary",gen_ai_provider_name="scripted""#;
    let failing = r#"gen_ai_request_model="failing",gen_ai_provider_name="scripted""#;
    let count = |series: String| metric(&text, &series);
    assert_eq!(
        count(format!(
            "gen_ai_server_time_to_first_token_seconds_count{{{fast}}}"
        )),
        1.0
    );
    assert_eq!(
        count(format!(
            "gen_ai_server_request_duration_seconds_count{{{failing}}}"
        )),
        1.0
    );
    assert_eq!(
        count(format!(
            "gen_ai_server_time_per_output_token_seconds_count{{{fast}}}"
        )),
        1.0
    );
    assert_eq!(
        count(format!("rill_output_tokens_per_second_count{{{fast}}}")),
        1.0
    );
    assert_eq!(
        count(format!(
            r#"gen_ai_client_token_usage_count{{{fast},gen_ai_token_type="output"}}"#
        )),
        1.0
    );
    assert!(
        count(format!(
            r#"rill_tokens_total{{{fast},gen_ai_token_type="output"}}"#
        )) >= 4.0
    );
    assert!(count(format!("rill_cost_usd_total{{{primary}}}")) > 0.0);
    assert_eq!(
        count(format!(
            r#"rill_generations_ended_total{{{fast},outcome="stop"}}"#
        )),
        1.0
    );
    assert_eq!(
        count(format!(
            r#"rill_generations_ended_total{{{failing},outcome="error"}}"#
        )),
        1.0
    );
    assert_eq!(count(format!("rill_retries_total{{{primary}}}")), 2.0);
    assert_eq!(count(format!("rill_fallbacks_total{{{primary}}}")), 1.0);
    let errors = |model: &str, status: u16| {
        count(format!(
            r#"rill_upstream_errors_total{{gen_ai_request_model="{model}",status="{status}"}}"#
        ))
    };
    // The error that ended a started stream, and each attempt that failed before its first
    // token (the model asked for, twice, before its fallback served).
    assert_eq!(errors("failing", 502), 1.0);
    assert_eq!(errors("primary", 503), 2.0);
}

#[tokio::test]
async fn models_at_public_apis_get_the_bundled_price_unless_they_set_their_own() {
    let config = Config::from_toml(
        r#"
        [[models]]
        name = "mini"
        provider = "openai"
        model = "gpt-4o-mini"

        [[models]]
        name = "sonnet"
        provider = "anthropic"
        model = "claude-sonnet-4-5"

        [[models]]
        name = "own"
        provider = "openai"
        model = "gpt-4o-mini"
        price = { input_per_mtok = 9.0, output_per_mtok = 9.0 }

        [[models]]
        name = "self-hosted"
        provider = "openai"
        base_url = "http://127.0.0.1:9/v1"
        model = "gpt-4o-mini"
        "#,
    )
    .unwrap();
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let input = |name: &str| registry.price(name).map(|p| p.input_per_mtok);
    assert_eq!(input("mini"), Some(0.15));
    assert_eq!(input("sonnet"), Some(3.0));
    assert_eq!(input("own"), Some(9.0));
    // Another server that happens to use the same model id is not OpenAI's price.
    assert_eq!(input("self-hosted"), None);
}

/// The usage in a Chat Completions stream's body.
fn stream_usage(body: &str) -> serde_json::Value {
    body.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .find_map(|chunk| chunk.get("usage").filter(|u| !u.is_null()).cloned())
        .expect("no usage chunk")
}

#[tokio::test]
async fn the_usage_clients_receive_carries_its_cost() {
    let (server, _) = server(MODELS, 10).await;
    let url = &server.url;
    let response = start(url, "fast", json!({})).await;
    let id = stream_id(&response);
    let usage = stream_usage(&read_all(response).await);
    let recorded = record(&server.state, &id).await.cost_usd.unwrap();
    let sent = usage["cost"].as_f64().unwrap();
    assert!((sent - recorded).abs() < 1e-15, "{usage} vs {recorded}");

    // Non-streaming, another dialect: in the body's usage and in a header.
    let response = anthropic_message(url, "fast").await;
    let header: f64 = response.headers()["x-rill-cost-usd"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let message: serde_json::Value = response.json().await.unwrap();
    assert_eq!(message["usage"]["cost"].as_f64(), Some(header));
    assert!(header > 0.0);

    // A model without a price says nothing of cost.
    let response = start(url, "tool", json!({})).await;
    let usage = stream_usage(&read_all(response).await);
    assert!(usage.get("cost").is_none(), "{usage}");
}

#[tokio::test]
async fn answers_from_the_cache_cost_nothing_and_record_what_they_saved() {
    let config = format!("{MODELS}\n[cache]\nenabled = true\n");
    let (server, _) = server(&config, 10).await;
    let url = &server.url;
    let cold = json!({"temperature": 0});
    let response = start(url, "fast", cold.clone()).await;
    assert_eq!(response.headers()["x-rill-cache"], "miss");
    let id = stream_id(&response);
    let usage = stream_usage(&read_all(response).await);
    let original = record(&server.state, &id).await;
    assert!(usage["cost"].as_f64().unwrap() > 0.0);

    let response = start(url, "fast", cold.clone()).await;
    assert_eq!(response.headers()["x-rill-cache"], "hit");
    let hit_id = stream_id(&response);
    let hit_usage = stream_usage(&read_all(response).await);
    // The counts the answer had; what this request cost: nothing.
    assert_eq!(hit_usage["prompt_tokens"], usage["prompt_tokens"]);
    assert_eq!(hit_usage["completion_tokens"], usage["completion_tokens"]);
    assert_eq!(hit_usage["cost"].as_f64(), Some(0.0));
    let hit = record(&server.state, &hit_id).await;
    assert_eq!(hit.cache, Some(CacheUse::Hit));
    assert_eq!(hit.cost_usd, Some(0.0));
    assert_eq!(hit.saved_usd, original.cost_usd);
    assert_eq!(hit.tokens, original.tokens);
    assert_eq!((hit.outcome, original.cache), (Outcome::Stop, None));

    // Two at once: the second shares the first's generation.
    let leader = start(url, "slow", cold.clone()).await;
    let joined = start(url, "slow", cold).await;
    assert_eq!(joined.headers()["x-rill-cache"], "hit");
    let ids = (stream_id(&leader), stream_id(&joined));
    let (a, b) = tokio::join!(read_all(leader), read_all(joined));
    assert_eq!(stream_usage(&a), stream_usage(&b));
    let (leader, joined) = (
        record(&server.state, &ids.0).await,
        record(&server.state, &ids.1).await,
    );
    assert_eq!((leader.cache, joined.cache), (None, Some(CacheUse::Joined)));
    assert_eq!(joined.tokens, leader.tokens);

    let text = metrics(url).await;
    let saved = metric(&text, "rill_cache_saved_usd_total");
    assert!(
        (saved - original.cost_usd.unwrap()).abs() < 1e-15,
        "{saved}"
    );
    let hits = "gen_ai_client_token_usage_count{gen_ai_request_model=\"fast\",gen_ai_provider_name=\"cache\",gen_ai_token_type=\"output\"}";
    assert_eq!(metric(&text, hits), 1.0);
}

#[tokio::test]
async fn cost_stays_out_of_the_usage_when_configured_so_but_is_recorded() {
    let config = format!("{MODELS}\n[ledger]\ncost_in_usage = false\n");
    let (server, _) = server(&config, 10).await;
    let response = start(&server.url, "fast", json!({})).await;
    let id = stream_id(&response);
    let usage = stream_usage(&read_all(response).await);
    assert!(usage.get("cost").is_none(), "{usage}");
    assert!(record(&server.state, &id).await.cost_usd.unwrap() > 0.0);
}

#[tokio::test]
async fn streams_go_on_while_postgresql_is_down_and_their_records_are_written_after() {
    let _alone = POSTGRES.write().await;
    let url = postgres_url();
    let config = format!("{MODELS}\n[ledger]\nurl = \"{url}\"\n");
    let config = Config::from_toml(&config).unwrap();
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let ledger = LedgerConfig {
        flush_ms: 10,
        ..config.ledger
    };
    let state = AppState::new(ServerConfig::default(), registry)
        .with_ledger_config(&ledger)
        .unwrap();
    let server = spawn(state).await;
    let first = start(&server.url, "fast", json!({})).await;
    let first = {
        let id = stream_id(&first);
        read_all(first).await;
        id
    };
    record(&server.state, &first).await;

    control("RILL_TEST_POSTGRES_CTL", "stop");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let response = start(&server.url, "fast", json!({})).await;
        ids.push(stream_id(&response));
        let body = read_all(response).await;
        assert!(
            body.contains("[DONE]") && body.contains("\"finish_reason\":\"stop\""),
            "{body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    control("RILL_TEST_POSTGRES_CTL", "start");

    for id in &ids {
        assert_eq!(record(&server.state, id).await.outcome, Outcome::Stop);
    }
    let text = metrics(&server.url).await;
    assert_eq!(metric(&text, "rill_ledger_dropped_total"), 0.0);
    assert_eq!(metric(&text, "rill_ledger_written_total"), 4.0);
}

/// An upstream that finishes without ever reporting usage (as llama.cpp's server does).
struct Silent;

impl rill_core::Provider for Silent {
    fn start(&self, _: rill_core::ChatRequest) -> rill_core::ProviderFuture {
        use rill_core::StreamEvent;
        Box::pin(async move {
            let events = [
                StreamEvent::Start {
                    model: "silent".into(),
                },
                StreamEvent::TextDelta("The weather in Paris is sunny today.".into()),
                StreamEvent::Finish(rill_core::FinishReason::Stop),
            ];
            Ok(Box::pin(futures_util::stream::iter(events)) as rill_core::EventStream)
        })
    }
}

#[tokio::test]
async fn a_stream_finished_without_usage_gets_an_estimate_marked_as_such() {
    let entry = rill_server::ModelEntry {
        name: "silent".into(),
        owned_by: "rill-openai",
        provider: std::sync::Arc::new(Silent),
    };
    let ledger = LedgerConfig {
        url: Some(format!("sqlite://{}", sqlite().display())),
        flush_ms: 10,
        ..LedgerConfig::default()
    };
    let state = state(vec![entry]).with_ledger_config(&ledger).unwrap();
    let server = spawn(state).await;
    let response = start(&server.url, "silent", json!({})).await;
    let id = stream_id(&response);
    let body = read_all(response).await;
    let usage = stream_usage(&body);
    assert_eq!(usage["estimated"], true, "{usage}");
    // o200k_base: "The" " weather" " in" " Paris" " is" " sunny" " today" "."
    assert_eq!(usage["completion_tokens"], 8, "{usage}");
    assert!(usage["prompt_tokens"].as_u64().unwrap() >= 9, "{usage}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let r = record(&server.state, &id).await;
    assert_eq!(r.outcome, Outcome::Stop);
    assert_eq!(r.tokens.output, 8);
    assert_eq!(r.tokens.input, usage["prompt_tokens"].as_u64().unwrap());
    assert!(r.tokens.input_estimated && r.tokens.output_estimated);
    assert_eq!(r.provider.as_deref(), Some("openai"));
}

/// A loopback OTLP/HTTP collector: the JSON bodies posted to its `/v1/traces`.
async fn collector() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&received);
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = std::sync::Arc::clone(&sink);
            async move {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                sink.lock().unwrap().push(json);
                ([("content-type", "application/json")], "{}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// A span's attribute value, whatever its OTLP JSON type.
fn attribute(span: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    let value = span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]
        .clone();
    let value = value.as_object()?.values().next()?.clone();
    Some(value)
}

#[tokio::test]
async fn every_generation_is_a_span_with_the_genai_attributes() {
    let (endpoint, received) = collector().await;
    let config = format!("{MODELS}\n[telemetry]\notlp_endpoint = \"{endpoint}\"\n");
    let parsed = Config::from_toml(&config).unwrap();
    let telemetry = rill_server::Telemetry::new(&parsed.telemetry).unwrap();
    let registry = ModelRegistry::from_config(&parsed).await.unwrap();
    let ledger = LedgerConfig {
        url: Some(format!("sqlite://{}", sqlite().display())),
        flush_ms: 10,
        ..LedgerConfig::default()
    };
    let state = AppState::new(ServerConfig::default(), registry)
        .with_ledger_config(&ledger)
        .unwrap()
        .with_telemetry(telemetry);
    let server = spawn(state).await;
    let response = start(&server.url, "primary", json!({})).await;
    let id = stream_id(&response);
    read_all(response).await;
    let r = record(&server.state, &id).await;
    let telemetry = server.state.telemetry.clone();
    tokio::task::spawn_blocking(move || telemetry.flush())
        .await
        .unwrap();

    let bodies = received.lock().unwrap().clone();
    let spans: Vec<serde_json::Value> = bodies
        .iter()
        .flat_map(|b| b["resourceSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .collect();
    let [span] = spans.as_slice() else {
        panic!("{bodies:?}")
    };
    assert_eq!(span["name"], "chat primary");
    let text = |key: &str| attribute(span, key).and_then(|v| v.as_str().map(str::to_owned));
    let int = |key: &str| {
        attribute(span, key).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    };
    assert_eq!(text("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(text("gen_ai.request.model").as_deref(), Some("primary"));
    assert_eq!(text("gen_ai.response.model").as_deref(), Some("fast"));
    assert_eq!(text("gen_ai.provider.name").as_deref(), Some("scripted"));
    assert_eq!(text("gen_ai.response.id"), Some(id));
    assert_eq!(
        int("gen_ai.usage.input_tokens"),
        Some(r.tokens.input as i64)
    );
    assert_eq!(
        int("gen_ai.usage.output_tokens"),
        Some(r.tokens.output as i64)
    );
    assert_eq!(int("rill.attempts"), Some(3));
    assert!(attribute(span, "rill.cost_usd").is_some());
    assert!(attribute(span, "rill.key").is_none());
    let nanos = |key: &str| span[key].as_str().unwrap().parse::<u128>().unwrap();
    let duration_ms = (nanos("endTimeUnixNano") - nanos("startTimeUnixNano")) as f64 / 1e6;
    assert!(
        (duration_ms - r.duration_ms).abs() < 1.0,
        "{duration_ms} vs {}",
        r.duration_ms
    );
    // No prompt or answer text in the span.
    let all = serde_json::to_string(span).unwrap();
    assert!(
        !all.contains("one two three") && !all.contains("weather"),
        "{all}"
    );
}
