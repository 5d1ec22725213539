//! The upstream decoder on hand-written lines: finish reasons, call ids, usage, errors
//! and tolerances.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent};
use rill_wire::ollama::ChunkDecoder;

use super::support::{decode_lines, usage};

fn line(message: &str) -> String {
    format!(
        r#"{{"model":"m","created_at":"2025-01-02T03:04:05.06Z","message":{{"role":"assistant",{message}}},"done":false}}"#
    )
}

fn done(reason: Option<&str>) -> String {
    let reason = reason.map_or(String::new(), |r| format!(r#""done_reason":"{r}","#));
    format!(
        r#"{{"model":"m","message":{{"role":"assistant","content":""}},{reason}"done":true,"prompt_eval_count":3,"eval_count":2}}"#
    )
}

const CALL: &str = r#""content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]"#;
const TEXT: &str = r#""content":"t""#;

fn finish_of(events: &[StreamEvent]) -> Option<FinishReason> {
    match events.last() {
        Some(StreamEvent::Finish(reason)) => Some(*reason),
        _ => None,
    }
}

#[test]
fn done_reasons_map_and_a_call_turns_a_stop_into_tool_calls() {
    use FinishReason::{Length, Stop, ToolCalls};
    let cases = [
        (Some("stop"), Stop, ToolCalls),
        (Some("length"), Length, Length),
        (Some("load"), Stop, ToolCalls),
        (Some("unload"), Stop, ToolCalls),
        (Some("something_new"), Stop, ToolCalls),
        (None, Stop, ToolCalls),
    ];
    for (reason, without_call, with_call) in cases {
        let events = decode_lines(&[&line(TEXT), &done(reason)]);
        assert_eq!(finish_of(&events), Some(without_call), "{reason:?}");
        let events = decode_lines(&[&line(CALL), &done(reason)]);
        assert_eq!(
            finish_of(&events),
            Some(with_call),
            "{reason:?} after a call"
        );
    }
}

#[test]
fn the_done_line_brings_its_own_content_then_usage_then_finish_and_nothing_follows() {
    let last = r#"{"model":"m","message":{"role":"assistant","content":"end"},"done":true,"done_reason":"stop","eval_count":5}"#;
    let mut decoder = ChunkDecoder::new();
    assert_eq!(
        decoder.decode(last).unwrap(),
        vec![
            StreamEvent::Start { model: "m".into() },
            StreamEvent::TextDelta("end".into()),
            StreamEvent::Usage(usage(0, 5)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
    assert!(decoder.is_done());
    assert_eq!(decoder.decode(&line(TEXT)).unwrap(), vec![]);
    assert_eq!(decoder.decode("not json").unwrap(), vec![]);
    // Without counts, no usage.
    let bare = decode_lines(&[r#"{"model":"m","done":true}"#]);
    assert_eq!(
        bare,
        vec![
            StreamEvent::Start { model: "m".into() },
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn call_ids_are_the_upstream_s_or_made_from_created_at_or_the_index() {
    let calls = r#""tool_calls":[{"function":{"name":"f"}},{"id":"abc","function":{"name":"g","arguments":null}},{"function":{"name":"h","arguments":{"q":[1,{"r":"s"}],"a":"b"}}},{"function":{"name":"i","arguments":"[1]"}},{}]"#;
    let ids = |events: &[StreamEvent]| -> Vec<(u32, String, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallStart { index, id, name } => {
                    Some((*index, id.clone(), name.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let with = decode_lines(&[&line(calls)]);
    assert_eq!(
        ids(&with),
        [
            (0, "call_2025010203040506_0".into(), "f".into()),
            (1, "abc".into(), "g".into()),
            (2, "call_2025010203040506_2".into(), "h".into()),
            (3, "call_2025010203040506_3".into(), "i".into()),
            (4, "call_2025010203040506_4".into(), String::new()),
        ]
    );
    let arguments: Vec<&str> = with
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta { arguments, .. } => Some(arguments.as_str()),
            _ => None,
        })
        .collect();
    // Absent, null or non-object arguments are `{}`; the key order is the upstream's.
    assert_eq!(
        arguments,
        ["{}", "{}", r#"{"q":[1,{"r":"s"}],"a":"b"}"#, "{}", "{}"]
    );

    let without_stamp = format!(r#"{{"message":{{{calls}}}}}"#);
    assert_eq!(ids(&decode_lines(&[&without_stamp]))[0].1, "call_0");
}

#[test]
fn an_error_line_ends_the_stream() {
    let mut decoder = ChunkDecoder::new();
    assert_eq!(decoder.decode(&line(TEXT)).unwrap().len(), 2);
    assert_eq!(
        decoder
            .decode(r#"{"error":"model runner crashed"}"#)
            .unwrap(),
        vec![StreamEvent::Error(Error::new(
            ErrorKind::Upstream,
            "model runner crashed"
        ))]
    );
    assert!(decoder.is_done());
    assert_eq!(decoder.decode(&done(Some("stop"))).unwrap(), vec![]);
    // An error as the first line, in a proxy's object form or without a message.
    assert_eq!(
        decode_lines(&[r#"{"error":{"message":"upstream timeout"}}"#]),
        vec![StreamEvent::Error(Error::new(
            ErrorKind::Upstream,
            "upstream timeout"
        ))]
    );
    assert_eq!(
        decode_lines(&[r#"{"error":""}"#]),
        vec![StreamEvent::Error(Error::new(
            ErrorKind::Upstream,
            "the upstream reported an error"
        ))]
    );
}

#[test]
fn nulls_blanks_unknown_members_and_padding_are_ignored() {
    assert_eq!(
        decode_lines(&[
            "",
            "   ",
            r#"  {"model":null,"message":null,"done":null,"error":null,"images":null,"x":1}  "#,
            r#"{"message":{"role":"assistant","content":null,"thinking":"","tool_calls":null,"images":[]}}"#,
            r#"{"message":{"content":"","thinking":null}}"#,
            &line(TEXT),
        ]),
        vec![
            StreamEvent::Start {
                model: String::new()
            },
            StreamEvent::TextDelta("t".into()),
        ]
    );
}

#[test]
fn malformed_lines_are_errors() {
    for (data, start) in [
        (
            "{\"message\":",
            "the upstream sent a chunk that is not valid JSON",
        ),
        (
            "not json",
            "the upstream sent a chunk that is not valid JSON",
        ),
        (r#"{"message":"x"}"#, "the upstream sent an invalid chunk"),
        (r#"{"done":"yes"}"#, "the upstream sent an invalid chunk"),
        (
            r#"{"message":{"content":3}}"#,
            "the upstream sent an invalid chunk",
        ),
    ] {
        let error = ChunkDecoder::new().decode(data).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Upstream, "{data}");
        assert!(error.message.starts_with(start), "{data}: {error:?}");
    }
}
