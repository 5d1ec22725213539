//! Several instances sharing state through a real Redis (Debian's `redis-server`, on a
//! loopback port, started by `scripts/test`): a stream resumes and cancels on any
//! instance, stored answers serve every instance, a Redis that cannot be reached stops the
//! start, and a Redis lost or restarted costs neither running streams nor answers.

use std::time::Duration;

use futures_util::StreamExt;
use std::num::NonZeroU32;

use rill_server::{
    AppState, Cluster, ClusterConfig, Config, KeyConfig, ModelRegistry, ServerConfig,
};
use serde_json::{Value, json};

use crate::keys::{OTHER, WEB, key};
use crate::support::*;

/// Tests hold this to read; the one that restarts Redis, to write.
static REDIS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn redis_url() -> String {
    std::env::var("RILL_TEST_REDIS_URL")
        .expect("RILL_TEST_REDIS_URL: run ./scripts/test, which starts redis-server")
}

/// An instance of the service `prefix` names (its keys in Redis), caching its answers.
async fn instance(prefix: &str) -> Running {
    caching(
        prefix,
        r#"
        [[models]]
        name = "m"
        provider = "scripted"
        script = { reasoning = "Easy.", text = "Four, of course.", tool_calls = [{ name = "add", arguments = '{"a":2}' }] }
        "#,
    )
    .await
}

/// An instance of the service `prefix` names, caching the answers of the `models` (TOML).
async fn caching(prefix: &str, models: &str) -> Running {
    let config = Config::from_toml(&format!(
        "[cache]\nenabled = true\n[cluster]\nredis_url = \"{}\"\nkey_prefix = \"{prefix}\"\n{models}",
        redis_url()
    ))
    .unwrap();
    let cluster = Cluster::connect(&config.cluster).await.unwrap();
    assert!(cluster.is_some());
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let models = config.effective_models();
    let state = AppState::new(ServerConfig::default(), registry)
        .with_cluster(cluster.as_ref())
        .with_cache(&config.cache, &models, cluster.as_ref());
    spawn(state).await
}

/// The words the slow model says, 20 a second.
const WORDS: usize = 40;

/// What the slow model says: `w0 w1 ...`, [`WORDS`] words.
fn spoken() -> String {
    (0..WORDS).map(|n| format!("w{n} ")).collect()
}

/// An instance of the service `prefix` names, with a model `slow` that says [`WORDS`]
/// words at 20 a second.
async fn member(prefix: &str) -> Running {
    member_with_keys(prefix, Vec::new()).await
}

/// A [`member`] with these keys.
async fn member_with_keys(prefix: &str, keys: Vec<KeyConfig>) -> Running {
    let text = spoken();
    let config = Config::from_toml(&format!(
        r#"
        [cluster]
        redis_url = "{}"
        key_prefix = "{prefix}"
        [[models]]
        name = "slow"
        provider = "scripted"
        script = {{ text = "{}", tokens_per_second = 20.0 }}
        "#,
        redis_url(),
        text
    ))
    .unwrap();
    let cluster = Cluster::connect(&config.cluster).await.unwrap();
    let registry = ModelRegistry::from_config(&config).await.unwrap();
    let state = AppState::new(ServerConfig::default(), registry)
        .with_keys(keys)
        .unwrap()
        .with_cluster(cluster.as_ref());
    spawn(state).await
}

