//! `parse_request` never panics: the cases every dialect runs (`crate::fuzz`), the
//! shapes of this dialect's requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_wire::OpenAiChat;
use rill_wire::openai_chat::parse_request;
use serde_json::{Value, json};

/// Field names of the dialect's requests, for `fuzz::jsonish`.
const KEYS: &[&str] = &[
    "messages",
    "role",
    "content",
    "type",
    "text",
    "tools",
    "function",
    "name",
    "tool_choice",
    "tool_calls",
    "tool_call_id",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "response_format",
    "json_schema",
    "n",
    "stream_options",
    "include_usage",
    "arguments",
    "parameters",
    "functions",
    "function_call",
    "seed",
    "x",
];

/// Strings its requests use as values.
const WORDS: &[&str] = &[
    "user",
    "system",
    "assistant",
    "tool",
    "developer",
    "function",
    "text",
    "image_url",
    "auto",
    "required",
    "json_schema",
    "",
    "\u{0}é🦀",
];

fn jsonish() -> impl Strategy<Value = Value> {
    crate::fuzz::jsonish(KEYS, WORDS)
}

crate::fuzz::fuzz_dialect!(OpenAiChat, KEYS, WORDS);

proptest! {
    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(jsonish(), 0..4)) {
        let body = json!({"model": "m", "messages": messages});
        let _ = parse_request(body.to_string().as_bytes());
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
    let schema = format!(
        "{}{}",
        "{\"a\":".repeat(depth),
        "1".to_owned() + &"}".repeat(depth)
    );
    let body = format!(
        "{{\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}],\"tools\":[{{\"type\":\"function\",\"function\":{{\"name\":\"f\",\"parameters\":{schema}}}}}]}}"
    );
    assert!(parse_request(body.as_bytes()).is_err());
}
