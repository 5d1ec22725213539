//! Every Gemini stream in `tests/fixtures/gemini/` decodes to exactly the events it
//! carries, whole, split at every byte and fed one byte at a time; cut anywhere before
//! the end of its finishing chunk, it never finishes. The fixtures are hand-written in the
//! shape of real `streamGenerateContent?alt=sse` bodies (see the folder's README); the
//! expected values are literals on purpose.

use std::path::PathBuf;

use rill_core::{Completion, FinishReason, Reasoning, StreamEvent, ToolCall};

use super::support::{decode_chunks, decode_sse, fold, usage};

const NAMES: [&str; 8] = [
    "text_with_usage.sse",
    "text_crlf.sse",
    "parallel_function_calls.sse",
    "thoughts.sse",
    "max_tokens.sse",
    "safety.sse",
    "thought_signature_function_call.sse",
    "thought_signature_text.sse",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gemini"
    ))
    .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The events of a fixture, after checking that every way of chunking it agrees.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let whole = decode_sse(&bytes);
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
    let u = |output| StreamEvent::Usage(usage(7, output, Some(600), None));
    assert_eq!(
        decode("text_with_usage.sse"),
        vec![
            start("gemini-2.5-flash"),
            text("The sky looks blue because sunlight is scattered"),
            u(609),
            text(" by the air's molecules, and blue light scatters far more than red."),
            u(624),
            text(" This is called Rayleigh scattering."),
            u(631),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn text_crlf() {
    // The middle chunk repeats the counts unchanged: no `Usage` for it.
    assert_eq!(
        decode("text_crlf.sse"),
        vec![
            start("gemini-2.0-flash"),
            text("Hello"),
            StreamEvent::Usage(usage(5, 0, None, None)),
            text("! How can I help you today? 😊"),
            text("\n"),
            StreamEvent::Usage(usage(5, 12, None, None)),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn parallel_function_calls() {
    let events = decode("parallel_function_calls.sse");
    let id = |n: u32| format!("call_kP2MaOOdLp-z1dkPx_TZyAc_{n}");
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
    let signature = "CiwBVKhc7vK0b5bV2cW1m9ZPq0j7Yx0t4uXn9w3d1oGqSgm0bL6eYk1rO7k=";
    let mut expected = vec![
        start("gemini-2.5-flash"),
        text("Checking the weather in Paris and London."),
        StreamEvent::Usage(usage(71, 82, Some(73), None)),
        // The first call's signature, just before it.
        StreamEvent::ReasoningSignature(signature.into()),
    ];
    expected.extend(call(0, "Paris"));
    expected.extend(call(1, "London"));
    expected.extend([
        StreamEvent::Usage(usage(71, 118, Some(73), None)),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    assert_eq!(events, expected);
    assert_eq!(
        fold(&events).reasoning_blocks,
        [Reasoning::signed("", signature)]
    );
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
fn thoughts() {
    let u =
        |output, reasoning| StreamEvent::Usage(usage(2061, output, Some(reasoning), Some(2048)));
    let events = decode("thoughts.sse");
    assert_eq!(
        events,
        vec![
            start("gemini-2.5-pro"),
            StreamEvent::ReasoningDelta(
                "**Adding the numbers**\n\nThe user wants 17 + 25. The tens make 30 and the ones make 12, so 42.".into()
            ),
            u(140, 140),
            StreamEvent::ReasoningDelta(
                "\n\n**Double-checking**\n\n25 + 17: 25 + 10 is 35, plus 7 is 42.".into()
            ),
            u(189, 189),
            text("17 + 25 = **42**."),
            u(198, 189),
            // From the signature-only text part that ends the answer.
            StreamEvent::ReasoningSignature(
                "Cp8CAdHtim9hYl4Zq1sN0cX2kq7D3n9bQm5oV8yT1eWcR4uJ0pLk".into()
            ),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
    let completion = fold(&events);
    assert_eq!(completion.text, "17 + 25 = **42**.");
    assert!(completion.reasoning.starts_with("**Adding the numbers**"));
    // Collected, the signature seals the reasoning before it.
    assert_eq!(
        completion.reasoning_blocks,
        [Reasoning::signed(
            completion.reasoning.clone(),
            "Cp8CAdHtim9hYl4Zq1sN0cX2kq7D3n9bQm5oV8yT1eWcR4uJ0pLk"
        )]
    );
    // Core's total is Gemini's `totalTokenCount`.
    assert_eq!(completion.usage.map(|u| u.total_tokens()), Some(2259));
}

#[test]
fn max_tokens() {
    let events = decode("max_tokens.sse");
    assert_eq!(
        fold(&events),
        Completion {
            model: Some("gemini-2.0-flash-lite".into()),
            text: "Once upon a time, in a kingdom by the sea, there lived a lighthouse keeper"
                .into(),
            finish_reason: Some(FinishReason::Length),
            usage: Some(usage(6, 16, None, None)),
            ..Completion::default()
        }
    );
    assert_eq!(events.len(), 6, "{events:?}");
}

#[test]
fn safety() {
    assert_eq!(
        decode("safety.sse"),
        vec![
            start("gemini-2.0-flash"),
            text("Sure. The first step is to"),
            StreamEvent::Usage(usage(14, 7, None, None)),
            StreamEvent::Finish(FinishReason::ContentFilter),
        ]
    );
}

/// Gemini 3 signs the first call of a step with parallel calls: the signature comes just
/// before that call, and nothing signs the second.
#[test]
fn thought_signature_function_call() {
    let events = decode("thought_signature_function_call.sse");
    let signature = "CiQBcsjafPJ2bW5v0rQ7x1kZ3m9Hn2Ls8dWq4eTg6yUo0pVi7aESeAFyyNp8xK3qLm9Vb2Ts5nHw0dRz7jQk4cY1uPi6oE3gXaB8fN2hM9sL0vT5qW7yU1iO3pA=";
    let id = |n: u32| format!("call_Zq3nZ8v0Ko2u1dkPqbOYuQk_{n}");
    let call = |index: u32, city: &str| {
        [
            StreamEvent::ToolCallStart {
                index,
                id: id(index),
                name: "get_weather".into(),
            },
            StreamEvent::ToolCallDelta {
                index,
                arguments: format!(r#"{{"city":"{city}"}}"#),
            },
            StreamEvent::ToolCallEnd { index },
        ]
    };
    let mut expected = vec![
        start("gemini-3-pro-preview"),
        text("I'll check both cities."),
        StreamEvent::Usage(usage(88, 148, Some(142), None)),
        StreamEvent::ReasoningSignature(signature.into()),
    ];
    expected.extend(call(0, "Paris"));
    expected.extend(call(1, "London"));
    expected.extend([
        StreamEvent::Usage(usage(88, 180, Some(142), None)),
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]);
    assert_eq!(events, expected);
    let completion = fold(&events);
    assert_eq!(completion.reasoning, "");
    assert_eq!(
        completion.reasoning_blocks,
        [Reasoning::signed("", signature)]
    );
    assert_eq!(completion.tool_calls.len(), 2);
}

/// A signature on a text part that more text follows comes out when the text is over,
/// so the answer's text stays one piece for every client.
#[test]
fn thought_signature_text() {
    let u = |output| StreamEvent::Usage(usage(9, output, Some(51), None));
    assert_eq!(
        decode("thought_signature_text.sse"),
        vec![
            start("gemini-3-pro-preview"),
            text("The capital of France"),
            u(55),
            text(" is Paris."),
            u(58),
            StreamEvent::ReasoningSignature(
                "CiIBcsjafNq8tW3y0vX5zB1nM4kL7hJ2gF9dS6aP3oI0uY8tR5eW2qQ1mN4bV7cX0zL3kJ6hG9fD2sA5pO8iU1yT4rE7wQ0="
                    .into()
            ),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

/// Where the event that carries the finish reason is complete: at the end of its blank
/// line, which for CRLF is its CR (a lone CR ends a line too).
fn end_of_finishing_event(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let at = text.find("\"finishReason\"").unwrap();
    [("\r\n\r\n", 3), ("\n\n", 2)]
        .iter()
        .filter_map(|(eol, len)| text[at..].find(eol).map(|i| at + i + len))
        .min()
        .unwrap()
}

/// Gemini has no end-of-stream event: a body cut before its finishing chunk is complete
/// never finishes, so `terminated` turns it into an error.
#[test]
fn every_truncation_is_unfinished() {
    for name in NAMES {
        let bytes = fixture(name);
        let end = end_of_finishing_event(&bytes);
        for cut in 0..end {
            let events = decode_sse(&bytes[..cut]);
            assert!(
                !events.iter().any(StreamEvent::is_terminal),
                "{name} cut at {cut}: {events:?}"
            );
        }
        let events = decode_sse(&bytes[..end]);
        assert!(
            matches!(events.last(), Some(StreamEvent::Finish(_))),
            "{name} up to its finishing chunk: {events:?}"
        );
    }
}
