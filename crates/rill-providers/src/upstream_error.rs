//! What rill's clients see of an upstream's refusals.

use rill_core::{Error, ErrorKind};
use secrecy::{ExposeSecret, SecretString};

/// What a client of rill should see for an upstream's refusal. Its own mistakes (a bad
/// request, a rate limit) pass through; the operator's (rill's key, the upstream model id)
/// and the upstream's failures are a bad gateway, not the client's 401 or 404. A key the
/// upstream quotes back is redacted first.
pub(crate) fn for_client(name: &str, error: Error, key: Option<&SecretString>) -> Error {
    let error = redact(error, key);
    let operator = |what: &str| {
        Error::new(
            ErrorKind::Upstream,
            format!("the upstream of `{name}` {what}: {}", error.message),
        )
    };
    match error.kind {
        ErrorKind::Authentication | ErrorKind::Permission => operator("refused rill's credentials"),
        ErrorKind::NotFound | ErrorKind::Gone | ErrorKind::MethodNotAllowed => {
            operator("does not serve this model")
        }
        ErrorKind::Internal => operator("failed"),
        _ => error,
    }
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
        let missing = for_client(
            "gpt",
            Error::new(ErrorKind::NotFound, "no such model"),
            None,
        );
        assert_eq!(missing.status_code(), 502);
        let limited = Error::new(ErrorKind::RateLimited, "slow down")
            .with_retry_after(std::time::Duration::from_secs(3));
        assert_eq!(for_client("gpt", limited.clone(), None), limited);
        let bad = Error::invalid_request("`temperature` is too high");
        assert_eq!(for_client("gpt", bad.clone(), None), bad);
    }
}
