//! Every recorded Anthropic stream in `tests/fixtures/anthropic-messages/` decodes to the
//! exact text, tool calls, stop reason and usage it carries, whole, split at every byte
//! and fed one byte at a time. The expected values were read off the recordings by
//! hand; they are literals on purpose.

use std::path::PathBuf;

use rill_core::{Completion, FinishReason, StreamEvent, ToolCall, Usage};

use super::support::{decode_chunks, decode_sse, fold};

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures"));
    let path = dir.join("anthropic-messages").join(name);
    let mut bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    // The SDK's recordings lack the final blank line; a strict parser needs it.
    if !bytes.ends_with(b"\n\n") {
        bytes.push(b'\n');
    }
    bytes
}

/// The events of a fixture, after checking that every way of chunking it agrees.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let (whole, decoder) = decode_sse(&bytes);
    assert!(decoder.is_done(), "{name}: `message_stop` not seen");
    for split in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(split);
        let (events, _) = decode_chunks([head, tail]);
        assert_eq!(events, whole, "{name} split at byte {split}");
    }
    let (bytewise, _) = decode_chunks(bytes.chunks(1));
    assert_eq!(bytewise, whole, "{name} one byte at a time");
    whole
}

/// `cached`: the fixture's cache read and cache creation counts, where it reports them
/// (all of them report both or neither).
fn usage(input: u64, output: u64, cached: Option<u64>) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: cached,
        cache_write_tokens: cached,
        cost_usd: None,
        estimated: false,
    })
}

#[test]
fn basic_response() {
    let events = decode("basic_response.sse");
    assert_eq!(
        fold(&events),
        Completion {
            model: Some("claude-3-opus-latest".into()),
            text: "Hello there!".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(11, 6, None),
            ..Completion::default()
        }
    );
    // The sequence itself: the prompt's count at once, the final count before `Finish`.
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                model: "claude-3-opus-latest".into()
            },
            StreamEvent::Usage(usage(11, 1, None).unwrap()),
            StreamEvent::TextDelta("Hello".into()),
            StreamEvent::TextDelta(" there".into()),
            StreamEvent::TextDelta("!".into()),
            StreamEvent::Usage(usage(11, 6, None).unwrap()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn tool_use_response() {
    let events = decode("tool_use_response.sse");
    assert_eq!(
        fold(&events),
        Completion {
            model: Some("claude-sonnet-4-20250514".into()),
            text: "I'll check the current weather in Paris for you.".into(),
            tool_calls: vec![ToolCall {
                id: "toolu_01NRLabsLyVHZPKxbKvkfSMn".into(),
                name: "get_weather".into(),
                arguments: "{\"location\": \"Paris\"}".into(),
            }],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(377, 65, Some(0)),
            ..Completion::default()
        }
    );
    let ends: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::ToolCallEnd { .. } | StreamEvent::Finish(_)))
        .collect();
    assert_eq!(
        ends,
        [
            &StreamEvent::ToolCallEnd { index: 0 },
            &StreamEvent::Finish(FinishReason::ToolCalls)
        ]
    );
}

#[test]
fn incomplete_partial_json_response() {
    let events = decode("incomplete_partial_json_response.sse");
    assert_eq!(
        fold(&events),
        Completion {
            model: Some("claude-3-7-sonnet-20250219".into()),
            text: "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now.".into(),
            tool_calls: vec![ToolCall {
                id: "toolu_01EKqbqmZrGRXy18eN7m9kvY".into(),
                name: "make_file".into(),
                arguments: "{\"filename\": \"taxes.txt\", \"lines_of_text\": [\n\"# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s\",\n\"\",\n\"## INTRODUCTION\",\n\"\",\n\"Filing taxes".into(),
            }],
            finish_reason: Some(FinishReason::Length),
            usage: usage(450, 124, Some(0)),
            ..Completion::default()
        }
    );
    // The cut-off call's block never stopped: `message_stop` ends it before `Finish`.
    assert_eq!(
        &events[events.len() - 2..],
        [
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::Finish(FinishReason::Length)
        ]
    );
}

#[test]
fn refusal_response() {
    let events = decode("refusal_response.sse");
    assert_eq!(
        fold(&events),
        Completion {
            model: Some("claude-opus-4-7".into()),
            finish_reason: Some(FinishReason::ContentFilter),
            usage: usage(20, 0, None),
            ..Completion::default()
        }
    );
}

/// A recording cut anywhere before `message_stop` never finishes: `terminated` then
/// turns the stream into an error.
#[test]
fn every_truncation_is_unfinished() {
    for name in [
        "basic_response.sse",
        "tool_use_response.sse",
        "incomplete_partial_json_response.sse",
        "refusal_response.sse",
    ] {
        let bytes = fixture(name);
        let stop = bytes
            .windows(b"event: message_stop".len())
            .position(|w| w == b"event: message_stop")
            .unwrap();
        for cut in 0..stop {
            let (events, decoder) = decode_sse(&bytes[..cut]);
            assert!(!decoder.is_done(), "{name} cut at {cut}");
            assert!(
                !events.iter().any(StreamEvent::is_terminal),
                "{name} cut at {cut}: {events:?}"
            );
        }
    }
}
