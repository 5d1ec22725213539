//! Error bodies: `{"type":"error","error":{"type","message"}}`, both ways.
//!
//! Type strings are Anthropic's own, so SDKs that switch on them keep working:
//! `invalid_request_error` (also for `MethodNotAllowed`), `authentication_error`,
//! `permission_error`, `not_found_error`, `request_too_large`, `rate_limit_error`,
//! `overloaded_error`, `timeout_error`, and `api_error` for internal, upstream and
//! cancelled errors. Anthropic's error object has no `param` or `code`: those are not
//! sent. The HTTP status is still [`rill_core::ErrorKind::status_code`]'s (503 for
//! overload, where Anthropic itself answers 529).

use rill_core::{Error, ErrorKind};
use serde::Deserialize;

use super::out::{ErrorOut, EventOut, FALLBACK};

/// The HTTP error body `{"type":"error","error":{"type","message"}}`. The data of an
/// in-stream `error` event is the same object.
pub fn error_body(error: &Error) -> String {
    let event = EventOut::Error {
        error: error_out(error),
    };
    serde_json::to_string(&event).unwrap_or_else(|_| FALLBACK.to_owned())
}

/// Reads an upstream's HTTP error response (status and body) as a core error.
///
/// The kind comes from the HTTP status ([`ErrorKind::from_status`]; 529 is overload),
/// the message from the body when it has an `error` object with one (Anthropic's shape,
/// and OpenAI's, which proxies sometimes send). A body that is neither (an HTML page
/// from a proxy, say) is not passed on: the message then names the status.
pub fn error_from_body(status: u16, body: &str) -> Error {
    let kind = ErrorKind::from_status(status);
    let message = serde_json::from_str::<ErrorEnvelope>(body)
        .ok()
        .and_then(|envelope| envelope.error)
        .and_then(|error| error.message)
        .filter(|message| !message.is_empty());
    match message {
        Some(message) => Error::new(kind, message),
        None => Error::new(
            kind,
            format!("the upstream answered with HTTP status {status}"),
        ),
    }
}

pub(super) fn error_out(error: &Error) -> ErrorOut<'_> {
    ErrorOut {
        kind: error_type(error.kind),
        message: &error.message,
    }
}

/// The `type` string for a kind.
pub(super) fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::MethodNotAllowed
        | ErrorKind::UnsupportedMediaType
        | ErrorKind::RequestTimeout => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound | ErrorKind::Gone => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Internal | ErrorKind::Upstream | ErrorKind::Cancelled => "api_error",
    }
}

/// The kind an error `type` stands for; unknown types are [`ErrorKind::Upstream`].
/// (`billing_error` and `conflict_error` are the upstream account's or request's
/// problem, not the client's: upstream errors too.)
pub(super) fn error_kind(kind: &str) -> ErrorKind {
    match kind {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::Permission,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::RequestTooLarge,
        "rate_limit_error" => ErrorKind::RateLimited,
        "overloaded_error" => ErrorKind::Overloaded,
        "timeout_error" => ErrorKind::Timeout,
        "api_error" => ErrorKind::Internal,
        _ => ErrorKind::Upstream,
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorIn>,
}

/// An error object as upstreams send it. Tolerant: every field may be missing.
#[derive(Deserialize, Default)]
pub(super) struct ErrorIn {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub message: Option<String>,
}

impl ErrorIn {
    pub(super) fn into_error(self) -> Error {
        let kind = self.kind.as_deref().map_or(ErrorKind::Upstream, error_kind);
        let message = match self.message {
            Some(message) if !message.is_empty() => message,
            _ => "the upstream reported an error".to_owned(),
        };
        Error::new(kind, message)
    }
}
