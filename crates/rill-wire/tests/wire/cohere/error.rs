//! `error_from_body`: Cohere's HTTP error bodies as core errors.

use rill_core::{Error, ErrorKind};
use rill_wire::cohere::error_from_body;

#[test]
fn the_kind_follows_the_http_status_and_the_message_is_cohere_s() {
    let cases = [
        (
            400,
            ErrorKind::InvalidRequest,
            "invalid request: p must be between 0.01 and 0.99",
        ),
        (401, ErrorKind::Authentication, "invalid api token"),
        (
            404,
            ErrorKind::NotFound,
            "model 'command-x' not found, make sure the correct model ID was used",
        ),
        (422, ErrorKind::InvalidRequest, "unprocessable entity"),
        (
            429,
            ErrorKind::RateLimited,
            "You are using a Trial key, which is limited to 10 API calls / minute.",
        ),
        // Cohere's own status for an invalid token.
        (498, ErrorKind::Authentication, "invalid token"),
        (500, ErrorKind::Internal, "internal server error"),
        (503, ErrorKind::Overloaded, "service unavailable"),
    ];
    for (status, kind, message) in cases {
        let body =
            serde_json::json!({ "id": "6a8a0a4c-7a3a-4b1e-8f0e-2b5d9e1c3f70", "message": message })
                .to_string();
        assert_eq!(
            error_from_body(status, &body),
            Error::new(kind, message),
            "{status}"
        );
    }
    let bare = r#"{"message":"invalid api token"}"#;
    assert_eq!(
        error_from_body(401, bare),
        Error::new(ErrorKind::Authentication, "invalid api token")
    );
}

#[test]
fn an_openai_style_error_object_from_a_proxy_is_read_too() {
    let body = r#"{"error":{"message":"Invalid API key","type":"invalid_request_error"}}"#;
    assert_eq!(
        error_from_body(401, body),
        Error::new(ErrorKind::Authentication, "Invalid API key")
    );
}

#[test]
fn a_body_that_is_not_cohere_s_names_the_status() {
    for body in [
        "<html><body>502 Bad Gateway</body></html>",
        "",
        "[]",
        r#"{"message":""}"#,
        r#"{"message":null}"#,
        r#"{"message":3}"#,
        r#"{"error":{"code":1}}"#,
        r#"{"detail":"nope"}"#,
    ] {
        assert_eq!(
            error_from_body(502, body),
            Error::new(
                ErrorKind::Upstream,
                "the upstream answered with HTTP status 502"
            ),
            "{body}"
        );
    }
}
