//! The upstream decoder on hand-written events: finish reasons, usage, calls without
//! indices, errors and tolerances.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent};
use rill_wire::cohere::EventDecoder;

use super::support::{MODEL, decode_events, start, usage};

fn end(reason: &str) -> String {
    format!(
        r#"{{"type":"message-end","delta":{{"finish_reason":"{reason}","usage":{{"billed_units":{{"input_tokens":1,"output_tokens":2}},"tokens":{{"input_tokens":3,"output_tokens":4}}}}}}}}"#
    )
}

const TEXT: &str =
    r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"t"}}}}"#;
const CALL: &str = r#"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"f_1","type":"function","function":{"name":"f","arguments":""}}}}}"#;

#[test]
fn finish_reasons_map_and_a_call_turns_complete_into_tool_calls() {
    use FinishReason::{Length, Stop, StopSequence, ToolCalls};
    let cases = [
        ("COMPLETE", Stop, ToolCalls),
        ("STOP_SEQUENCE", StopSequence, StopSequence),
        ("MAX_TOKENS", Length, Length),
        ("TOOL_CALL", ToolCalls, ToolCalls),
        ("SOMETHING_NEW", Stop, ToolCalls),
    ];
    for (reason, without_call, with_call) in cases {
        let events = decode_events(&[("content-delta", TEXT), ("message-end", &end(reason))]);
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Finish(without_call)),
            "{reason}"
        );
        let events = decode_events(&[("tool-call-start", CALL), ("message-end", &end(reason))]);
        // The call that never ended is ended before the finish.
        assert_eq!(
            events[events.len() - 2..],
            [
                StreamEvent::ToolCallEnd { index: 0 },
                StreamEvent::Finish(with_call)
            ],
            "{reason} after a call"
        );
    }
}

#[test]
fn error_and_timeout_finishes_are_errors() {
    let events = decode_events(&[("message-end", &end("ERROR"))]);
    assert_eq!(
        events,
        vec![
            start(),
            StreamEvent::Usage(usage(3, 4)),
            StreamEvent::Error(Error::new(
                ErrorKind::Upstream,
                "the upstream's generation failed"
            )),
        ]
    );
    let events = decode_events(&[(
        "message-end",
        r#"{"type":"message-end","delta":{"finish_reason":"TIMEOUT","error":""}}"#,
    )]);
    assert_eq!(
        events,
        vec![
            start(),
            StreamEvent::Error(Error::new(
                ErrorKind::Timeout,
                "the upstream's generation timed out"
            )),
        ]
    );
}

