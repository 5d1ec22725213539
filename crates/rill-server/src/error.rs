//! Errors before the first byte of a response: an HTTP status and the dialect's body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rill_core::Error;

/// The client dialects rill speaks; each renders errors its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAiChat,
    /// OpenAI Responses: the same error bodies as Chat Completions.
    OpenAiResponses,
    Anthropic,
    /// The Vercel AI SDK UI message stream (`useChat`): errors are plain text.
    VercelUi,
}

impl Dialect {
    /// The dialect a request to `path` speaks, for errors raised before a handler runs
    /// (unknown routes, wrong methods, refused peers).
    pub fn of_path(path: &str) -> Self {
        if path == "/v1/messages" || path.starts_with("/v1/messages/") {
            Self::Anthropic
        } else if path == "/v1/responses" || path.starts_with("/v1/responses/") {
            Self::OpenAiResponses
        } else if path == "/api/chat" || path.starts_with("/api/chat/") {
            Self::VercelUi
        } else {
            Self::OpenAiChat
        }
    }
}

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
        Self::new(Dialect::OpenAiChat, error)
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
        let (body, content_type) = match self.dialect {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => (
                rill_wire::openai_chat::error_body(&self.error),
                "application/json",
            ),
            Dialect::Anthropic => (
                rill_wire::anthropic::error_body(&self.error),
                "application/json",
            ),
            Dialect::VercelUi => (
                rill_wire::vercel_ui::error_body(&self.error),
                rill_wire::vercel_ui::ERROR_CONTENT_TYPE,
            ),
        };
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
