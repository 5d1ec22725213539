//! The stream encoder, as snapshots of the exact SSE bytes a client receives. Ids and
//! timestamps are fixed test values, so the snapshots need no filters. `wire` checks
//! every event's name against its `type` and the `sequence_number`s.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::openai_responses::{Echo, SseEvent, StreamEncoder};
use serde_json::Value;

use super::support::{names, snapshots, wire};

const ID: &str = "resp_test123";
const MODEL: &str = "rill-test";
const CREATED: u64 = 1_700_000_000;

fn encoder() -> StreamEncoder {
    StreamEncoder::new(ID.into(), MODEL.into(), CREATED, Echo::default())
}

fn encode_events(events: &[StreamEvent]) -> Vec<SseEvent> {
    let mut encoder = encoder();
    let mut out: Vec<SseEvent> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    assert!(encoder.is_done());
    out
}

fn encode(events: &[StreamEvent]) -> String {
    wire(&encode_events(events))
}

fn data(event: &SseEvent) -> Value {
    serde_json::from_str(&event.data).unwrap()
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        model: "upstream-model".into(),
    }
}

fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    }
}

fn call(index: u32, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

fn args(index: u32, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    }
}

#[test]
fn text_stream_with_usage() {
    let out = encode(&[
        start(),
        text("Hello"),
        text(", \"world\"\n"),
        StreamEvent::Usage(Usage {
            input_tokens: 12,
            output_tokens: 5,
            reasoning_tokens: Some(2),
            cached_input_tokens: Some(8),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_text_stream", out));
}

/// Two calls whose fragments interleave: both items stay open, each delta names its own.
#[test]
fn parallel_function_calls() {
    let out = encode(&[
        start(),
        text("Let me check."),
        call(0, "call_a", "get_weather"),
        args(0, "{\"city\":"),
        call(1, "call_b", "get_time"),
        args(1, "{\"tz\":\"UTC\"}"),
        args(0, "\"Paris\"}"),
        StreamEvent::ToolCallEnd { index: 1 },
        StreamEvent::ToolCallEnd { index: 0 },
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::Usage(usage(30, 20)),
    ]);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_function_calls", out));
}

#[test]
fn reasoning_then_text() {
    let out = encode(&[
        start(),
        StreamEvent::ReasoningDelta("Greet".into()),
        StreamEvent::ReasoningDelta(" them.".into()),
        text("Hi!"),
        StreamEvent::Finish(FinishReason::Stop),
        StreamEvent::Usage(Usage {
            reasoning_tokens: Some(2),
            ..usage(3, 4)
        }),
    ]);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_reasoning_stream", out));
}

#[test]
fn length_is_incomplete() {
    let events = encode_events(&[
        start(),
        text("Once upon a"),
        StreamEvent::Finish(FinishReason::Length),
        StreamEvent::Usage(usage(4, 3)),
    ]);
    let last = data(events.last().unwrap());
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        serde_json::json!({"reason": "max_output_tokens"})
    );
    assert_eq!(last["response"]["output"][0]["status"], "incomplete");
    let out = wire(&events);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_length_incomplete", out));
}

#[test]
fn content_filter_is_incomplete() {
    let events = encode_events(&[start(), StreamEvent::Finish(FinishReason::ContentFilter)]);
    let last = events.last().unwrap();
    assert_eq!(last.event, "response.incomplete");
    let last = data(last);
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "content_filter"
    );
    assert_eq!(last["response"]["usage"], Value::Null);
}

#[test]
fn error_mid_stream() {
    let events = encode_events(&[
        start(),
        text("Partial"),
        StreamEvent::Error(Error::new(ErrorKind::Overloaded, "no capacity right now")),
        text("never sent"),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    assert_eq!(
        names(&events[events.len() - 2..]),
        ["error", "response.failed"]
    );
    let out = wire(&events);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_error_mid_stream", out));
}

/// The terminal event waits after `Finish` and goes out with the late usage at once.
#[test]
fn usage_after_finish() {
    let mut encoder = encoder();
    let mut out = Vec::new();
    for event in [start(), text("a"), StreamEvent::Finish(FinishReason::Stop)] {
        out.extend(encoder.encode(&event));
    }
    assert_eq!(
        names(&out),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
        ]
    );
    assert!(!encoder.is_done());
    let late = encoder.encode(&StreamEvent::Usage(usage(7, 1)));
    assert_eq!(names(&late), ["response.completed"]);
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty());
    out.extend(late);
    let out = wire(&out);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_usage_after_finish", out));
}

#[test]
fn usage_before_finish_waits_for_the_end_of_the_stream() {
    let mut encoder = encoder();
    assert!(encoder.encode(&StreamEvent::Usage(usage(5, 1))).is_empty());
    let out = encoder.encode(&StreamEvent::Finish(FinishReason::Stop));
    // No `Start` and no content: the stream still starts, with one empty message.
    assert_eq!(
        names(&out)[..3],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added"
        ]
    );
    assert!(!names(&out).contains(&"response.output_text.delta"));
    let end = encoder.finish();
    assert_eq!(names(&end), ["response.completed"]);
    let end = data(&end[0]);
    assert_eq!(
        end["response"]["usage"],
        serde_json::json!({
            "input_tokens": 5,
            "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
            "output_tokens": 1,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 6
        })
    );
    assert_eq!(
        end["response"]["output"][0]["content"],
        serde_json::json!([{"type": "output_text", "annotations": [], "logprobs": [], "text": ""}])
    );
}

#[test]
fn finish_reasons_and_statuses() {
    for (reason, event, status) in [
        (FinishReason::Stop, "response.completed", "completed"),
        (
            FinishReason::StopSequence,
            "response.completed",
            "completed",
        ),
        (FinishReason::ToolCalls, "response.completed", "completed"),
        (FinishReason::Length, "response.incomplete", "incomplete"),
        (
            FinishReason::ContentFilter,
            "response.incomplete",
            "incomplete",
        ),
    ] {
        let out = encode_events(&[start(), text("x"), StreamEvent::Finish(reason)]);
        let last = out.last().unwrap();
        assert_eq!(last.event, event, "{reason:?}");
        assert_eq!(data(last)["response"]["status"], status, "{reason:?}");
    }
}

/// Refusal text is a `refusal` part of the message; text after it opens a new part.
#[test]
fn refusal_parts() {
    let out = encode_events(&[
        start(),
        text("Well"),
        StreamEvent::RefusalDelta("I can't help with that.".into()),
        text(" then."),
        StreamEvent::Finish(FinishReason::Stop),
    ]);
    wire(&out);
    let parts: Vec<String> = out
        .iter()
        .filter(|e| e.event.starts_with("response.content_part") || e.event.contains("refusal"))
        .map(|e| {
            let data = data(e);
            format!(
                "{} {} {}",
                e.event, data["content_index"], data["part"]["type"]
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            r#"response.content_part.added 0 "output_text""#,
            r#"response.content_part.done 0 "output_text""#,
            r#"response.content_part.added 1 "refusal""#,
            "response.refusal.delta 1 null",
            "response.refusal.done 1 null",
            r#"response.content_part.done 1 "refusal""#,
            r#"response.content_part.added 2 "output_text""#,
            r#"response.content_part.done 2 "output_text""#,
        ]
    );
    let done = data(&out[out.len() - 2]);
    assert_eq!(
        done["item"]["content"][1],
        serde_json::json!({"type": "refusal", "refusal": "I can't help with that."})
    );
}

/// Content that comes after a call started opens a new item after it; an item of one
/// kind ends when content of another kind comes.
#[test]
fn output_indexes_follow_the_order_items_open() {
    let out = encode_events(&[
        start(),
        StreamEvent::ReasoningDelta("plan".into()),
        text("a"),
        call(0, "", "f"),
        text("b"),
        args(0, "{}"),
        StreamEvent::ToolCallEnd { index: 0 },
        args(1, "{\"x\":1}"),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    wire(&out);
    let items: Vec<String> = out
        .iter()
        .filter(|e| e.event.starts_with("response.output_item"))
        .map(|e| {
            let data = data(e);
            let item = &data["item"];
            format!(
                "{} {} {} {}",
                e.event, data["output_index"], item["type"], item["id"]
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            r#"response.output_item.added 0 "reasoning" "rs_test123_0""#,
            r#"response.output_item.done 0 "reasoning" "rs_test123_0""#,
            r#"response.output_item.added 1 "message" "msg_test123_1""#,
            r#"response.output_item.done 1 "message" "msg_test123_1""#,
            r#"response.output_item.added 2 "function_call" "fc_test123_2""#,
            r#"response.output_item.added 3 "message" "msg_test123_3""#,
            r#"response.output_item.done 2 "function_call" "fc_test123_2""#,
            r#"response.output_item.done 3 "message" "msg_test123_3""#,
            // A fragment of a call that never started opens it unnamed.
            r#"response.output_item.added 4 "function_call" "fc_test123_4""#,
            r#"response.output_item.done 4 "function_call" "fc_test123_4""#,
        ]
    );
    let added = out
        .iter()
        .find(|e| e.data.contains("fc_test123_4"))
        .unwrap();
    assert!(
        added
            .data
            .contains(r#""call_id":"call_test123_1","name":"""#),
        "{}",
        added.data
    );
    let completed = data(out.last().unwrap());
    let types: Vec<&str> = completed["response"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "reasoning",
            "message",
            "function_call",
            "message",
            "function_call"
        ]
    );
}

#[test]
fn a_stream_that_ends_without_finishing_ends_in_an_error() {
    let out = encode_events(&[start(), text("cut")]);
    assert_eq!(names(&out[out.len() - 2..]), ["error", "response.failed"]);
    assert_eq!(
        out[out.len() - 2].data,
        format!(
            r#"{{"type":"error","sequence_number":{},"code":"server_error","message":"the stream ended before the generation finished","param":null,"error":{{"message":"the stream ended before the generation finished","type":"upstream_error","param":null,"code":null}}}}"#,
            out.len() - 2
        )
    );
    let failed = data(out.last().unwrap());
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(
        failed["response"]["error"],
        serde_json::json!({"code": "server_error", "message": "the stream ended before the generation finished"})
    );
    // The item that was streaming is reported as it stood.
    assert_eq!(failed["response"]["output"][0]["status"], "in_progress");
}

#[test]
fn nothing_after_done() {
    let mut encoder = encoder();
    assert_eq!(encoder.encode(&start()).len(), 2);
    assert!(
        encoder.encode(&start()).is_empty(),
        "one response.created only"
    );
    assert!(
        encoder.encode(&text("")).is_empty(),
        "empty deltas are skipped"
    );
    assert!(
        encoder.encode(&args(0, "")).is_empty(),
        "empty fragments too"
    );
    let out = encoder.encode(&StreamEvent::Error(Error::internal("boom")));
    assert_eq!(names(&out), ["error", "response.failed"]);
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty());
    assert!(encoder.encode(&text("late")).is_empty());
    assert!(
        encoder
            .encode(&StreamEvent::Finish(FinishReason::Stop))
            .is_empty()
    );
}

/// A signature is the `encrypted_content` of the reasoning item it ends, or of a
/// summary-less item of its own; a redacted block has no place in this dialect.
#[test]
fn reasoning_signatures_are_encrypted_content() {
    let events = encode_events(&[
        start(),
        StreamEvent::ReasoningDelta("Plan the call.".into()),
        StreamEvent::ReasoningSignature("enc-1".into()),
        StreamEvent::ReasoningRedacted("opaque".into()),
        text("Checking."),
        StreamEvent::ReasoningSignature("enc-2".into()),
        call(0, "call_1", "get_weather"),
        args(0, "{}"),
        StreamEvent::ToolCallEnd { index: 0 },
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    let out = wire(&events);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_reasoning_signatures", out));
    let last = data(events.last().unwrap());
    let reasoning: Vec<_> = last["response"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "reasoning")
        .map(|item| (item["summary"].clone(), item["encrypted_content"].clone()))
        .collect();
    assert_eq!(
        reasoning,
        [
            (
                serde_json::json!([{"type": "summary_text", "text": "Plan the call."}]),
                serde_json::json!("enc-1")
            ),
            (serde_json::json!([]), serde_json::json!("enc-2")),
        ]
    );
}
