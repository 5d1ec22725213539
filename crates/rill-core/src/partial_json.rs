//! Best-effort values of JSON that is still being written: a tool call's arguments as
//! they stream, or as far as they got when the answer was cut off.
//!
//! Parsing is `jiter`'s partial mode, which closes whatever the text left open: an
//! unfinished string keeps the characters it has (`{"city": "Par` is
//! `{"city": "Par"}`), unfinished arrays and objects keep their finished members, and a
//! key without a value, a half-written literal (`tru`) or number (`1.`) is left out until
//! it is whole. A number at the very end may still grow (`1` before `12`); every other
//! value only ever gains members. Complete text goes through `serde_json`, so a finished
//! call's value is exactly the one every other part of rill reads.

use jiter::{JsonValue, PartialMode};
use serde_json::{Map, Number, Value};

/// The value `text` holds so far, or `None` when it holds none yet (empty, only
/// whitespace, a lone `"`) or is not the beginning of any JSON text.
pub fn parse_partial(text: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str(text) {
        return Some(value);
    }
    let partial =
        JsonValue::parse_with_config(text.as_bytes(), false, PartialMode::TrailingStrings);
    partial.ok().map(|value| to_serde(&value))
}

/// The arguments of a tool call as an object, for dialects whose calls carry an object
/// (Anthropic's `input`, Gemini's `args`, Ollama's `arguments`): complete arguments as
/// they are, arguments cut off mid-way (by the length limit) as far as they go, and
/// `{}` for arguments that are empty (a call without parameters) or not an object.
pub fn arguments_object(arguments: &str) -> Map<String, Value> {
    match parse_partial(arguments) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn to_serde(value: &JsonValue<'_>) -> Value {
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Int(i) => Value::Number((*i).into()),
        // jiter refuses NaN and infinities here (`allow_inf_nan` is off): every float
        // is finite, and `from_f64` only fails on the others.
        JsonValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        JsonValue::Str(s) => Value::String(s.to_string()),
        JsonValue::Array(items) => Value::Array(items.iter().map(to_serde).collect()),
        // A repeated key keeps its last value, as `serde_json` and `JSON.parse` do.
        JsonValue::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, value)| (key.to_string(), to_serde(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn prefixes_of_a_call_grow_into_its_value() {
        let cases = [
            ("", None),
            ("  ", None),
            ("{", Some(json!({}))),
            ("{\"ci", Some(json!({}))),
            ("{\"city\":", Some(json!({}))),
            ("{\"city\": \"Par", Some(json!({"city": "Par"}))),
            (
                "{\"city\": \"Paris\", \"days\": [1, 2",
                Some(json!({"city": "Paris", "days": [1, 2]})),
            ),
            (
                "{\"a\": {\"b\": [\"x\", {\"c\": \"y",
                Some(json!({"a": {"b": ["x", {"c": "y"}]}})),
            ),
            ("{\"ok\": tr", Some(json!({}))),
            ("{\"ok\": true", Some(json!({"ok": true}))),
            ("{\"n\": 1.", Some(json!({}))),
            ("{\"n\": 1.5", Some(json!({"n": 1.5}))),
            ("{\"s\": \"a\\", Some(json!({"s": "a"}))),
            ("{\"s\": \"a\\u00e", Some(json!({"s": "a"}))),
            ("{\"s\": \"a\\u00e9", Some(json!({"s": "aé"}))),
            ("[1, \"two", Some(json!([1, "two"]))),
            ("{\"city\": \"Paris\"}", Some(json!({"city": "Paris"}))),
            ("not json", None),
            ("}", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_partial(text), expected, "{text:?}");
        }
    }

    #[test]
    fn complete_text_is_read_exactly_as_serde_json_reads_it() {
        let text = r#"{"big": 18446744073709551615, "f": 0.1, "dup": 1, "dup": 2, "z": null}"#;
        assert_eq!(
            parse_partial(text),
            Some(serde_json::from_str(text).unwrap())
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_while_partial_too() {
        assert_eq!(
            parse_partial("{\"a\": 1, \"a\": 2, \"b\": \"x"),
            Some(json!({"a": 2, "b": "x"}))
        );
    }

    #[test]
    fn arguments_are_an_object_as_far_as_they_go() {
        assert_eq!(
            Value::Object(arguments_object(
                "{\"filename\": \"taxes.txt\", \"lines\": [\"# Tax"
            )),
            json!({"filename": "taxes.txt", "lines": ["# Tax"]})
        );
        assert!(arguments_object("").is_empty());
        assert!(arguments_object("[1, 2]").is_empty());
        assert!(arguments_object("\"text\"").is_empty());
        assert!(arguments_object("garbage").is_empty());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-zé\"\\\\\n💧 ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Every prefix of a JSON text parses without panicking; the whole text parses
        /// to the value serde_json reads; and a prefix's value never has a member the whole lacks.
        #[test]
        fn every_prefix_parses_and_stays_within_the_whole(value in json_value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            // What serde_json reads back (its float parsing may differ from `value` in
            // the last digit).
            let whole: Value = serde_json::from_str(&text).unwrap();
            for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
                let partial = parse_partial(&text[..end]);
                if let Some(partial) = partial {
                    prop_assert!(within(&partial, &whole), "{:?} -> {partial} not within {whole}", &text[..end]);
                }
            }
            prop_assert_eq!(parse_partial(&text), Some(whole));
        }

        /// Arbitrary text never panics.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
            let _ = parse_partial(&text);
        }
    }

    /// Whether `partial` could be what a prefix of `whole` shows: the same scalar (a
    /// string or number may still be growing), an array no longer than the whole's with
    /// each item within its own, an object with only the whole's keys, each within.
    fn within(partial: &Value, whole: &Value) -> bool {
        match (partial, whole) {
            (Value::String(p), Value::String(w)) => w.starts_with(p.as_str()),
            (Value::Number(_), Value::Number(_)) => true,
            (Value::Array(p), Value::Array(w)) => {
                p.len() <= w.len() && p.iter().zip(w).all(|(p, w)| within(p, w))
            }
            (Value::Object(p), Value::Object(w)) => p
                .iter()
                .all(|(k, v)| w.get(k).is_some_and(|w| within(v, w))),
            (p, w) => p == w,
        }
    }
}
