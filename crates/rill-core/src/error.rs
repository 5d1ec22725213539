//! The gateway's error taxonomy, independent of any dialect.
//!
//! Each dialect renders an [`Error`] as its own HTTP error body (before the first byte of
//! a response) or in-stream error event (after it). [`ErrorKind::status_code`] is the one
//! place that maps a kind to an HTTP status.

use std::time::Duration;

/// What went wrong, in terms every dialect can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or asks for something rill cannot honour.
    InvalidRequest,
    /// Missing or wrong credentials.
    Authentication,
    /// Valid credentials that may not do this.
    Permission,
    /// The model, route or resource does not exist.
    NotFound,
    /// The resource existed but is gone for good (a stream past its replay window).
    Gone,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The request body is larger than the configured limit.
    RequestTooLarge,
    /// The request body is not of a media type the route takes (JSON).
    UnsupportedMediaType,
    /// The client sent its request too slowly (its body stalled or trickled).
    RequestTimeout,
    /// A rate or concurrency limit was hit; retry later.
    RateLimited,
    /// The server or provider has no capacity right now; retry later.
    Overloaded,
    /// The upstream provider failed or sent something unusable.
    Upstream,
    /// An upstream did not answer in time.
    Timeout,
    /// The generation was cancelled.
    Cancelled,
    /// A bug or an unexpected condition inside rill.
    Internal,
}

impl ErrorKind {
    /// The HTTP status for this kind. Exhaustive on purpose: a new kind must pick one.
    pub fn status_code(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::Permission => 403,
            Self::NotFound => 404,
            Self::Gone => 410,
            Self::MethodNotAllowed => 405,
            Self::RequestTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RequestTimeout => 408,
            Self::RateLimited => 429,
            Self::Cancelled => 499,
            Self::Internal => 500,
            Self::Upstream => 502,
            Self::Overloaded => 503,
            Self::Timeout => 504,
        }
    }

    /// A stable snake_case name, used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Authentication => "authentication",
            Self::Permission => "permission",
            Self::NotFound => "not_found",
            Self::Gone => "gone",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RequestTooLarge => "request_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RequestTimeout => "request_timeout",
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::Upstream => "upstream",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::Internal => "internal",
        }
    }

    /// The kind named `name` (its [`ErrorKind::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "invalid_request" => Self::InvalidRequest,
            "authentication" => Self::Authentication,
            "permission" => Self::Permission,
            "not_found" => Self::NotFound,
            "gone" => Self::Gone,
            "method_not_allowed" => Self::MethodNotAllowed,
            "request_too_large" => Self::RequestTooLarge,
            "unsupported_media_type" => Self::UnsupportedMediaType,
            "request_timeout" => Self::RequestTimeout,
            "rate_limited" => Self::RateLimited,
            "overloaded" => Self::Overloaded,
            "upstream" => Self::Upstream,
            "timeout" => Self::Timeout,
            "cancelled" => Self::Cancelled,
            "internal" => Self::Internal,
            _ => return None,
        })
    }

    /// The kind an upstream HTTP status stands for. An upstream's 408 says that rill's
    /// request to it timed out: [`ErrorKind::Timeout`], not the client's own slowness.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::InvalidRequest,
            401 => Self::Authentication,
            403 => Self::Permission,
            404 => Self::NotFound,
            410 => Self::Gone,
            405 => Self::MethodNotAllowed,
            413 => Self::RequestTooLarge,
            415 => Self::UnsupportedMediaType,
            408 | 504 => Self::Timeout,
            429 => Self::RateLimited,
            499 => Self::Cancelled,
            503 | 529 => Self::Overloaded,
            500 => Self::Internal,
            _ => Self::Upstream,
        }
    }
}

/// An error with a client-safe message.
///
/// `message` is sent to clients as is, so it must never contain secrets or internal
/// details; log those separately where the error is created.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The request field at fault, if any (`messages[2].role`).
    pub param: Option<String>,
    /// A machine-readable code such as `model_not_found`.
    pub code: Option<String>,
    /// How long the client should wait before retrying (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            format!("the model `{model}` does not exist"),
        )
        .with_param("model")
        .with_code("model_not_found")
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    pub fn status_code(&self) -> u16 {
        self.kind.status_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_for_every_kind_with_a_unique_status() {
        let kinds = [
            ErrorKind::InvalidRequest,
            ErrorKind::Authentication,
            ErrorKind::Permission,
            ErrorKind::NotFound,
            ErrorKind::Gone,
            ErrorKind::MethodNotAllowed,
            ErrorKind::RequestTooLarge,
            ErrorKind::UnsupportedMediaType,
            ErrorKind::RateLimited,
            ErrorKind::Overloaded,
            ErrorKind::Upstream,
            ErrorKind::Timeout,
            ErrorKind::Cancelled,
            ErrorKind::Internal,
        ];
        for kind in kinds.into_iter().chain([ErrorKind::RequestTimeout]) {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind), "{kind:?}");
        }
        assert_eq!(ErrorKind::parse("teapot"), None);
        for kind in kinds {
            assert_eq!(ErrorKind::from_status(kind.status_code()), kind, "{kind:?}");
        }
        // The client's own slowness has a status of its own; from an upstream it is a
        // timeout like any other.
        assert_eq!(ErrorKind::RequestTimeout.status_code(), 408);
        assert_eq!(ErrorKind::from_status(408), ErrorKind::Timeout);
    }

    #[test]
    fn builder_sets_fields() {
        let e = Error::model_not_found("gpt-x");
        assert_eq!(e.status_code(), 404);
        assert_eq!(e.code.as_deref(), Some("model_not_found"));
        assert_eq!(e.param.as_deref(), Some("model"));
        assert!(e.message.contains("`gpt-x`"));
    }
}
