//! The HTTP error body, for errors before the stream starts.
//!
//! `useChat`'s transport (`HttpChatTransport.sendMessages`, every version from `ai@5.0.0`
//! on) reads a non-2xx response with `response.text()` and throws
//! `new Error(<that text>)`, which the app shows as `error.message`. So the body is the
//! message itself, as plain text: a JSON body would reach the user as raw JSON. The
//! status stays [`rill_core::ErrorKind::status_code`]'s; the kind, `param` and `code`
//! have no place in this dialect (the message names the field at fault).

use rill_core::Error;

/// The `content-type` of [`error_body`].
pub const ERROR_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The HTTP error body: the error's message, as plain text (never empty: `useChat`
/// would show an empty error).
pub fn error_body(error: &Error) -> String {
    if error.message.is_empty() {
        format!("the request failed ({})", error.kind.as_str())
    } else {
        error.message.clone()
    }
}
