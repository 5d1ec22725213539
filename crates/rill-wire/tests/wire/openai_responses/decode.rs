//! The upstream decoder on hand-written events: the tolerances a Responses upstream
//! (and the servers that imitate one) need.

use rill_core::{ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::openai_responses::EventDecoder;

/// Decodes `(event name, data)` pairs.
fn events(pairs: &[(&str, &str)]) -> Vec<StreamEvent> {
    let mut decoder = EventDecoder::new();
    pairs
        .iter()
        .flat_map(|(event, data)| {
            decoder
                .decode(event, data)
                .unwrap_or_else(|e| panic!("{e}: {data}"))
        })
        .collect()
}

const CREATED: (&str, &str) = (
    "response.created",
    r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-x","output":[],"usage":null}}"#,
);
const COMPLETED: (&str, &str) = (
    "response.completed",
    r#"{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","status":"completed","model":"gpt-x","output":[],"usage":null}}"#,
);

fn start() -> StreamEvent {
    StreamEvent::Start {
        model: "gpt-x".into(),
    }
}

fn call_added(index: u32, call_id: &str, arguments: &str) -> String {
    format!(
        r#"{{"type":"response.output_item.added","output_index":{index},"item":{{"id":"fc_{index}","type":"function_call","status":"in_progress","arguments":"{arguments}","call_id":"{call_id}","name":"f"}}}}"#
    )
}

fn args_delta(index: u32, delta: &str) -> String {
    format!(
        r#"{{"type":"response.function_call_arguments.delta","item_id":"fc_{index}","output_index":{index},"delta":"{delta}"}}"#
    )
}

fn call_done(index: u32, call_id: &str, arguments: &str) -> String {
    format!(
        r#"{{"type":"response.output_item.done","output_index":{index},"item":{{"id":"fc_{index}","type":"function_call","status":"completed","arguments":"{arguments}","call_id":"{call_id}","name":"f"}}}}"#
    )
}

fn start_call(index: u32, id: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        index,
        id: id.into(),
        name: "f".into(),
    }
}

fn delta(index: u32, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    }
}

/// Two calls whose arguments interleave, told apart by `output_index`; a call whose
/// item never ended is ended by `response.completed`.
#[test]
fn interleaved_calls() {
    let (a, b) = (call_added(1, "call_a", ""), call_added(2, "call_b", ""));
    let got = events(&[
        CREATED,
        (
            "response.output_item.added",
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"ws_1","type":"web_search_call","status":"in_progress"}}"#,
        ),
        ("response.output_item.added", &a),
        ("response.output_item.added", &b),
        (
            "response.function_call_arguments.delta",
            &args_delta(2, "{}"),
        ),
        (
            "response.function_call_arguments.delta",
            &args_delta(1, "{\\\"x\\\""),
        ),
        (
            "response.function_call_arguments.delta",
            &args_delta(0, "ignored"),
        ),
        ("response.output_item.done", &call_done(2, "call_b", "{}")),
        (
            "response.function_call_arguments.delta",
            &args_delta(2, "late"),
        ),
        (
            "response.function_call_arguments.delta",
            &args_delta(1, ":1}"),
        ),
        COMPLETED,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            start_call(0, "call_a"),
            start_call(1, "call_b"),
            delta(1, "{}"),
            delta(0, "{\"x\""),
            StreamEvent::ToolCallEnd { index: 1 },
            delta(0, ":1}"),
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

/// Servers that send items whole: the text and arguments come from the `.done` events.
#[test]
fn items_that_never_stream() {
    let message = r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]},{"type":"refusal","refusal":"No."},{"type":"brand_new","x":1}]}}"#;
    let args_done = r#"{"type":"response.function_call_arguments.done","output_index":1,"arguments":"{\"a\":1}"}"#;
    let got = events(&[
        CREATED,
        ("response.output_item.done", message),
        ("response.output_item.added", &call_added(1, "call_a", "")),
        ("response.function_call_arguments.done", args_done),
        (
            "response.output_item.done",
            &call_done(1, "call_a", "{\\\"a\\\":1}"),
        ),
        ("response.output_item.done", &call_done(2, "call_b", "{}")),
        COMPLETED,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::RefusalDelta("No.".into()),
            start_call(0, "call_a"),
            delta(0, "{\"a\":1}"),
            StreamEvent::ToolCallEnd { index: 0 },
            start_call(1, "call_b"),
            delta(1, "{}"),
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
    // A call whose arguments came with its `output_item.added` (some proxies).
    let added = call_added(0, "call_z", "{}");
    let got = events(&[("response.output_item.added", &added), COMPLETED]);
    assert_eq!(&got[1..3], [start_call(0, "call_z"), delta(0, "{}")]);
}

#[test]
fn unknown_events_and_types_are_ignored() {
    let got = events(&[
        ("response.queued", "not even JSON"),
        CREATED,
        (
            "response.output_text.annotation.added",
            r#"{"type":"response.output_text.annotation.added"}"#,
        ),
        ("message", r#"{"type":"response.brand_new","x":[1]}"#),
        ("message", "[DONE]"),
        (
            "response.output_item.added",
            r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"brand_new_item"}}"#,
        ),
        (
            "response.content_part.added",
            r#"{"type":"response.content_part.added","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}}"#,
        ),
        (
            "response.output_text.done",
            r#"{"type":"response.output_text.done","output_index":0,"content_index":0,"text":"repeats"}"#,
        ),
        (
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":""}"#,
        ),
        COMPLETED,
        (
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":"late"}"#,
        ),
    ]);
    assert_eq!(got, vec![start(), StreamEvent::Finish(FinishReason::Stop)]);
}

