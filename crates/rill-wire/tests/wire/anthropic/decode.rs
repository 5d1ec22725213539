//! The upstream decoder on hand-written events: the tolerances an Anthropic upstream
//! (and the proxies in front of one) need.

use rill_core::{ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::anthropic::EventDecoder;

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

const START: (&str, &str) = (
    "message_start",
    r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}"#,
);
const STOP: (&str, &str) = ("message_stop", r#"{"type":"message_stop"}"#);

fn start() -> StreamEvent {
    StreamEvent::Start {
        model: "claude-x".into(),
    }
}

fn delta(reason: &str, usage: &str) -> String {
    format!(
        r#"{{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},"usage":{usage}}}"#
    )
}

#[test]
fn thinking_blocks_and_signatures() {
    let md = delta("end_turn", r#"{"output_tokens":9}"#);
    let got = events(&[
        START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"xyz"}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"42"}}"#,
        ),
        ("message_delta", &md),
        STOP,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::ReasoningDelta("Let me think.".into()),
            StreamEvent::ReasoningSignature("EqQBCgIYAhIM".into()),
            StreamEvent::ReasoningRedacted("xyz".into()),
            StreamEvent::TextDelta("42".into()),
            StreamEvent::Usage(Usage {
                output_tokens: 9,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

/// A proxy that sends a thinking block whole: its signature comes out at the block's
/// stop, after its text; a `signature_delta` would have replaced it.
#[test]
fn a_signature_in_a_blocks_start_comes_out_at_its_stop() {
    let got = events(&[
        START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"Whole.","signature":"sig-start"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"","signature":"stale"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"sig-delta"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"Cut.","signature":"sig-unstopped"}}"#,
        ),
        STOP,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::ReasoningDelta("Whole.".into()),
            StreamEvent::ReasoningSignature("sig-start".into()),
            StreamEvent::ReasoningSignature("sig-delta".into()),
            StreamEvent::ReasoningDelta("Cut.".into()),
            StreamEvent::ReasoningSignature("sig-unstopped".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn pings_unknown_events_and_unknown_types_are_ignored() {
    let got = events(&[
        ("ping", "not even JSON"),
        START,
        ("ping", r#"{"type": "ping"}"#),
        ("brand_new_event", r#"{"type":"brand_new_event","x":[1]}"#),
        ("message_delta", r#"{"type":"brand_new_delta"}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"brand_new_delta","x":1}}"#,
        ),
        STOP,
    ]);
    assert_eq!(got, vec![start(), StreamEvent::Finish(FinishReason::Stop)]);
}

#[test]
fn padded_json_events_without_names_and_data_without_type() {
    let got = events(&[
        (
            "message",
            r#"  {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":3,"output_tokens":1}}   }  "#,
        ),
        (
            "content_block_start",
            r#"{"index":0,"content_block":{"type":"text","text":"Hi"} }"#,
        ),
        (
            "message",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}      }"#,
        ),
        ("message_stop", "{ }"),
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                output_tokens: 1,
                ..Usage::default()
            }),
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::TextDelta("!".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn usage_is_cumulative_and_counts_the_cache_in() {
    let md = delta(
        "end_turn",
        r#"{"input_tokens":null,"cache_read_input_tokens":80,"output_tokens":7}"#,
    );
    let got = events(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":5,"cache_creation_input_tokens":10,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
        ),
        ("message_delta", &md),
    ]);
    let usage = |cached, output| Usage {
        input_tokens: 15 + cached,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: Some(cached),
        cache_write_tokens: Some(10),
        cost_usd: None,
        estimated: false,
    };
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::Usage(usage(0, 1)),
            StreamEvent::Usage(usage(80, 7))
        ]
    );
}

#[test]
fn tool_calls_are_numbered_in_block_order() {
    let got = events(&[
        START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        // A proxy that sends the input whole at the start.
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{"x":1}}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        STOP,
    ]);
    assert_eq!(
        got,
        vec![
            start(),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "toolu_a".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "toolu_b".into(),
                name: "g".into()
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "{\"x\":1}".into()
            },
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn stop_reasons() {
    for (reason, expected) in [
        ("end_turn", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("stop_sequence", FinishReason::StopSequence),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("pause_turn", FinishReason::Stop),
        ("model_context_window_exceeded", FinishReason::Length),
        ("something_new", FinishReason::Stop),
    ] {
        let md = delta(reason, r#"{"output_tokens":1}"#);
        let got = events(&[START, ("message_delta", &md), STOP]);
        assert_eq!(got.last(), Some(&StreamEvent::Finish(expected)), "{reason}");
    }
}

/// Only `message_stop` finishes; a stream cut after `message_delta` is still truncated.
#[test]
fn no_finish_before_message_stop() {
    let md = delta("end_turn", r#"{"output_tokens":1}"#);
    let mut decoder = EventDecoder::new();
    let mut got = decoder.decode(START.0, START.1).unwrap();
    got.extend(decoder.decode("message_delta", &md).unwrap());
    assert!(!got.iter().any(StreamEvent::is_terminal), "{got:?}");
    assert!(!decoder.is_done());
    let end = decoder.decode(STOP.0, STOP.1).unwrap();
    assert_eq!(end, vec![StreamEvent::Finish(FinishReason::Stop)]);
    assert!(decoder.is_done());
    assert!(decoder.decode(START.0, START.1).unwrap().is_empty());
    assert!(
        decoder
            .decode("error", r#"{"type":"error"}"#)
            .unwrap()
            .is_empty()
    );
}

fn error_of(data: &str) -> rill_core::Error {
    match events(&[START, ("error", data)]).as_slice() {
        [_, StreamEvent::Error(e)] => e.clone(),
        other => panic!("expected start and one error event, got {other:?}"),
    }
}

#[test]
fn error_events() {
    let e =
        error_of(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Overloaded, "Overloaded")
    );
    for (kind, expected) in [
        ("invalid_request_error", ErrorKind::InvalidRequest),
        ("authentication_error", ErrorKind::Authentication),
        ("permission_error", ErrorKind::Permission),
        ("not_found_error", ErrorKind::NotFound),
        ("request_too_large", ErrorKind::RequestTooLarge),
        ("rate_limit_error", ErrorKind::RateLimited),
        ("overloaded_error", ErrorKind::Overloaded),
        ("timeout_error", ErrorKind::Timeout),
        ("api_error", ErrorKind::Internal),
        ("billing_error", ErrorKind::Upstream),
        ("brand_new_error", ErrorKind::Upstream),
    ] {
        let data = format!(r#"{{"type":"error","error":{{"type":"{kind}","message":"m"}}}}"#);
        assert_eq!(error_of(&data).kind, expected, "{kind}");
    }
    // Whatever the data, an `error` event is an error.
    for data in ["Internal Server Error", "", r#"{"type":"ping"}"#] {
        let e = error_of(data);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Upstream, "the upstream reported an error"),
            "{data}"
        );
    }
    let e = error_of(r#"{"type":"rate_limit_error","message":"slow down"}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::RateLimited, "slow down")
    );
    // Without an `event: error` line the data's `type` still says so.
    let got = events(&[(
        "message",
        r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
    )]);
    assert!(matches!(&got[..], [StreamEvent::Error(e)] if e.kind == ErrorKind::Internal));
}

#[test]
fn malformed_json_is_an_upstream_error() {
    let mut decoder = EventDecoder::new();
    let err = decoder
        .decode("content_block_delta", r#"{"type":"content_block_delta","#)
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
            "content_block_start",
            r#"{"type":"content_block_start","index":0}"#,
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
            "content_block_delta",
            r#"{"type":"content_block_delta","index":-1,"delta":{}}"#,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(decoder.decode("message_delta", "   ").unwrap().is_empty());
}
