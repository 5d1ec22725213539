//! A finished tool call's arguments text -> the `input` value of `tool-input-available`,
//! or the reason it cannot be one.

use serde_json::Value;

/// The arguments as a JSON value. Empty arguments (a call without parameters) are `{}`.
///
/// Refused, with a message for the client: text that is not JSON (a call cut off by
/// `max_tokens`, or a model that wrote garbage), and JSON that the client's parser
/// (`secureJsonParse`, which guards against prototype pollution) would reject: an
/// object with a `__proto__` key, or with a `constructor` key whose value is `null` or
/// an object with a `prototype` key. Such a chunk would fail the whole stream in the
/// browser; refused, it fails only this call.
pub(super) fn tool_input(name: &str, arguments: &str) -> Result<Value, String> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let value = serde_json::from_str::<Value>(arguments)
        .map_err(|e| format!("the arguments of the call to `{name}` are not valid JSON: {e}"))?;
    match forbidden_key(&value) {
        None => Ok(value),
        Some(key) => Err(format!(
            "the arguments of the call to `{name}` use the reserved key `{key}`"
        )),
    }
}

/// The first key anywhere in `value` that `secureJsonParse` refuses.
fn forbidden_key(value: &Value) -> Option<&'static str> {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if map.contains_key("__proto__") {
                    return Some("__proto__");
                }
                match map.get("constructor") {
                    Some(Value::Null) => return Some("constructor"),
                    Some(Value::Object(inner)) if inner.contains_key("prototype") => {
                        return Some("constructor");
                    }
                    _ => {}
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_objects_and_treats_empty_arguments_as_an_empty_object() {
        assert_eq!(
            tool_input("f", r#"{"city":"Paris"}"#),
            Ok(json!({"city": "Paris"}))
        );
        assert_eq!(tool_input("f", "  "), Ok(json!({})));
        assert_eq!(tool_input("f", "[1,2]"), Ok(json!([1, 2])));
    }

    #[test]
    fn refuses_what_the_client_would_choke_on() {
        let err = tool_input("f", r#"{"city":"Par"#).unwrap_err();
        assert!(
            err.starts_with("the arguments of the call to `f` are not valid JSON: "),
            "{err}"
        );
        for (args, key) in [
            (r#"{"__proto__":{"x":1}}"#, "__proto__"),
            (r#"{"a":[{"b":{"__proto__":1}}]}"#, "__proto__"),
            (r#"{"constructor":null}"#, "constructor"),
            (r#"{"a":{"constructor":{"prototype":{}}}}"#, "constructor"),
        ] {
            assert_eq!(
                tool_input("f", args),
                Err(format!(
                    "the arguments of the call to `f` use the reserved key `{key}`"
                )),
                "{args}"
            );
        }
        // Harmless: the words as values, a `constructor` that is a plain value.
        for args in [
            r#"{"k":"__proto__"}"#,
            r#"{"constructor":"Foo"}"#,
            r#"{"constructor":{"name":"x"}}"#,
        ] {
            assert!(tool_input("f", args).is_ok(), "{args}");
        }
    }
}
