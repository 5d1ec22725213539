//! The response cache: answers served again as streams in any dialect, identical requests
//! sharing one generation, what is never stored, `cache-control`, and the accounting.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::header::HeaderMap;
use rill_server::{AppState, Config, ModelRegistry, ServerConfig};
use serde_json::{Value, json};

use crate::support::*;

const SYSTEM: &str = "You are terse.";
const QUESTION: &str = "What is 2 + 2?";

const MODELS: &str = r#"
[cache]
enabled = true

[[models]]
name = "m"
provider = "scripted"
script = { reasoning = "Two and two make four.", reasoning_signature = "sig-Zm91cg", text = "It is four.", tool_calls = [{ name = "add", arguments = '{"a":2,"b":2}' }], tokens_per_second = 0 }

[[models]]
name = "slow"
provider = "scripted"
script = { text = "a b c d e f g h i j k l m n o p q r s t", tokens_per_second = 40 }

[[models]]
name = "failing"
provider = "scripted"
script = { text = "a b c d", error_after = 2 }

[[models]]
name = "stalling"
provider = "scripted"
script = { text = "a b c d", stall_after = 2, stall_ms = 10000 }
timeouts = { idle_secs = 0.2 }

[[models]]
name = "off"
provider = "scripted"
script = { text = "not cached" }
cache = { enabled = false }
"#;

/// A server with `config` as `rill serve` builds it.
async fn server(config: &str) -> Running {
    let config = Config::from_toml(config).unwrap();
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let models = config.effective_models();
    let state = AppState::new(ServerConfig::default(), registry)
        .with_cache(&config.cache, &models, None)
        .with_keys(config.keys)
        .unwrap();
    spawn(state).await
}

/// The four client dialects: route, and the same question in each one's request form.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialect {
    Chat,
    Responses,
    Messages,
    Ui,
}

const DIALECTS: [Dialect; 4] = [
    Dialect::Chat,
    Dialect::Responses,
    Dialect::Messages,
    Dialect::Ui,
];

impl Dialect {
    fn path(self) -> &'static str {
        match self {
            Self::Chat => "/v1/chat/completions",
            Self::Responses => "/v1/responses",
            Self::Messages => "/v1/messages",
            Self::Ui => "/api/chat",
        }
    }

    /// Whether it has a non-streaming form.
    fn has_body(self) -> bool {
        self != Self::Ui
    }

    fn body(self, model: &str, question: &str, stream: bool) -> Value {
        match self {
            Self::Chat => json!({
                "model": model, "stream": stream, "temperature": 0, "max_tokens": 64,
                "stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": question},
                ],
            }),
            Self::Responses => json!({
                "model": model, "stream": stream, "temperature": 0, "max_output_tokens": 64,
                "instructions": SYSTEM,
                "input": [{"role": "user", "content": question}],
            }),
            Self::Messages => json!({
                "model": model, "stream": stream, "temperature": 0, "max_tokens": 64,
                "system": SYSTEM,
                "messages": [{"role": "user", "content": question}],
            }),
            Self::Ui => json!({
                "model": model, "temperature": 0, "maxOutputTokens": 64,
                "messages": [
                    {"id": "s", "role": "system", "parts": [{"type": "text", "text": SYSTEM}]},
                    {"id": "u", "role": "user", "parts": [{"type": "text", "text": question}]},
                ],
            }),
        }
    }
}

/// What a request got: the cache header and the body with its response id and times
/// replaced, so that two answers to the same question compare equal.
struct Got {
    cache: String,
    body: String,
    headers: HeaderMap,
}

