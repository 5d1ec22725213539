//! What rill's clients see of an upstream's refusals.

use rill_core::{Error, ErrorKind};
use secrecy::{ExposeSecret, SecretString};

/// The `code` of an upstream that refused rill's credentials (its 401 or 403).
pub(crate) const CREDENTIALS_REFUSED: &str = "upstream_credentials_refused";
/// The `code` of an upstream that does not serve the configured model (its 404, 405, 410).
pub(crate) const MODEL_NOT_SERVED: &str = "upstream_model_not_served";

/// What a client of rill should see for an upstream's refusal. Its own mistakes (a bad
/// request, a rate limit) pass through; the operator's (rill's key, the upstream model id)
/// and the upstream's failures are a bad gateway, not the client's 401 or 404. The
/// operator's carry a code ([`CREDENTIALS_REFUSED`], [`MODEL_NOT_SERVED`]): asking the
/// same upstream again cannot help, so they are not retried (another model may still
/// serve). A key the upstream quotes back is redacted first.
pub(crate) fn for_client(name: &str, error: Error, key: Option<&SecretString>) -> Error {
    let error = redact(error, key);
    let operator = |what: &str| {
        Error::new(
            ErrorKind::Upstream,
            format!("the upstream of `{name}` {what}: {}", error.message),
        )
    };
    match error.kind {
        ErrorKind::Authentication | ErrorKind::Permission => {
            operator("refused rill's credentials").with_code(CREDENTIALS_REFUSED)
        }
        ErrorKind::NotFound | ErrorKind::Gone | ErrorKind::MethodNotAllowed => {
            operator("does not serve this model").with_code(MODEL_NOT_SERVED)
        }
        ErrorKind::Internal => operator("failed"),
        _ => error,
    }
}

/// Whether `error` is one of the operator's refusals that [`for_client`] marks.
pub(crate) fn is_operator_refusal(error: &Error) -> bool {
    error.kind == ErrorKind::Upstream
        && matches!(
            error.code.as_deref(),
            Some(CREDENTIALS_REFUSED | MODEL_NOT_SERVED)
        )
}

/// An upstream (a proxy, typically) may quote the key it refused in its error message;
/// that message reaches rill's client, the key must not.
fn redact(mut error: Error, key: Option<&SecretString>) -> Error {
    if let Some(key) = key.map(ExposeSecret::expose_secret)
        && !key.is_empty()
        && error.message.contains(key)
    {
        error.message = error.message.replace(key, "[redacted]");
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_key_is_redacted() {
        let key = SecretString::from("sk-ant-123");
        let error = Error::new(ErrorKind::Authentication, "key sk-ant-123 is invalid");
        let redacted = redact(error, Some(&key));
        assert_eq!(redacted.message, "key [redacted] is invalid");
        assert_eq!(redacted.kind, ErrorKind::Authentication);
        let untouched = Error::new(ErrorKind::Authentication, "invalid x-api-key");
        assert_eq!(redact(untouched.clone(), Some(&key)), untouched);
        assert_eq!(redact(untouched.clone(), None), untouched);
    }

    #[test]
    fn operator_errors_become_bad_gateway_and_client_errors_pass_through() {
        let auth = for_client(
            "gpt",
            Error::new(ErrorKind::Authentication, "bad key"),
            None,
        );
        assert_eq!(auth.kind, ErrorKind::Upstream);
        assert!(auth.message.contains("`gpt`") && auth.message.contains("credentials"));
        assert!(is_operator_refusal(&auth));
        let missing = for_client(
            "gpt",
            Error::new(ErrorKind::NotFound, "no such model"),
            None,
        );
        assert_eq!(missing.status_code(), 502);
        assert!(is_operator_refusal(&missing));
        let failed = for_client("gpt", Error::internal("oops"), None);
        assert_eq!(failed.status_code(), 502);
        assert!(!is_operator_refusal(&failed));
        let limited = Error::new(ErrorKind::RateLimited, "slow down")
            .with_retry_after(std::time::Duration::from_secs(3));
        assert_eq!(for_client("gpt", limited.clone(), None), limited);
        let bad = Error::invalid_request("`temperature` is too high");
        assert_eq!(for_client("gpt", bad.clone(), None), bad);
    }
}
