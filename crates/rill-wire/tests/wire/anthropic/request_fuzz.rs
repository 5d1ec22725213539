//! `parse_request` never panics: arbitrary bytes, arbitrary JSON-ish values shaped like
//! requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_core::ErrorKind;
use rill_wire::anthropic::parse_request;
use serde_json::{Value, json};

/// A JSON-ish value whose keys are mostly real field names, so that generation reaches
/// deep into the request structure.
fn jsonish() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("model"),
        Just("max_tokens"),
        Just("messages"),
        Just("role"),
        Just("content"),
        Just("type"),
        Just("text"),
        Just("id"),
        Just("name"),
        Just("input"),
        Just("tool_use_id"),
        Just("is_error"),
        Just("system"),
        Just("tools"),
        Just("input_schema"),
        Just("tool_choice"),
        Just("thinking"),
        Just("budget_tokens"),
        Just("output_config"),
        Just("format"),
        Just("schema"),
        Just("stop_sequences"),
        Just("temperature"),
        Just("top_k"),
        Just("x"),
    ]
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0.0f64..2.0).prop_map(Value::from),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("system"),
            Just("text"),
            Just("image"),
            Just("tool_use"),
            Just("tool_result"),
            Just("thinking"),
            Just("auto"),
            Just("any"),
            Just("tool"),
            Just("enabled"),
            Just("json_schema"),
            Just(""),
            Just("\u{0}é🦀"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_request(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in jsonish()) {
        let text = value.to_string();
        match parse_request(text.as_bytes()) {
            Ok(_) => {}
            Err(e) => prop_assert_eq!(e.kind, ErrorKind::InvalidRequest),
        }
    }

    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(jsonish(), 0..4)) {
        let body = json!({"model": "m", "max_tokens": 8, "messages": messages});
        match parse_request(body.to_string().as_bytes()) {
            Ok(_) => {}
            Err(e) => prop_assert_eq!(e.kind, ErrorKind::InvalidRequest),
        }
    }

    #[test]
    fn arbitrary_content_blocks_never_panic(blocks in prop::collection::vec(jsonish(), 0..4)) {
        for role in ["user", "assistant"] {
            let body = json!({"max_tokens": 8, "messages": [{"role": role, "content": blocks}]});
            match parse_request(body.to_string().as_bytes()) {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.kind, ErrorKind::InvalidRequest),
            }
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
