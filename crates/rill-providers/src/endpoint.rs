//! What every HTTP upstream whose dialect `rill-wire` speaks shares: one URL taking a
//! JSON body, an API key in a header that is never printed, and the answer checked for
//! an error status before its body is streamed.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use rill_client::{DEFAULT_CONNECT_TIMEOUT, error_for_status, http_client, send_error};
use rill_core::{Error, Provider};
use secrecy::{ExposeSecret, SecretString};

use crate::upstream_error::for_client;

/// A provider that reaches its model over HTTP.
pub trait HttpUpstream: Provider + Sized {
    /// The same provider, waiting `timeout` for a connection to the upstream instead of
    /// [`rill_client::DEFAULT_CONNECT_TIMEOUT`] (`None`: as long as the system does). A
    /// connection that is not made in time fails the request with
    /// [`ErrorKind::Timeout`](rill_core::ErrorKind::Timeout), naming the timeout.
    fn with_connect_timeout(self, timeout: Option<Duration>) -> Result<Self, Error>;
}

/// How an upstream takes its API key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// `Authorization: Bearer {key}`.
    Bearer,
    /// The key alone in this header (`x-api-key`, `x-goog-api-key`).
    Header(&'static str),
}

/// One upstream URL and how to reach it.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// rill's name for the model, for messages.
    name: String,
    url: String,
    /// The body's media type the upstream streams (`text/event-stream`, NDJSON).
    accept: &'static str,
    /// Extra headers every request carries (`anthropic-version`).
    headers: Vec<(&'static str, &'static str)>,
    /// The authentication header, built once; `None` sends none (a proxy that adds its
    /// own).
    auth: Option<(HeaderName, HeaderValue)>,
    /// Kept to redact it from upstream error messages.
    key: Option<SecretString>,
    connect_timeout: Option<Duration>,
    http: reqwest::Client,
}

impl Endpoint {
    /// A key that cannot be an HTTP header value is an error here, naming the model but
    /// not showing the key, rather than at the first request.
    pub(crate) fn new(
        name: &str,
        url: String,
        accept: &'static str,
        auth: Auth,
        key: Option<SecretString>,
    ) -> Result<Self, Error> {
        let auth = match &key {
            None => None,
            Some(secret) => {
                let (header, value) = match auth {
                    Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", secret.expose_secret())),
                    Auth::Header(name) => (
                        HeaderName::from_static(name),
                        secret.expose_secret().to_owned(),
                    ),
                };
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    Error::internal(format!(
                        "the API key of `{name}` is not a valid HTTP header value"
                    ))
                })?;
                // Never printed: `Debug` shows `Sensitive`.
                value.set_sensitive(true);
                Some((header, value))
            }
        };
        let connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        Ok(Self {
            name: name.to_owned(),
            url,
            accept,
            headers: Vec::new(),
            auth,
            key,
            connect_timeout,
            http: http_client(connect_timeout)?,
        })
    }

    /// Waits `timeout` for a connection instead of the default (`None`: as long as the
    /// system does).
    pub(crate) fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.http = http_client(timeout)?;
        self.connect_timeout = timeout;
        Ok(self)
    }

    /// Adds a header every request carries.
    pub(crate) fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sends `body` and waits for the answer's status. An error status is read from its
    /// body by `error_from_body` (the dialect's error shape, with `Retry-After`), and
    /// shown to rill's client as `upstream_error::for_client` decides; so are transport
    /// errors. The future owns what it needs: it outlives `&self`.
    pub(crate) fn send(
        &self,
        body: String,
        error_from_body: fn(u16, &str) -> Error,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + 'static {
        let mut builder = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, self.accept)
            .body(body);
        for (name, value) in &self.headers {
            builder = builder.header(*name, *value);
        }
        if let Some((name, value)) = &self.auth {
            builder = builder.header(name, value.clone());
        }
        let name = self.name.clone();
        let key = self.key.clone();
        let connect_timeout = self.connect_timeout;
        async move {
            async {
                let response = builder
                    .send()
                    .await
                    .map_err(|error| send_error(error, connect_timeout))?;
                error_for_status(response, error_from_body).await
            }
            .await
            .map_err(|error| for_client(&name, error, key.as_ref()))
        }
    }
}

/// `{base_url}/{version}/{path}`, whether `base_url` already ends in `/{version}` or not.
pub(crate) fn versioned_url(base_url: &str, version: &str, path: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix(&format!("/{version}")).unwrap_or(root);
    format!("{root}/{version}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_under_the_version_with_or_without_it_in_the_base() {
        for base in [
            "https://api.example.com",
            "https://api.example.com/",
            "https://api.example.com/v1",
            "https://api.example.com/v1/",
        ] {
            assert_eq!(
                versioned_url(base, "v1", "messages"),
                "https://api.example.com/v1/messages",
                "{base}"
            );
        }
        assert_eq!(
            versioned_url("http://127.0.0.1:9/proxy/x", "v1", "messages"),
            "http://127.0.0.1:9/proxy/x/v1/messages"
        );
        // A path segment that only ends like the version is not the version.
        assert_eq!(
            versioned_url("http://127.0.0.1:9/apiv1", "v1", "messages"),
            "http://127.0.0.1:9/apiv1/v1/messages"
        );
    }

    #[test]
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        for auth in [Auth::Bearer, Auth::Header("x-api-key")] {
            let key = SecretString::from("sk-\nsecret");
            let Err(error) = Endpoint::new("m1", "http://127.0.0.1:9".into(), "x", auth, Some(key))
            else {
                panic!("a key with a line break was accepted");
            };
            assert!(error.message.contains("`m1`"), "{error:?}");
            assert!(!error.message.contains("secret"), "{error:?}");
        }
    }

    #[test]
    fn the_auth_header_is_sensitive() {
        let key = SecretString::from("sk-secret");
        let endpoint = Endpoint::new(
            "m",
            "http://127.0.0.1:9".into(),
            "x",
            Auth::Bearer,
            Some(key),
        )
        .unwrap();
        let (name, value) = endpoint.auth.as_ref().unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer sk-secret");
    }
}
