//! Every Ollama stream in `tests/fixtures/ollama/` decodes to exactly the events it
//! carries, whole, split at every byte and fed one byte at a time; cut anywhere before
//! its `done: true` line is complete, it never finishes. The fixtures are hand-written in
//! the shape of real `/api/chat` bodies (see the folder's README); the expected values
//! are literals on purpose.

use std::path::PathBuf;

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, ToolCall};
use rill_wire::ollama::ChunkDecoder;

use super::support::{decode_chunks, decode_ndjson, fold, usage};

const FINISHING: [&str; 5] = [
    "text_with_usage.ndjson",
    "parallel_tool_calls.ndjson",
    "max_tokens.ndjson",
    "thinking.ndjson",
    "crlf_no_final_newline.ndjson",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ollama"
    ))
    .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The events of a fixture, after checking that every way of chunking it agrees.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let whole = decode_ndjson(&bytes);
    for split in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(split);
        assert_eq!(
            decode_chunks([head, tail]),
            whole,
            "{name} split at byte {split}"
        );
    }
    assert_eq!(
        decode_chunks(bytes.chunks(1)),
        whole,
        "{name} one byte at a time"
    );
    whole
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta(t.into())
}

fn start(model: &str) -> StreamEvent {
    StreamEvent::Start {
        model: model.into(),
    }
}

#[test]
fn text_with_usage() {
    assert_eq!(
        decode("text_with_usage.ndjson"),
        vec![
            start("llama3.2"),
            text("The"),
            text(" sky"),
            text(" is blue because of Rayleigh scattering"),
            text(" — “short” waves scatter most."),
            StreamEvent::Usage(usage(26, 14)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn parallel_tool_calls() {
    let events = decode("parallel_tool_calls.ndjson");
    // The digits of the first line's `created_at`.
    let id = |n: u32| format!("call_20250903170244552190411_{n}");
    let call = |index: u32, city: &str| {
        [
            StreamEvent::ToolCallStart {
                index,
                id: id(index),
                name: "get_weather".into(),
            },
            StreamEvent::ToolCallDelta {
                index,
                arguments: format!(r#"{{"city":"{city}","unit":"celsius"}}"#),
            },
            StreamEvent::ToolCallEnd { index },
        ]
    };
    let mut expected = vec![start("qwen3:8b"), text("I'll check both cities.")];
    expected.extend(call(0, "Paris"));
    expected.extend(call(1, "London"));
    expected.extend([
        StreamEvent::Usage(usage(213, 61)),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    assert_eq!(events, expected);
    assert_eq!(
        fold(&events).tool_calls,
        vec![
            ToolCall {
                id: id(0),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris","unit":"celsius"}"#.into(),
            },
            ToolCall {
                id: id(1),
                name: "get_weather".into(),
                arguments: r#"{"city":"London","unit":"celsius"}"#.into(),
            },
        ]
    );
}

#[test]
fn max_tokens() {
    assert_eq!(
        decode("max_tokens.ndjson"),
        vec![
            start("mistral:7b"),
            text("Once upon a time"),
            text(", in a kingdom by the sea,"),
            text(" there lived"),
            StreamEvent::Usage(usage(11, 12)),
            StreamEvent::Finish(FinishReason::Length),
        ]
    );
}

#[test]
fn thinking() {
    let reasoning = |t: &str| StreamEvent::ReasoningDelta(t.into());
    let events = decode("thinking.ndjson");
    assert_eq!(
        events,
        vec![
            start("deepseek-r1:8b"),
            reasoning("17 + 25:"),
            reasoning(" the tens make 30, the ones 12"),
            reasoning(", so 42."),
            text("17 + 25 = "),
            text("**42**."),
            StreamEvent::Usage(usage(12, 38)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
    let completion = fold(&events);
    assert_eq!(
        completion.reasoning,
        "17 + 25: the tens make 30, the ones 12, so 42."
    );
    assert_eq!(completion.text, "17 + 25 = **42**.");
}

#[test]
fn crlf_no_final_newline() {
    assert_eq!(
        decode("crlf_no_final_newline.ndjson"),
        vec![
            start("gemma3:4b"),
            text("Hi"),
            text("! 😊\n"),
            StreamEvent::Usage(usage(9, 4)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn error_mid_stream() {
    assert_eq!(
        decode("error_mid_stream.ndjson"),
        vec![
            start("llama3.1:70b"),
            text("Here is"),
            text(" the first part"),
            StreamEvent::Error(Error::new(
                ErrorKind::Upstream,
                "an error was encountered while running the model: unexpected EOF"
            )),
        ]
    );
}

#[test]
fn cut_before_the_done_line_ends_it_never_finishes() {
    for name in FINISHING {
        let bytes = fixture(name);
        let end = std::str::from_utf8(&bytes).unwrap().trim_end().len();
        for cut in 0..end {
            // A cut line is malformed JSON: the decoder refuses it, and must not finish
            // before it either.
            let mut decoder = ChunkDecoder::new();
            let text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
            let mut events = Vec::new();
            for line in text.split('\n') {
                match decoder.decode(line) {
                    Ok(decoded) => events.extend(decoded),
                    Err(error) => {
                        assert_eq!(error.kind, ErrorKind::Upstream);
                        break;
                    }
                }
            }
            assert!(
                !events.iter().any(StreamEvent::is_terminal),
                "{name} cut at {cut}: {events:?}"
            );
            assert!(!decoder.is_done(), "{name} cut at {cut}");
        }
    }
}
