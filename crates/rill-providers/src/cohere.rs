//! Cohere upstreams, through Cohere's chat API v2.
//!
//! The request is `rill_wire::cohere::request_body` with the upstream's model id, always
//! streamed: `POST {base_url}/v2/chat` with `Authorization: Bearer {key}`. The body is
//! SSE, decoded into core events as it arrives by `rill-client`'s [`event_stream`] and
//! `rill-wire`'s Cohere [`EventDecoder`]; the answer is finished by its `message-end`
//! event, and cut off (an error) when the body ends before it. Cohere's stream does not
//! name the model: `Start` carries the upstream model id the request asked for. Dropping
//! the stream closes the connection, so a client that goes away stops the generation
//! (and its billing). Errors before the stream are read from Cohere's `{"message": ...}`
//! body, with `Retry-After`, and shown to rill's client as `upstream_error::for_client`
//! decides.

use std::time::Duration;

use rill_client::event_stream;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::cohere::{self, EventDecoder};
use secrecy::SecretString;

use crate::endpoint::{Auth, Endpoint, HttpUpstream, versioned_url};

/// Cohere's API, the base URL a Cohere upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// One upstream model.
pub struct CohereProvider {
    /// Cohere's id for the model (`command-a-03-2025`).
    upstream_model: String,
    /// `{base_url}/v2/chat`.
    endpoint: Endpoint,
}

impl CohereProvider {
    /// `base_url` is the API's root (`https://api.cohere.com`, see [`DEFAULT_BASE_URL`])
    /// or its `/v2` URL. Without `api_key` no `Authorization` is sent (a proxy that adds
    /// its own). A key that cannot be an HTTP header value is an error here rather than
    /// at the first request.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        let url = versioned_url(base_url, "v2", "chat");
        Ok(Self {
            upstream_model: upstream_model.to_owned(),
            endpoint: Endpoint::new(name, url, "text/event-stream", Auth::Bearer, api_key)?,
        })
    }
}

impl Provider for CohereProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let body = cohere::request_body(&request, &self.upstream_model);
        let response = body.map(|body| self.endpoint.send(body, cohere::error_from_body));
        let decoder = EventDecoder::new(&self.upstream_model);
        Box::pin(async move { Ok(event_stream(response?.await?, decoder)) })
    }
}

impl HttpUpstream for CohereProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.endpoint = self.endpoint.with_connect_timeout(timeout)?;
        Ok(self)
    }
}
