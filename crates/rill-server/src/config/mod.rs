//! `rill.toml`, environment overrides and defaults: every schema type and its checks.
//!
//! A leaf: nothing here imports what is built from the config (the model registry, the
//! resilient chains, the key table); those modules import it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rill_providers::ScriptConfig;
use serde::{Deserialize, Serialize};

mod cache;
mod cluster;
mod keys;
mod ledger;
mod resilience;
mod sessions;
mod telemetry;

pub use cache::{CacheConfig, ModelCache, Pacing};
pub use cluster::{ClusterConfig, redacted};
pub(crate) use keys::validate as validate_keys;
pub use keys::{KEY_PREFIX, KeyConfig, KeyDigest, KeyError, hash_key, new_key};
pub use ledger::{LedgerConfig, data_dir};
pub use resilience::{ModelTimeouts, RetriesConfig, TimeoutsConfig};
pub use rill_ledger::Price;
pub use sessions::SessionsConfig;
pub use telemetry::TelemetryConfig;

/// The whole configuration. Every key has a default, so no file is needed at all.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    /// The embedded engine, used by models with `provider = "engine"`.
    pub engine: EngineConfig,
    /// The models clients may ask for. Empty: the embedded model, named `smollm2`.
    pub models: Vec<ModelConfig>,
    /// Streams: how long they can be resumed, the disconnect grace period, heartbeats.
    pub sessions: SessionsConfig,
    /// Every model's timeouts, unless it sets its own.
    pub timeouts: TimeoutsConfig,
    /// How failures before the first token are tried again.
    pub retries: RetriesConfig,
    /// Virtual API keys (`[[keys]]`), stored as SHA-256 digests. None: no key is needed,
    /// and only loopback clients are served unless `server.allow_remote`.
    pub keys: Vec<KeyConfig>,
    /// The usage ledger: a record of every generation, in SQLite or PostgreSQL.
    pub ledger: LedgerConfig,
    /// OpenTelemetry: a span per generation to an OTLP collector.
    pub telemetry: TelemetryConfig,
    /// Answers served again, as streams, to identical requests.
    pub cache: CacheConfig,
    /// Several instances sharing state through Redis.
    pub cluster: ClusterConfig,
}

/// The embedded engine. It loads only when some model uses it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// A GGUF file to run. Absent: SmolLM2-135M-Instruct from rill's cache, downloaded
    /// on first use.
    pub model: Option<PathBuf>,
    /// Requests waiting for the engine; more are refused with 429 and `Retry-After`.
    pub queue_capacity: usize,
    /// Conversations decoded together in one batched step.
    pub max_batch: usize,
    /// Finished conversations whose KV cache is kept so follow-up turns skip the prefix.
    pub prefix_cache_entries: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            model: None,
            queue_capacity: 32,
            max_batch: 8,
            prefix_cache_entries: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub host: IpAddr,
    pub port: u16,
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// On SIGINT/SIGTERM, running streams get this long to finish before they are ended
    /// with an error event.
    pub shutdown_grace_secs: u64,
    /// Accept clients that are not on loopback. Off by default: without keys, rill must
    /// not be an open relay.
    pub allow_remote: bool,
    /// Origins whose pages may call rill from the browser (CORS), such as
    /// `http://localhost:3000` for an app using the AI SDK's `useChat`; `"*"` allows any.
    /// Empty (the default): no CORS headers, so only rill's own page can. Without keys,
    /// a request whose `Origin` is neither rill's own nor listed here is refused (403).
    pub cors_origins: Vec<String>,
    /// Without keys, the `Host` names rill answers to besides loopback ones (`localhost`,
    /// `*.localhost`) and IP addresses: a page whose name was re-pointed at this machine
    /// (DNS rebinding) sends its own name, and is refused (403). With keys, any host.
    pub allowed_hosts: Vec<String>,
    /// Connections open at once. At the cap the oldest idle connection is closed to make
    /// room; when every one is busy a new one gets 503. Lowered at start to fit the
    /// process's descriptor limit (which rill raises to its hard limit first).
    pub max_connections: usize,
    /// A client has this long to send a request's head: from connecting, or from the
    /// first byte of its next request on a kept-alive connection. 0: no limit.
    pub header_timeout_secs: f64,
    /// A kept-alive connection with no request in flight is closed after this long.
    /// 0: no limit.
    pub idle_timeout_secs: f64,
    /// A request body must arrive within this long plus its size over
    /// `body_min_bytes_per_sec`, or the request gets 408. 0: no limit.
    pub body_timeout_secs: f64,
    /// The slowest rate a request body may trickle in at, beyond `body_timeout_secs`.
    pub body_min_bytes_per_sec: u64,
    /// Generations (streams and non-streaming requests) running at once, all keys
    /// together; more get 503 with `Retry-After`. Absent (the default): no cap.
    pub max_concurrent_generations: Option<NonZeroU32>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            max_body_bytes: 4 * 1024 * 1024,
            shutdown_grace_secs: 10,
            allow_remote: false,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_connections: 8192,
            header_timeout_secs: 10.0,
            idle_timeout_secs: 60.0,
            body_timeout_secs: 10.0,
            body_min_bytes_per_sec: 4096,
            max_concurrent_generations: None,
        }
    }
}

