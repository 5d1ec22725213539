//! `parse_request` never panics: arbitrary bytes, arbitrary JSON-ish values shaped like
//! `useChat` bodies, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_core::ErrorKind;
use rill_wire::vercel_ui::parse_request;
use serde_json::{Value, json};

/// A JSON-ish value whose keys are mostly real field names, so that generation reaches
/// deep into the request structure.
fn jsonish() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("id"),
        Just("messages"),
        Just("role"),
        Just("parts"),
        Just("type"),
        Just("text"),
        Just("toolCallId"),
        Just("toolName"),
        Just("state"),
        Just("input"),
        Just("rawInput"),
        Just("output"),
        Just("errorText"),
        Just("preliminary"),
        Just("model"),
        Just("temperature"),
        Just("maxOutputTokens"),
        Just("max_tokens"),
        Just("content"),
        Just("x"),
    ]
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0.0f64..2.0).prop_map(Value::from),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("system"),
            Just("text"),
            Just("reasoning"),
            Just("tool-get_weather"),
            Just("tool-"),
            Just("dynamic-tool"),
            Just("step-start"),
            Just("file"),
            Just("data-x"),
            Just("source-url"),
            Just("input-available"),
            Just("output-available"),
            Just("output-error"),
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

#[track_caller]
fn ok_or_400(body: &Value) -> Result<(), TestCaseError> {
    match parse_request(body.to_string().as_bytes()) {
        Ok(_) => Ok(()),
        Err(e) => {
            prop_assert_eq!(e.kind, ErrorKind::InvalidRequest);
            prop_assert!(!e.message.is_empty());
            Ok(())
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_request(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in jsonish()) {
        ok_or_400(&value)?;
    }

    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(jsonish(), 0..4)) {
        ok_or_400(&json!({"id": "c", "messages": messages, "trigger": "submit-message"}))?;
    }

    #[test]
    fn arbitrary_parts_never_panic(parts in prop::collection::vec(jsonish(), 0..5)) {
        for role in ["user", "assistant", "system"] {
            ok_or_400(&json!({"messages": [{"id": "m", "role": role, "parts": parts}]}))?;
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
