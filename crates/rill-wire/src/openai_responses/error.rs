//! Errors, both ways. The Responses API shares Chat Completions' error object
//! (`{"message","type","param","code"}`), so this module reuses [`crate::openai_chat`]'s
//! body and its reading of `type`s and `code`s: one mapping of kinds serves both.
//!
//! - HTTP error bodies: [`error_body`] and [`error_from_body`], re-exported as they are.
//! - The in-stream `error` event: both shapes at once. The documented flat fields
//!   (`{"type":"error","sequence_number","code","message","param"}`, what typed clients
//!   read), and the error object nested under `error` as OpenAI really sends it (what
//!   the official SDKs look for, and raise as an API error). [`super::StreamEncoder`]
//!   follows it with `response.failed`, whose `response.error` is `{code, message}`.
//! - Upstream errors: an `error` event in the nested shape, the documented flat one
//!   (`{"type":"error","code","message","param"}`), or a `response.failed` alone.

use rill_core::{Error, ErrorKind, StreamEvent};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

pub use crate::openai_chat::{error_body, error_from_body};

use super::out::SseEvent;

/// The body that stands in for one that failed to serialise (which cannot happen: the
/// types hold only strings, numbers and pass-through JSON values).
pub(super) const FALLBACK_BODY: &str = r#"{"error":{"message":"rill failed to serialise a response","type":"server_error","param":null,"code":null}}"#;

const UNKNOWN: &str = "the upstream reported an error";

/// The in-stream `error` event: the documented flat fields (`code` as in
/// `response.failed`), and the HTTP error body's object nested under `error`, as real
/// servers send it.
pub(super) fn error_event(sequence_number: u64, error: &Error) -> SseEvent {
    #[derive(Serialize)]
    struct FlatOut<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        sequence_number: u64,
        code: &'a str,
        message: &'a str,
        param: Option<&'a str>,
    }
    let flat = FlatOut {
        kind: "error",
        sequence_number,
        code: failure_code(error),
        message: &error.message,
        param: error.param.as_deref(),
    };
    let flat = serde_json::to_string(&flat).unwrap_or_else(|_| r#"{"type":"error"}"#.to_owned());
    // Both are JSON objects: the body's members (`"error":{...}`) join the flat ones.
    let body = error_body(error);
    let flat = flat.strip_suffix('}').unwrap_or(&flat);
    let nested = body.strip_prefix('{').unwrap_or(&FALLBACK_BODY[1..]);
    SseEvent {
        event: "error",
        data: format!("{flat},{nested}"),
    }
}

/// `response.failed`'s `response.error.code`: the error's own code, else the Responses
/// code nearest its kind.
pub(super) fn failure_code(error: &Error) -> &str {
    error.code.as_deref().unwrap_or(match error.kind {
        ErrorKind::RateLimited => "rate_limit_exceeded",
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "invalid_prompt",
        _ => "server_error",
    })
}

/// An upstream `error` event's data, nested or flat; anything else is an upstream error
/// without details.
pub(super) fn error_event_in(data: &str) -> Error {
    #[derive(Deserialize)]
    struct Probe {
        error: Option<IgnoredAny>,
    }
    match serde_json::from_str::<Probe>(data) {
        Ok(Probe { error: Some(_) }) => chat_error(data),
        // The flat shape is itself an error object (its `type` is only `error`).
        Ok(Probe { error: None }) => chat_error(&format!(r#"{{"error":{data}}}"#)),
        Err(_) => Error::upstream(UNKNOWN),
    }
}

/// A `response.failed` event's `response.error` (`{code, message}`; Responses codes
/// double as Chat Completions types and codes: `server_error`, `rate_limit_exceeded`).
pub(super) fn failure_in(error: Option<FailureIn>) -> Error {
    #[derive(Serialize)]
    struct Envelope<'a> {
        error: ErrorOut<'a>,
    }
    #[derive(Serialize)]
    struct ErrorOut<'a> {
        #[serde(rename = "type")]
        kind: Option<&'a str>,
        code: Option<&'a str>,
        message: Option<&'a str>,
    }
    let error = error.unwrap_or_default();
    let code = error.code.as_deref();
    let envelope = Envelope {
        error: ErrorOut {
            kind: code,
            code,
            message: error.message.as_deref(),
        },
    };
    match serde_json::to_string(&envelope) {
        Ok(payload) => chat_error(&payload),
        Err(_) => Error::upstream(UNKNOWN),
    }
}

/// `response.error` as an upstream sends it. Tolerant: every field may be missing.
#[derive(Debug, Deserialize, Default)]
pub(super) struct FailureIn {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Reads `{"error":{...}}` with [`crate::openai_chat::ChunkDecoder`], which maps the
/// object's `type` and `code` to a kind, then applies the Responses-only codes.
fn chat_error(payload: &str) -> Error {
    let mut decoder = crate::openai_chat::ChunkDecoder::new();
    let events = decoder.decode(payload).unwrap_or_default();
    let mut error = match events.into_iter().next() {
        Some((_, StreamEvent::Error(error))) => error,
        _ => return Error::upstream(UNKNOWN),
    };
    if let Some(kind) = error.code.as_deref().and_then(responses_kind) {
        error.kind = kind;
    }
    error
}

/// The kinds of the `response.error` codes Chat Completions has no word for.
fn responses_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "invalid_prompt" => Some(ErrorKind::InvalidRequest),
        "vector_store_timeout" => Some(ErrorKind::Timeout),
        code if code.contains("image") => Some(ErrorKind::InvalidRequest),
        _ => None,
    }
}
