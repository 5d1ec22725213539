//! 2,000 concurrent streams through a real rill gateway in front of a real (scripted)
//! OpenAI-compatible upstream, as `rill mock-upstream` serves it: every stream completes,
//! its frames are numbered without a gap or a repeat, and its text is exactly the
//! upstream's. (Memory and CPU per stream are measured by `bench/run gateway`.)

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rill_providers::{OpenAiProvider, ScriptedProvider};
use rill_server::{AppState, ModelEntry, ModelRegistry, ServerConfig};
use serde_json::json;

use crate::support::{spawn, text};

const STREAMS: usize = 2_000;
const ANSWER: &str =
    "Every stream gets all of these words, in order, exactly once, and then it ends.";

async fn one(client: reqwest::Client, url: String, n: usize) -> Result<(), String> {
    let response = client
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({
            "model": "gateway", "stream": true,
            "messages": [{"role": "user", "content": format!("stream {n}")}],
        }))
        .send()
        .await
        .map_err(|e| format!("stream {n}: {e}"))?;
    if response.status() != 200 {
        return Err(format!("stream {n}: status {}", response.status()));
    }
    let mut decoder = rill_sse::Decoder::new();
    let mut body = response.bytes_stream();
    let (mut frames, mut text, mut done) = (0usize, String::new(), false);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("stream {n}: {e}"))?;
        for event in decoder
            .feed(&chunk)
            .map_err(|e| format!("stream {n}: {e}"))?
        {
            if event.last_event_id != frames.to_string() {
                return Err(format!(
                    "stream {n}: frame {frames} has id {:?}",
                    event.last_event_id
                ));
            }
            frames += 1;
            if event.data == "[DONE]" {
                done = true;
                continue;
            }
            let chunk: serde_json::Value =
                serde_json::from_str(&event.data).map_err(|e| format!("stream {n}: {e}"))?;
            if chunk.get("error").is_some() {
                return Err(format!("stream {n}: {chunk}"));
            }
            if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str() {
                text.push_str(piece);
            }
        }
    }
    if !done || text != ANSWER {
        return Err(format!("stream {n}: done {done}, text {text:?}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_streams_all_complete_with_nothing_lost_or_repeated() {
    // The upstream: what `rill mock-upstream` runs, ~20 tokens at 40 tokens/s each.
    let mock = Arc::new(ScriptedProvider::new("mock", text(ANSWER, 40.0)));
    let upstream = spawn(AppState::new(
        ServerConfig::default(),
        ModelRegistry::catch_all(mock),
    ))
    .await;
    let provider = OpenAiProvider::new("gateway", "mock", &upstream.url, None).unwrap();
    let gateway = spawn(AppState::new(
        ServerConfig::default(),
        ModelRegistry::new(vec![ModelEntry {
            name: "gateway".into(),
            owned_by: "rill",
            provider: Arc::new(provider),
        }]),
    ))
    .await;

    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..STREAMS)
        .map(|n| tokio::spawn(one(client.clone(), gateway.url.clone(), n)))
        .collect();
    let results = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(tasks),
    )
    .await
    .expect("the streams did not finish within 120 s");
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.map_err(|e| e.to_string()).and_then(|r| r).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {STREAMS} streams failed; first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}
