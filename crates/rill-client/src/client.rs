//! [`Client`]: a client of one OpenAI-compatible server.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use rill_core::{ChatRequest, Error, EventStream};
use rill_wire::openai_chat::{self, ChunkDecoder};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{
    DEFAULT_CONNECT_TIMEOUT, error_for_status, http_client, send_error, transport_error,
};
use crate::stream::event_stream;

/// A client of one server. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Base URL including `/v1`, without a trailing slash.
    base_url: String,
    api_key: Option<SecretString>,
    connect_timeout: Option<Duration>,
}

impl Client {
    /// `base_url` is the server's root (`http://127.0.0.1:8080`) or its `/v1` URL.
    pub fn new(base_url: &str, api_key: Option<SecretString>) -> Result<Self, Error> {
        let trimmed = base_url.trim_end_matches('/');
        let base_url = if trimmed.ends_with("/v1") {
            trimmed.to_owned()
        } else {
            format!("{trimmed}/v1")
        };
        let connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        Ok(Self {
            http: http_client(connect_timeout)?,
            base_url,
            api_key,
            connect_timeout,
        })
    }

    /// The same client, waiting `timeout` for a connection instead of
    /// [`DEFAULT_CONNECT_TIMEOUT`] (`None`: as long as the system does).
    pub fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.http = http_client(timeout)?;
        self.connect_timeout = timeout;
        Ok(self)
    }

    fn request(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.api_key {
            Some(key) => builder.header(AUTHORIZATION, format!("Bearer {}", key.expose_secret())),
            None => builder,
        }
    }

    /// The ids of the models the server offers, in its order.
    pub async fn models(&self) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Model>,
        }
        #[derive(serde::Deserialize)]
        struct Model {
            id: String,
        }
        let response = self
            .send(self.http.get(format!("{}/models", self.base_url)))
            .await?;
        let body = response.bytes().await.map_err(transport_error)?;
        let list: List = serde_json::from_slice(&body)
            .map_err(|e| Error::upstream(format!("the model list is not valid: {e}")))?;
        Ok(list.data.into_iter().map(|m| m.id).collect())
    }

    /// `GET /v1/usage` with `query` (rill's usage ledger, for an admin key): the JSON body.
    pub async fn usage(&self, query: &[(&str, &str)]) -> Result<serde_json::Value, Error> {
        let url = reqwest::Url::parse_with_params(&format!("{}/usage", self.base_url), query)
            .map_err(|e| Error::invalid_request(format!("the server URL is not valid: {e}")))?;
        let request = self.http.get(url);
        let body = self
            .send(request)
            .await?
            .bytes()
            .await
            .map_err(transport_error)?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::upstream(format!("the usage answer is not valid JSON: {e}")))
    }

    /// Starts a streamed chat completion. Usage is always requested.
    pub async fn stream_chat(&self, request: &ChatRequest) -> Result<EventStream, Error> {
        self.stream_chat_as(request, &request.model).await
    }

    /// [`Client::stream_chat`] asking the server for `model` instead of `request.model`
    /// (a gateway's name for a model differs from its upstream's).
    pub async fn stream_chat_as(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<EventStream, Error> {
        let body = openai_chat::request_body(request, model, true);
        let builder = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body);
        let response = self.send(builder).await?;
        Ok(event_stream(response, ChunkDecoder::new()))
    }

    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let response = self
            .request(builder)
            .send()
            .await
            .map_err(|error| send_error(error, self.connect_timeout))?;
        error_for_status(response, openai_chat::error_from_body).await
    }
}