/// Starts a resumable stream of the slow model on `url`.
async fn start_stream(url: &str) -> reqwest::Response {
    let response = http()
        .post(format!("{url}/v1/chat/completions"))
        .header("x-rill-resumable", "1")
        .json(&json!({"model": "slow", "stream": true,
                      "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "talk"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// The stream's frames after frame `after`, from `url`.
async fn resume(url: &str, id: &str, after: Option<&str>) -> Vec<Frame> {
    let mut request = http().get(format!("{url}/v1/streams/{id}"));
    if let Some(after) = after {
        request = request.header("last-event-id", after);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{id} on {url}");
    all_frames(response).await
}

/// The first `n` or more events of the stream `response`, and the rest of its body, still
/// open, with the decoder that reads it.
async fn opening(
    response: reqwest::Response,
    n: usize,
) -> (
    impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
    rill_sse::Decoder,
    Vec<rill_sse::Event>,
) {
    let mut body = Box::pin(response.bytes_stream());
    let mut decoder = rill_sse::Decoder::new();
    let mut events = Vec::new();
    while events.len() < n {
        events.extend(decoder.feed(&body.next().await.unwrap().unwrap()).unwrap());
    }
    (body, decoder, events)
}

fn text_of(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter(|f| f.data != "[DONE]")
        .filter_map(|f| {
            json(&f.data)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_stream_resumes_exactly_on_another_instance() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let (a, b) = (member(&prefix).await, member(&prefix).await);
    let first = frames_until(start_stream(&a.url).await, |frames| frames.len() >= 6).await;
    let id = json(&first[0].data)["id"].as_str().unwrap().to_owned();
    let last = first.last().unwrap().id.clone();
    // The client went away after six frames, and came back through another instance.
    let rest = resume(&b.url, &id, Some(&last)).await;
    assert_eq!(rest.last().unwrap().data, "[DONE]");
    let whole: Vec<Frame> = first.iter().chain(&rest).cloned().collect();
    let expected = spoken();
    assert_eq!(text_of(&whole), expected);
    // Frame for frame what the instance that generated it replays, and what the other
    // replays from the start.
    assert_eq!(whole, resume(&a.url, &id, None).await);
    assert_eq!(whole, resume(&b.url, &id, None).await);
    let numbers: Vec<u64> = whole.iter().map(|f| f.id.parse().unwrap()).collect();
    assert_eq!(numbers, (0..whole.len() as u64).collect::<Vec<_>>());
    // A third instance of another service knows nothing of it.
    let other = member(&new_prefix()).await;
    let response = http()
        .get(format!("{}/v1/streams/{id}", other.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_reader_on_another_instance_follows_live_and_keeps_the_generation_going() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let (a, b) = (member(&prefix).await, member(&prefix).await);
    // Not resumable: without the reader elsewhere, its client leaving would stop it.
    let own = http()
        .post(format!("{}/v1/chat/completions", a.url))
        .json(&json!({"model": "slow", "stream": true,
                      "messages": [{"role": "user", "content": "talk"}]}))
        .send()
        .await
        .unwrap();
    let (body, _, first) = opening(own, 3).await;
    let id = json(&first[0].data)["id"].as_str().unwrap().to_owned();
    let live = http()
        .get(format!("{}/v1/streams/{id}", b.url))
        .send()
        .await
        .unwrap();
    let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        let mut seen = Some(seen_tx);
        frames_until(live, move |frames| {
            if frames.len() > 3
                && let Some(seen) = seen.take()
            {
                let _ = seen.send(());
            }
            false
        })
        .await
    });
    seen_rx.await.unwrap();
    // The generation's own client leaves; the reader elsewhere still reads it.
    drop(body);
    let frames = reader.await.unwrap();
    let expected = spoken();
    assert_eq!(text_of(&frames), expected);
    assert_eq!(frames.last().unwrap().data, "[DONE]");
}

#[tokio::test]
async fn a_cancel_sent_to_another_instance_stops_the_generation() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let (a, b) = (member(&prefix).await, member(&prefix).await);
    let (mut body, mut decoder, frames) = opening(start_stream(&a.url).await, 3).await;
    let id = json(&frames[0].data)["id"].as_str().unwrap().to_owned();
    let sent = tokio::time::Instant::now();
    let cancel = |url: String| {
        let url = format!("{url}/v1/streams/{id}/cancel");
        async move {
            let response = http().post(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()["status"].clone()
        }
    };
    assert_eq!(cancel(b.url.clone()).await, "cancelled");
    // The generation's own client sees it end with the cancel, at once.
    let mut rest = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("the stream went on")
    {
        rest.extend(decoder.feed(&chunk.unwrap()).unwrap());
    }
    let took = sent.elapsed();
    let error = rest
        .iter()
        .find(|f| f.data.contains("\"error\""))
        .expect("a cancel error");
    assert_eq!(
        json(&error.data)["error"]["type"],
        "cancelled",
        "{}",
        error.data
    );
    assert!(took < Duration::from_secs(1), "the cancel took {took:?}");
    assert!(rest.len() < WORDS, "{} frames after the cancel", rest.len());
    assert_eq!(cancel(b.url.clone()).await, "done");
    assert_eq!(cancel(a.url.clone()).await, "done");
}

#[tokio::test]
async fn a_cancel_sent_elsewhere_the_moment_a_stream_starts_finds_it() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let (a, b) = (member(&prefix).await, member(&prefix).await);
    for _ in 0..10 {
        // The id from the response's headers, before any event: the owner may not have
        // written the stream to Redis yet.
        let response = start_stream(&a.url).await;
        let id = response.headers()["x-rill-stream-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let cancel = http()
            .post(format!("{}/v1/streams/{id}/cancel", b.url))
            .send()
            .await
            .unwrap();
        assert_eq!(cancel.status(), 200);
        let frames = tokio::time::timeout(Duration::from_secs(5), all_frames(response))
            .await
            .expect("the stream went on");
        assert!(
            frames.iter().any(|f| f.data.contains("\"cancelled\"")),
            "{frames:?}"
        );
    }
}

/// Redis stopped until this is dropped (even by a failing test).
struct RedisStopped;

impl RedisStopped {
    fn now() -> Self {
        control("RILL_TEST_REDIS_CTL", "stop");
        Self
    }
}

impl Drop for RedisStopped {
    fn drop(&mut self) {
        control("RILL_TEST_REDIS_CTL", "start");
    }
}

#[tokio::test]
async fn a_lost_redis_refuses_new_generations_keeps_running_streams_and_comes_back() {
    let _alone = REDIS.write().await;
    let a = member(&new_prefix()).await;
    let cached = instance(&new_prefix()).await;
    ask(&cached.url, "/v1/chat/completions", &chat()).await;
    until_hit(
        &cached.url,
        "/v1/chat/completions",
        &chat(),
        Duration::from_secs(5),
    )
    .await
    .expect("stored");
    let running = start_stream(&a.url).await;
    let stopped = RedisStopped::now();
    let ask = || async {
        http()
            .post(format!("{}/v1/messages", a.url))
            .json(&json!({"model": "slow", "max_tokens": 10,
                          "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let response = ask().await;
        if response.status() == 503 {
            break response;
        }
        assert!(tokio::time::Instant::now() < deadline, "never refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("Redis"),
        "{body}"
    );
    // The stream that was running goes on to its end for its own reader.
    let frames = all_frames(running).await;
    let expected = spoken();
    assert_eq!(text_of(&frames), expected);
    drop(stopped);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ask().await.status() != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never accepted again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Redis came back empty: the cache stores the answer again.
    let hit = until_hit(
        &cached.url,
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
        let response = http()
            .post(format!("{url}{path}"))
            .json(body)
            .send()
            .await
            .unwrap();
        // (Refused while the instance waits for Redis to come back.)
        if response.status() == 200 && response.headers()["x-rill-cache"] == "hit" {
            return Some(response.json().await.unwrap());
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

/// An instance of the service `prefix` names, caching the answers of `upstream` (an
/// OpenAI-compatible server).
async fn gateway(prefix: &str, upstream: &str) -> Running {
    let models = format!(
        "[[models]]\nname = \"gpt\"\nprovider = \"openai\"\nbase_url = \"{upstream}/v1\"\n"
    );
    caching(prefix, &models).await
}

/// Asks `url` for a stream of the answer to `question`.
async fn ask_stream(url: &str, question: &str) -> reqwest::Response {
    let response = http()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "gpt", "stream": true, "temperature": 0,
                      "messages": [{"role": "user", "content": question}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

fn cache_header(response: &reqwest::Response) -> String {
    response.headers()["x-rill-cache"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn identical_requests_on_two_instances_share_one_generation() {
    let _shared = REDIS.read().await;
    // A real OpenAI-compatible server on loopback, saying the slow words (2 s).
    let upstream = mock_upstream(text(&spoken(), 20.0)).await;
    let prefix = new_prefix();
    let a = gateway(&prefix, &upstream.url).await;
    let b = gateway(&prefix, &upstream.url).await;

    // A leads; B, asked the same once A streams, reads A's generation from its start.
    let first = ask_stream(&a.url, "talk").await;
    assert_eq!(cache_header(&first), "miss");
    let (body, _, _) = opening(first, 3).await;
    let second = ask_stream(&b.url, "talk").await;
    assert_eq!(cache_header(&second), "hit");
    // A's own client leaves: B's reader keeps the generation going.
    drop(body);
    let frames = all_frames(second).await;
    assert_eq!(text_of(&frames), spoken());
    assert_eq!(frames.last().unwrap().data, "[DONE]");
    assert_eq!(streams_started(&upstream.url).await, 1.0);
    let joined = metric(
        &metrics(&b.url).await,
        "rill_cache_lookups_total{result=\"joined\"}",
    );
    assert_eq!(joined, 1.0);

    // Six at once, three on each instance: one of them leads, the others join.
    let burst = (0..6).map(|n| {
        let url = if n % 2 == 0 { &a.url } else { &b.url };
        async move {
            let response = ask_stream(url, "talk again").await;
            (cache_header(&response), all_frames(response).await)
        }
    });
    let answers = futures_util::future::join_all(burst).await;
    assert_eq!(streams_started(&upstream.url).await, 2.0);
    let misses = answers.iter().filter(|(cache, _)| cache == "miss").count();
    assert_eq!(
        misses,
        1,
        "{:?}",
        answers.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    for (_, frames) in &answers {
        assert_eq!(text_of(frames), spoken());
    }

    // Finished, each answer is stored: a hit on either instance, without the upstream.
    for url in [&a.url, &b.url] {
        let again = ask_stream(url, "talk").await;
        assert_eq!(cache_header(&again), "hit");
        assert_eq!(text_of(&all_frames(again).await), spoken());
    }
    assert_eq!(streams_started(&upstream.url).await, 2.0);
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

/// Starts a stream of the slow model on `url` with `secret`; its status, and the response
/// (kept open: the generation runs while it is).
async fn start_keyed(url: &str, secret: &str) -> reqwest::Response {
    http()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(secret)
        .json(&json!({"model": "slow", "stream": true,
                      "messages": [{"role": "user", "content": "talk"}]}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn three_instances_with_max_concurrent_two_admit_exactly_two() {
    let _shared = REDIS.read().await;
    let prefix = new_prefix();
    let keys = || {
        vec![
            KeyConfig {
                max_concurrent: NonZeroU32::new(2),
                ..key("web", WEB)
            },
            KeyConfig {
                requests_per_minute: NonZeroU32::new(4),
                ..key("other", OTHER)
            },
        ]
    };
    let members = [
        member_with_keys(&prefix, keys()).await,
        member_with_keys(&prefix, keys()).await,
        member_with_keys(&prefix, keys()).await,
    ];
    let mut running = Vec::new();
    let mut refused = 0;
    for round in 0..2 {
        for member in &members {
            let response = start_keyed(&member.url, WEB).await;
            match response.status().as_u16() {
                200 => running.push(response),
                429 => {
                    let body: Value = response.json().await.unwrap();
                    let message = body["error"]["message"].as_str().unwrap();
                    assert!(message.contains("2 concurrent"), "{body}");
                    refused += 1;
                }
                status => panic!("round {round}: {status}"),
            }
        }
    }
    assert_eq!((running.len(), refused), (2, 4));
    // One generation ends (its client leaves): a place frees up, on whichever instance.
    running.pop();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = start_keyed(&members[2].url, WEB).await;
        if response.status() == 200 {
            running.push(response);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never admitted again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(start_keyed(&members[0].url, WEB).await.status(), 429);
    // Requests per minute count on every instance together: 4 of 9.
    let mut admitted = 0;
    for member in members.iter().cycle().take(9) {
        let response = start_keyed(&member.url, OTHER).await;
        admitted += usize::from(response.status() == 200);
    }
    assert_eq!(admitted, 4);
}
