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

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use rill_client::{error_for_status, http_builder, ndjson_stream, transport_error};
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::ollama::{self, ChunkDecoder};
use secrecy::{ExposeSecret, SecretString};

use crate::upstream_error::for_client;

/// A local Ollama server, the base URL an Ollama upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// One upstream model.
pub struct OllamaProvider {
    /// rill's name for the model, for messages.
    name: String,
    /// Ollama's name for it (`llama3.2`, `qwen3:8b`).
    upstream_model: String,
    /// `{base_url}/api/chat`.
    url: String,
    api_key: Option<SecretString>,
    http: reqwest::Client,
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
        if let Some(key) = &api_key {
            bearer(key).map_err(|_| {
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
            url: chat_url(base_url),
            api_key,
            http,
        })
    }

    fn post(&self, body: String) -> reqwest::RequestBuilder {
        let builder = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/x-ndjson")
            .body(body);
        // `new` refused keys that are not header values: `Err` cannot happen here.
        match self.api_key.as_ref().map(bearer) {
            Some(Ok(value)) => builder.header(AUTHORIZATION, value),
            _ => builder,
        }
    }
}

impl Provider for OllamaProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let builder = ollama::request_body(&request, &self.upstream_model).map(|b| self.post(b));
        let name = self.name.clone();
        let key = self.api_key.clone();
        Box::pin(async move {
            let builder = builder?;
            let response = async {
                let response = builder.send().await.map_err(transport_error)?;
                error_for_status(response, ollama::error_from_body).await
            }
            .await
            .map_err(|error| for_client(&name, error, key.as_ref()))?;
            Ok(ndjson_stream(response, ChunkDecoder::new()))
        })
    }
}

/// `{base_url}/api/chat`, whether `base_url` ends in `/api` or not.
fn chat_url(base_url: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/api").unwrap_or(root);
    format!("{root}/api/chat")
}

/// `Bearer {key}` as a header value that is never printed (`Debug` shows `Sensitive`).
fn bearer(key: &SecretString) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chat_url_is_under_api_with_or_without_it_in_the_base() {
        for base in [
            "http://127.0.0.1:11434",
            "http://127.0.0.1:11434/",
            "http://127.0.0.1:11434/api",
            "http://127.0.0.1:11434/api/",
        ] {
            assert_eq!(chat_url(base), "http://127.0.0.1:11434/api/chat", "{base}");
        }
        assert_eq!(
            chat_url("https://proxy.example/ollama"),
            "https://proxy.example/ollama/api/chat"
        );
    }

    #[test]
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        let key = SecretString::from("sk\nsecret");
        let Err(error) = OllamaProvider::new("local", "m", DEFAULT_BASE_URL, Some(key)) else {
            panic!("a key with a line break was accepted");
        };
        assert!(error.message.contains("`local`"), "{error:?}");
        assert!(!error.message.contains("secret"), "{error:?}");
    }
}
