//! Faults in every client dialect: the frames a client gets are numbered without a gap or
//! a repeat, the outcome is the dialect's own error, and the partial answer stays in the
//! session log; a slow reader slows nobody.

use std::time::Duration;

use rill_providers::{ScriptConfig, ScriptedProvider};
use serde_json::{Value, json};

use crate::support::{Frame, Observed, all_frames, http, scripted, spawn, state, text};

const STORY: &str = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";

/// One client dialect: where it posts, what it posts, how its stream ends in an error.
struct Dialect {
    name: &'static str,
    path: &'static str,
    body: fn(&str) -> Value,
    /// Whether `frames` end the way this dialect ends a failed stream.
    failed: fn(&[Frame]) -> bool,
}

fn data_error_then_done(frames: &[Frame], error_type: &str) -> bool {
    let n = frames.len();
    n >= 2
        && frames[n - 1].data == "[DONE]"
        && serde_json::from_str::<Value>(&frames[n - 2].data)
            .is_ok_and(|v| v["type"] == error_type || v.get("error").is_some())
}

const DIALECTS: [Dialect; 4] = [
    Dialect {
        name: "chat",
        path: "/v1/chat/completions",
        body: |model| json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        failed: |frames| data_error_then_done(frames, "none"),
    },
    Dialect {
        name: "responses",
        path: "/v1/responses",
        body: |model| json!({"model": model, "stream": true, "input": "hi"}),
        failed: |frames| {
            frames.iter().any(|f| f.event == "error")
                && frames.last().is_some_and(|f| f.event == "response.failed")
        },
    },
    Dialect {
        name: "messages",
        path: "/v1/messages",
        body: |model| json!({"model": model, "stream": true, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}),
        failed: |frames| frames.last().is_some_and(|f| f.event == "error"),
    },
    Dialect {
        name: "ui",
        path: "/api/chat",
        body: |model| {
            json!({"model": model, "id": "chat-1", "trigger": "submit-message",
                "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}]})
        },
        failed: |frames| data_error_then_done(frames, "error"),
    },
];

fn contiguous(frames: &[Frame]) -> bool {
    frames
        .iter()
        .enumerate()
        .all(|(n, frame)| frame.id == n.to_string())
}

async fn post(url: &str, dialect: &Dialect, model: &str) -> reqwest::Response {
    let response = http()
        .post(format!("{url}{}", dialect.path))
        .json(&(dialect.body)(model))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", dialect.name);
    response
}

/// Runs `model` through every dialect: the client's frames are contiguous and end in the
/// dialect's error, the text before the fault reached it, and the session log replays
/// exactly what it got.
async fn every_dialect_fails_cleanly(script: ScriptConfig) {
    let server = spawn(state(vec![scripted("faulty", script)])).await;
    for dialect in &DIALECTS {
        let response = post(&server.url, dialect, "faulty").await;
        let id = response.headers()["x-rill-stream-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let got = all_frames(response).await;
        assert!(contiguous(&got), "{}: {got:?}", dialect.name);
        assert!((dialect.failed)(&got), "{}: {got:?}", dialect.name);
        assert!(
            got.iter().any(|f| f.data.contains("Alpha")),
            "{}: the text before the fault is missing: {got:?}",
            dialect.name
        );
        let replay = http()
            .get(format!("{}/v1/streams/{id}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(all_frames(replay).await, got, "{}", dialect.name);
    }
}

#[tokio::test]
async fn an_upstream_that_closes_mid_stream_is_an_error_in_every_dialect() {
    every_dialect_fails_cleanly(ScriptConfig {
        close_after: Some(3),
        ..text(STORY, 200.0)
    })
    .await;
}

#[tokio::test]
async fn an_upstream_error_mid_stream_is_an_error_in_every_dialect() {
    every_dialect_fails_cleanly(ScriptConfig {
        error_after: Some(3),
        ..text(STORY, 200.0)
    })
    .await;
}

#[tokio::test]
async fn a_clean_answer_is_contiguous_in_every_dialect() {
    let server = spawn(state(vec![scripted("story", text(STORY, 200.0))])).await;
    for dialect in &DIALECTS {
        let got = all_frames(post(&server.url, dialect, "story").await).await;
        assert!(contiguous(&got), "{}: {got:?}", dialect.name);
        assert!(!(dialect.failed)(&got), "{}: {got:?}", dialect.name);
    }
}

/// A reader that stops reading holds up neither the generation nor another reader of the
/// same stream, and later gets every frame.
#[tokio::test]
async fn a_slow_reader_slows_nobody_and_misses_nothing() {
    // Megabytes of frames, as fast as the provider makes them: more than the socket
    // buffers hold, so a reader that stops reading pushes back on its connection.
    let long = STORY.repeat(1000);
    let observed = Observed::new(ScriptedProvider::new("long", text(&long, 0.0)));
    let server = spawn(state(vec![observed.entry("long")])).await;
    let fast = post(&server.url, &DIALECTS[0], "long").await;
    let id = fast.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned();
    // The slow reader subscribes, then reads nothing for a while.
    let slow = http()
        .get(format!("{}/v1/streams/{id}", server.url))
        .send()
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let fast_frames = all_frames(fast).await;
    let fast_took = started.elapsed();
    // The generation is over while the slow reader has not read a byte.
    assert!(observed.wait_dropped(Duration::from_secs(1)).await);
    let produced = observed.produced.lock().unwrap().clone();
    let generation = produced.last().unwrap().0 - produced.first().unwrap().0;
    // The fast reader finished with the generation itself (not held back to the slow
    // reader's pace, which is zero).
    assert!(
        fast_took < generation + Duration::from_millis(500),
        "fast reader took {fast_took:?}, generation {generation:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let slow_frames = all_frames(slow).await;
    assert_eq!(slow_frames, fast_frames);
    assert!(contiguous(&slow_frames));
}
