//! OpenAI Responses upstreams: OpenAI's `/v1/responses`, and the servers and gateways
//! that speak it (vLLM, Azure OpenAI, another rill).
//!
//! The request is `rill_wire::openai_responses::request_body` with the upstream's model
//! id, always streamed and never stored (`store: false`, so the upstream keeps nothing
//! and every turn carries the whole conversation): `POST {base_url}/responses` with
//! `Authorization: Bearer {key}`. The body is decoded into core events as it arrives by
//! `rill-client`'s [`event_stream`] and `rill-wire`'s Responses [`EventDecoder`]; the
//! usage comes in the terminal `response.completed` (or `response.incomplete`) event,
//! which every Responses stream sends unasked. A body that ends before a terminal event
//! is cut off: an error. Dropping the stream closes the connection, so a client that
//! goes away stops the upstream generation (and its billing). Errors before the stream
//! are read from the `{"error": {...}}` body (the same shape as Chat Completions'), with
//! `Retry-After`, and shown to rill's client as `upstream_error::for_client` decides.

use std::time::Duration;

use rill_client::event_stream;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::openai_responses::{self, EventDecoder};
use secrecy::SecretString;

use crate::endpoint::{Auth, Endpoint, HttpUpstream, versioned_url};

/// OpenAI's own API, for models that give no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// One upstream model.
pub struct OpenAiResponsesProvider {
    /// The upstream's id for the model.
    upstream_model: String,
    /// `{base_url}/responses`.
    endpoint: Endpoint,
}

impl OpenAiResponsesProvider {
    /// `base_url` is the upstream's root or its `/v1` URL (as for the `openai`
    /// provider). Without `api_key` no `Authorization` is sent (a local server, or a
    /// proxy that adds its own). A key that cannot be an HTTP header value is an error
    /// here rather than at the first request.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        let url = versioned_url(base_url, "v1", "responses");
        Ok(Self {
            upstream_model: upstream_model.to_owned(),
            endpoint: Endpoint::new(name, url, "text/event-stream", Auth::Bearer, api_key)?,
        })
    }
}

impl Provider for OpenAiResponsesProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let body = openai_responses::request_body(&request, &self.upstream_model, true);
        let response = self.endpoint.send(body, openai_responses::error_from_body);
        Box::pin(async move { Ok(event_stream(response.await?, EventDecoder::new())) })
    }
}

impl HttpUpstream for OpenAiResponsesProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.endpoint = self.endpoint.with_connect_timeout(timeout)?;
        Ok(self)
    }
}