/// Without `event:` lines, padded, and `response.in_progress` standing in for a missing
/// `response.created`; `reasoning_text` deltas (open-weight models) are reasoning too.
#[test]
fn data_only_streams() {
    let got = events(&[
        (
            "message",
            r#"  {"type":"response.in_progress","response":{"model":"gpt-oss-20b"}}  "#,
        ),
        (
            "message",
            r#"{"type":"response.reasoning_text.delta","output_index":0,"content_index":0,"delta":"think"}"#,
        ),
        (
            "message",
            r#"{"type":"response.output_text.delta","output_index":1,"delta":"42"}"#,
        ),
        (
            "message",
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":2,"output_tokens_details":null}}}"#,
        ),
    ]);
    assert_eq!(
        got,
        vec![
            StreamEvent::Start {
                model: "gpt-oss-20b".into()
            },
            StreamEvent::ReasoningDelta("think".into()),
            StreamEvent::TextDelta("42".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                output_tokens: 2,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn incomplete_reasons() {
    for (details, expected) in [
        (r#"{"reason":"max_output_tokens"}"#, FinishReason::Length),
        (
            r#"{"reason":"content_filter"}"#,
            FinishReason::ContentFilter,
        ),
        (r#"{"reason":"something_new"}"#, FinishReason::Length),
        ("null", FinishReason::Length),
    ] {
        let data = format!(
            r#"{{"type":"response.incomplete","response":{{"status":"incomplete","incomplete_details":{details}}}}}"#
        );
        let got = events(&[CREATED, ("response.incomplete", &data)]);
        assert_eq!(
            got.last(),
            Some(&StreamEvent::Finish(expected)),
            "{details}"
        );
    }
}

/// Only a terminal event finishes.
#[test]
fn no_finish_before_the_terminal_event() {
    let mut decoder = EventDecoder::new();
    let mut got = decoder.decode(CREATED.0, CREATED.1).unwrap();
    got.extend(
        decoder
            .decode(
                "response.output_item.done",
                r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"message","status":"completed","content":[]}}"#,
            )
            .unwrap(),
    );
    assert!(!got.iter().any(StreamEvent::is_terminal), "{got:?}");
    assert!(!decoder.is_done());
    let end = decoder.decode(COMPLETED.0, COMPLETED.1).unwrap();
    assert_eq!(end, vec![StreamEvent::Finish(FinishReason::Stop)]);
    assert!(decoder.is_done());
    assert!(decoder.decode(CREATED.0, CREATED.1).unwrap().is_empty());
    assert!(
        decoder
            .decode("error", r#"{"type":"error"}"#)
            .unwrap()
            .is_empty()
    );
}

fn error_of(event: &str, data: &str) -> rill_core::Error {
    match events(&[CREATED, (event, data)]).as_slice() {
        [_, StreamEvent::Error(e)] => e.clone(),
        other => panic!("expected start and one error event, got {other:?}"),
    }
}

#[test]
fn error_events_nested_and_flat() {
    // The shape real servers send.
    let e = error_of(
        "error",
        r#"{"type":"error","sequence_number":2,"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota.","param":null}}"#,
    );
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.message, "You exceeded your current quota.");
    assert_eq!(e.code.as_deref(), Some("insufficient_quota"));
    let e = error_of(
        "error",
        r#"{"type":"error","error":{"type":"server_error","code":null,"message":"Sorry, something went wrong.","param":null},"sequence_number":2}"#,
    );
    assert_eq!((e.kind, e.code), (ErrorKind::Internal, None));
    // The documented flat shape.
    let e = error_of(
        "error",
        r#"{"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":"model","sequence_number":1}"#,
    );
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(
        (e.message.as_str(), e.param.as_deref()),
        ("Slow down", Some("model"))
    );
    let e = error_of("error", r#"{"type":"error","code":503,"message":"Busy"}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Overloaded, "Busy")
    );
    // Whatever the data, an `error` event is an error.
    for data in ["Internal Server Error", "", r#"{"type":"ping"}"#, "[1]"] {
        let e = error_of("error", data);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Upstream, "the upstream reported an error"),
            "{data}"
        );
    }
    // Without an `event:` line the data's `type` still says so.
    let e = error_of(
        "message",
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"x"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
}

#[test]
fn response_failed_alone() {
    let failed = |code: &str| {
        format!(
            r#"{{"type":"response.failed","response":{{"status":"failed","error":{{"code":"{code}","message":"Request too large"}}}}}}"#
        )
    };
    for (code, kind) in [
        ("rate_limit_exceeded", ErrorKind::RateLimited),
        ("server_error", ErrorKind::Internal),
        ("invalid_prompt", ErrorKind::InvalidRequest),
        ("image_too_large", ErrorKind::InvalidRequest),
        ("vector_store_timeout", ErrorKind::Timeout),
        ("brand_new_code", ErrorKind::Upstream),
    ] {
        let e = error_of("response.failed", &failed(code));
        assert_eq!(e.kind, kind, "{code}");
        assert_eq!(e.message, "Request too large");
        assert_eq!(e.code.as_deref(), Some(code));
    }
    let e = error_of(
        "response.failed",
        r#"{"type":"response.failed","response":{"error":null}}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Upstream, "the upstream reported an error")
    );
}

#[test]
fn malformed_json_is_an_upstream_error() {
    let mut decoder = EventDecoder::new();
    let err = decoder
        .decode(
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","#,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message
            .starts_with("the upstream sent an event that is not valid JSON"),
        "{}",
        err.message
    );
    let err = decoder
        .decode(
            "response.output_item.added",
            r#"{"type":"response.output_item.added","output_index":0}"#,
        )
        .unwrap_err();
    assert!(
        err.message
            .starts_with("the upstream sent an invalid event"),
        "{}",
        err.message
    );
    let err = decoder
        .decode(
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","output_index":-1,"delta":"x"}"#,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        decoder
            .decode("response.completed", "   ")
            .unwrap()
            .is_empty()
    );
    assert!(!decoder.is_done());
}

/// A reasoning item's `encrypted_content` (sent when the request asked for it) is the
/// signature of its summary, at the item's `.done`; from `.added` when only that has it.
#[test]
fn encrypted_content_is_the_reasoning_signature() {
    let got = events(&[
        CREATED,
        (
            "response.output_item.added",
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}"#,
        ),
        (
            "response.reasoning_summary_text.delta",
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Plan."}"#,
        ),
        (
            "response.output_item.done",
            r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan."}],"encrypted_content":"gAAAA-1"}}"#,
        ),
        // Sent whole: the summary comes from `.done`.
        (
            "response.output_item.done",
            r#"{"type":"response.output_item.done","output_index":1,"item":{"id":"rs_2","type":"reasoning","summary":[{"type":"summary_text","text":"One."},{"type":"summary_text","text":"Two."}],"encrypted_content":"gAAAA-2"}}"#,
        ),
        (
            "response.output_item.added",
            r#"{"type":"response.output_item.added","output_index":2,"item":{"id":"rs_3","type":"reasoning","summary":[],"encrypted_content":"gAAAA-3"}}"#,
        ),
        (
            "response.output_item.done",
            r#"{"type":"response.output_item.done","output_index":2,"item":{"id":"rs_3","type":"reasoning","summary":[]}}"#,
        ),
        // A second `.done` for an item changes nothing.
        (
            "response.output_item.done",
            r#"{"type":"response.output_item.done","output_index":2,"item":{"id":"rs_3","type":"reasoning","summary":[],"encrypted_content":"again"}}"#,
        ),
        COMPLETED,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::ReasoningDelta("Plan.".into()),
            StreamEvent::ReasoningSignature("gAAAA-1".into()),
            StreamEvent::ReasoningDelta("One.\n\nTwo.".into()),
            StreamEvent::ReasoningSignature("gAAAA-2".into()),
            StreamEvent::ReasoningSignature("gAAAA-3".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}
