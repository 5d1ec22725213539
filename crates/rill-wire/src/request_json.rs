//! What every dialect's request parser shares: reading a JSON request body, and the
//! errors that name the field at fault.

use rill_core::Error;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, IgnoredAny};
use serde_json::Value;

use crate::de_error::request_error;

/// Reads a request body into a dialect's raw request type.
///
/// Tolerates one leading UTF-8 BOM. An empty body, a body that is not an object and one
/// that is not JSON get their own messages; serde errors name the field's JSON path.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid_request("the request body is empty"));
    }
    not_an_object(body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let raw = serde_path_to_error::deserialize(&mut de).map_err(|e| request_error(&e))?;
    de.end()
        .map_err(|e| Error::invalid_request(format!("the request body is not valid JSON: {e}")))?;
    Ok(raw)
}

/// A body that is not an object, told apart from one that is not JSON at all. (serde
/// would otherwise read a JSON array positionally into the request struct.)
fn not_an_object(body: &[u8]) -> Result<(), Error> {
    let kind = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
    };
    match serde_json::from_slice::<IgnoredAny>(body) {
        Ok(_) => Err(Error::invalid_request(format!(
            "the request body must be a JSON object, got {kind}"
        ))),
        Err(e) => Err(Error::invalid_request(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

/// A 400 about the field at `param`.
pub(crate) fn invalid(param: impl Into<String>, message: impl Into<String>) -> Error {
    Error::invalid_request(message).with_param(param)
}

/// A 400 for a required field that is absent (or `null`).
pub(crate) fn missing(param: String) -> Error {
    Error::invalid_request(format!("missing required field `{param}`")).with_param(param)
}

/// A 400 unless `value` is absent or within `min..=max`.
pub(crate) fn check_range(name: &str, value: Option<f32>, min: f32, max: f32) -> Result<(), Error> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(invalid(
            name,
            format!("`{name}` must be between {min} and {max}, got {v}"),
        )),
        _ => Ok(()),
    }
}

/// For `#[serde(default, deserialize_with = "non_null")]`: a field that may be absent
/// but not `null` (serde reads both as `None` otherwise, and `"model": null` would pick
/// the default model).
pub(crate) fn non_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A tool's parameters: a JSON Schema, which is an object; absent, a schema of no
/// parameters. Anything else would only fail at the upstream, after the client was
/// admitted and perhaps charged.
pub(crate) fn tool_schema(param: String, schema: Option<Value>) -> Result<Value, Error> {
    match schema {
        None => Ok(Value::Object(serde_json::Map::new())),
        Some(schema @ Value::Object(_)) => Ok(schema),
        Some(other) => {
            let kind = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            };
            let message = format!("`{param}` must be a JSON Schema object, got {kind}");
            Err(invalid(param, message))
        }
    }
}
