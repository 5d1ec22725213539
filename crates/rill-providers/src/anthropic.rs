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

use std::time::Duration;

use rill_client::event_stream;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::anthropic::{self, EventDecoder};
use secrecy::SecretString;

use crate::endpoint::{Auth, Endpoint, HttpUpstream, versioned_url};

/// Anthropic's API, the base URL an Anthropic upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent with every request: the Messages API version
/// whose request and stream formats `rill-wire` speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One upstream model.
pub struct AnthropicProvider {
    /// The upstream's id for the model.
    upstream_model: String,
    /// `{base_url}/v1/messages`.
    endpoint: Endpoint,
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
        let url = versioned_url(base_url, "v1", "messages");
        let endpoint = Endpoint::new(
            name,
            url,
            "text/event-stream",
            Auth::Header("x-api-key"),
            api_key,
        )?
        .with_header("anthropic-version", ANTHROPIC_VERSION);
        Ok(Self {
            upstream_model: upstream_model.to_owned(),
            endpoint,
        })
    }
}

impl Provider for AnthropicProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let body = anthropic::request_body(&request, &self.upstream_model, true);
        let response = self.endpoint.send(body, anthropic::error_from_body);
        Box::pin(async move { Ok(event_stream(response.await?, EventDecoder::new())) })
    }
}

impl HttpUpstream for AnthropicProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.endpoint = self.endpoint.with_connect_timeout(timeout)?;
        Ok(self)
    }
}
