//! The HTTP error body `useChat` shows as `error.message`: the message as plain text.

use rill_core::{Error, ErrorKind};
use rill_wire::vercel_ui::{ERROR_CONTENT_TYPE, STREAM_HEADER, error_body};

#[test]
fn error_bodies_are_the_plain_message() {
    let e =
        Error::invalid_request("unknown part type `image`").with_param("messages[0].parts[0].type");
    assert_eq!(error_body(&e), "unknown part type `image`");
    assert_eq!(
        error_body(&Error::new(ErrorKind::RateLimited, "slow down")),
        "slow down"
    );
    assert_eq!(
        error_body(&Error::new(ErrorKind::Overloaded, "")),
        "the request failed (overloaded)"
    );
    assert_eq!(ERROR_CONTENT_TYPE, "text/plain; charset=utf-8");
    assert_eq!(STREAM_HEADER, ("x-vercel-ai-ui-message-stream", "v1"));
}
