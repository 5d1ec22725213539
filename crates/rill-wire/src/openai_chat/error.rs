//! Error bodies: `{"error":{"message","type","param","code"}}`, both ways.
//!
//! Type strings follow OpenAI where OpenAI has one: `invalid_request_error`,
//! `authentication_error`, `permission_error`, `not_found_error`, `rate_limit_error`,
//! and `server_error` for internal errors *and* overload (OpenAI's own 503 "that model is
//! currently overloaded" is a `server_error`). Kinds OpenAI has no type for get their own:
//! `upstream_error`, `timeout_error`, `cancelled`. Where kinds share a type, a default
//! `code` keeps them apart when the error has none: `overloaded`, `method_not_allowed`,
//! `request_too_large`. The decoder reads all of these back, plus OpenAI's real codes
//! and types (`insufficient_quota`, `rate_limit_exceeded`, `requests`, `tokens`, ...).

use std::fmt;

use rill_core::{Error, ErrorKind};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::out::to_json;

/// The HTTP error body `{"error":{"message","type","param","code"}}`. The in-stream error
/// payload of a chat-completions stream is the same object.
pub fn error_body(error: &Error) -> String {
    to_json(&ErrorBodyOut {
        error: ErrorOut::from(error),
    })
}

/// Reads an upstream's HTTP error response (status and body) as a core error.
///
/// The kind comes from the HTTP status ([`ErrorKind::from_status`]); the message, `param`
/// and `code` from the body when it is an OpenAI-style error (`{"error":{...}}`, an
/// `error` string, or vLLM's bare `{"object":"error",...}`). A body that is none of these
/// (an HTML page from a proxy, say) is not passed on: the message then names the status.
pub fn error_from_body(status: u16, body: &str) -> Error {
    let kind = ErrorKind::from_status(status);
    let parsed = serde_json::from_str::<ErrorEnvelope>(body)
        .ok()
        .and_then(
            |envelope| match (envelope.error, envelope.object.as_deref()) {
                (Some(ErrorField(error)), _) => Some(error),
                (None, Some("error")) => serde_json::from_str::<ErrorIn>(body).ok(),
                (None, _) => None,
            },
        );
    match parsed {
        Some(error) => Error {
            kind,
            ..error.into_error()
        },
        None => Error::new(
            kind,
            format!("the upstream answered with HTTP status {status}"),
        ),
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorField>,
    object: Option<String>,
}

#[derive(Serialize)]
struct ErrorBodyOut<'a> {
    error: ErrorOut<'a>,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

impl<'a> From<&'a Error> for ErrorOut<'a> {
    fn from(error: &'a Error) -> Self {
        Self {
            message: &error.message,
            kind: error_type(error.kind),
            param: error.param.as_deref(),
            code: error.code.as_deref().or_else(|| default_code(error.kind)),
        }
    }
}

/// The `type` string for a kind.
pub(super) fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::MethodNotAllowed
        | ErrorKind::RequestTooLarge
        | ErrorKind::UnsupportedMediaType
        | ErrorKind::RequestTimeout => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound | ErrorKind::Gone => "not_found_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Overloaded | ErrorKind::Internal => "server_error",
        ErrorKind::Upstream => "upstream_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Cancelled => "cancelled",
    }
}

/// The code that tells apart kinds sharing a `type`, for errors without their own code.
fn default_code(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::Overloaded => Some("overloaded"),
        ErrorKind::MethodNotAllowed => Some("method_not_allowed"),
        ErrorKind::RequestTooLarge => Some("request_too_large"),
        ErrorKind::UnsupportedMediaType => Some("unsupported_media_type"),
        ErrorKind::RequestTimeout => Some("request_timeout"),
        ErrorKind::Gone => Some("gone"),
        _ => None,
    }
}

/// The kind an error object stands for: a known `code` first, then the `type`, then a
/// numeric code read as an HTTP status; anything else is [`ErrorKind::Upstream`].
pub(super) fn error_kind(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    let from_code = code.and_then(|code| match code {
        "overloaded" | "engine_overloaded" | "server_overloaded" => Some(ErrorKind::Overloaded),
        "method_not_allowed" => Some(ErrorKind::MethodNotAllowed),
        "request_too_large" => Some(ErrorKind::RequestTooLarge),
        "unsupported_media_type" => Some(ErrorKind::UnsupportedMediaType),
        "gone" => Some(ErrorKind::Gone),
        "insufficient_quota" | "rate_limit_exceeded" => Some(ErrorKind::RateLimited),
        "model_not_found" => Some(ErrorKind::NotFound),
        "invalid_api_key" => Some(ErrorKind::Authentication),
        _ => None,
    });
    let from_type = || {
        kind.and_then(|kind| match kind {
            "invalid_request_error" | "invalid_request" | "BadRequestError" => {
                Some(ErrorKind::InvalidRequest)
            }
            "authentication_error" => Some(ErrorKind::Authentication),
            "permission_error" => Some(ErrorKind::Permission),
            "not_found_error" | "NotFoundError" => Some(ErrorKind::NotFound),
            "rate_limit_error" | "requests" | "tokens" | "insufficient_quota" => {
                Some(ErrorKind::RateLimited)
            }
            "overloaded_error" => Some(ErrorKind::Overloaded),
            "request_too_large" => Some(ErrorKind::RequestTooLarge),
            "upstream_error" => Some(ErrorKind::Upstream),
            "timeout_error" => Some(ErrorKind::Timeout),
            "cancelled" => Some(ErrorKind::Cancelled),
            "server_error" | "api_error" | "internal_error" | "InternalServerError" => {
                Some(ErrorKind::Internal)
            }
            _ => None,
        })
    };
    let from_status = || {
        code.and_then(|c| c.parse::<u16>().ok())
            .map(ErrorKind::from_status)
    };
    from_code
        .or_else(from_type)
        .or_else(from_status)
        .unwrap_or(ErrorKind::Upstream)
}

/// An error object as upstreams send it. Tolerant: every field may be missing, and
/// `code`/`param` may be numbers (some servers put the HTTP status in `code`).
#[derive(Deserialize, Default)]
pub(super) struct ErrorIn {
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub param: Option<Scalar>,
    pub code: Option<Scalar>,
}

impl ErrorIn {
    pub(super) fn into_error(self) -> Error {
        let code = self.code.map(|c| c.0);
        let kind = error_kind(self.kind.as_deref(), code.as_deref());
        let message = match self.message {
            Some(message) if !message.is_empty() => message,
            _ => "the upstream reported an error".to_owned(),
        };
        Error {
            kind,
            message,
            param: self.param.map(|p| p.0),
            code,
            retry_after: None,
        }
    }
}

/// The `error` member of a payload: an error object, or (from some servers) a string.
pub(super) struct ErrorField(pub ErrorIn);

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrorField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error object or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ErrorField, E> {
                Ok(ErrorField(ErrorIn {
                    message: Some(v.to_owned()),
                    ..ErrorIn::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ErrorField, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(ErrorField)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A string, or a number or boolean kept as its text.
pub(super) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}
