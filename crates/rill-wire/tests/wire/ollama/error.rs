//! `error_from_body`: Ollama's HTTP error bodies as core errors.

use rill_core::{Error, ErrorKind};
use rill_wire::ollama::error_from_body;

#[test]
fn the_kind_follows_the_http_status_and_the_message_is_ollama_s() {
    let cases = [
        (
            400,
            ErrorKind::InvalidRequest,
            "invalid options: num_predict",
        ),
        (401, ErrorKind::Authentication, "unauthorized"),
        (
            404,
            ErrorKind::NotFound,
            "model \"llama9\" not found, try pulling it first",
        ),
        (429, ErrorKind::RateLimited, "too many requests"),
        (
            500,
            ErrorKind::Internal,
            "llama runner process has terminated",
        ),
        (503, ErrorKind::Overloaded, "server busy, please try again."),
    ];
    for (status, kind, message) in cases {
        let body = serde_json::json!({ "error": message }).to_string();
        assert_eq!(
            error_from_body(status, &body),
            Error::new(kind, message),
            "{status}"
        );
    }
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
fn a_body_that_is_not_ollama_s_names_the_status() {
    for body in [
        "<html><body>502 Bad Gateway</body></html>",
        "",
        "[]",
        r#"{"error":""}"#,
        r#"{"error":null}"#,
        r#"{"error":3}"#,
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