impl ServerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let timeouts = [
            ("header_timeout_secs", self.header_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
        ];
        for (key, secs) in timeouts {
            if !secs.is_finite() || secs < 0.0 {
                return Err(ConfigError::BadTimeout {
                    place: format!("`server.{key}`"),
                    secs,
                });
            }
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Zero {
                key: "max_connections",
            });
        }
        if self.body_min_bytes_per_sec == 0 {
            return Err(ConfigError::Zero {
                key: "body_min_bytes_per_sec",
            });
        }
        for host in &self.allowed_hosts {
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
            if !valid {
                return Err(ConfigError::BadHost { host: host.clone() });
            }
        }
        Ok(())
    }
}

/// One model clients can ask for by `name`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub name: String,
    pub provider: ProviderKind,
    /// For `provider = "scripted"`: what to answer and which faults to inject.
    #[serde(default, skip_serializing)]
    pub script: ScriptConfig,
    /// For upstream providers: the API's root or `/v1` URL. Default: the provider's
    /// public API (`https://api.openai.com/v1`, `https://api.anthropic.com`,
    /// `https://generativelanguage.googleapis.com`, `http://127.0.0.1:11434` for Ollama,
    /// `https://api.cohere.com`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// For upstream providers: the upstream's id for the model. Default: `name`.
    #[serde(default)]
    pub model: Option<String>,
    /// For upstream providers: the environment variable that holds the API key. The key
    /// itself never appears in the config, the logs or a response.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Other models that serve, in order, when this one fails before its first token.
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Attempts on this model before its fallbacks, the first included. Default:
    /// `retries.max_attempts`.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// This model's own timeouts; those it does not set are `[timeouts]`'s.
    #[serde(default)]
    pub timeouts: ModelTimeouts,
    /// US dollars per million tokens, for the cost in the ledger (`input_per_mtok`,
    /// `output_per_mtok`, and optionally `cached_input_per_mtok`, `cache_write_per_mtok`,
    /// `reasoning_per_mtok`). Absent: no cost is recorded.
    #[serde(default)]
    pub price: Option<Price>,
    /// This model's response cache settings (`enabled`, `ttl_secs`, `sampled`); what it
    /// leaves out is `[cache]`'s.
    #[serde(default)]
    pub cache: Option<ModelCache>,
}

