//! Sessions through real sockets: frame ids, resume from `Last-Event-ID`, two
//! subscribers, disconnect versus resumable disconnect, cancel, the replay window, the
//! Responses resume form, heartbeats.

use std::time::Duration;

use futures_util::StreamExt;
use rill_server::{AppState, ModelRegistry, ServerConfig, SessionsConfig};
use serde_json::json;

use crate::support::{
    Observed, all_frames, frames_until, http, metric, metrics, scripted, spawn, text,
};

const STORY: &str = "One two three four five six seven eight nine ten eleven twelve thirteen";

fn sessions(ttl_secs: u64, grace_secs: u64, heartbeat_secs: u64) -> SessionsConfig {
    SessionsConfig {
        ttl_secs,
        grace_secs,
        heartbeat_secs,
        ..SessionsConfig::default()
    }
}

fn state_with(models: Vec<rill_server::ModelEntry>, config: SessionsConfig) -> AppState {
    AppState::new(ServerConfig::default(), ModelRegistry::new(models)).with_sessions(config)
}

async fn start_chat(url: &str, model: &str, resumable: bool) -> reqwest::Response {
    let mut request = http()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({
            "model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}],
        }));
    if resumable {
        request = request.header("x-rill-resumable", "true");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

fn stream_id(response: &reqwest::Response) -> String {
    response.headers()["x-rill-stream-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn resume(url: &str, id: &str, last: Option<&str>) -> reqwest::Response {
    let mut request = http().get(format!("{url}/v1/streams/{id}"));
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn frames_are_numbered_and_a_resume_continues_exactly_where_the_client_was() {
    let state = state_with(
        vec![scripted("story", text(STORY, 100.0))],
        SessionsConfig::default(),
    );
    let server = spawn(state).await;
    let first = start_chat(&server.url, "story", true).await;
    let id = stream_id(&first);
    assert!(id.starts_with("chatcmpl-"), "{id}");
    // Read four frames, then drop the connection mid-answer.
    let head = frames_until(first, |seen| seen.len() >= 4).await;
    let last = head.last().unwrap().id.clone();
    let tail = all_frames(resume(&server.url, &id, Some(&last)).await).await;
    // The whole stream, read once more from the start after it ended.
    let whole = all_frames(resume(&server.url, &id, None).await).await;

    let ids: Vec<String> = (0..whole.len()).map(|n| n.to_string()).collect();
    assert_eq!(whole.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(whole.last().unwrap().data, "[DONE]");
    let mut joined = head[..4].to_vec();
    joined.extend(tail);
    assert_eq!(
        joined, whole,
        "frames were lost or repeated across the resume"
    );
    let text: String = whole
        .iter()
        .filter(|s| s.data != "[DONE]")
        .filter_map(|s| {
            let chunk: serde_json::Value = serde_json::from_str(&s.data).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, STORY);
}

#[tokio::test]
async fn two_subscribers_each_get_the_whole_stream() {
    let state = state_with(
        vec![scripted("story", text(STORY, 100.0))],
        SessionsConfig::default(),
    );
    let server = spawn(state).await;
    let first = start_chat(&server.url, "story", false).await;
    let id = stream_id(&first);
    let second = resume(&server.url, &id, None).await;
    let (a, b) = tokio::join!(all_frames(first), all_frames(second));
    assert!(a.len() > 10, "{a:?}");
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_plain_disconnect_cancels_at_once() {
    let observed = Observed::new(rill_providers::ScriptedProvider::new(
        "slow",
        text(STORY, 5.0),
    ));
    let state = state_with(vec![observed.entry("slow")], SessionsConfig::default());
    let server = spawn(state).await;
    let response = start_chat(&server.url, "slow", false).await;
    let id = stream_id(&response);
    frames_until(response, |seen| !seen.is_empty()).await;
    assert!(observed.wait_dropped(Duration::from_secs(2)).await);
    // The log ends with the cancellation.
    let replay = all_frames(resume(&server.url, &id, None).await).await;
    let error = replay
        .iter()
        .find(|s| s.data.contains("\"error\""))
        .unwrap();
    assert!(error.data.contains("cancelled"), "{error:?}");
}

#[tokio::test]
async fn a_resumable_disconnect_waits_for_the_client_and_then_gives_up() {
    let slow = |name, rate| {
        Observed::new(rill_providers::ScriptedProvider::new(
            name,
            text(STORY, rate),
        ))
    };
    // `gone` would take about 3 s to finish by itself.
    let (back, gone) = (slow("back", 20.0), slow("gone", 5.0));
    let state = state_with(
        vec![back.entry("back"), gone.entry("gone")],
        sessions(600, 1, 15),
    );
    let server = spawn(state).await;

    // Comes back within the grace period: the answer went on meanwhile and is whole.
    let response = start_chat(&server.url, "back", true).await;
    let id = stream_id(&response);
    let head = frames_until(response, |seen| seen.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tail = all_frames(resume(&server.url, &id, Some(&head[1].id)).await).await;
    assert_eq!(tail.last().unwrap().data, "[DONE]");
    assert!(
        !tail.iter().any(|s| s.data.contains("\"error\"")),
        "{tail:?}"
    );

    // Never comes back: cancelled once the grace period is over, not before.
    let response = start_chat(&server.url, "gone", true).await;
    let id = stream_id(&response);
    frames_until(response, |seen| !seen.is_empty()).await;
    assert!(!gone.wait_dropped(Duration::from_millis(500)).await);
    assert!(gone.wait_dropped(Duration::from_millis(1500)).await);
    let replay = all_frames(resume(&server.url, &id, None).await).await;
    assert!(
        replay.iter().any(|s| s.data.contains("cancelled")),
        "{replay:?}"
    );
}

#[tokio::test]
async fn cancel_stops_the_generation_at_once_and_is_idempotent() {
    let observed = Observed::new(rill_providers::ScriptedProvider::new(
        "slow",
        text(STORY, 5.0),
    ));
    let state = state_with(vec![observed.entry("slow")], SessionsConfig::default());
    let server = spawn(state).await;
    let response = start_chat(&server.url, "slow", false).await;
    let id = stream_id(&response);
    let reader = tokio::spawn(all_frames(response));
    let cancel = || {
        http()
            .post(format!("{}/v1/streams/{id}/cancel", server.url))
            .send()
    };
    let first = cancel().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap(),
        json!({"id": id, "object": "stream", "status": "cancelled"})
    );
    assert!(observed.wait_dropped(Duration::from_millis(500)).await);
    // The connected client got the end in its own dialect.
    let frames = reader.await.unwrap();
    assert!(
        frames.iter().any(|s| s.data.contains("cancelled")),
        "{frames:?}"
    );
    assert_eq!(frames.last().unwrap().data, "[DONE]");
    let again = cancel().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["status"],
        "done"
    );
}

#[tokio::test]
async fn after_the_replay_window_a_stream_is_gone_and_an_unknown_one_never_was() {
    let state = state_with(
        vec![scripted("story", text("short", 0.0))],
        sessions(1, 30, 15),
    );
    let server = spawn(state).await;
    let response = start_chat(&server.url, "story", false).await;
    let id = stream_id(&response);
    all_frames(response).await;
    assert_eq!(resume(&server.url, &id, None).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let gone = resume(&server.url, &id, None).await;
    assert_eq!(gone.status(), 410);
    let body: serde_json::Value = gone.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    let cancel = http()
        .post(format!("{}/v1/streams/{id}/cancel", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 410);
    assert_eq!(
        resume(&server.url, "chatcmpl-nope", None).await.status(),
        404
    );
}

#[tokio::test]
async fn past_max_finished_the_oldest_finished_stream_goes_first() {
    let config = SessionsConfig {
        max_finished: 2,
        ..SessionsConfig::default()
    };
    let state = state_with(vec![scripted("story", text("short", 0.0))], config);
    let server = spawn(state).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = start_chat(&server.url, "story", false).await;
        ids.push(stream_id(&response));
        all_frames(response).await;
    }
    // The third finished a moment after its last frame went out.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(resume(&server.url, &ids[0], None).await.status(), 410);
    for id in &ids[1..] {
        assert_eq!(resume(&server.url, id, None).await.status(), 200);
    }
}

#[tokio::test]
async fn a_last_event_id_that_is_not_a_frame_id_is_refused() {
    let state = state_with(
        vec![scripted("story", text("short", 0.0))],
        SessionsConfig::default(),
    );
    let server = spawn(state).await;
    let response = start_chat(&server.url, "story", false).await;
    let id = stream_id(&response);
    all_frames(response).await;
    for bad in ["abc", "-1", "1.5", ""] {
        let refused = resume(&server.url, &id, Some(bad)).await;
        assert_eq!(refused.status(), 400, "{bad:?}");
    }
    let refused = http()
        .get(format!("{}/v1/streams/{id}?after=x", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn responses_resume_with_their_own_sequence_numbers() {
    let state = state_with(
        vec![scripted("story", text(STORY, 100.0))],
        SessionsConfig::default(),
    );
    let server = spawn(state).await;
    let response = http()
        .post(format!("{}/v1/responses", server.url))
        .json(&json!({"model": "story", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let id = stream_id(&response);
    assert!(id.starts_with("resp_"), "{id}");
    let whole = all_frames(response).await;
    // Frame ids are the events' own sequence numbers.
    for frame in &whole {
        let data: serde_json::Value = serde_json::from_str(&frame.data).unwrap();
        assert_eq!(data["sequence_number"].to_string(), frame.id);
        assert_eq!(data["type"], frame.event.as_str());
    }
    let tail = all_frames(
        http()
            .get(format!(
                "{}/v1/responses/{id}?stream=true&starting_after=3",
                server.url
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(tail, whole[4..]);
    let not_streamed = http()
        .get(format!("{}/v1/responses/{id}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(not_streamed.status(), 400);
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeats() {
    let script = rill_providers::ScriptConfig {
        text: Some("a b c".into()),
        stall_after: 1,
        stall_ms: Some(2500),
        ..rill_providers::ScriptConfig::default()
    };
    let state = state_with(vec![scripted("stall", script)], sessions(600, 30, 1));
    let server = spawn(state).await;
    let response = start_chat(&server.url, "stall", false).await;
    let mut body = response.bytes_stream();
    let mut raw = String::new();
    while let Some(chunk) = body.next().await {
        raw.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    assert!(raw.matches(": keep-alive\n\n").count() >= 2, "{raw}");
    assert!(raw.ends_with("data: [DONE]\n\n"), "{raw}");
}

/// The bytes the session logs hold.
async fn replay_bytes(url: &str) -> u64 {
    metric(&metrics(url).await, "rill_sessions_replay_bytes") as u64
}

#[tokio::test]
async fn many_long_finished_streams_keep_the_logs_under_max_replay_bytes() {
    const MAX: u64 = 2_000_000;
    let long = "word ".repeat(5_000);
    let config = SessionsConfig {
        max_replay_bytes: MAX,
        ..SessionsConfig::default()
    };
    let state = state_with(vec![scripted("long", text(&long, 0.0))], config);
    let server = spawn(state).await;
    assert_eq!(replay_bytes(&server.url).await, 0);
    let mut ids = Vec::new();
    let mut peak = 0;
    let mut last = Vec::new();
    for _ in 0..40 {
        // Four at a time, so that logs finish while others still run.
        let batch: Vec<_> = (0..4)
            .map(|_| start_chat(&server.url, "long", false))
            .collect();
        for response in futures_util::future::join_all(batch).await {
            ids.push(stream_id(&response));
            last = all_frames(response).await;
            assert_eq!(last.last().unwrap().data, "[DONE]");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let held = replay_bytes(&server.url).await;
        assert!(held <= MAX, "{held} bytes held, over {MAX}");
        peak = peak.max(held);
    }
    // Each log is about 5,000 events: well over a tenth of the bound, so the bound was
    // reached, and held, many times over.
    assert!(peak > MAX / 2, "the logs never came near the bound: {peak}");
    assert_eq!(resume(&server.url, &ids[0], None).await.status(), 410);
    let newest = resume(&server.url, ids.last().unwrap(), None).await;
    assert_eq!(newest.status(), 200);
    assert!(last.len() > 5_000, "{} frames", last.len());
    assert_eq!(all_frames(newest).await, last);
}
