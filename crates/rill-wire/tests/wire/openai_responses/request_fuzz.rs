//! `parse_request` never panics: the cases every dialect runs (`crate::fuzz`), the
//! shapes of this dialect's requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_wire::OpenAiResponses;
use rill_wire::openai_responses::parse_request;
use serde_json::{Value, json};

/// Field names of the dialect's requests, for `fuzz::jsonish`.
const KEYS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "role",
    "content",
    "type",
    "text",
    "call_id",
    "name",
    "arguments",
    "output",
    "tools",
    "parameters",
    "tool_choice",
    "format",
    "schema",
    "reasoning",
    "max_output_tokens",
    "temperature",
    "previous_response_id",
    "x",
];

/// Strings its requests use as values.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "developer",
    "message",
    "input_text",
    "output_text",
    "input_image",
    "refusal",
    "function",
    "function_call",
    "function_call_output",
    "reasoning",
    "json_schema",
    "auto",
    "required",
    "",
    "\u{0}é🦀",
];

fn jsonish() -> impl Strategy<Value = Value> {
    crate::fuzz::jsonish(KEYS, WORDS)
}

crate::fuzz::fuzz_dialect!(OpenAiResponses, KEYS, WORDS);

proptest! {
    #[test]
    fn arbitrary_items_never_panic(items in prop::collection::vec(jsonish(), 0..4)) {
        crate::fuzz::ok_or_400::<OpenAiResponses>(&json!({"model": "m", "input": items}))?;
    }

    #[test]
    fn arbitrary_options_never_panic(tools in jsonish(), choice in jsonish(), text in jsonish()) {
        crate::fuzz::ok_or_400::<OpenAiResponses>(&json!({"input": "x", "tools": [tools], "tool_choice": choice, "text": text}))?;
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!("{{\"input\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse_request(body.as_bytes()).is_err());
    let nested = format!(
        "{}{}",
        "{\"a\":".repeat(depth),
        "1".to_owned() + &"}".repeat(depth)
    );
    let body = format!(
        "{{\"input\":\"x\",\"tools\":[{{\"type\":\"function\",\"name\":\"f\",\"parameters\":{nested}}}]}}"
    );
    assert!(parse_request(body.as_bytes()).is_err());
    let body = format!(
        "{{\"input\":\"x\",\"text\":{{\"format\":{{\"type\":\"json_schema\",\"name\":\"n\",\"schema\":{nested}}}}}}}"
    );
    assert!(parse_request(body.as_bytes()).is_err());
}
