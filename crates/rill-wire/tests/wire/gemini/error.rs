//! `error_from_body`: Gemini's HTTP error bodies as core errors.

use std::time::Duration;

use rill_core::{Error, ErrorKind};
use rill_wire::gemini::error_from_body;

/// `{"error":{code,message,status[,details]}}`.
fn body(code: u16, status: &str, message: &str, details: &str) -> String {
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(r#","details":[{details}]"#)
    };
    format!(r#"{{"error":{{"code":{code},"message":"{message}","status":"{status}"{details}}}}}"#)
}

#[test]
fn the_kind_follows_the_http_status_and_the_message_is_gemini_s() {
    let cases = [
        (400, "INVALID_ARGUMENT", ErrorKind::InvalidRequest),
        (401, "UNAUTHENTICATED", ErrorKind::Authentication),
        (403, "PERMISSION_DENIED", ErrorKind::Permission),
        (404, "NOT_FOUND", ErrorKind::NotFound),
        (429, "RESOURCE_EXHAUSTED", ErrorKind::RateLimited),
        (500, "INTERNAL", ErrorKind::Internal),
        (503, "UNAVAILABLE", ErrorKind::Overloaded),
        (504, "DEADLINE_EXCEEDED", ErrorKind::Timeout),
    ];
    for (code, status, kind) in cases {
        let error = error_from_body(code, &body(code, status, "from gemini", ""));
        assert_eq!(error, Error::new(kind, "from gemini"), "{code}");
    }
}

#[test]
fn a_retry_delay_in_the_details_becomes_retry_after_rounded_up() {
    // vercel/ai `google-429-retry-info.json`.
    let details = r#"{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34.4s"}"#;
    let message = "You exceeded your current quota, please check your plan.";
    let error = error_from_body(429, &body(429, "RESOURCE_EXHAUSTED", message, details));
    assert_eq!(
        error,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(35))
    );
}

#[test]
fn a_refused_key_is_authentication_though_gemini_answers_400() {
    let details = r#"{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}"#;
    let message = "API key not valid. Please pass a valid API key.";
    let error = error_from_body(400, &body(400, "INVALID_ARGUMENT", message, details));
    assert_eq!(error, Error::new(ErrorKind::Authentication, message));
}

#[test]
fn a_failed_precondition_is_the_upstream_s_problem() {
    let message = "User location is not supported for the API use.";
    let error = error_from_body(400, &body(400, "FAILED_PRECONDITION", message, ""));
    assert_eq!(error, Error::new(ErrorKind::Upstream, message));
}

#[test]
fn an_error_in_an_array_is_read_too() {
    let error = error_from_body(
        404,
        &format!("[{}]", body(404, "NOT_FOUND", "models/x is not found", "")),
    );
    assert_eq!(
        error,
        Error::new(ErrorKind::NotFound, "models/x is not found")
    );
}

#[test]
fn a_body_that_is_not_gemini_s_names_the_status() {
    for body in [
        "<html><body>502 Bad Gateway</body></html>",
        "",
        "[]",
        r#"{"error":{"code":502}}"#,
        r#"{"error":{"message":""}}"#,
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
