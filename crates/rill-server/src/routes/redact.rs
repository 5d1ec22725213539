//! URIs as the logs show them: values of query parameters that may carry a secret
//! (`?api_key=`, `?key=` as Gemini's clients send it, `?token=`...) are replaced.

use std::borrow::Cow;
use std::fmt::Write;

use axum::http::Uri;

/// Parts of a parameter name that mark its value as secret.
const SECRET_NAMES: [&str; 7] = [
    "key",
    "token",
    "secret",
    "password",
    "auth",
    "sig",
    "credential",
];

/// `uri` with the values of secret-looking query parameters replaced by `REDACTED`.
pub fn uri(uri: &Uri) -> Cow<'_, str> {
    let Some(query) = uri.query() else {
        return Cow::Borrowed(uri.path());
    };
    let mut out = String::with_capacity(uri.path().len() + query.len() + 1);
    out.push_str(uri.path());
    for (i, pair) in query.split('&').enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = form_urlencoded::parse(name.as_bytes())
            .next()
            .map(|(name, _)| name.to_ascii_lowercase())
            .unwrap_or_default();
        if SECRET_NAMES.iter().any(|secret| decoded.contains(secret)) {
            let _ = write!(out, "{name}=REDACTED");
        } else if pair.contains('=') {
            let _ = write!(out, "{name}={value}");
        } else {
            out.push_str(name);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_queries_are_redacted() {
        let cases = [
            ("/v1/models", "/v1/models"),
            (
                "/v1/models?api_key=sk-rill-abc",
                "/v1/models?api_key=REDACTED",
            ),
            ("/x?after=3&key=AIza&flag", "/x?after=3&key=REDACTED&flag"),
            ("/x?Access%5FToken=t", "/x?Access%5FToken=REDACTED"),
            ("/x?x-goog-api-key=1&a=b", "/x?x-goog-api-key=REDACTED&a=b"),
        ];
        for (input, expected) in cases {
            let parsed: Uri = input.parse().unwrap();
            assert_eq!(uri(&parsed), expected);
        }
    }
}
