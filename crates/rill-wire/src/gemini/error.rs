//! Gemini's error object `{"error":{"code","message","status","details"}}`: an HTTP error
//! response's body, and an error sent in the stream.

use std::time::Duration;

use rill_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

/// Reads an upstream's HTTP error response (status and body) as a core error.
///
/// The kind comes from the HTTP status ([`ErrorKind::from_status`]), with two
/// exceptions, both the operator's problem rather than the client's though Gemini
/// answers 400: a key Gemini refuses (`API_KEY_INVALID` in the details) is
/// [`ErrorKind::Authentication`], and `FAILED_PRECONDITION` (the server's region or the
/// project's billing) is [`ErrorKind::Upstream`]. The message is the error's. A
/// `RetryInfo` detail's `retryDelay` (`"34.4s"`) becomes the retry delay, rounded up to
/// whole seconds (a `Retry-After` header, which Gemini does not send, would win). The body
/// may also be that object in a one-element array (what the non-SSE stream sends). A body
/// that is none of these (an HTML page from a proxy, say) is not passed on: the message
/// then names the status.
pub fn error_from_body(status: u16, body: &str) -> Error {
    let kind = ErrorKind::from_status(status);
    let Some(error) = parse(body) else {
        return Error::new(
            kind,
            format!("the upstream answered with HTTP status {status}"),
        );
    };
    let kind = error.refined(kind);
    let retry_after = error.retry_delay();
    let message = error
        .message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("the upstream answered with HTTP status {status}"));
    let error = Error::new(kind, message);
    match retry_after {
        Some(after) => error.with_retry_after(after),
        None => error,
    }
}

fn parse(body: &str) -> Option<ErrorIn> {
    // `Many` first: serde would also read an array as an `Envelope`, field by position.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BodyIn {
        Many(Vec<Envelope>),
        One(Envelope),
    }
    match serde_json::from_str::<BodyIn>(body).ok()? {
        BodyIn::Many(envelopes) => envelopes.into_iter().next()?.error,
        BodyIn::One(envelope) => envelope.error,
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: Option<ErrorIn>,
}

/// An error object. Tolerant: every field may be missing or of another type than
/// Google's.
#[derive(Deserialize, Default)]
pub(super) struct ErrorIn {
    code: Option<Value>,
    message: Option<String>,
    status: Option<String>,
    details: Option<Vec<DetailIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailIn {
    reason: Option<String>,
    retry_delay: Option<String>,
}

impl ErrorIn {
    /// An error sent in the stream: the kind from its `status`, else its numeric `code`
    /// read as an HTTP status, else [`ErrorKind::Upstream`].
    pub(super) fn into_stream_error(self) -> Error {
        let from_code = self
            .code
            .as_ref()
            .and_then(Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .map(ErrorKind::from_status);
        let kind = self
            .status
            .as_deref()
            .and_then(status_kind)
            .or(from_code)
            .unwrap_or(ErrorKind::Upstream);
        let kind = self.refined(kind);
        let message = match self.message {
            Some(message) if !message.is_empty() => message,
            _ => "the upstream reported an error".to_owned(),
        };
        Error::new(kind, message)
    }

    fn refined(&self, kind: ErrorKind) -> ErrorKind {
        let key_refused = self
            .details
            .iter()
            .flatten()
            .any(|d| d.reason.as_deref() == Some("API_KEY_INVALID"));
        if key_refused {
            ErrorKind::Authentication
        } else if self.status.as_deref() == Some("FAILED_PRECONDITION") {
            ErrorKind::Upstream
        } else {
            kind
        }
    }

    fn retry_delay(&self) -> Option<Duration> {
        self.details
            .iter()
            .flatten()
            .find_map(|d| d.retry_delay.as_deref().and_then(seconds_up))
    }
}

/// The kind a `google.rpc.Code` name stands for.
fn status_kind(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "INVALID_ARGUMENT" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::Permission,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "CANCELLED" => ErrorKind::Cancelled,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::Internal,
        "FAILED_PRECONDITION" | "ABORTED" | "UNIMPLEMENTED" => ErrorKind::Upstream,
        _ => return None,
    })
}

/// A protobuf JSON duration (`"34.4s"`, `"7s"`) in whole seconds, rounded up.
fn seconds_up(duration: &str) -> Option<Duration> {
    let seconds = duration.trim().strip_suffix('s')?;
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let up = u64::from(fraction.bytes().any(|b| b != b'0'));
    Some(Duration::from_secs(whole.saturating_add(up)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_whole_seconds() {
        let secs = |s: &str| seconds_up(s).map(|d| d.as_secs());
        assert_eq!(secs("34.4s"), Some(35));
        assert_eq!(secs("7s"), Some(7));
        assert_eq!(secs("7.000s"), Some(7));
        assert_eq!(secs("0.001s"), Some(1));
        for bad in ["", "s", "7", ".5s", "-1s", "1e3s", "seven s", "1.5.1s"] {
            assert_eq!(secs(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stream_errors_take_the_status_then_the_code() {
        let error = |json: &str| {
            serde_json::from_str::<ErrorIn>(json)
                .unwrap()
                .into_stream_error()
        };
        let e = error(r#"{"code":500,"message":"overloaded","status":"UNAVAILABLE"}"#);
        assert_eq!(e, Error::new(ErrorKind::Overloaded, "overloaded"));
        assert_eq!(error(r#"{"code":429}"#).kind, ErrorKind::RateLimited);
        let unknown = error(r#"{"code":"x","status":"NEW_CODE"}"#);
        assert_eq!(
            unknown,
            Error::new(ErrorKind::Upstream, "the upstream reported an error")
        );
    }
}
