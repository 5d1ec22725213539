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

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use rill_client::{error_for_status, event_stream, http_builder, transport_error};
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::cohere::{self, EventDecoder};
use secrecy::{ExposeSecret, SecretString};

use crate::upstream_error::for_client;

/// Cohere's API, the base URL a Cohere upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// One upstream model.
pub struct CohereProvider {
    /// rill's name for the model, for messages.
    name: String,
    /// Cohere's id for it (`command-a-03-2025`).
    upstream_model: String,
    /// `{base_url}/v2/chat`.
    url: String,
    api_key: Option<SecretString>,
    http: reqwest::Client,
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
            .header(ACCEPT, "text/event-stream")
            .body(body);
        // `new` refused keys that are not header values: `Err` cannot happen here.
        match self.api_key.as_ref().map(bearer) {
            Some(Ok(value)) => builder.header(AUTHORIZATION, value),
            _ => builder,
        }
    }
}

impl Provider for CohereProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let builder = cohere::request_body(&request, &self.upstream_model).map(|b| self.post(b));
        let name = self.name.clone();
        let key = self.api_key.clone();
        let decoder = EventDecoder::new(&self.upstream_model);
        Box::pin(async move {
            let builder = builder?;
            let response = async {
                let response = builder.send().await.map_err(transport_error)?;
                error_for_status(response, cohere::error_from_body).await
            }
            .await
            .map_err(|error| for_client(&name, error, key.as_ref()))?;
            Ok(event_stream(response, decoder))
        })
    }
}

/// `{base_url}/v2/chat`, whether `base_url` ends in `/v2` or not.
fn chat_url(base_url: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/v2").unwrap_or(root);
    format!("{root}/v2/chat")
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
    fn the_chat_url_is_under_v2_with_or_without_it_in_the_base() {
        for base in [
            "https://api.cohere.com",
            "https://api.cohere.com/",
            "https://api.cohere.com/v2",
            "https://api.cohere.com/v2/",
        ] {
            assert_eq!(chat_url(base), "https://api.cohere.com/v2/chat", "{base}");
        }
        assert_eq!(
            chat_url("https://proxy.example/cohere"),
            "https://proxy.example/cohere/v2/chat"
        );
    }

    #[test]
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        let key = SecretString::from("co\nsecret");
        let Err(error) = CohereProvider::new("command", "m", DEFAULT_BASE_URL, Some(key)) else {
            panic!("a key with a line break was accepted");
        };
        assert!(error.message.contains("`command`"), "{error:?}");
        assert!(!error.message.contains("secret"), "{error:?}");
    }
}
