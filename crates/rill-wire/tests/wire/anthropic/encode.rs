//! The stream encoder, as snapshots of the exact SSE bytes a client receives. Ids are
//! fixed test values, so the snapshots need no filters.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::anthropic::{SseEvent, StreamEncoder};

use super::support::{snapshots, wire};

const ID: &str = "msg_test123";
const MODEL: &str = "rill-test";

fn encode_with(thinking: bool, events: &[StreamEvent]) -> Vec<SseEvent> {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), thinking);
    let mut out: Vec<SseEvent> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    assert!(encoder.is_done());
    out
}

fn encode(events: &[StreamEvent]) -> String {
    wire(&encode_with(false, events))
}

fn names(events: &[SseEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event).collect()
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
fn text_stream() {
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
    snapshots().bind(|| insta::assert_snapshot!("anthropic_text_stream", out));
}

/// Call 1 starts while call 0 is still open: it waits, whole, until call 0 ends.
#[test]
fn tool_call_stream_with_two_parallel_calls() {
    let out = encode(&[
        start(),
        text("Let me check."),
        call(0, "toolu_a", "get_weather"),
        args(0, "{\"city\":"),
        call(1, "toolu_b", "get_time"),
        args(1, "{\"tz\":\"UTC\"}"),
        args(0, "\"Paris\"}"),
        StreamEvent::ToolCallEnd { index: 0 },
        StreamEvent::ToolCallEnd { index: 1 },
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::Usage(usage(30, 20)),
    ]);
    snapshots().bind(|| insta::assert_snapshot!("anthropic_tool_call_stream", out));
}

#[test]
fn reasoning_stream() {
    let events = [
        start(),
        StreamEvent::ReasoningDelta("Greet".into()),
        StreamEvent::ReasoningDelta(" them.".into()),
        text("Hi!"),
        StreamEvent::Finish(FinishReason::Stop),
        StreamEvent::Usage(usage(3, 4)),
    ];
    let out = wire(&encode_with(true, &events));
    snapshots().bind(|| insta::assert_snapshot!("anthropic_reasoning_stream", out));
    // A client that did not ask for thinking gets none, as from Claude.
    let out = encode(&events);
    assert!(!out.contains("thinking"), "{out}");
    assert!(out.contains(r#""index":0,"delta":{"type":"text_delta","text":"Hi!"}"#));
}

#[test]
fn error_mid_stream() {
    let out = encode_with(
        false,
        &[
            start(),
            text("Partial"),
            StreamEvent::Error(Error::new(ErrorKind::Overloaded, "no capacity right now")),
            text("never sent"),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    );
    assert_eq!(out.last().map(|e| e.event), Some("error"));
    let out = wire(&out);
    snapshots().bind(|| insta::assert_snapshot!("anthropic_error_mid_stream", out));
}

/// `message_delta` waits after `Finish` and goes out with the late usage at once.
#[test]
fn usage_after_finish() {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), false);
    let mut out = Vec::new();
    for event in [
        start(),
        text("a"),
        StreamEvent::Finish(FinishReason::Length),
    ] {
        out.extend(encoder.encode(&event));
    }
    assert_eq!(
        names(&out),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop"
        ]
    );
    assert!(!encoder.is_done());
    let late = encoder.encode(&StreamEvent::Usage(usage(7, 1)));
    assert_eq!(names(&late), ["message_delta", "message_stop"]);
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty());
    out.extend(late);
    let out = wire(&out);
    snapshots().bind(|| insta::assert_snapshot!("anthropic_usage_after_finish", out));
}

#[test]
fn usage_before_finish_waits_for_the_end_of_the_stream() {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), false);
    encoder.encode(&StreamEvent::Usage(usage(5, 1)));
    let out = encoder.encode(&StreamEvent::Finish(FinishReason::Stop));
    // No `Start`: `message_start` still comes first, with the usage known by then.
    assert_eq!(names(&out), ["message_start"]);
    assert!(
        out[0]
            .data
            .contains(r#""usage":{"input_tokens":5,"output_tokens":1}"#)
    );
    let end = encoder.finish();
    assert_eq!(names(&end), ["message_delta", "message_stop"]);
    assert_eq!(
        end[0].data,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":5,"output_tokens":1}}"#
    );
}

