//! Every stream in `tests/fixtures/openai-responses/` decodes to the exact core events
//! it carries, whole, split at every byte and fed one byte at a time. The streams were
//! written by hand from the spec (see the folder's README); the expected events are
//! literals on purpose.

use std::path::PathBuf;

use rill_core::{ErrorKind, FinishReason, StreamEvent, Usage};

use super::support::{decode_chunks, decode_sse, fold};

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    let path = dir.join("openai-responses").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The events of a fixture, after checking that every way of chunking it agrees.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let (whole, decoder) = decode_sse(&bytes);
    assert!(decoder.is_done(), "{name}: no terminal event seen");
    for split in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(split);
        let (events, _) = decode_chunks([head, tail]);
        assert_eq!(events, whole, "{name} split at byte {split}");
    }
    let (bytewise, _) = decode_chunks(bytes.chunks(1));
    assert_eq!(bytewise, whole, "{name} one byte at a time");
    whole
}

fn start(model: &str) -> StreamEvent {
    StreamEvent::Start {
        model: model.into(),
    }
}

fn texts(pieces: &[&str]) -> Vec<StreamEvent> {
    pieces
        .iter()
        .map(|p| StreamEvent::TextDelta((*p).into()))
        .collect()
}

fn usage(input: u64, output: u64, reasoning: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: Some(reasoning),
        cached_input_tokens: Some(0),
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    })
}

#[test]
fn text_with_usage() {
    let mut expected = vec![start("gpt-4.1-2025-04-14")];
    expected.extend(texts(&[
        "Hello", "!", " How", " can", " I", " help", " you", " today", "?",
    ]));
    expected.push(usage(19, 10, 0));
    expected.push(StreamEvent::Finish(FinishReason::Stop));
    assert_eq!(decode("text_with_usage.sse"), expected);
}

#[test]
fn function_call() {
    let mut expected = vec![
        start("gpt-4.1-2025-04-14"),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_Xy7pQ2nR8sT4uV6wZ1aB3cD5".into(),
            name: "get_weather".into(),
        },
    ];
    for piece in ["{\"", "city", "\":\"", "Paris", ",", " France", "\"}"] {
        expected.push(StreamEvent::ToolCallDelta {
            index: 0,
            arguments: piece.into(),
        });
    }
    expected.extend([
        StreamEvent::ToolCallEnd { index: 0 },
        usage(62, 18, 0),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    let events = decode("function_call.sse");
    assert_eq!(events, expected);
    let completion = fold(&events);
    assert_eq!(completion.tool_calls.len(), 1);
    assert_eq!(
        completion.tool_calls[0].arguments,
        "{\"city\":\"Paris, France\"}"
    );
}

/// The second summary part is set apart from the first with a blank line.
#[test]
fn reasoning_then_text() {
    let mut expected = vec![start("o4-mini-2025-04-16")];
    let reasoning = [
        "**Adding",
        " numbers**",
        "\n\n",
        "The user",
        " asks for",
        " 17 + 25",
        ".",
        "\n\n",
        "**Checking**",
        "\n\n",
        "17 + 25 = 42",
        ".",
    ];
    expected.extend(
        reasoning
            .iter()
            .map(|p| StreamEvent::ReasoningDelta((*p).into())),
    );
    expected.extend(texts(&["17", " +", " 25", " =", " **", "42", "**."]));
    expected.push(usage(24, 212, 192));
    expected.push(StreamEvent::Finish(FinishReason::Stop));
    let events = decode("reasoning_text.sse");
    assert_eq!(events, expected);
    let completion = fold(&events);
    assert_eq!(
        completion.reasoning,
        "**Adding numbers**\n\nThe user asks for 17 + 25.\n\n**Checking**\n\n17 + 25 = 42."
    );
    assert_eq!(completion.text, "17 + 25 = **42**.");
}

/// The nested `error` event ends the stream; `response.failed` after it adds nothing.
#[test]
fn error_nested() {
    let events = decode("error_nested.sse");
    let Some((StreamEvent::Error(error), rest)) = events.split_last() else {
        panic!("no error at the end: {events:?}");
    };
    let mut expected = vec![start("gpt-5-2025-08-07")];
    expected.extend(texts(&["The", " answer", " is"]));
    assert_eq!(rest, expected);
    assert_eq!(error.kind, ErrorKind::Internal);
    assert_eq!(error.code.as_deref(), Some("server_error"));
    assert!(
        error
            .message
            .starts_with("The server had an error processing your request.")
    );
}

#[test]
fn incomplete() {
    let mut expected = vec![start("gpt-4.1-mini-2025-04-14")];
    expected.extend(texts(&[
        "Once", " upon", " a", " time", ",", " in", " a", " land", " far", ",", " far",
    ]));
    expected.push(usage(14, 24, 0));
    expected.push(StreamEvent::Finish(FinishReason::Length));
    assert_eq!(decode("incomplete.sse"), expected);
}

/// A stream cut anywhere before its terminal event never finishes: `terminated` then
/// turns it into an error.
#[test]
fn every_truncation_is_unfinished() {
    for (name, terminal) in [
        ("text_with_usage.sse", "event: response.completed"),
        ("function_call.sse", "event: response.completed"),
        ("reasoning_text.sse", "event: response.completed"),
        ("error_nested.sse", "event: error"),
        ("incomplete.sse", "event: response.incomplete"),
    ] {
        let bytes = fixture(name);
        let end = bytes
            .windows(terminal.len())
            .position(|w| w == terminal.as_bytes())
            .unwrap();
        for cut in 0..end {
            let (events, decoder) = decode_sse(&bytes[..cut]);
            assert!(!decoder.is_done(), "{name} cut at {cut}");
            assert!(
                !events.iter().any(StreamEvent::is_terminal),
                "{name} cut at {cut}: {events:?}"
            );
        }
    }
}
