//! The upstream decoder on hand-written chunks: finish reasons, call ids, usage, errors
//! and the tolerances a Gemini upstream (and the proxies in front of one) need.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent};
use rill_wire::gemini::EventDecoder;

use super::support::{decode_data, usage};

/// A chunk of candidate 0 with these parts and, if any, this finish reason.
fn chunk(parts: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or(String::new(), |r| format!(r#","finishReason":"{r}""#));
    format!(
        r#"{{"candidates":[{{"content":{{"parts":[{parts}],"role":"model"}}{finish},"index":0}}],"modelVersion":"gemini-x"}}"#
    )
}

const CALL: &str = r#"{"functionCall":{"name":"f","args":{"a":1}}}"#;
const TEXT: &str = r#"{"text":"t"}"#;

fn finish_of(events: &[StreamEvent]) -> Option<FinishReason> {
    match events.last() {
        Some(StreamEvent::Finish(reason)) => Some(*reason),
        _ => None,
    }
}

#[test]
fn finish_reasons_map_and_a_function_call_turns_a_stop_into_tool_calls() {
    use FinishReason::{ContentFilter, Length, Stop, ToolCalls};
    let cases = [
        ("STOP", Stop, ToolCalls),
        ("MAX_TOKENS", Length, Length),
        ("SAFETY", ContentFilter, ContentFilter),
        ("RECITATION", ContentFilter, ContentFilter),
        ("BLOCKLIST", ContentFilter, ContentFilter),
        ("PROHIBITED_CONTENT", ContentFilter, ContentFilter),
        ("SPII", ContentFilter, ContentFilter),
        ("IMAGE_SAFETY", ContentFilter, ContentFilter),
        ("OTHER", Stop, ToolCalls),
        ("LANGUAGE", Stop, ToolCalls),
        ("MALFORMED_FUNCTION_CALL", Stop, ToolCalls),
        ("FINISH_REASON_UNSPECIFIED", Stop, ToolCalls),
        ("SOMETHING_NEW", Stop, ToolCalls),
    ];
    for (reason, without_call, with_call) in cases {
        let events = decode_data(&[&chunk(TEXT, Some(reason))]);
        assert_eq!(finish_of(&events), Some(without_call), "{reason}");
        // The call in an earlier chunk than the reason.
        let events = decode_data(&[&chunk(CALL, None), &chunk(TEXT, Some(reason))]);
        assert_eq!(finish_of(&events), Some(with_call), "{reason} after a call");
        // The call in the chunk that finishes.
        let events = decode_data(&[&chunk(CALL, Some(reason))]);
        assert_eq!(finish_of(&events), Some(with_call), "{reason} with a call");
    }
}

#[test]
fn finish_comes_only_at_the_end_after_the_usage_that_follows_the_reason() {
    let usage_only =
        r#"{"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}"#;
    let later_reason = chunk("", Some("MAX_TOKENS"));
    let events = decode_data(&[&chunk(TEXT, Some("STOP")), usage_only, &later_reason]);
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: "gemini-x".into()
            },
            StreamEvent::TextDelta("t".into()),
            StreamEvent::Usage(usage(3, 2, None, None)),
            // The first reason wins.
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn a_body_without_a_finish_reason_never_finishes() {
    let mut decoder = EventDecoder::new();
    let events = decoder.decode(&chunk(CALL, None)).unwrap();
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(!decoder.is_done());
    assert_eq!(decoder.end(), vec![]);
    assert!(decoder.is_done());
    // Nothing after the end.
    assert_eq!(decoder.decode(&chunk(TEXT, Some("STOP"))).unwrap(), vec![]);
    assert_eq!(decoder.end(), vec![]);
    // Not even a start for an empty body.
    assert_eq!(EventDecoder::new().end(), vec![]);
}

#[test]
fn call_ids_are_the_upstream_s_or_made_from_the_response_id_or_the_index() {
    let calls = r#"{"functionCall":{"name":"f"}},{"functionCall":{"id":"abc","name":"g","args":null}},{"functionCall":{"name":"h","args":{"q":[1,{"r":"s"}],"a":"b"}}}"#;
    let ids = |events: &[StreamEvent]| -> Vec<(u32, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallStart { index, id, .. } => Some((*index, id.clone())),
                _ => None,
            })
            .collect()
    };
    let without = decode_data(&[&chunk(calls, Some("STOP"))]);
    assert_eq!(
        ids(&without),
        [
            (0, "call_0".into()),
            (1, "abc".into()),
            (2, "call_2".into())
        ]
    );
    let arguments: Vec<&str> = without
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta { arguments, .. } => Some(arguments.as_str()),
            _ => None,
        })
        .collect();
    // Absent or null args are `{}`; the key order is the upstream's.
    assert_eq!(arguments, ["{}", "{}", r#"{"q":[1,{"r":"s"}],"a":"b"}"#]);

    // The response id of the first chunk that has one, for every call after it.
    let first = r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}],"responseId":"R1"}"#;
    let second = r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f"}}]}}],"responseId":"R2"}"#;
    let with = decode_data(&[first, second]);
    assert_eq!(ids(&with), [(0, "call_R1_0".into())]);
}

