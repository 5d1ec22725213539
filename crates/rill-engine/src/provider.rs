//! The engine as a [`Provider`]: chat request in, the model's answer streamed out.

use std::path::Path;
use std::sync::Arc;

use rill_core::{ChatRequest, Error, EventStream, Provider, ProviderFuture, ResponseFormat};

use crate::runtime::{EngineStats, Job, Runtime, RuntimeConfig};
use crate::{ChatTemplate, EngineError, Gguf, Model, SamplerConfig, Tokenizer};

/// A loaded model with its tokenizer, chat template and engine thread.
pub struct Engine {
    runtime: Arc<Runtime>,
    prompter: Arc<Prompter>,
}

/// What turns a request into the engine's job: the chat template and the tokenizer, run
/// on a blocking thread (a long conversation takes milliseconds, which must not stall
/// an async worker's other streams).
struct Prompter {
    name: String,
    tokenizer: Arc<Tokenizer>,
    template: ChatTemplate,
    context_length: usize,
}

impl Engine {
    /// Loads the GGUF at `path` and starts its engine thread. `name` is what clients
    /// ask for.
    pub fn load(path: &Path, name: &str, config: RuntimeConfig) -> Result<Self, EngineError> {
        let started = std::time::Instant::now();
        let gguf = Gguf::open(path)?;
        let tokenizer = Arc::new(Tokenizer::from_gguf(&gguf)?);
        let source = gguf.str("tokenizer.chat_template")?;
        let template = ChatTemplate::new(
            source,
            tokenizer.bos_token().unwrap_or(""),
            tokenizer.eos_token().unwrap_or(""),
        )?;
        let model = Arc::new(Model::load(&gguf, &candle_core::Device::Cpu)?);
        let context_length = model.config().context_length;
        let runtime = Runtime::start(model, Arc::clone(&tokenizer), config)?;
        tracing::info!(model = name, path = %path.display(), load_ms = started.elapsed().as_millis() as u64, "model loaded");
        let prompter = Prompter {
            name: name.to_owned(),
            tokenizer,
            template,
            context_length,
        };
        Ok(Self {
            runtime: Arc::new(runtime),
            prompter: Arc::new(prompter),
        })
    }

    /// The engine thread's counters.
    pub fn stats(&self) -> &EngineStats {
        self.runtime.stats()
    }
}

impl Prompter {
    /// Turns a request into a job: template, tokens, limits, sampling.
    fn job(
        &self,
        request: &ChatRequest,
    ) -> Result<
        (
            Job,
            tokio::sync::mpsc::UnboundedReceiver<rill_core::StreamEvent>,
        ),
        Error,
    > {
        if !request.tools.is_empty() {
            return Err(Error::invalid_request(format!(
                "the model `{}` cannot call tools\nhint: remove `tools`, or ask a model from a provider that supports them",
                self.name
            ))
            .with_param("tools"));
        }
        if matches!(
            request.response_format,
            Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })
        ) {
            return Err(Error::invalid_request(format!(
                "the model `{}` cannot guarantee JSON output; `response_format` must be `text`",
                self.name
            ))
            .with_param("response_format"));
        }
        let prompt = self
            .template
            .render(&request.messages, true)
            .map_err(|e| Error::invalid_request(e.to_string()).with_param("messages"))?;
        let mut tokens = self
            .tokenizer
            .encode(&prompt, true)
            .map_err(|e| Error::internal(e.to_string()))?;
        if let Some(bos) = self.tokenizer.bos_to_add() {
            tokens.insert(0, bos);
        }
        let room = self.context_length.saturating_sub(tokens.len());
        if room == 0 {
            return Err(Error::invalid_request(format!(
                "the conversation is {} tokens long; the model's context holds {}",
                tokens.len(),
                self.context_length
            ))
            .with_param("messages")
            .with_code("context_length_exceeded"));
        }
        let sampling = &request.sampling;
        let defaults = SamplerConfig::default();
        let sampler = SamplerConfig {
            temperature: sampling.temperature.unwrap_or(defaults.temperature),
            top_p: sampling.top_p.unwrap_or(defaults.top_p),
            top_k: sampling.top_k.map_or(defaults.top_k, |k| k as usize),
            frequency_penalty: sampling
                .frequency_penalty
                .unwrap_or(defaults.frequency_penalty),
            presence_penalty: sampling
                .presence_penalty
                .unwrap_or(defaults.presence_penalty),
            seed: sampling.seed,
            ..defaults
        };
        let max_tokens = sampling.max_tokens.map_or(room, |m| (m as usize).min(room));
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let job = Job {
            prompt: tokens,
            sampler,
            max_tokens,
            stop: sampling.stop.clone(),
            model_name: self.name.clone(),
            events,
            tally: request.tally.clone(),
        };
        Ok((job, receiver))
    }
}

impl Provider for Engine {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let (prompter, runtime) = (Arc::clone(&self.prompter), Arc::clone(&self.runtime));
        Box::pin(async move {
            let (job, receiver) = tokio::task::spawn_blocking(move || prompter.job(&request))
                .await
                .map_err(|e| Error::internal(format!("preparing the prompt failed: {e}")))??;
            runtime.submit(job)?;
            // Dropping this stream drops the receiver; the engine sees it before the
            // next token and stops.
            let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|event| (event, receiver))
            });
            Ok(Box::pin(stream) as EventStream)
        })
    }
}
