//! Ollama's error object `{"error": "..."}`: an HTTP error response's body, and an
//! error sent as a line of the stream.

use rill_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

/// Reads an upstream's HTTP error response (status and body) as a core error: the kind
/// from the status ([`ErrorKind::from_status`]; Ollama answers 404 for a model it has
/// not pulled), the message the body's `error` string. A body that is not one (an HTML
/// page from a proxy, say) is not passed on: the message then names the status.
pub fn error_from_body(status: u16, body: &str) -> Error {
    let kind = ErrorKind::from_status(status);
    let message = parse(body)
        .and_then(message)
        .unwrap_or_else(|| format!("the upstream answered with HTTP status {status}"));
    Error::new(kind, message)
}

fn parse(body: &str) -> Option<Value> {
    #[derive(Deserialize)]
    struct BodyIn {
        error: Option<Value>,
    }
    serde_json::from_str::<BodyIn>(body).ok()?.error
}

/// The message of an `error` member: a non-empty string, or an object's `message` (what
/// OpenAI-style proxies send).
pub(super) fn message(error: Value) -> Option<String> {
    let message = match error {
        Value::String(message) => message,
        Value::Object(mut object) => match object.remove("message") {
            Some(Value::String(message)) => message,
            _ => return None,
        },
        _ => return None,
    };
    (!message.is_empty()).then_some(message)
}

/// An error line mid-stream: [`ErrorKind::Upstream`], with its message.
pub(super) fn stream_error(error: Value) -> Error {
    let message = message(error).unwrap_or_else(|| "the upstream reported an error".to_owned());
    Error::new(ErrorKind::Upstream, message)
}
