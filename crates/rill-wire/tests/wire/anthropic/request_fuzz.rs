//! `parse_request` never panics: the cases every dialect runs (`crate::fuzz`), the
//! shapes of this dialect's requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_wire::AnthropicMessages;
use rill_wire::anthropic::parse_request;
use serde_json::{Value, json};

/// Field names of the dialect's requests, for `fuzz::jsonish`.
const KEYS: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "id",
    "name",
    "input",
    "tool_use_id",
    "is_error",
    "system",
    "tools",
    "input_schema",
    "tool_choice",
    "thinking",
    "budget_tokens",
    "output_config",
    "format",
    "schema",
    "stop_sequences",
    "temperature",
    "top_k",
    "x",
];

/// Strings its requests use as values.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "text",
    "image",
    "tool_use",
    "tool_result",
    "thinking",
    "auto",
    "any",
    "tool",
    "enabled",
    "json_schema",
    "",
    "\u{0}é🦀",
];

fn jsonish() -> impl Strategy<Value = Value> {
    crate::fuzz::jsonish(KEYS, WORDS)
}

crate::fuzz::fuzz_dialect!(AnthropicMessages, KEYS, WORDS);

proptest! {
    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(jsonish(), 0..4)) {
        let body = json!({"model": "m", "max_tokens": 8, "messages": messages});
        crate::fuzz::ok_or_400::<AnthropicMessages>(&body)?;
    }

    #[test]
    fn arbitrary_content_blocks_never_panic(blocks in prop::collection::vec(jsonish(), 0..4)) {
        for role in ["user", "assistant"] {
            let body = json!({"max_tokens": 8, "messages": [{"role": role, "content": blocks}]});
            crate::fuzz::ok_or_400::<AnthropicMessages>(&body)?;
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!(
        "{{\"max_tokens\":1,\"messages\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(parse_request(body.as_bytes()).is_err());
    let nested = format!(
        "{}{}",
        "{\"a\":".repeat(depth),
        "1".to_owned() + &"}".repeat(depth)
    );
    let body = format!(
        "{{\"max_tokens\":1,\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}],\"tools\":[{{\"name\":\"f\",\"input_schema\":{nested}}}]}}"
    );
    assert!(parse_request(body.as_bytes()).is_err());
    let body = format!(
        "{{\"max_tokens\":1,\"messages\":[{{\"role\":\"assistant\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\",\"input\":{nested}}}]}}]}}"
    );
    assert!(parse_request(body.as_bytes()).is_err());
}
