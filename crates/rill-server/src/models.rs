//! The models clients can ask for, each bound to a provider.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rill_core::Provider;
use rill_engine::{Engine, RuntimeConfig};
use rill_ledger::{PricedProvider, bundled_price};
use rill_providers::{
    AnthropicProvider, CohereProvider, GeminiProvider, HttpUpstream, OllamaProvider,
    OpenAiProvider, OpenAiResponsesProvider, ScriptedProvider, anthropic, cohere, gemini, ollama,
    openai, openai_responses,
};
use secrecy::SecretString;

use crate::config::{Config, EngineConfig, ModelConfig, Price, ProviderKind};
use crate::resilience;

/// A model clients can ask for.
#[derive(Clone)]
pub struct ModelEntry {
    pub name: String,
    /// Who provides it (`owned_by` in `/v1/models`).
    pub owned_by: &'static str,
    pub provider: Arc<dyn Provider>,
}

/// Model name -> provider. Optionally a catch-all provider that serves any name, which is
/// what `rill mock-upstream` uses to stand in for an arbitrary upstream.
#[derive(Clone, Default)]
pub struct ModelRegistry {
    entries: Vec<ModelEntry>,
    catch_all: Option<Arc<dyn Provider>>,
    /// Each priced model's price, for the ledger's cost.
    prices: HashMap<String, Price>,
}

impl ModelRegistry {
    pub fn new(entries: Vec<ModelEntry>) -> Self {
        Self {
            entries,
            catch_all: None,
            prices: HashMap::new(),
        }
    }

    /// With these models' prices (by name).
    #[must_use]
    pub fn with_prices(mut self, prices: impl IntoIterator<Item = (String, Price)>) -> Self {
        self.prices.extend(prices);
        self
    }

    /// What `name` costs, if it has a price.
    pub fn price(&self, name: &str) -> Option<Price> {
        self.prices.get(name).copied()
    }

    /// The kind of provider that serves `name` (`openai`, `anthropic`, `engine`, ...).
    pub fn provider_kind(&self, name: &str) -> Option<&'static str> {
        let entry = self.entries.iter().find(|entry| entry.name == name)?;
        Some(
            entry
                .owned_by
                .strip_prefix("rill-")
                .unwrap_or(entry.owned_by),
        )
    }

    /// A registry that serves every model name with `provider`.
    pub fn catch_all(provider: Arc<dyn Provider>) -> Self {
        Self {
            entries: Vec::new(),
            catch_all: Some(provider),
            prices: HashMap::new(),
        }
    }

    /// Builds every configured model. The embedded engine is fetched (first run) and
    /// loaded only if a model uses it; all `provider = "engine"` models share it. Each
    /// model is served through its chain of fallbacks, with its timeouts and retries
    /// (`rill_providers::Resilient`; see `resilience`), so its `Start` names the model
    /// that serves by rill's name.
    pub async fn from_config(config: &Config) -> Result<Self, BuildError> {
        let mut engine: Option<Arc<dyn Provider>> = None;
        let mut entries = Vec::new();
        let models = config.effective_models();
        for model in &models {
            let connect = resilience::connect_timeout(config, model);
            let (provider, owned_by): (Arc<dyn Provider>, &'static str) = match model.provider {
                ProviderKind::Scripted => (
                    Arc::new(ScriptedProvider::new(&model.name, model.script.clone())),
                    "rill-scripted",
                ),
                ProviderKind::Openai => (
                    upstream(
                        model,
                        connect,
                        openai::DEFAULT_BASE_URL,
                        OpenAiProvider::new,
                    )?,
                    "rill-openai",
                ),
                ProviderKind::OpenaiResponses => (
                    upstream(
                        model,
                        connect,
                        openai_responses::DEFAULT_BASE_URL,
                        OpenAiResponsesProvider::new,
                    )?,
                    "rill-openai-responses",
                ),
                ProviderKind::Anthropic => (
                    upstream(
                        model,
                        connect,
                        anthropic::DEFAULT_BASE_URL,
                        AnthropicProvider::new,
                    )?,
                    "rill-anthropic",
                ),
                ProviderKind::Gemini => (
                    upstream(
                        model,
                        connect,
                        gemini::DEFAULT_BASE_URL,
                        GeminiProvider::new,
                    )?,
                    "rill-gemini",
                ),
                ProviderKind::Ollama => (
                    upstream(
                        model,
                        connect,
                        ollama::DEFAULT_BASE_URL,
                        OllamaProvider::new,
                    )?,
                    "rill-ollama",
                ),
                ProviderKind::Cohere => (
                    upstream(
                        model,
                        connect,
                        cohere::DEFAULT_BASE_URL,
                        CohereProvider::new,
                    )?,
                    "rill-cohere",
                ),
                ProviderKind::Engine => {
                    let provider = match &engine {
                        Some(provider) => Arc::clone(provider),
                        None => {
                            let loaded: Arc<dyn Provider> =
                                Arc::new(load_engine(&config.engine, &model.name).await?);
                            engine = Some(Arc::clone(&loaded));
                            loaded
                        }
                    };
                    (provider, "rill-engine")
                }
            };
            entries.push(ModelEntry {
                name: model.name.clone(),
                owned_by,
                provider,
            });
        }
        let bases = entries.clone();
        for (index, entry) in entries.iter_mut().enumerate() {
            entry.provider = Arc::new(resilience::resilient(config, &models, &bases, index));
        }
        let prices = models
            .iter()
            .filter_map(|model| Some((model.name.clone(), price(model)?)));
        Ok(Self::new(entries).with_prices(prices))
    }

    /// The model a request names, or the first configured model when it names none
    /// (`useChat` sends no model unless the app adds one). Returns the name served.
    pub fn resolve(&self, name: &str) -> Result<(String, Arc<dyn Provider>), rill_core::Error> {
        if name.is_empty()
            && let Some(first) = self.entries.first()
        {
            return Ok((first.name.clone(), Arc::clone(&first.provider)));
        }
        self.get(name)
            .map(|provider| (name.to_owned(), provider))
            .ok_or_else(|| rill_core::Error::model_not_found(name))
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.entries
            .iter()
            .find(|entry| entry.name == name)
            .map(|entry| Arc::clone(&entry.provider))
            .or_else(|| self.catch_all.clone())
    }

    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }
}