async fn ask(url: &str, dialect: Dialect, body: &Value, cache_control: Option<&str>) -> Got {
    let mut request = http().post(format!("{url}{}", dialect.path())).json(body);
    if let Some(value) = cache_control {
        request = request.header("cache-control", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{dialect:?}");
    let headers = response.headers().clone();
    let cache = headers["x-rill-cache"].to_str().unwrap().to_owned();
    let body = response.text().await.unwrap();
    let id = match headers.get("x-rill-stream-id") {
        Some(id) => id.to_str().unwrap().to_owned(),
        None => json(&body)["id"].as_str().unwrap().to_owned(),
    };
    Got {
        cache,
        // Item ids are made from the response id's random part.
        body: normalize(
            &body
                .replace(&id, "ID")
                .replace(&id[id.len() - 24..], "RAND"),
        ),
        headers,
    }
}

/// Replaces creation times (which may fall in different seconds).
fn normalize(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("\"created") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let colon = after.find(':').unwrap() + 1;
        out.push_str(&after[..colon]);
        let digits = after[colon..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len() - colon);
        out.push('0');
        rest = &after[colon + digits..];
    }
    out.push_str(rest);
    out
}

/// The scripted tool call's id (`call_` and 24 alphanumerics) in a body.
fn call_id(body: &str) -> String {
    let id = |at: usize| {
        body.get(at..at + 29)
            .filter(|id| id[5..].bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    let at = body
        .match_indices("call_")
        .find_map(|(at, _)| id(at))
        .expect("a tool call");
    at.to_owned()
}

#[tokio::test]
async fn an_answer_asked_in_any_dialect_is_served_to_every_dialect_as_it_was() {
    for origin in DIALECTS {
        let server = server(MODELS).await;
        let url = &server.url;
        let first = ask(url, origin, &origin.body("m", QUESTION, true), None).await;
        assert_eq!(first.cache, "miss", "{origin:?}");
        assert!(first.body.contains("sig-Zm91cg") || origin == Dialect::Chat);
        let call = call_id(&first.body);
        for target in DIALECTS {
            for stream in [true, false] {
                if !stream && !target.has_body() {
                    continue;
                }
                let body = target.body("m", QUESTION, stream);
                // The same request generated afresh, not looked up and not stored.
                let fresh = ask(url, target, &body, Some("no-cache, no-store")).await;
                assert_eq!(fresh.cache, "bypass");
                let hit = ask(url, target, &body, None).await;
                assert_eq!(
                    hit.cache, "hit",
                    "{origin:?} -> {target:?} (stream: {stream})"
                );
                // The tool call's id is the first generation's, kept; a fresh one
                // has its own.
                assert!(
                    hit.body.contains(&call),
                    "{target:?}: no {call} in {}",
                    hit.body
                );
                assert_eq!(
                    hit.body.replace(&call, "CALL"),
                    fresh.body.replace(&call_id(&fresh.body), "CALL"),
                    "{origin:?} -> {target:?} (stream: {stream})"
                );
                // A whole body has the whole text (a stream has it in pieces).
                if !stream {
                    assert!(hit.body.contains("It is four."), "{target:?}: {}", hit.body);
                }
            }
        }
        // One generation for the first request, one for each fresh one, none for a hit.
        assert_eq!(streams_started(url).await, 1.0 + 7.0, "{origin:?}");
    }
}

#[tokio::test]
async fn reasoning_signatures_tool_calls_and_usage_come_back_exactly() {
    let server = server(MODELS).await;
    let body = Dialect::Messages.body("m", QUESTION, false);
    let first = ask(&server.url, Dialect::Messages, &body, None).await;
    let hit = ask(&server.url, Dialect::Messages, &body, None).await;
    assert_eq!((first.cache.as_str(), hit.cache.as_str()), ("miss", "hit"));
    let (first, hit) = (json(&first.body), json(&hit.body));
    assert_eq!(hit["content"], first["content"]);
    assert_eq!(hit["content"][0]["type"], "thinking");
    assert_eq!(hit["content"][0]["signature"], "sig-Zm91cg");
    assert_eq!(
        hit["content"].as_array().unwrap().last().unwrap()["type"],
        "tool_use"
    );
    assert_eq!(hit["usage"], first["usage"]);
    assert!(hit["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(hit["stop_reason"], first["stop_reason"]);
}

#[tokio::test]
async fn errors_and_unseeded_hot_samples_are_not_stored_and_a_seed_is() {
    let server = server(MODELS).await;
    let url = &server.url;
    let chat = |model: &str, extra: Value| {
        let mut body = Dialect::Chat.body(model, QUESTION, true);
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for failing in ["failing", "stalling"] {
        let failing = chat(failing, json!({}));
        for _ in 0..2 {
            let got = ask(url, Dialect::Chat, &failing, None).await;
            assert_eq!(got.cache, "miss");
            assert!(got.body.contains("error"), "{}", got.body);
        }
    }
    let hot = chat("m", json!({"temperature": 0.7}));
    for _ in 0..2 {
        assert_eq!(ask(url, Dialect::Chat, &hot, None).await.cache, "bypass");
    }
    let unset = chat("m", json!({"temperature": null}));
    assert_eq!(ask(url, Dialect::Chat, &unset, None).await.cache, "bypass");
    let seeded = chat("m", json!({"temperature": 0.7, "seed": 7}));
    assert_eq!(ask(url, Dialect::Chat, &seeded, None).await.cache, "miss");
    assert_eq!(ask(url, Dialect::Chat, &seeded, None).await.cache, "hit");
    let off = chat("off", json!({}));
    assert_eq!(ask(url, Dialect::Chat, &off, None).await.cache, "bypass");
    let text = metrics(url).await;
    assert_eq!(
        metric(&text, "rill_cache_lookups_total{result=\"hit\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "rill_cache_lookups_total{result=\"miss\"}"),
        5.0
    );
    // The hot and unset samples; a model that does not cache is not counted.
    assert_eq!(
        metric(&text, "rill_cache_lookups_total{result=\"bypass\"}"),
        3.0
    );
    assert_eq!(metric(&text, "rill_cache_stored_total"), 1.0);
    assert!(metric(&text, "rill_cache_bytes") > 0.0);
}

/// Whether a request by the key `secret` was a cache hit.
async fn cache_as(url: &str, secret: &str) -> String {
    let response = http()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(secret)
        .json(&Dialect::Chat.body("m", QUESTION, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-rill-cache"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_answer_serves_only_the_key_that_asked_unless_shared() {
    let keys = format!(
        "[[keys]]\nname = \"a\"\nsha256 = \"{}\"\n[[keys]]\nname = \"b\"\nsha256 = \"{}\"\n",
        rill_server::hash_key("sk-a").to_hex(),
        rill_server::hash_key("sk-b").to_hex()
    );
    for shared in [false, true] {
        let cache = format!("enabled = true\nshared_across_keys = {shared}");
        let config = MODELS.replacen("enabled = true", &cache, 1) + &keys;
        let server = server(&config).await;
        assert_eq!(cache_as(&server.url, "sk-a").await, "miss");
        assert_eq!(cache_as(&server.url, "sk-a").await, "hit");
        let other = if shared { "hit" } else { "miss" };
        assert_eq!(
            cache_as(&server.url, "sk-b").await,
            other,
            "shared: {shared}"
        );
    }
}

#[tokio::test]
async fn no_cache_skips_the_lookup_and_no_store_the_storing() {
    let server = server(MODELS).await;
    let url = &server.url;
    let body = Dialect::Chat.body("m", QUESTION, true);
    assert_eq!(
        ask(url, Dialect::Chat, &body, Some("no-store")).await.cache,
        "miss"
    );
    assert_eq!(ask(url, Dialect::Chat, &body, None).await.cache, "miss");
    assert_eq!(
        ask(url, Dialect::Chat, &body, Some("no-store")).await.cache,
        "hit"
    );
    assert_eq!(
        ask(url, Dialect::Chat, &body, Some("No-Cache")).await.cache,
        "bypass"
    );
    assert_eq!(ask(url, Dialect::Chat, &body, None).await.cache, "hit");
    // no-cache generated afresh (and stored again): three generations in all.
    assert_eq!(streams_started(url).await, 3.0);
}

#[tokio::test]
async fn a_cancelled_stream_is_not_stored() {
    let server = server(MODELS).await;
    let url = &server.url;
    let body = Dialect::Chat.body("slow", QUESTION, true);
    let response = http()
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-rill-cache"], "miss");
    let id = response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let frames = frames_until(response, |frames| frames.len() >= 3);
    let cancel = http().post(format!("{url}/v1/streams/{id}/cancel")).send();
    let (_, cancelled) = tokio::join!(frames, cancel);
    assert_eq!(cancelled.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ask(url, Dialect::Chat, &body, None).await.cache, "miss");
}

/// What the single-flight tests' upstream answers: 20 words at 10 a second, so that its
/// generation outlasts the requests that share it, even on a loaded machine.
const ANSWER: &str = "one two three four five six seven eight nine ten \
    eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";

/// The upstream of the single-flight tests: a real OpenAI-compatible server on loopback
/// playing a slow answer, which counts the requests it gets (`rill_streams_total`).
async fn upstream() -> Running {
    mock_upstream(text(ANSWER, 10.0)).await
}

fn gateway_config(upstream: &str) -> String {
    format!(
        "[cache]\nenabled = true\n[[models]]\nname = \"gpt\"\nprovider = \"openai\"\nbase_url = \"{upstream}/v1\"\n"
    )
}

/// The text of an OpenAI Chat stream.
fn chat_text(body: &str) -> String {
    body.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            json(data)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn fifty_identical_requests_make_one_upstream_request_and_all_get_the_whole_answer() {
    let upstream = upstream().await;
    let gateway = server(&gateway_config(&upstream.url)).await;
    let requests = (0..50).map(|n| {
        let url = gateway.url.clone();
        // Half of them in another dialect: the key is the question, not the bytes.
        let dialect = if n % 2 == 0 {
            Dialect::Chat
        } else {
            Dialect::Messages
        };
        async move {
            let got = ask(&url, dialect, &dialect.body("gpt", QUESTION, true), None).await;
            (dialect, got)
        }
    });
    let answers = join_all(requests).await;
    assert_eq!(streams_started(&upstream.url).await, 1.0);
    let mut misses = 0;
    for (dialect, got) in &answers {
        misses += usize::from(got.cache == "miss");
        let text = match dialect {
            Dialect::Chat => chat_text(&got.body),
            _ => got
                .body
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .filter_map(|data| json(data)["delta"]["text"].as_str().map(str::to_owned))
                .collect(),
        };
        assert_eq!(text, ANSWER);
        assert!(got.headers.contains_key("x-rill-stream-id"));
    }
    assert_eq!(misses, 1);
    // The others joined the running generation (or, had one come after it finished, were
    // served its stored answer): never a second upstream request.
    let text = metrics(&gateway.url).await;
    let joined = metric(&text, "rill_cache_lookups_total{result=\"joined\"}");
    let hits = text
        .lines()
        .find_map(|line| line.strip_prefix("rill_cache_lookups_total{result=\"hit\"} "))
        .map_or(0.0, |n| n.parse().unwrap());
    assert!(
        joined >= 1.0 && joined + hits == 49.0,
        "{joined} joined, {hits} hits"
    );
}

#[tokio::test]
async fn one_sharer_cancelling_or_leaving_leaves_the_others_running() {
    let upstream = upstream().await;
    let gateway = server(&gateway_config(&upstream.url)).await;
    let url = &gateway.url;
    let open = || async {
        let response = http()
            .post(format!("{url}/v1/chat/completions"))
            .json(&Dialect::Chat.body("gpt", QUESTION, true))
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-rill-stream-id"]
            .to_str()
            .unwrap()
            .to_owned();
        (id, response)
    };
    // The first leads; the others join it once it runs.
    let (leader_id, leader) = open().await;
    let (_, leaving) = open().await;
    let (_, staying) = open().await;
    let cancel = http()
        .post(format!("{url}/v1/streams/{leader_id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let leader = leader.text().await.unwrap();
    assert!(leader.contains("cancelled"), "{leader}");
    drop(leaving);
    let staying = staying.text().await.unwrap();
    assert_eq!(chat_text(&staying), ANSWER);
    assert!(staying.ends_with("data: [DONE]\n\n"), "{staying}");
    assert_eq!(streams_started(&upstream.url).await, 1.0);
    // It finished for the one that stayed, so it was stored.
    let again = ask(
        url,
        Dialect::Chat,
        &Dialect::Chat.body("gpt", QUESTION, true),
        None,
    )
    .await;
    assert_eq!(again.cache, "hit");
    assert_eq!(streams_started(&upstream.url).await, 1.0);
}

#[tokio::test]
async fn the_generation_stops_when_the_last_sharer_leaves() {
    let upstream = upstream().await;
    let gateway = server(&gateway_config(&upstream.url)).await;
    let url = &gateway.url;
    let body = Dialect::Chat.body("gpt", QUESTION, true);
    let first = post_chat(url, body.clone()).await;
    let second = post_chat(url, body.clone()).await;
    assert_eq!(second.headers()["x-rill-cache"], "hit");
    let first = frames_until(first, |frames| frames.len() >= 2).await;
    assert!(!first.is_empty());
    drop(second);
    // Both gone: the upstream request ends long before its answer would have.
    let mut active = 1.0;
    for _ in 0..100 {
        active = metric(&metrics(&upstream.url).await, "rill_streams_active");
        if active == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(active, 0.0);
    // Nothing complete was stored: the next one generates.
    let again = post_chat(url, body).await;
    assert_eq!(again.headers()["x-rill-cache"], "miss");
}

#[tokio::test]
async fn a_hit_is_a_session_that_resumes_exactly() {
    let server = server(MODELS).await;
    let url = &server.url;
    let body = Dialect::Chat.body("m", QUESTION, true);
    ask(url, Dialect::Chat, &body, None).await;
    let hit = post_chat(url, body).await;
    assert_eq!(hit.headers()["x-rill-cache"], "hit");
    let id = hit.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let frames = all_frames(hit).await;
    assert!(frames.len() > 4);
    let resumed = http()
        .get(format!("{url}/v1/streams/{id}"))
        .header("last-event-id", &frames[2].id)
        .send()
        .await
        .unwrap();
    assert_eq!(all_frames(resumed).await, frames[3..]);
}