#[test]
fn usage_counts_thoughts_as_output_and_the_tool_use_prompt_as_input() {
    // A real Gemini usage report (vercel/ai `google-usage-raw-live.chunks.txt`).
    let data = r#"{"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":71,"totalTokenCount":237,"cachedContentTokenCount":4,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}],"cacheTokensDetails":[{"modality":"TEXT","tokenCount":4}],"toolUsePromptTokenCount":65,"toolUsePromptTokensDetails":[{"modality":"TEXT","tokenCount":65}],"thoughtsTokenCount":89,"serviceTier":"standard"}}"#;
    let events = decode_data(&[data]);
    let expected = usage(77, 160, Some(89), Some(4));
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: String::new()
            },
            StreamEvent::Usage(expected),
        ]
    );
    assert_eq!(expected.total_tokens(), 237);
}

#[test]
fn a_count_a_chunk_leaves_out_keeps_its_last_value() {
    let events = decode_data(&[
        r#"{"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":4,"thoughtsTokenCount":20}}"#,
        r#"{"usageMetadata":{"candidatesTokenCount":8}}"#,
        r#"{"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":8,"thoughtsTokenCount":20}}"#,
        r#"{"usageMetadata":null}"#,
    ]);
    let usages: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        })
        .collect();
    assert_eq!(
        usages,
        [usage(9, 24, Some(20), None), usage(9, 28, Some(20), None)]
    );
}

#[test]
fn a_blocked_prompt_finishes_as_content_filter() {
    // vercel/ai `issue-19758-prompt-block.chunks.txt`.
    let data = r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9,"promptTokensDetails":[{"modality":"TEXT","tokenCount":9}],"serviceTier":"standard"},"modelVersion":"gemini-3.7-flash","responseId":"EXCPatOAKMrQjMcPteHVmQo"}"#;
    assert_eq!(
        decode_data(&[data]),
        vec![
            StreamEvent::Start {
                model: "gemini-3.7-flash".into()
            },
            StreamEvent::Usage(usage(9, 0, None, None)),
            StreamEvent::Finish(FinishReason::ContentFilter),
        ]
    );
}

#[test]
fn an_error_chunk_ends_the_stream() {
    let mut decoder = EventDecoder::new();
    let text = decoder.decode(&chunk(TEXT, None)).unwrap();
    assert_eq!(text.len(), 2);
    let error = r#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#;
    assert_eq!(
        decoder.decode(error).unwrap(),
        vec![StreamEvent::Error(Error::new(
            ErrorKind::Overloaded,
            "The model is overloaded. Please try again later."
        ))]
    );
    assert!(decoder.is_done());
    assert_eq!(decoder.decode(&chunk(TEXT, Some("STOP"))).unwrap(), vec![]);
    assert_eq!(decoder.end(), vec![]);
}

#[test]
fn other_candidates_unknown_parts_nulls_and_padding_are_ignored() {
    let data = r#"  {"candidates":[
        {"content":{"parts":[{"text":"other"}]},"finishReason":"SAFETY","index":1},
        {"content":{"parts":[
            {"text":null},
            {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},
            {"executableCode":{"language":"PYTHON","code":"print(1)"}},
            {"text":"","thoughtSignature":"c2ln"},
            {"text":"mine","thought":null}
        ],"role":"model"},"citationMetadata":{"citationSources":[]},"index":0}
    ],"modelVersion":null,"promptFeedback":null,"candidates_extra":1}  "#;
    assert_eq!(
        decode_data(&[
            data,
            "",
            "  ",
            r#"{"candidates":null}"#,
            r#"{"candidates":[{"content":{"parts":null}}]}"#
        ]),
        vec![
            StreamEvent::Start {
                model: String::new()
            },
            StreamEvent::TextDelta("mine".into()),
        ]
    );
}

#[test]
fn malformed_chunks_are_errors() {
    for (data, start) in [
        (
            "{\"candidates\":[",
            "the upstream sent a chunk that is not valid JSON",
        ),
        (
            "not json",
            "the upstream sent a chunk that is not valid JSON",
        ),
        (
            r#"{"candidates":"x"}"#,
            "the upstream sent an invalid chunk",
        ),
        (
            r#"{"candidates":[{"content":{"parts":[{"text":3}]}}]}"#,
            "the upstream sent an invalid chunk",
        ),
    ] {
        let error = EventDecoder::new().decode(data).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Upstream, "{data}");
        assert!(error.message.starts_with(start), "{data}: {error:?}");
    }
}
