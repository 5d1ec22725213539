//! A streaming client for OpenAI-compatible chat servers (rill itself included).
//!
//! The response body is decoded as it arrives, with `rill-sse` and the OpenAI chunk
//! decoder of `rill-wire`, into core [`StreamEvent`]s: the same events a provider
//! produces, so tools built on this client (`rill chat`, benchmarks) see exactly what the
//! server streamed, one delta at a time. Dropping the stream closes the connection,
//! which makes a rill server stop generating.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use rill_core::{ChatRequest, Error, ErrorKind, EventStream, StreamEvent, terminated};
use rill_sse::Decoder;
use rill_wire::openai_chat::{self, ChunkDecoder};
use secrecy::{ExposeSecret, SecretString};

/// A client of one server. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Base URL including `/v1`, without a trailing slash.
    base_url: String,
    api_key: Option<SecretString>,
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
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url,
            api_key,
        })
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
        let body = response.bytes().await.map_err(transport)?;
        let list: List = serde_json::from_slice(&body)
            .map_err(|e| Error::upstream(format!("the model list is not valid: {e}")))?;
        Ok(list.data.into_iter().map(|m| m.id).collect())
    }

    /// Starts a streamed chat completion. Usage is always requested.
    pub async fn stream_chat(&self, request: &ChatRequest) -> Result<EventStream, Error> {
        let body = openai_chat::request_body(request, &request.model, true);
        let builder = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body);
        let response = self.send(builder).await?;
        Ok(terminated(Box::pin(events(response))))
    }

    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let response = self.request(builder).send().await.map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(openai_chat::error_from_body(status.as_u16(), &body))
    }
}

/// Decodes the SSE body into the events of choice 0, as they arrive.
fn events(response: reqwest::Response) -> impl futures_util::Stream<Item = StreamEvent> + Send {
    struct State {
        body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        sse: Decoder,
        chunks: ChunkDecoder,
        pending: std::collections::VecDeque<StreamEvent>,
        done: bool,
    }
    let state = State {
        body: response.bytes_stream().boxed(),
        sse: Decoder::new(),
        chunks: ChunkDecoder::new(),
        pending: Default::default(),
        done: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                return Some((event, s));
            }
            if s.done || s.chunks.is_done() {
                return None;
            }
            let chunk = match s.body.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => {
                    s.done = true;
                    return Some((StreamEvent::Error(transport(e)), s));
                }
                None => return None,
            };
            let decoded = s
                .sse
                .feed(&chunk)
                .map_err(|e| Error::upstream(e.to_string()))
                .and_then(|events| {
                    let mut out = Vec::new();
                    for event in events {
                        out.extend(s.chunks.decode(&event.data)?);
                    }
                    Ok(out)
                });
            match decoded {
                Ok(events) => s.pending.extend(
                    events
                        .into_iter()
                        .filter(|(choice, _)| *choice == 0)
                        .map(|(_, e)| e),
                ),
                Err(error) => {
                    s.done = true;
                    s.pending.push_back(StreamEvent::Error(error));
                }
            }
        }
    })
}

fn transport(error: reqwest::Error) -> Error {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Upstream
    };
    // `without_url` keeps query strings (which may hold keys) out of the message.
    Error::new(kind, format!("request failed: {}", error.without_url()))
}
