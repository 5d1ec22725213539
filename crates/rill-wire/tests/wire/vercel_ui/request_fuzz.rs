//! `parse_request` never panics: arbitrary bytes, arbitrary JSON-ish values shaped like
//! `useChat` bodies, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_wire::VercelUi;
use rill_wire::vercel_ui::parse_request;
use serde_json::{Value, json};

/// Field names of the dialect's requests, for `fuzz::jsonish`.
const KEYS: &[&str] = &[
    "id",
    "messages",
    "role",
    "parts",
    "type",
    "text",
    "toolCallId",
    "toolName",
    "state",
    "input",
    "rawInput",
    "output",
    "errorText",
    "preliminary",
    "model",
    "temperature",
    "maxOutputTokens",
    "max_tokens",
    "content",
    "x",
];

/// Strings its requests use as values.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "text",
    "reasoning",
    "tool-get_weather",
    "tool-",
    "dynamic-tool",
    "step-start",
    "file",
    "data-x",
    "source-url",
    "input-available",
    "output-available",
    "output-error",
    "",
    "\u{0}é🦀",
];

fn jsonish() -> impl Strategy<Value = Value> {
    crate::fuzz::jsonish(KEYS, WORDS)
}

crate::fuzz::fuzz_dialect!(VercelUi, KEYS, WORDS);

proptest! {
    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(jsonish(), 0..4)) {
        crate::fuzz::ok_or_400::<VercelUi>(&json!({"id": "c", "messages": messages, "trigger": "submit-message"}))?;
    }

    #[test]
    fn arbitrary_parts_never_panic(parts in prop::collection::vec(jsonish(), 0..5)) {
        for role in ["user", "assistant", "system"] {
            crate::fuzz::ok_or_400::<VercelUi>(&json!({"messages": [{"id": "m", "role": role, "parts": parts}]}))?;
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!(
        "{{\"messages\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(parse_request(body.as_bytes()).is_err());
    let nested = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    for field in ["input", "output", "rawInput"] {
        let body = format!(
            "{{\"messages\":[{{\"id\":\"a\",\"role\":\"assistant\",\"parts\":[{{\"type\":\"tool-f\",\"toolCallId\":\"c\",\"state\":\"output-available\",\"{field}\":{nested}}}]}}]}}"
        );
        assert!(parse_request(body.as_bytes()).is_err(), "{field}");
    }
    // Deep nesting in the app's own top-level fields is skipped without recursion.
    let body = format!(
        "{{\"messages\":[{{\"id\":\"u\",\"role\":\"user\",\"parts\":[]}}],\"extra\":{nested}}}"
    );
    let _ = parse_request(body.as_bytes());
}