impl ModelConfig {
    /// A model of `provider` with nothing else set.
    pub fn new(name: &str, provider: ProviderKind) -> Self {
        Self {
            name: name.to_owned(),
            provider,
            script: ScriptConfig::default(),
            base_url: None,
            model: None,
            api_key_env: None,
            fallbacks: Vec::new(),
            max_attempts: None,
            timeouts: ModelTimeouts::default(),
            price: None,
            cache: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The embedded model (see `[engine]`).
    Engine,
    Scripted,
    /// Any OpenAI-compatible chat server (OpenAI, Mistral, Groq, DeepSeek, vLLM, Ollama's
    /// `/v1`, llama.cpp's server, TGI, another rill).
    Openai,
    /// OpenAI's Responses API (`/v1/responses`), or a server that speaks it.
    #[serde(rename = "openai-responses")]
    OpenaiResponses,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Gemini API (`streamGenerateContent`).
    Gemini,
    /// Ollama's native API (`/api/chat`, NDJSON); its `/v1` is also `openai`-compatible.
    Ollama,
    /// Cohere's chat v2 API.
    Cohere,
}

impl ProviderKind {
    /// Whether models of this kind are reached over HTTP (and take `base_url`, `model`,
    /// `api_key_env`).
    pub fn is_upstream(self) -> bool {
        match self {
            Self::Engine | Self::Scripted => false,
            Self::Openai
            | Self::OpenaiResponses
            | Self::Anthropic
            | Self::Gemini
            | Self::Ollama
            | Self::Cohere => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the config file `{0}` does not exist")]
    Missing(String),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: two models are named `{0}`")]
    DuplicateModel(String),
    #[error(
        "invalid configuration: model `{model}` sets `{key}`, which only upstream providers take\nhint: `provider = \"openai\"` reaches an OpenAI-compatible server"
    )]
    NotUpstream { model: String, key: &'static str },
    #[error(
        "invalid configuration: `server.cors_origins` has {origin:?}\nhint: give origins as `scheme://host[:port]`, such as `http://localhost:3000`, or `\"*\"`"
    )]
    BadOrigin { origin: String },
    #[error(
        "invalid configuration: `server.allowed_hosts` has {host:?}\nhint: give host names as a browser sends them in `Host`, without scheme, port or path, such as `rill.internal`"
    )]
    BadHost { host: String },
    #[error("invalid configuration: `server.{key}` is 0\nhint: it must be at least 1")]
    Zero { key: &'static str },
    #[error(
        "invalid configuration: model `{model}` has `base_url = {url:?}`\nhint: use an http:// or https:// URL such as `http://127.0.0.1:11434/v1`"
    )]
    BadUrl { model: String, url: String },
    #[error(
        "invalid configuration: {place} is {secs}\nhint: give a number of seconds (fractions allowed), or 0 for no limit"
    )]
    BadTimeout { place: String, secs: f64 },
    #[error("invalid configuration: {place} is 0\nhint: 1 tries once, without retries")]
    NoAttempts { place: String },
    #[error(
        "invalid configuration: model `{model}` falls back to `{fallback}`, which is not a configured model\nhint: `fallbacks` lists the `name`s of other `[[models]]`"
    )]
    UnknownFallback { model: String, fallback: String },
    #[error("invalid configuration: model `{model}` lists itself in `fallbacks`")]
    SelfFallback { model: String },
    #[error("invalid configuration: model `{model}` lists `{fallback}` twice in `fallbacks`")]
    DuplicateFallback { model: String, fallback: String },
    #[error(
        "invalid configuration: the fallbacks form a cycle: {cycle}\nhint: a fallback's own fallbacks serve too, so no chain may lead back to where it began"
    )]
    FallbackCycle { cycle: String },
    #[error(
        "invalid configuration: model `{model}` has a price of {value} for `{key}`\nhint: prices are US dollars per million tokens, 0 or more"
    )]
    BadPrice {
        model: String,
        key: &'static str,
        value: f64,
    },
    #[error(
        "invalid configuration: `telemetry.otlp_endpoint` is {endpoint:?}\nhint: give an OTLP/HTTP collector's base URL, such as `http://127.0.0.1:4318`"
    )]
    BadOtlpEndpoint { endpoint: String },
    #[error("invalid configuration: {place} is 0\nhint: it must be at least 1")]
    ZeroSetting { place: String },
    #[error(
        "invalid configuration: `cache.pacing` is {{ tokens_per_sec = {rate} }}\nhint: give a rate above 0, or `pacing = \"instant\"`"
    )]
    BadPacing { rate: f64 },
    #[error(
        "invalid configuration: `cluster.redis_url` is {url:?}\nhint: give `redis://host:port` (with `user:password@` and `/db` if needed) or `unix:///path/to/redis.sock`; TLS (`rediss://`) is not built in: reach a TLS Redis through a local tunnel"
    )]
    BadRedisUrl { url: String },
    #[error("invalid configuration: `ledger.{key}` is 0\nhint: it must be at least 1")]
    LedgerZero { key: &'static str },
    #[error("invalid configuration: {0}")]
    LedgerUrl(#[from] rill_ledger::TargetError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl Config {
    /// Defaults, then the TOML file at `path` (if given, it must exist), then environment
    /// variables `RILL_<SECTION>__<KEY>` (e.g. `RILL_SERVER__PORT=9000`).
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError::Missing(path.display().to_string()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Only `SECTION__KEY` variables are config keys; `RILL_CONFIG` and friends are not.
        let env = Env::prefixed("RILL_")
            .filter(|key| key.as_str().contains("__"))
            .split("__");
        let config: Config = figment.merge(env).extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML document (no file, no environment): for tests and embedding.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        for origin in &self.server.cors_origins {
            let scheme_ok = origin.starts_with("http://") || origin.starts_with("https://");
            let valid = origin == "*"
                || (scheme_ok
                    && !origin.ends_with('/')
                    && axum::http::HeaderValue::from_str(origin).is_ok());
            if !valid {
                return Err(ConfigError::BadOrigin {
                    origin: origin.clone(),
                });
            }
        }
        keys::validate(&self.keys)?;
        let models = self.effective_models();
        keys::validate_models(&self.keys, |name| models.iter().any(|m| m.name == name))?;
        let mut seen = std::collections::HashSet::new();
        for model in &self.models {
            if !seen.insert(model.name.as_str()) {
                return Err(ConfigError::DuplicateModel(model.name.clone()));
            }
            if !model.provider.is_upstream() {
                let set = [
                    ("base_url", model.base_url.is_some()),
                    ("model", model.model.is_some()),
                    ("api_key_env", model.api_key_env.is_some()),
                ];
                if let Some((key, _)) = set.iter().find(|(_, set)| *set) {
                    return Err(ConfigError::NotUpstream {
                        model: model.name.clone(),
                        key,
                    });
                }
            }
            if let Some(price) = &model.price {
                validate_price(&model.name, price)?;
            }
            if let Some(url) = &model.base_url {
                let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
                if !scheme_ok || url.contains(char::is_whitespace) {
                    return Err(ConfigError::BadUrl {
                        model: model.name.clone(),
                        url: url.clone(),
                    });
                }
            }
        }
        if self.ledger.flush_ms == 0 {
            return Err(ConfigError::LedgerZero { key: "flush_ms" });
        }
        if self.ledger.max_pending == 0 {
            return Err(ConfigError::LedgerZero { key: "max_pending" });
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::BadOtlpEndpoint {
                endpoint: endpoint.clone(),
            });
        }
        if let Some(url) = &self.ledger.url {
            rill_ledger::Target::new(Some(url), &data_dir())?;
        }
        self.validate_cache()?;
        if let Some(url) = &self.cluster.redis_url
            && !(url.starts_with("redis://") || url.starts_with("unix://"))
        {
            return Err(ConfigError::BadRedisUrl { url: redacted(url) });
        }
        if self.cluster.lease_secs == 0 {
            return Err(ConfigError::ZeroSetting {
                place: "`cluster.lease_secs`".to_owned(),
            });
        }
        resilience::validate(self)
    }

    fn validate_cache(&self) -> Result<(), ConfigError> {
        let zero = |place: String| Err(ConfigError::ZeroSetting { place });
        if self.cache.ttl_secs == 0 {
            return zero("`cache.ttl_secs`".to_owned());
        }
        if self.cache.max_bytes == 0 {
            return zero("`cache.max_bytes`".to_owned());
        }
        if let Pacing::TokensPerSec(rate) = self.cache.pacing
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ConfigError::BadPacing { rate });
        }
        for model in &self.models {
            if model.cache.as_ref().and_then(|c| c.ttl_secs) == Some(0) {
                return zero(format!("model `{}`'s `cache.ttl_secs`", model.name));
            }
        }
        Ok(())
    }

    /// The configured models, or the built-in default when none are.
    pub fn effective_models(&self) -> Vec<ModelConfig> {
        if !self.models.is_empty() {
            return self.models.clone();
        }
        vec![ModelConfig::new("smollm2", ProviderKind::Engine)]
    }
}

