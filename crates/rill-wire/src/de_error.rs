//! Turns serde's error text into the messages rill sends: lowercase, the field's JSON
//! path in backticks, `param` set to that path.

use rill_core::Error;
use serde_json::error::Category;

/// Converts a failed parse of the request body.
pub(crate) fn request_error(err: &serde_path_to_error::Error<serde_json::Error>) -> Error {
    let inner = err.inner();
    match inner.classify() {
        Category::Io | Category::Syntax | Category::Eof => {
            Error::invalid_request(format!("the request body is not valid JSON: {inner}"))
        }
        Category::Data => {
            let path = err.path().to_string();
            let path = if path == "." { "" } else { path.as_str() };
            data_error(path, &without_position(inner))
        }
    }
}

/// The error text without serde_json's ` at line L column C` suffix.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => text,
    }
}

fn data_error(path: &str, msg: &str) -> Error {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        // The path may already end in the unknown key.
        let parent = match path.strip_suffix(name) {
            Some(parent) if parent.is_empty() || parent.ends_with('.') => {
                parent.trim_end_matches('.')
            }
            _ => path,
        };
        let field = join(parent, name);
        return if field == name {
            Error::invalid_request(format!("unrecognized request argument supplied: `{name}`"))
                .with_param(name)
        } else {
            Error::invalid_request(format!("unrecognized field `{field}`")).with_param(field)
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = join(path, rest.split('`').next().unwrap_or_default());
        return Error::invalid_request(format!("missing required field `{field}`"))
            .with_param(field);
    }
    if let Some(rest) = msg.strip_prefix("duplicate field `") {
        let field = join(path, rest.split('`').next().unwrap_or_default());
        return Error::invalid_request(format!("duplicate field `{field}`")).with_param(field);
    }
    let message = if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (unexpected, expected) = split_expected(rest);
        if path.is_empty() {
            format!(
                "the request body must be a JSON object, got {}",
                kind_of(unexpected)
            )
        } else {
            let (expected, got) = (nice_expected(expected), kind_of(unexpected));
            format!("invalid type for `{path}`: expected {expected}, got {got}")
        }
    } else if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (unexpected, expected) = split_expected(rest);
        let (expected, got) = (nice_expected(expected), literal_of(unexpected));
        format!("invalid value for `{path}`: expected {expected}, got {got}")
    } else if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once("`, expected ").unwrap_or((rest, ""));
        format!("invalid value `{value}` for `{path}`: expected {expected}")
    } else if path.is_empty() {
        format!("invalid request body: {msg}")
    } else {
        format!("invalid `{path}`: {msg}")
    };
    let error = Error::invalid_request(message);
    if path.is_empty() {
        error
    } else {
        error.with_param(path)
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Splits serde's `<unexpected>, expected <expected>`.
fn split_expected(rest: &str) -> (&str, &str) {
    rest.rsplit_once(", expected ")
        .unwrap_or((rest, "a valid value"))
}

/// serde's unexpected-value description (`string "hot"`) as a kind (`a string`).
fn kind_of(unexpected: &str) -> &str {
    let word = unexpected.split([' ', '`']).next().unwrap_or_default();
    match word {
        "string" => "a string",
        "integer" => "an integer",
        "floating" => "a number",
        "boolean" => "a boolean",
        "null" | "unit" => "null",
        "map" => "an object",
        "sequence" => "an array",
        _ => unexpected,
    }
}

/// serde's unexpected-value description (``integer `-1` ``) as the literal (`-1`).
fn literal_of(unexpected: &str) -> &str {
    match unexpected.split_once(' ') {
        Some((_, literal)) => literal.trim_matches('`'),
        None => unexpected,
    }
}

/// serde's expectation in JSON terms.
fn nice_expected(expected: &str) -> &str {
    match expected {
        "f32" | "f64" => "a number",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer",
        "a sequence" => "an array",
        "a map" => "an object",
        "variant identifier" => "a string",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_json_terms() {
        assert_eq!(kind_of("string \"hot\""), "a string");
        assert_eq!(kind_of("floating point `1.5`"), "a number");
        assert_eq!(kind_of("map"), "an object");
        assert_eq!(literal_of("integer `-1`"), "-1");
        assert_eq!(nice_expected("f32"), "a number");
        assert_eq!(nice_expected("a sequence"), "an array");
    }
}
