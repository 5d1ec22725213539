//! Errors before the first byte of a response: an HTTP status and the dialect's body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_core::Error;
use rill_wire::{ClientDialect, Dialect, OpenAiChat};

/// A core error on its way to a client of `dialect`.
pub struct ApiError {
    pub dialect: Dialect,
    pub error: Error,
}

impl ApiError {
    pub fn new(dialect: Dialect, error: Error) -> Self {
        Self { dialect, error }
    }

    pub fn openai(error: Error) -> Self {
        Self::new(OpenAiChat::DIALECT, error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status_code())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(kind = self.error.kind.as_str(), message = %self.error.message, "request failed");
        } else {
            tracing::debug!(kind = self.error.kind.as_str(), message = %self.error.message, "request refused");
        }
        let body = (self.dialect.error_body)(&self.error);
        let content_type = self.dialect.error_content_type;
        let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
        if let Some(after) = self.error.retry_after {
            // Whole seconds, rounded up: `Retry-After: 0` would invite a retry storm.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}