#[test]
fn usage_falls_back_to_billed_units_and_takes_float_counts() {
    let only_billed = r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5.0,"output_tokens":7}}}}"#;
    assert_eq!(
        decode_events(&[("message-end", only_billed)]),
        vec![
            start(),
            StreamEvent::Usage(usage(5, 7)),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
    let mixed = r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":7},"tokens":{"output_tokens":9}}}}"#;
    assert_eq!(
        decode_events(&[("message-end", mixed)])[1],
        StreamEvent::Usage(usage(5, 9))
    );
    let none = r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":null,"tokens":{}}}}"#;
    assert_eq!(
        decode_events(&[("message-end", none)]),
        vec![start(), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn nothing_is_read_after_message_end() {
    let mut decoder = EventDecoder::new(MODEL);
    assert_eq!(
        decoder
            .decode("message-end", &end("COMPLETE"))
            .unwrap()
            .len(),
        3
    );
    assert!(decoder.is_done());
    assert_eq!(decoder.decode("content-delta", TEXT).unwrap(), vec![]);
    assert_eq!(decoder.decode("content-delta", "not json").unwrap(), vec![]);
}

#[test]
fn calls_without_indices_belong_to_the_latest_and_arguments_at_start_are_kept() {
    let start_with_arguments = r#"{"type":"tool-call-start","delta":{"message":{"tool_calls":{"id":"g_2","function":{"name":"g","arguments":"{\"a\""}}}}}"#;
    let fragment = r#"{"type":"tool-call-delta","delta":{"message":{"tool_calls":{"function":{"arguments":":1}"}}}}}"#;
    let events = decode_events(&[
        ("tool-call-start", CALL),
        ("tool-call-end", r#"{"type":"tool-call-end","index":0}"#),
        ("tool-call-start", start_with_arguments),
        ("tool-call-delta", fragment),
        ("tool-call-end", r#"{"type":"tool-call-end"}"#),
        // A fragment for a call that is over, or never started, is dropped.
        ("tool-call-delta", fragment),
        (
            "tool-call-delta",
            r#"{"type":"tool-call-delta","index":9,"delta":{"message":{"tool_calls":{"function":{"arguments":"x"}}}}}"#,
        ),
    ]);
    assert_eq!(
        events,
        vec![
            start(),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "f_1".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "g_2".into(),
                name: "g".into()
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: r#"{"a""#.into()
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: ":1}".into()
            },
            StreamEvent::ToolCallEnd { index: 1 },
        ]
    );
}

#[test]
fn thinking_content_is_reasoning() {
    let thinking =
        r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"hmm"}}}}"#;
    assert_eq!(
        decode_events(&[("content-delta", thinking)]),
        vec![start(), StreamEvent::ReasoningDelta("hmm".into())]
    );
}

#[test]
fn unknown_events_nulls_blanks_and_missing_types_are_tolerated() {
    assert_eq!(
        decode_events(&[
            ("ping", "{}"),
            ("message-start", "  "),
            ("citation-start", r#"{"type":"citation-start","index":0}"#),
            ("message", r#"{"type":"something-new","x":1}"#),
            (
                "content-start",
                r#"{"type":"content-start","index":0,"delta":null}"#
            ),
            (
                "content-delta",
                r#"{"type":"content-delta","delta":{"message":{"content":{"text":""}}}}"#
            ),
            (
                "tool-plan-delta",
                r#"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":null}}}"#
            ),
            // No `type`: the event name is its type.
            (
                "content-delta",
                r#"{"index":0,"delta":{"message":{"content":{"text":"t"}}}}"#
            ),
            // No `event:` line: the data's type is enough.
            ("message", TEXT),
        ]),
        vec![
            start(),
            StreamEvent::TextDelta("t".into()),
            StreamEvent::TextDelta("t".into()),
        ]
    );
}

#[test]
fn an_error_event_ends_the_stream() {
    let mut decoder = EventDecoder::new(MODEL);
    assert_eq!(decoder.decode("content-delta", TEXT).unwrap().len(), 2);
    assert_eq!(
        decoder
            .decode("error", r#"{"message":"overloaded"}"#)
            .unwrap(),
        vec![StreamEvent::Error(Error::new(
            ErrorKind::Upstream,
            "overloaded"
        ))]
    );
    assert!(decoder.is_done());
    assert_eq!(
        decoder.decode("message-end", &end("COMPLETE")).unwrap(),
        vec![]
    );
}

#[test]
fn malformed_events_are_errors() {
    for (event, data, prefix) in [
        (
            "content-delta",
            "{\"type\":",
            "the upstream sent an event that is not valid JSON",
        ),
        (
            "message",
            "not json",
            "the upstream sent an event that is not valid JSON",
        ),
        (
            "content-delta",
            r#"{"type":"content-delta","delta":{"message":{"content":{"text":3}}}}"#,
            "the upstream sent an invalid event",
        ),
        (
            "message-end",
            r#"{"type":"message-end","delta":"x"}"#,
            "the upstream sent an invalid event",
        ),
    ] {
        let error = EventDecoder::new(MODEL).decode(event, data).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Upstream, "{data}");
        assert!(error.message.starts_with(prefix), "{data}: {error:?}");
    }
}
