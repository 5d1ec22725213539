//! Anthropic Messages upstreams: Anthropic's API, and gateways and proxies that speak
//! its dialect.
//!
//! The request is `rill_wire::anthropic::request_body` with the upstream's model id,
//! always streamed (`POST {base_url}/v1/messages`, `x-api-key`, `anthropic-version`).
//! The body is decoded into core events as it arrives by `rill-client`'s
//! [`event_stream`] and `rill-wire`'s Anthropic [`EventDecoder`]; Anthropic reports the
//! usage itself (the prompt's tokens in `message_start`, the output's in
//! `message_delta`). Dropping the stream closes the connection, so a client that goes
//! away stops the upstream generation (and its billing). Errors before the stream are
//! read from Anthropic's error body, with `Retry-After`, and shown to rill's client as
//! `upstream_error::for_client` decides.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use rill_client::{error_for_status, event_stream, http_builder, transport_error};
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::anthropic::{self, EventDecoder};
use secrecy::{ExposeSecret, SecretString};

use crate::upstream_error::for_client;

/// Anthropic's API, the base URL an Anthropic upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent with every request: the Messages API version
/// whose request and stream formats `rill-wire` speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One upstream model.
pub struct AnthropicProvider {
    /// rill's name for the model, for messages.
    name: String,
    /// The upstream's id for it.
    upstream_model: String,
    /// `{base_url}/v1/messages`.
    url: String,
    api_key: Option<SecretString>,
    http: reqwest::Client,
}

impl AnthropicProvider {
    /// `base_url` is the upstream's root (`https://api.anthropic.com`, see
    /// [`DEFAULT_BASE_URL`]) or its `/v1` URL. Without `api_key` no `x-api-key` is sent
    /// (a proxy that adds its own). A key that cannot be an HTTP header value is an
    /// error here rather than at the first request.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        if let Some(key) = &api_key {
            key_header(key).map_err(|_| {
                Error::internal(format!(
                    "the API key of `{name}` is not a valid HTTP header value"
                ))
            })?;
        }
        let http = http_builder()
            .build()
            .map_err(|e| Error::internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            upstream_model: upstream_model.to_owned(),
            url: messages_url(base_url),
            api_key,
            http,
        })
    }

    fn post(&self, body: String) -> reqwest::RequestBuilder {
        let builder = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .header("anthropic-version", ANTHROPIC_VERSION)
            .body(body);
        // `new` refused keys that are not header values: `Err` cannot happen here.
        match self.api_key.as_ref().map(key_header) {
            Some(Ok(key)) => builder.header("x-api-key", key),
            _ => builder,
        }
    }
}

impl Provider for AnthropicProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let body = anthropic::request_body(&request, &self.upstream_model, true);
        let builder = self.post(body);
        let name = self.name.clone();
        let key = self.api_key.clone();
        Box::pin(async move {
            let response = async {
                let response = builder.send().await.map_err(transport_error)?;
                error_for_status(response, anthropic::error_from_body).await
            }
            .await
            .map_err(|error| for_client(&name, error, key.as_ref()))?;
            Ok(event_stream(response, EventDecoder::new()))
        })
    }
}

/// `{base_url}/v1/messages`, whether `base_url` ends in `/v1` or not.
fn messages_url(base_url: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/v1").unwrap_or(root);
    format!("{root}/v1/messages")
}

/// The key as a header value that is never printed (`Debug` shows `Sensitive`).
fn key_header(key: &SecretString) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(key.expose_secret())?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_url_is_under_v1_with_or_without_it_in_the_base() {
        for base in [
            "https://api.anthropic.com",
            "https://api.anthropic.com/",
            "https://api.anthropic.com/v1",
            "https://api.anthropic.com/v1/",
        ] {
            assert_eq!(
                messages_url(base),
                "https://api.anthropic.com/v1/messages",
                "{base}"
            );
        }
        assert_eq!(
            messages_url("http://127.0.0.1:9/proxy/anthropic"),
            "http://127.0.0.1:9/proxy/anthropic/v1/messages"
        );
    }

    #[test]
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        let key = SecretString::from("sk-ant-\nsecret");
        let Err(error) = AnthropicProvider::new("claude", "m", DEFAULT_BASE_URL, Some(key)) else {
            panic!("a key with a line break was accepted");
        };
        assert!(error.message.contains("`claude`"), "{error:?}");
        assert!(!error.message.contains("secret"), "{error:?}");
    }
}
