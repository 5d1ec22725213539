//! Cohere's error body `{"message": "..."}` (sometimes with an `id`), as a core error.

use rill_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

/// Reads an upstream's HTTP error response (status and body) as a core error: the kind
/// from the status ([`ErrorKind::from_status`], except Cohere's own 498, an invalid
/// token, which is [`ErrorKind::Authentication`]), the message the body's `message`
/// string. An OpenAI-style
/// `{"error": {"message": ...}}` from a proxy is read too. A body that is neither (an
/// HTML page from a proxy, say) is not passed on: the message then names the status.
pub fn error_from_body(status: u16, body: &str) -> Error {
    let kind = match status {
        498 => ErrorKind::Authentication,
        _ => ErrorKind::from_status(status),
    };
    let message =
        message(body).unwrap_or_else(|| format!("the upstream answered with HTTP status {status}"));
    Error::new(kind, message)
}

fn message(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct BodyIn {
        message: Option<Value>,
        error: Option<Value>,
    }
    let body = serde_json::from_str::<BodyIn>(body).ok()?;
    let message = match (body.message, body.error) {
        (Some(Value::String(message)), _) => message,
        (_, Some(Value::String(message))) => message,
        (_, Some(Value::Object(mut error))) => match error.remove("message") {
            Some(Value::String(message)) => message,
            _ => return None,
        },
        _ => return None,
    };
    (!message.is_empty()).then_some(message)
}

/// The error of an in-stream failure: [`ErrorKind::Upstream`] (or `kind`) with the
/// upstream's message, or a generic one.
pub(super) fn stream_error(kind: ErrorKind, message: Option<String>, fallback: &str) -> Error {
    let message = message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| fallback.to_owned());
    Error::new(kind, message)
}

/// The data of an `error` event: `{"message": ...}` when it is one.
pub(super) fn error_event(data: &str) -> Error {
    stream_error(
        ErrorKind::Upstream,
        message(data),
        "the upstream reported an error",
    )
}
