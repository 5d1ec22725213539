//! Ollama upstreams, through Ollama's native chat API (its OpenAI-compatible one is the
//! `openai` provider's).
//!
//! The request is `rill_wire::ollama::request_body` with the upstream's model name, always
//! streamed: `POST {base_url}/api/chat`. Ollama itself has no authentication; a key, when
//! configured, is sent as `Authorization: Bearer` for a proxy in front of it. The body is
//! newline-delimited JSON, decoded into core events as it arrives by `rill-client`'s
//! [`ndjson_stream`] and `rill-wire`'s Ollama [`ChunkDecoder`]; the answer is finished by
//! its `done: true` line, and cut off (an error) when the body ends before it. Dropping the
//! stream closes the connection, so a client that goes away stops the generation. Errors
//! before the stream are read from Ollama's `{"error": ...}` body, with `Retry-After`, and
//! shown to rill's client as `upstream_error::for_client` decides (a model Ollama has not
//! pulled is the operator's problem: a bad gateway).

use std::time::Duration;

use rill_client::ndjson_stream;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::ollama::{self, ChunkDecoder};
use secrecy::SecretString;

use crate::endpoint::{Auth, Endpoint, HttpUpstream, versioned_url};

/// A local Ollama server, the base URL an Ollama upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// One upstream model.
pub struct OllamaProvider {
    /// Ollama's name for the model (`llama3.2`, `qwen3:8b`).
    upstream_model: String,
    /// `{base_url}/api/chat`.
    endpoint: Endpoint,
}

impl OllamaProvider {
    /// `base_url` is the server's root (`http://127.0.0.1:11434`, see
    /// [`DEFAULT_BASE_URL`]) or its `/api` URL. Without `api_key` no `Authorization` is
    /// sent (what Ollama itself wants). A key that cannot be an HTTP header value is an
    /// error here rather than at the first request.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        let url = versioned_url(base_url, "api", "chat");
        Ok(Self {
            upstream_model: upstream_model.to_owned(),
            endpoint: Endpoint::new(name, url, "application/x-ndjson", Auth::Bearer, api_key)?,
        })
    }
}

impl Provider for OllamaProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let body = ollama::request_body(&request, &self.upstream_model);
        let response = body.map(|body| self.endpoint.send(body, ollama::error_from_body));
        Box::pin(async move { Ok(ndjson_stream(response?.await?, ChunkDecoder::new())) })
    }
}

impl HttpUpstream for OllamaProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.endpoint = self.endpoint.with_connect_timeout(timeout)?;
        Ok(self)
    }
}
