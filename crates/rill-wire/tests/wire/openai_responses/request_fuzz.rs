//! `parse_request` never panics: arbitrary bytes, arbitrary JSON-ish values shaped like
//! requests, and pathological nesting all end in `Ok` or a 400.

use proptest::prelude::*;
use rill_core::ErrorKind;
use rill_wire::openai_responses::parse_request;
use serde_json::{Value, json};

/// A JSON-ish value whose keys are mostly real field names, so that generation reaches
/// deep into the request structure.
fn jsonish() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("model"),
        Just("input"),
        Just("instructions"),
        Just("role"),
        Just("content"),
        Just("type"),
        Just("text"),
        Just("call_id"),
        Just("name"),
        Just("arguments"),
        Just("output"),
        Just("tools"),
        Just("parameters"),
        Just("tool_choice"),
        Just("format"),
        Just("schema"),
        Just("reasoning"),
        Just("max_output_tokens"),
        Just("temperature"),
        Just("previous_response_id"),
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
            Just("developer"),
            Just("message"),
            Just("input_text"),
            Just("output_text"),
            Just("input_image"),
            Just("refusal"),
            Just("function"),
            Just("function_call"),
            Just("function_call_output"),
            Just("reasoning"),
            Just("json_schema"),
            Just("auto"),
            Just("required"),
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

fn parses_or_400(body: &Value) -> Result<(), TestCaseError> {
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
        parses_or_400(&value)?;
    }

    #[test]
    fn arbitrary_items_never_panic(items in prop::collection::vec(jsonish(), 0..4)) {
        parses_or_400(&json!({"model": "m", "input": items}))?;
    }

    #[test]
    fn arbitrary_options_never_panic(tools in jsonish(), choice in jsonish(), text in jsonish()) {
        parses_or_400(&json!({"input": "x", "tools": [tools], "tool_choice": choice, "text": text}))?;
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