fn validate_price(model: &str, price: &Price) -> Result<(), ConfigError> {
    let prices = [
        ("input_per_mtok", Some(price.input_per_mtok)),
        ("output_per_mtok", Some(price.output_per_mtok)),
        ("cached_input_per_mtok", price.cached_input_per_mtok),
        ("cache_write_per_mtok", price.cache_write_per_mtok),
        ("reasoning_per_mtok", price.reasoning_per_mtok),
    ];
    for (key, value) in prices {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            return Err(ConfigError::BadPrice {
                model: model.to_owned(),
                key,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_has_defaults_and_the_embedded_model() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.engine, EngineConfig::default());
        let models = c.effective_models();
        assert_eq!(
            (models[0].name.as_str(), models[0].provider),
            ("smollm2", ProviderKind::Engine)
        );
    }

    #[test]
    fn parses_models_with_scripts() {
        let c = Config::from_toml(
            r#"
            [server]
            port = 9000
            [[models]]
            name = "slow"
            provider = "scripted"
            script = { text = "hi", tokens_per_second = 5, error_after = 3 }
            "#,
        )
        .unwrap();
        assert_eq!(c.server.port, 9000);
        assert_eq!(c.models[0].script.text.as_deref(), Some("hi"));
        assert_eq!(c.models[0].script.error_after, Some(3));
    }

    #[test]
    fn rejects_unknown_keys_providers_and_duplicates() {
        let err = Config::from_toml("[server]\nprot = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
        let err = Config::from_toml("[[models]]\nname='a'\nprovider='nope'")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        let err = Config::from_toml(
            "[[models]]\nname='a'\nprovider='scripted'\n[[models]]\nname='a'\nprovider='scripted'",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::DuplicateModel(name) if name == "a"));
    }

    #[test]
    fn prices_and_the_ledger_are_checked() {
        let c = Config::from_toml(
            "[[models]]\nname='a'\nprovider='scripted'\nprice={input_per_mtok=0.15, output_per_mtok=0.6}",
        )
        .unwrap();
        assert_eq!(c.models[0].price.unwrap().output_per_mtok, 0.6);
        assert!(c.ledger.enabled && c.ledger.url.is_none());
        let err = Config::from_toml(
            "[[models]]\nname='a'\nprovider='scripted'\nprice={input_per_mtok=-1, output_per_mtok=0}",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::BadPrice {
                    key: "input_per_mtok",
                    ..
                }
            ),
            "{err}"
        );
        let err = Config::from_toml("[[models]]\nname='a'\nprovider='scripted'\nprice={input=1}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("input"), "{err}");
        let err = Config::from_toml("[ledger]\nurl='mysql://u:pw@h/db'")
            .unwrap_err()
            .to_string();
        assert!(err.contains("postgres://") && !err.contains("pw"), "{err}");
        let err = Config::from_toml("[ledger]\nflush_ms=0").unwrap_err();
        assert!(matches!(err, ConfigError::LedgerZero { key: "flush_ms" }));
    }

    #[test]
    fn the_cache_and_its_pacing_are_read_and_checked() {
        let c = Config::from_toml(
            "[cache]\nenabled = true\npacing = { tokens_per_sec = 40 }\n[[models]]\nname='a'\nprovider='scripted'\ncache = { ttl_secs = 5, sampled = true }",
        )
        .unwrap();
        assert!(c.cache.enabled && !c.cache.shared_across_keys);
        assert_eq!(c.cache.pacing, Pacing::TokensPerSec(40.0));
        let own = c.models[0].cache.as_ref().unwrap();
        assert_eq!(
            (own.enabled, own.ttl_secs, own.sampled),
            (None, Some(5), true)
        );
        let recorded = Config::from_toml("[cache]\npacing = 'recorded'").unwrap();
        assert_eq!(recorded.cache.pacing, Pacing::Recorded);
        assert!(Config::from_toml("[cache]\npacing = 'fast'").is_err());
        let err = Config::from_toml("[cache]\npacing = { tokens_per_sec = 0 }").unwrap_err();
        assert!(matches!(err, ConfigError::BadPacing { .. }), "{err}");
        let err = Config::from_toml("[cache]\nttl_secs = 0").unwrap_err();
        assert!(err.to_string().contains("`cache.ttl_secs` is 0"), "{err}");
        let err = Config::from_toml(
            "[[models]]\nname='a'\nprovider='scripted'\ncache = { ttl_secs = 0 }",
        )
        .unwrap_err();
        assert!(err.to_string().contains("model `a`"), "{err}");
        let err =
            Config::from_toml("[[models]]\nname='a'\nprovider='scripted'\ncache = { on = true }")
                .unwrap_err();
        assert!(err.to_string().contains("on"), "{err}");
    }

    #[test]
    fn example_config_in_the_repository_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rill.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let c = Config::from_toml(&text).unwrap();
        assert!(!c.models.is_empty());
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's test jail fixes the error type"
    )]
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "rill.toml",
                "[server]\nport = 9000\nshutdown_grace_secs = 3",
            )?;
            jail.set_env("RILL_SERVER__PORT", "9100");
            jail.set_env("RILL_CONFIG", "ignored.toml");
            let c = Config::load(Some(Path::new("rill.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.server.port, 9100);
            assert_eq!(c.server.shutdown_grace_secs, 3);
            Ok(())
        });
    }
}