#[test]
fn without_usage_the_counts_are_zero() {
    let out = encode_with(false, &[start(), StreamEvent::Finish(FinishReason::Stop)]);
    assert_eq!(
        names(&out),
        ["message_start", "message_delta", "message_stop"]
    );
    assert!(
        out[0]
            .data
            .contains(r#""usage":{"input_tokens":0,"output_tokens":0}"#)
    );
    assert!(
        out[1]
            .data
            .ends_with(r#""usage":{"input_tokens":0,"output_tokens":0}}"#)
    );
}

#[test]
fn stop_reasons() {
    for (reason, expected) in [
        (FinishReason::Stop, "end_turn"),
        (FinishReason::Length, "max_tokens"),
        (FinishReason::StopSequence, "stop_sequence"),
        (FinishReason::ToolCalls, "tool_use"),
        (FinishReason::ContentFilter, "refusal"),
    ] {
        let out = encode_with(false, &[start(), StreamEvent::Finish(reason)]);
        let delta = &out[1].data;
        assert!(
            delta.contains(&format!(
                r#""stop_reason":"{expected}","stop_sequence":null"#
            )),
            "{reason:?}: {delta}"
        );
    }
}

#[test]
fn refusal_is_text_with_stop_reason_refusal() {
    let out = encode_with(
        false,
        &[
            StreamEvent::RefusalDelta("I can't help with that.".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    );
    assert_eq!(out[0].event, "message_start");
    assert!(out[2].data.contains(r#""text":"I can't help with that.""#));
    assert!(out[4].data.contains(r#""stop_reason":"refusal""#));
}

#[test]
fn tool_calls_without_ids_and_fragments_without_a_start() {
    let out = encode_with(
        false,
        &[
            start(),
            call(0, "", "f"),
            args(0, "{}"),
            StreamEvent::ToolCallEnd { index: 0 },
            args(1, "{\"x\":1}"),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
    );
    assert!(out[1].data.contains(r#""id":"toolu_test123_0","name":"f""#));
    assert!(out[4].data.contains(r#""id":"toolu_test123_1","name":"""#));
    assert!(out[5].data.contains(r#""partial_json":"{\"x\":1}""#));
    assert_eq!(
        names(&out[6..]),
        ["content_block_stop", "message_delta", "message_stop"]
    );
}

/// Text that comes while a tool call is open waits for it; so does a later call.
#[test]
fn content_waits_behind_an_open_tool_call() {
    let out = encode_with(
        false,
        &[
            start(),
            call(0, "a", "f"),
            text("between"),
            call(1, "b", "g"),
            args(1, "{}"),
            StreamEvent::ToolCallEnd { index: 1 },
            args(0, "{}"),
            StreamEvent::ToolCallEnd { index: 0 },
            text(" after"),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
    );
    let blocks: Vec<String> = out
        .iter()
        .filter(|e| e.event.starts_with("content_block"))
        .map(|e| {
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            let detail = match e.event {
                "content_block_start" => data["content_block"]["type"].to_string(),
                "content_block_delta" => data["delta"].to_string(),
                _ => String::new(),
            };
            format!("{} {} {detail}", e.event, data["index"])
        })
        .collect();
    assert_eq!(
        blocks,
        [
            r#"content_block_start 0 "tool_use""#,
            r#"content_block_delta 0 {"type":"input_json_delta","partial_json":"{}"}"#,
            "content_block_stop 0 ",
            r#"content_block_start 1 "text""#,
            r#"content_block_delta 1 {"type":"text_delta","text":"between"}"#,
            "content_block_stop 1 ",
            r#"content_block_start 2 "tool_use""#,
            r#"content_block_delta 2 {"type":"input_json_delta","partial_json":"{}"}"#,
            "content_block_stop 2 ",
            r#"content_block_start 3 "text""#,
            r#"content_block_delta 3 {"type":"text_delta","text":" after"}"#,
            "content_block_stop 3 ",
        ]
        .map(String::from)
    );
}

#[test]
fn a_stream_that_ends_without_finishing_ends_in_an_error() {
    let out = encode_with(false, &[start(), text("cut")]);
    assert_eq!(out.last().map(|e| e.event), Some("error"));
    assert_eq!(
        out.last().map(|e| e.data.as_str()),
        Some(
            r#"{"type":"error","error":{"type":"api_error","message":"the stream ended before the generation finished"}}"#
        )
    );
}

#[test]
fn nothing_after_done() {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), false);
    assert_eq!(encoder.encode(&start()).len(), 1);
    assert!(
        encoder.encode(&start()).is_empty(),
        "one message_start only"
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
    assert_eq!(names(&out), ["error"]);
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty());
    assert!(encoder.encode(&text("late")).is_empty());
    assert!(
        encoder
            .encode(&StreamEvent::Finish(FinishReason::Stop))
            .is_empty()
    );
}
