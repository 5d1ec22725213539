//! Every Cohere stream in `tests/fixtures/cohere/` decodes to exactly the events it
//! carries, whole, split at every byte and fed one byte at a time; cut anywhere before
//! its `message-end` is complete, it never finishes. The fixtures are hand-written in the
//! shape of Cohere's `/v2/chat` stream (see the folder's README); the expected values are
//! literals on purpose.

use std::path::PathBuf;

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, ToolCall};

use super::support::{decode_chunks, fold, start, usage};

const ALL: [&str; 4] = [
    "text_with_usage.sse",
    "parallel_tool_calls.sse",
    "max_tokens.sse",
    "error_finish.sse",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cohere"
    ))
    .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The events of a fixture, after checking that every way of chunking it agrees and
/// that the decoder saw the end.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let (whole, decoder) = decode_chunks([&bytes[..]]);
    assert!(decoder.is_done(), "{name}: `message-end` not seen");
    for split in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(split);
        let (events, _) = decode_chunks([head, tail]);
        assert_eq!(events, whole, "{name} split at byte {split}");
    }
    let (bytewise, _) = decode_chunks(bytes.chunks(1));
    assert_eq!(bytewise, whole, "{name} one byte at a time");
    whole
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta(t.into())
}

#[test]
fn text_with_usage() {
    assert_eq!(
        decode("text_with_usage.sse"),
        vec![
            start(),
            text("The"),
            text(" sky"),
            text(" is blue because of Rayleigh scattering"),
            text(" — “short” waves scatter most."),
            // `tokens`, not `billed_units` (12 in, 14 out).
            StreamEvent::Usage(usage(210, 14)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn parallel_tool_calls() {
    let reasoning = |t: &str| StreamEvent::ReasoningDelta(t.into());
    let delta = |index: u32, arguments: &str| StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    };
    let events = decode("parallel_tool_calls.sse");
    assert_eq!(
        events,
        vec![
            start(),
            reasoning("I will"),
            reasoning(" look up the weather"),
            reasoning(" in Paris and London"),
            reasoning("."),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "get_weather_8xmn2s9kd4jd".into(),
                name: "get_weather".into(),
            },
            delta(0, "{\n    \""),
            delta(0, "city"),
            delta(0, "\": \""),
            delta(0, "Paris"),
            delta(0, "\",\n    \"unit\": \"celsius\"\n"),
            delta(0, "}"),
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "get_weather_wq1g0mh5a7xv".into(),
                name: "get_weather".into(),
            },
            delta(1, "{\n    \"city\": \""),
            delta(1, "London"),
            delta(1, "\",\n    \"unit\": \""),
            delta(1, "celsius\"\n}"),
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Usage(usage(1123, 61)),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
    let completion = fold(&events);
    assert_eq!(
        completion.reasoning,
        "I will look up the weather in Paris and London."
    );
    assert_eq!(completion.text, "");
    assert_eq!(
        completion.tool_calls,
        vec![
            ToolCall {
                id: "get_weather_8xmn2s9kd4jd".into(),
                name: "get_weather".into(),
                arguments: "{\n    \"city\": \"Paris\",\n    \"unit\": \"celsius\"\n}".into(),
            },
            ToolCall {
                id: "get_weather_wq1g0mh5a7xv".into(),
                name: "get_weather".into(),
                arguments: "{\n    \"city\": \"London\",\n    \"unit\": \"celsius\"\n}".into(),
            },
        ]
    );
}

#[test]
fn max_tokens() {
    assert_eq!(
        decode("max_tokens.sse"),
        vec![
            start(),
            text("Once upon a time"),
            text(", in a kingdom by the sea,"),
            text(" there lived"),
            StreamEvent::Usage(usage(207, 12)),
            StreamEvent::Finish(FinishReason::Length),
        ]
    );
}

#[test]
fn error_finish() {
    assert_eq!(
        decode("error_finish.sse"),
        vec![
            start(),
            text("Here is"),
            text(" the first part"),
            StreamEvent::Usage(usage(205, 3)),
            StreamEvent::Error(Error::new(
                ErrorKind::Upstream,
                "internal server error, please try again later"
            )),
        ]
    );
}

#[test]
fn cut_before_message_end_it_never_finishes() {
    for name in ALL {
        let bytes = fixture(name);
        let end = std::str::from_utf8(&bytes).unwrap().trim_end().len();
        for cut in 0..end {
            let (events, decoder) = decode_chunks([&bytes[..cut]]);
            assert!(!decoder.is_done(), "{name} cut at {cut}");
            assert!(
                !events.iter().any(StreamEvent::is_terminal),
                "{name} cut at {cut}: {events:?}"
            );
        }
    }
}
