//! The stream encoder: snapshots of the exact SSE bytes a client receives for every
//! scenario, and the rules behind them.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent};
use rill_wire::vercel_ui::{DONE, StreamEncoder};
use serde_json::json;

use super::scenarios::{self, args, call, end, finish, reasoning, start, text, usage};
use super::support::{chunks, encode, snapshots, types, wire};

/// Every scenario, snapshotted as `vercel_ui_<name>`.
#[test]
fn scenario_snapshots() {
    for scenario in scenarios::all() {
        let out = wire(&encode(scenario.encoder, &scenario.events));
        let name = format!("vercel_ui_{}", scenario.name);
        snapshots().bind(|| insta::assert_snapshot!(name, out));
    }
}

fn fresh() -> StreamEncoder {
    StreamEncoder::new("msg-1".into(), None)
}

#[test]
fn text_stream_sequence_and_usage_metadata() {
    let out = encode(
        fresh(),
        &[start(), text("Hi"), usage(3, 1), finish(FinishReason::Stop)],
    );
    assert_eq!(
        types(&out),
        [
            "start",
            "start-step",
            "text-start",
            "text-delta",
            "text-end",
            "finish-step",
            "finish"
        ]
    );
    let chunks = chunks(&out);
    assert_eq!(chunks[0], json!({"type": "start", "messageId": "msg-1"}));
    assert_eq!(
        chunks[6],
        json!({"type": "finish", "messageMetadata": {"finishReason": "stop", "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}}})
    );
}

#[test]
fn without_usage_the_metadata_has_only_the_finish_reason() {
    let out = encode(fresh(), &[start(), finish(FinishReason::Stop)]);
    assert_eq!(
        types(&out),
        ["start", "start-step", "finish-step", "finish"]
    );
    assert_eq!(
        chunks(&out)[3],
        json!({"type": "finish", "messageMetadata": {"finishReason": "stop"}})
    );
}

/// `finish` waits after `Finish` and goes out with a late usage at once.
#[test]
fn usage_after_finish_sends_finish_at_once() {
    let mut encoder = fresh();
    encoder.encode(&start());
    let out = encoder.encode(&finish(FinishReason::Stop));
    assert_eq!(out, [r#"{"type":"finish-step"}"#]);
    let late = encoder.encode(&usage(5, 2));
    assert_eq!(
        late,
        [
            r#"{"type":"finish","messageMetadata":{"finishReason":"stop","usage":{"inputTokens":5,"outputTokens":2,"totalTokens":7}}}"#
        ]
    );
    assert!(
        encoder.encode(&usage(9, 9)).is_empty(),
        "nothing after finish"
    );
    assert_eq!(encoder.finish(), [DONE]);
}

#[test]
fn continuing_a_message_reuses_its_id() {
    let out = encode(
        StreamEncoder::new("msg-fresh".into(), Some("msg-old".into())),
        &[start(), finish(FinishReason::Stop)],
    );
    assert_eq!(
        chunks(&out)[0],
        json!({"type": "start", "messageId": "msg-old"})
    );
}

/// Every version reads the reason from `metadata`; `finishReason` on the chunk itself
/// only goes to clients that accept it.
#[test]
fn finish_reasons_ride_in_metadata_and_on_the_chunk_only_when_asked_for() {
    for (reason, expected) in [
        (FinishReason::Stop, "stop"),
        (FinishReason::StopSequence, "stop"),
        (FinishReason::Length, "length"),
        (FinishReason::ToolCalls, "tool-calls"),
        (FinishReason::ContentFilter, "content-filter"),
    ] {
        let out = encode(fresh().with_finish_reason(), &[finish(reason)]);
        let metadata = json!({"finishReason": expected});
        assert_eq!(
            chunks(&out)[3],
            json!({"type": "finish", "finishReason": expected, "messageMetadata": metadata})
        );
        let out = encode(fresh(), &[finish(reason)]);
        assert_eq!(
            chunks(&out)[3],
            json!({"type": "finish", "messageMetadata": metadata}),
            "{reason:?}"
        );
    }
}

/// Blocks end when other content comes; each new block gets a new id.
#[test]
fn blocks_switch_and_get_fresh_ids() {
    let out = encode(
        fresh(),
        &[
            reasoning("a"),
            text("b"),
            text("c"),
            reasoning("d"),
            call(0, "t", "f"),
            text("e"),
            StreamEvent::RefusalDelta("f".into()),
            finish(FinishReason::Stop),
        ],
    );
    let summary: Vec<String> = chunks(&out)
        .iter()
        .map(|c| {
            let id = c.get("id").or_else(|| c.get("toolCallId"));
            let detail = c.get("delta").map(|d| format!(" {d}")).unwrap_or_default();
            match id {
                Some(id) => format!(
                    "{} {}{detail}",
                    c["type"].as_str().unwrap(),
                    id.as_str().unwrap()
                ),
                None => c["type"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            "start",
            "start-step",
            "reasoning-start reasoning-0",
            "reasoning-delta reasoning-0 \"a\"",
            "reasoning-end reasoning-0",
            "text-start text-1",
            "text-delta text-1 \"b\"",
            "text-delta text-1 \"c\"",
            "text-end text-1",
            "reasoning-start reasoning-2",
            "reasoning-delta reasoning-2 \"d\"",
            "reasoning-end reasoning-2",
            "tool-input-start t",
            "text-start text-3",
            "text-delta text-3 \"e\"",
            "text-delta text-3 \"f\"",
            "text-end text-3",
            "tool-input-available t",
            "finish-step",
            "finish",
        ]
    );
}

#[test]
fn tool_input_is_the_parsed_arguments_in_their_order() {
    let out = encode(
        fresh(),
        &[
            call(0, "c", "f"),
            args(0, r#"{"z":1,"a":{"y":[true,null]}}"#),
            end(0),
            finish(FinishReason::ToolCalls),
        ],
    );
    let available = &out[4];
    assert_eq!(
        available,
        r#"{"type":"tool-input-available","toolCallId":"c","toolName":"f","input":{"z":1,"a":{"y":[true,null]}}}"#
    );
}

#[test]
fn empty_arguments_are_an_empty_object() {
    let out = encode(
        fresh(),
        &[call(0, "c", "f"), end(0), finish(FinishReason::ToolCalls)],
    );
    assert_eq!(
        out[3],
        r#"{"type":"tool-input-available","toolCallId":"c","toolName":"f","input":{}}"#
    );
}

#[test]
fn arguments_the_client_would_refuse_become_a_tool_error() {
    let out = encode(
        fresh(),
        &[
            call(0, "c", "f"),
            args(0, r#"{"__proto__":{"admin":true}}"#),
            end(0),
            finish(FinishReason::ToolCalls),
        ],
    );
    assert_eq!(
        out[4],
        r#"{"type":"tool-output-error","toolCallId":"c","errorText":"the arguments of the call to `f` use the reserved key `__proto__`"}"#
    );
}

#[test]
fn calls_without_ids_or_starts_get_ids_and_late_fragments_are_dropped() {
    let out = encode(
        fresh(),
        &[
            call(0, "", "f"),
            args(1, "{\"x\":1}"),
            end(0),
            args(0, "{\"late\":true}"),
            end(0),
            finish(FinishReason::ToolCalls),
        ],
    );
    let chunks = chunks(&out);
    assert_eq!(
        chunks[2],
        json!({"type": "tool-input-start", "toolCallId": "msg-1-call-0", "toolName": "f"})
    );
    assert_eq!(
        chunks[3],
        json!({"type": "tool-input-start", "toolCallId": "msg-1-call-1", "toolName": ""})
    );
    assert_eq!(
        chunks[4],
        json!({"type": "tool-input-delta", "toolCallId": "msg-1-call-1", "inputTextDelta": "{\"x\":1}"})
    );
    assert_eq!(chunks[5]["type"], "tool-input-available");
    assert_eq!(chunks[5]["input"], json!({}));
    // Call 1 never ended: `Finish` completes it.
    assert_eq!(chunks[6]["toolCallId"], "msg-1-call-1");
    assert_eq!(chunks[6]["input"], json!({"x": 1}));
    assert_eq!(types(&out)[7..], ["finish-step", "finish"]);
}

#[test]
fn errors_end_the_stream_and_cancellation_is_an_abort() {
    let mut encoder = fresh();
    encoder.encode(&text("a"));
    let out = encoder.encode(&StreamEvent::Error(Error::internal("boom")));
    assert_eq!(out, [r#"{"type":"error","errorText":"boom"}"#]);
    assert!(encoder.encode(&text("late")).is_empty());
    assert!(encoder.encode(&finish(FinishReason::Stop)).is_empty());
    assert_eq!(encoder.finish(), [DONE]);

    let mut encoder = fresh();
    encoder.encode(&text("a"));
    let out = encoder.encode(&StreamEvent::Error(Error::new(
        ErrorKind::Cancelled,
        "stop",
    )));
    assert_eq!(
        out,
        [
            r#"{"type":"text-end","id":"text-0"}"#,
            r#"{"type":"abort"}"#
        ]
    );
    assert_eq!(encoder.finish(), [DONE]);
}

#[test]
fn an_error_after_finish_still_reaches_the_client() {
    let mut encoder = fresh();
    encoder.encode(&finish(FinishReason::Stop));
    let out = encoder.encode(&StreamEvent::Error(Error::upstream("late failure")));
    assert_eq!(out, [r#"{"type":"error","errorText":"late failure"}"#]);
    assert_eq!(encoder.finish(), [DONE]);
}

#[test]
fn a_stream_that_ends_without_finishing_ends_in_an_error() {
    let out = encode(fresh(), &[start(), text("cut")]);
    assert_eq!(
        out[out.len() - 2],
        r#"{"type":"error","errorText":"the stream ended before the generation finished"}"#
    );
    // Even one that never said anything.
    assert_eq!(
        encode(fresh(), &[]),
        [
            r#"{"type":"error","errorText":"the stream ended before the generation finished"}"#,
            DONE
        ]
    );
}

#[test]
fn empty_deltas_and_repeats_produce_nothing() {
    let mut encoder = fresh();
    assert_eq!(encoder.encode(&start()).len(), 2);
    assert!(encoder.encode(&start()).is_empty(), "one start only");
    assert!(encoder.encode(&text("")).is_empty());
    assert!(encoder.encode(&reasoning("")).is_empty());
    assert!(
        encoder
            .encode(&StreamEvent::RefusalDelta(String::new()))
            .is_empty()
    );
    assert_eq!(encoder.encode(&call(0, "c", "f")).len(), 1);
    assert!(
        encoder.encode(&call(0, "c", "f")).is_empty(),
        "one start per call"
    );
    assert!(encoder.encode(&args(0, "")).is_empty());
    assert!(encoder.encode(&end(7)).is_empty(), "an unknown call");
    assert!(!encoder.is_done());
}
