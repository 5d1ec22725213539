//! What every upstream request shares: the HTTP client's settings, the error for a
//! non-2xx answer, and transport errors printed without URLs.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use rill_core::{Error, ErrorKind};

/// How long [`http_builder`]'s clients wait for a connection unless told otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A reqwest client builder with rill's settings: a connect timeout of
/// [`DEFAULT_CONNECT_TIMEOUT`] (no overall timeout: streams last as long as the
/// generation), no redirects (reqwest would forward an `x-api-key` to another host; an
/// API that moves answers 3xx, which is an error), and ring as the TLS provider.
pub fn http_builder() -> reqwest::ClientBuilder {
    http_builder_with(Some(DEFAULT_CONNECT_TIMEOUT))
}

/// [`http_builder`] with another connect timeout; `None` waits as long as the system does.
fn http_builder_with(connect_timeout: Option<Duration>) -> reqwest::ClientBuilder {
    // reqwest is built without a default TLS provider (the default one needs cmake to
    // build); install ring's unless the program already chose one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    match connect_timeout {
        Some(timeout) => builder.connect_timeout(timeout),
        None => builder,
    }
}

/// A client with [`http_builder`]'s settings but this connect timeout (`None`: as long
/// as the system waits).
pub fn http_client(connect_timeout: Option<Duration>) -> Result<reqwest::Client, Error> {
    http_builder_with(connect_timeout)
        .build()
        .map_err(|e| Error::internal(format!("could not build the HTTP client: {e}")))
}

/// Passes a 2xx response on; any other becomes the error that `error_from_body` (the
/// dialect's parser, e.g. `rill_wire::anthropic::error_from_body`) reads from its status
/// and body, with the `Retry-After` header's delay when there is one.
pub async fn error_for_status(
    response: reqwest::Response,
    error_from_body: fn(u16, &str) -> Error,
) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let error = error_from_body(status.as_u16(), &body);
    Err(match retry_after {
        Some(after) => error.with_retry_after(after),
        None => error,
    })
}

/// `Retry-After` in seconds (the HTTP-date form is not used by model APIs).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A failed request or body read: [`ErrorKind::Timeout`] for timeouts, else
/// [`ErrorKind::Upstream`].
pub fn transport_error(error: reqwest::Error) -> Error {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Upstream
    };
    // `without_url` keeps query strings (which may hold keys) out of the message.
    Error::new(kind, format!("request failed: {}", error.without_url()))
}

/// A failed request: [`transport_error`], except that a connection that could not be made
/// within `connect_timeout` says so, with the timeout.
pub fn send_error(error: reqwest::Error, connect_timeout: Option<Duration>) -> Error {
    match connect_timeout {
        Some(timeout) if error.is_connect() && error.is_timeout() => Error::new(
            ErrorKind::Timeout,
            format!(
                "request failed: no connection within the connect timeout of {} s",
                timeout.as_secs_f64()
            ),
        ),
        _ => transport_error(error),
    }
}
