//! `parse_request` never panics: arbitrary bytes, arbitrary JSON-ish values shaped like
//! requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_core::ErrorKind;
use rill_wire::openai_chat::parse_request;
use serde_json::json;

/// A JSON-ish value whose keys are mostly real field names, so that generation reaches
/// deep into the request structure.
fn jsonish() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        Just("messages"),
        Just("role"),
        Just("content"),
        Just("type"),
        Just("text"),
        Just("tools"),
        Just("function"),
        Just("name"),
        Just("tool_choice"),
        Just("tool_calls"),
        Just("tool_call_id"),
        Just("stop"),
        Just("max_tokens"),
        Just("max_completion_tokens"),
        Just("temperature"),
        Just("response_format"),
        Just("json_schema"),
        Just("n"),
        Just("stream_options"),
        Just("include_usage"),
        Just("arguments"),
        Just("parameters"),
        Just("functions"),
        Just("function_call"),
        Just("seed"),
        Just("x"),
    ]
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0.0f64..3.0).prop_map(Value::from),
        prop_oneof![
            Just("user"),
            Just("system"),
            Just("assistant"),
            Just("tool"),
            Just("developer"),
            Just("function"),
            Just("text"),
            Just("image_url"),
            Just("auto"),
            Just("required"),
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
