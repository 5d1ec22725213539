//! OpenAI-compatible upstreams: OpenAI, Mistral, Groq, DeepSeek, vLLM, Ollama's `/v1`,
//! llama.cpp's server, TGI, and rill itself.
//!
//! The HTTP work is [`rill_client::Client`]'s (the same streaming decoder `rill chat`
//! uses): the request goes out with the upstream's model id and always asks for usage;
//! the body is decoded into core events as it arrives; dropping the stream closes the
//! connection, so a client that goes away stops the upstream generation (and its billing).

use std::time::Duration;

use rill_client::Client;
use rill_core::{ChatRequest, Error, Provider, ProviderFuture};

use crate::endpoint::HttpUpstream;
use crate::upstream_error::for_client;
use secrecy::SecretString;

/// OpenAI's own API, for models that give no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// One upstream model.
pub struct OpenAiProvider {
    /// rill's name for the model, for messages.
    name: String,
    /// The upstream's id for it.
    upstream_model: String,
    /// Kept to redact it from upstream error messages.
    api_key: Option<SecretString>,
    client: Client,
}

impl OpenAiProvider {
    /// `base_url` is the upstream's root or `/v1` URL.
    pub fn new(
        name: &str,
        upstream_model: &str,
        base_url: &str,
        api_key: Option<SecretString>,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: name.to_owned(),
            upstream_model: upstream_model.to_owned(),
            client: Client::new(base_url, api_key.clone())?,
            api_key,
        })
    }
}

impl Provider for OpenAiProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let client = self.client.clone();
        let (name, model) = (self.name.clone(), self.upstream_model.clone());
        let key = self.api_key.clone();
        Box::pin(async move {
            client
                .stream_chat_as(&request, &model)
                .await
                .map_err(|error| for_client(&name, error, key.as_ref()))
        })
    }
}

impl HttpUpstream for OpenAiProvider {
    fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Result<Self, Error> {
        self.client = self.client.with_connect_timeout(timeout)?;
        Ok(self)
    }
}