/// An upstream model's key, read from the environment variable its config names.
/// A model's `price`, else the bundled price of its upstream id when it is reached at its
/// provider's public API (a `base_url` of its own is another server, priced by nobody).
fn price(model: &ModelConfig) -> Option<Price> {
    if model.price.is_some() || model.base_url.is_some() {
        return model.price;
    }
    let provider = match model.provider {
        ProviderKind::Openai | ProviderKind::OpenaiResponses => PricedProvider::OpenAi,
        ProviderKind::Anthropic => PricedProvider::Anthropic,
        ProviderKind::Gemini => PricedProvider::Gemini,
        ProviderKind::Cohere => PricedProvider::Cohere,
        ProviderKind::Engine | ProviderKind::Scripted | ProviderKind::Ollama => return None,
    };
    bundled_price(provider, model.model.as_deref().unwrap_or(&model.name))
}

fn api_key(model: &ModelConfig) -> Result<Option<SecretString>, BuildError> {
    let Some(var) = &model.api_key_env else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(key) if !key.trim().is_empty() => Ok(Some(SecretString::from(key.trim().to_owned()))),
        _ => Err(BuildError::MissingKey {
            model: model.name.clone(),
            var: var.clone(),
        }),
    }
}

/// Every upstream provider's constructor: rill's name, the upstream's id for the model,
/// the base URL and the key.
type Constructor<P> = fn(&str, &str, &str, Option<SecretString>) -> Result<P, rill_core::Error>;

/// An upstream model from its config: the upstream's id (`model`, else rill's name), the
/// base URL (`base_url`, else the provider's public API), the key and the connect timeout.
fn upstream<P: HttpUpstream>(
    model: &ModelConfig,
    connect_timeout: Option<Duration>,
    default_base_url: &str,
    new: Constructor<P>,
) -> Result<Arc<dyn Provider>, BuildError> {
    let upstream_model = model.model.as_deref().unwrap_or(&model.name);
    let base_url = model.base_url.as_deref().unwrap_or(default_base_url);
    let provider = new(&model.name, upstream_model, base_url, api_key(model)?)
        .and_then(|provider| provider.with_connect_timeout(connect_timeout));
    match provider {
        Ok(provider) => Ok(Arc::new(provider)),
        Err(e) => Err(BuildError::Upstream {
            model: model.name.clone(),
            message: e.message,
        }),
    }
}

/// A model could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "model `{model}` reads its API key from `{var}`, which is not set\nhint: `export {var}=...` before `rill serve`, or remove `api_key_env`"
    )]
    MissingKey { model: String, var: String },
    #[error("model `{model}`: {message}")]
    Upstream { model: String, message: String },
    #[error(transparent)]
    Fetch(#[from] rill_fetch::FetchError),
    #[error("cannot load the model: {0}")]
    Engine(#[from] rill_engine::EngineError),
    #[error("cannot load the model: {0}")]
    Join(String),
}

async fn load_engine(config: &EngineConfig, name: &str) -> Result<Engine, BuildError> {
    let path =
        rill_fetch::ensure(&rill_fetch::SMOLLM2_135M_INSTRUCT, config.model.as_deref()).await?;
    let runtime = RuntimeConfig {
        queue_capacity: config.queue_capacity,
        max_batch: config.max_batch,
        prefix_cache_entries: config.prefix_cache_entries,
    };
    let name = name.to_owned();
    // Loading reads ~100 MB and checks every tensor: CPU and disk work that must not block
    // the runtime.
    tokio::task::spawn_blocking(move || Engine::load(&path, &name, runtime))
        .await
        .map_err(|e| BuildError::Join(e.to_string()))?
        .map_err(BuildError::from)
}
