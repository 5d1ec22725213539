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

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use rill_client::{error_for_status, event_stream, http_builder, transport_error};
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};
use rill_wire::gemini::{self, EventDecoder};
use secrecy::{ExposeSecret, SecretString};

use crate::upstream_error::for_client;

/// The Gemini API, the base URL a Gemini upstream has unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The header that carries the key.
const KEY_HEADER: &str = "x-goog-api-key";

/// One upstream model.
pub struct GeminiProvider {
    /// rill's name for the model, for messages.
    name: String,
    /// `{base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`.
    url: String,
    api_key: Option<SecretString>,
    http: reqwest::Client,
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
        if let Some(key) = &api_key {
            key_header(key).map_err(|_| {
                Error::internal(format!(
                    "the API key of `{name}` is not a valid HTTP header value"
                ))
            })?;
        }
        let resource = model_resource(upstream_model).ok_or_else(|| {
            Error::internal(format!(
                "the upstream model `{upstream_model}` of `{name}` is not a Gemini model id"
            ))
        })?;
        let http = http_builder()
            .build()
            .map_err(|e| Error::internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            url: stream_url(base_url, &resource),
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
        match self.api_key.as_ref().map(key_header) {
            Some(Ok(key)) => builder.header(KEY_HEADER, key),
            _ => builder,
        }
    }
}

impl Provider for GeminiProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let builder = gemini::request_body(&request).map(|body| self.post(body));
        let name = self.name.clone();
        let key = self.api_key.clone();
        Box::pin(async move {
            // A conversation Gemini cannot take is the client's error, as it is.
            let builder = builder?;
            let response = async {
                let response = builder.send().await.map_err(transport_error)?;
                error_for_status(response, gemini::error_from_body).await
            }
            .await
            .map_err(|error| for_client(&name, error, key.as_ref()))?;
            Ok(event_stream(response, EventDecoder::new()))
        })
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

/// `{base_url}/v1beta/{resource}:streamGenerateContent?alt=sse`, whether `base_url` ends
/// in `/v1beta` or not.
fn stream_url(base_url: &str, resource: &str) -> String {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/v1beta").unwrap_or(root);
    format!("{root}/v1beta/{resource}:streamGenerateContent?alt=sse")
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
    fn the_stream_url_is_under_v1beta_with_or_without_it_in_the_base() {
        let expected = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
        for base in [
            "https://generativelanguage.googleapis.com",
            "https://generativelanguage.googleapis.com/",
            "https://generativelanguage.googleapis.com/v1beta",
            "https://generativelanguage.googleapis.com/v1beta/",
        ] {
            assert_eq!(
                stream_url(base, "models/gemini-2.5-flash"),
                expected,
                "{base}"
            );
        }
        assert_eq!(
            stream_url("http://127.0.0.1:9/proxy/gemini", "models/m"),
            "http://127.0.0.1:9/proxy/gemini/v1beta/models/m:streamGenerateContent?alt=sse"
        );
    }

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
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        let key = SecretString::from("AIza\nsecret");
        let Err(error) = GeminiProvider::new("gem", "m", DEFAULT_BASE_URL, Some(key)) else {
            panic!("a key with a line break was accepted");
        };
        assert!(error.message.contains("`gem`"), "{error:?}");
        assert!(!error.message.contains("secret"), "{error:?}");
    }

    #[test]
    fn a_model_that_is_not_an_id_is_refused() {
        let Err(error) = GeminiProvider::new("gem", "m?alt=json", DEFAULT_BASE_URL, None) else {
            panic!("a model id with a query was accepted");
        };
        assert!(error.message.contains("`gem`"), "{error:?}");
    }
}
