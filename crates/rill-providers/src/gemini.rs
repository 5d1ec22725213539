//! Google Gemini upstreams: the Gemini API (Google AI Studio keys), and gateways and
//! proxies that speak its dialect.
//!
//! The request is `rill_wire::gemini::request_body`, always streamed:
//! `POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`, the key in the
//! `x-goog-api-key` header (never in the URL, where it would end up in logs). The body is
//! decoded into core events as it arrives by `rill-client`'s [`event_stream`] and
//! `rill-wire`'s Gemini [`EventDecoder`]. Gemini's stream has no end-of-stream event: the
//! answer is finished when the body ends after a finish reason, and cut off (an error) when
//! it ends before one. Dropping the stream closes the connection, so a client that goes
//! away stops the upstream generation (and its billing). Errors before the stream are read
//! from Gemini's error body, with its retry delay, and shown to rill's client as
//! `upstream_error::for_client` decides.

use std::time::Duration;

use rill_client::event_stream;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::gemini::{self, EventDecoder};
use secrecy::SecretString;

use crate::endpoint::{Auth, Endpoint, HttpUpstream, versioned_url};

/// The Gemini API, the base URL a Gemini upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// One upstream model.
pub struct GeminiProvider {
    /// `{base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`.
    endpoint: Endpoint,
}

impl GeminiProvider {
    /// `base_url` is the upstream's root (`https://generativelanguage.googleapis.com`, see
    /// [`DEFAULT_BASE_URL`]) or its `/v1beta` URL. `upstream_model` is Gemini's id
    /// (`gemini-2.5-flash`), also accepted as a resource name (`models/gemini-2.5-flash`,
    /// `tunedModels/my-model`); anything else that is not a plain id (a `/`, `?`, `#` or
    /// `:` that would change the URL) is refused here. Without `api_key` no
    /// `x-goog-api-key` is sent (a proxy that adds its own). A key that cannot be an HTTP
    /// header value is an error here rather than at the first request.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        let resource = model_resource(upstream_model).ok_or_else(|| {
            Error::internal(format!(
                "the upstream model `{upstream_model}` of `{name}` is not a Gemini model id"
            ))
        })?;
        let path = format!("{resource}:streamGenerateContent?alt=sse");
        let url = versioned_url(base_url, "v1beta", &path);
        let auth = Auth::Header("x-goog-api-key");
        Ok(Self {
            endpoint: Endpoint::new(name, url, "text/event-stream", auth, api_key)?,
        })
    }
}

impl Provider for GeminiProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        // A conversation Gemini cannot take is the client's error, as it is.
        let body = gemini::request_body(&request);
        let response = body.map(|body| self.endpoint.send(body, gemini::error_from_body));
        Box::pin(async move { Ok(event_stream(response?.await?, EventDecoder::new())) })
    }
}

impl HttpUpstream for GeminiProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.endpoint = self.endpoint.with_connect_timeout(timeout)?;
        Ok(self)
    }
}

/// `models/{id}` for a plain id; a `models/` or `tunedModels/` resource name as it is.
/// `None` when the id is empty or has a character that is not a letter, digit, `-`, `_`
/// or `.`.
fn model_resource(model: &str) -> Option<String> {
    let (collection, id) = match model.split_once('/') {
        Some((collection @ ("models" | "tunedModels"), id)) => (collection, id),
        Some(_) => return None,
        None => ("models", model),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    (!id.is_empty() && id.chars().all(plain)).then(|| format!("{collection}/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_resource_names_are_accepted_and_nothing_that_changes_the_url() {
        let cases = [
            ("gemini-2.5-flash", Some("models/gemini-2.5-flash")),
            (
                "models/gemini-2.0-flash-001",
                Some("models/gemini-2.0-flash-001"),
            ),
            ("tunedModels/my_model-1", Some("tunedModels/my_model-1")),
            ("", None),
            ("models/", None),
            ("m?key=x", None),
            ("m:generateContent", None),
            ("m#x", None),
            ("../m", None),
            ("models/a/b", None),
            ("projects/p/models/m", None),
            ("gémini", None),
        ];
        for (model, expected) in cases {
            assert_eq!(model_resource(model).as_deref(), expected, "{model:?}");
        }
    }

    #[test]
    fn a_model_that_is_not_an_id_is_refused() {
        let Err(error) = GeminiProvider::new("gem", "m?alt=json", DEFAULT_BASE_URL, None) else {
            panic!("a model id with a query was accepted");
        };
        assert!(error.message.contains("`gem`"), "{error:?}");
    }
}
