//! Limits count what was delivered: a stream that ends without its usage report
//! (disconnect, cancel, failure) is still charged to the key's tokens per minute, and
//! replays count against its requests per minute.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ChatRequest, EventStream, Provider, ProviderFuture, StreamEvent};
use rill_providers::ScriptConfig;
use rill_server::{KeyConfig, ModelEntry};
use serde_json::json;

use crate::keys::{Auth, WEB, key, keyed};
use crate::support::*;

async fn tokens(url: &str) -> (u64, u64) {
    let text = http()
        .get(format!("{url}/metrics"))
        .bearer_auth(WEB)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (
        metric(&text, "rill_key_tokens_total{key=\"web\"}") as u64,
        metric(&text, "rill_key_estimated_tokens_total{key=\"web\"}") as u64,
    )
}

/// Waits until the key has been charged something (estimates are made off the async
/// workers, a moment after the stream ends).
async fn charged(url: &str) -> (u64, u64) {
    for _ in 0..100 {
        let now = tokens(url).await;
        if now.0 > 0 {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing was charged");
}

async fn stream(url: &str, model: &str) -> reqwest::Response {
    let response = Auth::Bearer(WEB)
        .reqwest(http().post(format!("{url}/v1/chat/completions")))
        .json(&json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// Reads `n` content chunks of a chat stream.
async fn read_chunks(response: &mut reqwest::Response, n: usize) -> String {
    let mut decoder = rill_sse::Decoder::new();
    let mut text = String::new();
    let mut seen = 0;
    while seen < n {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the stream ended early");
        for event in decoder.feed(&chunk).unwrap() {
            let value: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            if let Some(piece) = value["choices"][0]["delta"]["content"].as_str() {
                text.push_str(piece);
                seen += 1;
            }
        }
    }
    text
}

fn limited() -> KeyConfig {
    KeyConfig {
        tokens_per_minute: NonZeroU64::new(20),
        ..key("web", WEB)
    }
}

async fn refused(url: &str) -> bool {
    let response = Auth::Bearer(WEB)
        .reqwest(http().post(format!("{url}/v1/chat/completions")))
        .json(&json!({"model": "long", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    response.status() == 429
}

#[tokio::test]
async fn a_stream_ended_before_its_usage_is_charged_an_estimate_of_what_it_delivered() {
    // Three ways to end without a report: the client leaves, the client cancels, the
    // upstream fails.
    let words: String = (0..400).map(|i| format!("word{i} ")).collect();
    let failing = ScriptConfig {
        error_after: Some(60),
        ..text(&words, 400.0)
    };
    for ending in ["disconnect", "cancel", "failure"] {
        let server = spawn(keyed(
            vec![
                scripted("long", text(&words, 400.0)),
                scripted("failing", failing.clone()),
            ],
            vec![limited()],
        ))
        .await;
        let model = if ending == "failure" {
            "failing"
        } else {
            "long"
        };
        let mut response = stream(&server.url, model).await;
        let id = response.headers()["x-rill-stream-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let delivered = read_chunks(&mut response, 40).await;
        match ending {
            "disconnect" => drop(response),
            "cancel" => {
                let cancel = Auth::Bearer(WEB)
                    .reqwest(http().post(format!("{}/v1/streams/{id}/cancel", server.url)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(cancel.status(), 200);
                drop(response);
            }
            _ => while response.chunk().await.unwrap().is_some() {},
        }
        let (total, estimated) = charged(&server.url).await;
        assert_eq!(total, estimated, "{ending}: all of it is an estimate");
        // At least what was read (each "wordN " is two or three tokens), well under the
        // whole answer.
        let read_tokens = delivered.split_whitespace().count() as u64;
        assert!(
            total >= 2 * read_tokens,
            "{ending}: {total} for {delivered:?}"
        );
        assert!(total < 1200, "{ending}: {total}");
        assert!(
            refused(&server.url).await,
            "{ending}: the key is over its limit now"
        );
    }
}

/// A provider that counts its tokens as the engine does, streams five and then waits
/// forever without a usage report.
struct Counting;

impl Provider for Counting {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        Box::pin(async move {
            let tally = request.tally;
            tally.set_input(7);
            let start = futures_util::stream::iter([StreamEvent::Start {
                model: "counting".into(),
            }]);
            let deltas = futures_util::stream::iter(0..5).map(move |i| {
                tally.add_output(1);
                StreamEvent::TextDelta(format!("t{i} "))
            });
            let stream = start.chain(deltas).chain(futures_util::stream::pending());
            Ok(Box::pin(stream) as EventStream)
        })
    }
}

#[tokio::test]
async fn a_provider_that_counts_as_it_goes_is_charged_its_exact_count() {
    let entry = ModelEntry {
        name: "counting".into(),
        owned_by: "rill",
        provider: std::sync::Arc::new(Counting),
    };
    let server = spawn(keyed(vec![entry], vec![limited()])).await;
    let mut response = stream(&server.url, "counting").await;
    assert_eq!(read_chunks(&mut response, 5).await, "t0 t1 t2 t3 t4 ");
    drop(response);
    // The prompt's 7 and the 5 generated: not an estimate of the text, but still not a
    // report from the stream.
    assert_eq!(charged(&server.url).await, (12, 12));
}

#[tokio::test]
async fn replays_count_against_the_keys_requests_per_minute() {
    let web = KeyConfig {
        requests_per_minute: NonZeroU32::new(3),
        ..key("web", WEB)
    };
    let server = spawn(keyed(vec![scripted("long", text("a b c", 0.0))], vec![web])).await;
    let response = stream(&server.url, "long").await;
    let id = response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    all_frames(response).await;
    let resume = |path: String| {
        Auth::Bearer(WEB)
            .reqwest(http().get(format!("{}{path}", server.url)))
            .send()
    };
    // The generation was the first request of the minute; two replays fill it.
    for _ in 0..2 {
        let replay = resume(format!("/v1/streams/{id}")).await.unwrap();
        assert_eq!(replay.status(), 200);
        assert!(!all_frames(replay).await.is_empty());
    }
    let refused = resume(format!("/v1/streams/{id}?after=2")).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 requests per minute"),
        "{body}"
    );
    // Stopping what it started is never refused.
    let cancel = Auth::Bearer(WEB)
        .reqwest(http().post(format!("{}/v1/streams/{id}/cancel", server.url)))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
}
