//! Who may use rill and how much: virtual API keys, their limits, and the cap on
//! generations running at once.
//!
//! Keys are configured as SHA-256 digests (`[[keys]]`), never in the clear. A request
//! presents its key as `Authorization: Bearer <key>` or `x-api-key: <key>`; its digest
//! is compared with every configured digest in constant time ([`Access::authenticate`]),
//! so neither the answer's timing nor its text tells which keys exist. The result is a
//! [`Caller`], which handlers use to pick the models it may see and to start generations.
//!
//! A generation is admitted ([`Access::admit`]) only while its key is under every limit
//! and the server under `server.max_concurrent_generations`; the [`Admission`] it gets
//! then travels inside the provider's stream (with the generation's [`crate::account`]),
//! so whatever ends the generation (its last event, a cancel, a disconnect, shutdown)
//! drops the stream and gives the slot back, and the stream's `Usage` is charged to the
//! key's tokens per minute as it arrives.

mod admission;
pub mod site;
mod window;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use rill_core::{Error, ErrorKind, Provider};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use tokio::time::Instant;

use crate::cluster::{Limits, Refusal, SharedLimits};
use crate::config::{KeyConfig, KeyError, hash_key};
pub use admission::Admission;

use crate::metrics::Metrics;
use crate::models::ModelRegistry;

/// The header the Anthropic SDK sends its key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The keys, their running counts, and the server-wide cap.
pub struct Access {
    keys: Vec<Arc<Key>>,
    generations: Arc<admission::Cap>,
    metrics: Metrics,
    /// The keys' counts across every instance (`[cluster] redis_url`).
    shared: OnceLock<Arc<SharedLimits>>,
}

/// A configured key and what it is using.
struct Key {
    config: KeyConfig,
    ledger: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Generations of this key that are running.
    in_flight: u32,
    requests: window::Requests,
    tokens: window::Tokens,
    /// What the key spent in its budget period.
    spend: Spend,
}

/// US dollars spent since `period_start` (ms since the epoch).
#[derive(Debug, Default)]
struct Spend {
    period_start: i64,
    usd: f64,
}

impl Key {
    /// Adds `usd` to this period's spend (a new period starts from 0).
    fn spend(&self, usd: f64) {
        let Some(start) = self.budget_period_start() else {
            return;
        };
        let mut ledger = self.ledger();
        ledger.spend.roll(start);
        ledger.spend.usd += usd;
    }

    /// The start of the current budget period, if the key has a budget.
    fn budget_period_start(&self) -> Option<i64> {
        self.config.budget_usd?;
        Some(self.config.budget_period.bounds(rill_ledger::now_ms()).0)
    }
}

impl Spend {
    fn roll(&mut self, period_start: i64) {
        if self.period_start != period_start {
            *self = Self {
                period_start,
                usd: 0.0,
            };
        }
    }
}

impl Key {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // Every update leaves the ledger whole; a panic elsewhere cannot tear it.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Who sent a request: the key it presented, or nobody when no keys are configured.
#[derive(Clone, Default)]
pub struct Caller(Option<Arc<Key>>);

impl Caller {
    /// The key's name (for logs, metrics and a stream's owner).
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref().map(|key| key.config.name.as_str())
    }

    /// Whether this caller's key may read every key's usage (`admin = true`).
    pub fn is_admin(&self) -> bool {
        self.0.as_deref().is_some_and(|key| key.config.admin)
    }

    /// Whether this caller may use `model`.
    pub fn may_use(&self, model: &str) -> bool {
        match self.0.as_deref().and_then(|key| key.config.models.as_ref()) {
            Some(models) => models.iter().any(|m| m == model),
            None => true,
        }
    }

    /// Whether this caller may resume or cancel a stream started by `owner`.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        self.name() == owner
    }

    /// The model a request names, as [`ModelRegistry::resolve`] finds it, if this caller
    /// may use it; an empty name is the first model it may use. A model the key may not
    /// use gets the same 404 as one that does not exist, so a key cannot probe for the
    /// others' models (OpenAI answers the same way).
    pub fn resolve(
        &self,
        models: &ModelRegistry,
        name: &str,
    ) -> Result<(String, Arc<dyn Provider>), Error> {
        let name = if name.is_empty() {
            models
                .entries()
                .iter()
                .map(|entry| entry.name.as_str())
                .find(|name| self.may_use(name))
                .unwrap_or_default()
        } else {
            name
        };
        if !self.may_use(name) {
            return Err(Error::model_not_found(name));
        }
        models.resolve(name)
    }
}

/// Which limit refused a generation (a metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Concurrency,
    Requests,
    Tokens,
    Budget,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Concurrency => "concurrency",
            Self::Requests => "requests",
            Self::Tokens => "tokens",
            Self::Budget => "budget",
        }
    }
}

impl Access {
    /// `keys` (checked with [`validate`] first) and the cap on running generations.
    pub fn new(
        keys: Vec<KeyConfig>,
        max_concurrent_generations: Option<NonZeroU32>,
        metrics: Metrics,
    ) -> Result<Self, KeyError> {
        crate::config::validate_keys(&keys)?;
        let mut access = Self::without_keys(max_concurrent_generations, metrics);
        for config in keys {
            access.metrics.register_key(&config.name);
            access.keys.push(Arc::new(Key {
                config,
                ledger: Mutex::default(),
            }));
        }
        Ok(access)
    }

    /// No keys: anyone who may connect may generate, up to the cap.
    pub fn without_keys(max_concurrent_generations: Option<NonZeroU32>, metrics: Metrics) -> Self {
        Self {
            keys: Vec::new(),
            generations: Arc::new(admission::Cap::new(max_concurrent_generations)),
            metrics,
            shared: OnceLock::new(),
        }
    }

    /// Holds the keys' limits across every instance sharing `limits` (before any
    /// request).
    pub fn share(&self, limits: Arc<SharedLimits>) {
        let _ = self.shared.set(limits);
    }

    /// Whether keys are configured, so that every request needs one.
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The caller whose key `headers` carry, or a 401 that says only that there is no
    /// valid key (never which keys exist). Call only when [`Access::has_keys`].
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Error> {
        let refused = |error: Error| {
            self.metrics.unauthorized();
            Err(error)
        };
        let presented = match presented_key(headers) {
            Ok(Some(key)) => key,
            Ok(None) => {
                return refused(Error::new(
                    ErrorKind::Authentication,
                    "this server needs an API key\nhint: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`",
                ));
            }
            Err(error) => return refused(error),
        };
        let digest = hash_key(presented);
        // Look at every key, whichever matches: the time taken says nothing about which
        // digest matched or how much of one did.
        let mut found = subtle::Choice::from(0);
        let mut index = 0u32;
        for (i, key) in (0u32..).zip(&self.keys) {
            let same = key.config.sha256.0.ct_eq(&digest.0);
            index = u32::conditional_select(&index, &i, same);
            found |= same;
        }
        match usize::try_from(index).ok().and_then(|i| self.keys.get(i)) {
            Some(key) if bool::from(found) => {
                self.metrics.key_request(&key.config.name);
                Ok(Caller(Some(Arc::clone(key))))
            }
            _ => refused(
                Error::new(ErrorKind::Authentication, "the API key is not valid")
                    .with_code("invalid_api_key"),
            ),
        }
    }

    /// Admits one generation for `caller`: 429 with `Retry-After` when its key is over a
    /// limit, 503 when the server runs `server.max_concurrent_generations` already.
    /// Nothing is counted for a refused request.
    pub fn admit(&self, caller: &Caller) -> Result<Admission, Error> {
        let Some(key) = &caller.0 else {
            return Ok(Admission::new(self.global()?, None, self.metrics.clone()));
        };
        let now = Instant::now();
        let config = &key.config;
        let mut ledger = key.ledger();
        let mut over: Vec<(Limit, String, Duration)> = Vec::new();
        if let Some(max) = config.max_concurrent
            && ledger.in_flight >= max.get()
        {
            // Nobody knows when a running generation ends: try again soon.
            let what = format!("{max} concurrent generations");
            over.push((Limit::Concurrency, what, Duration::from_secs(1)));
        }
        if let Some(rpm) = config.requests_per_minute
            && let Some(wait) = ledger.requests.wait(now, rpm.get())
        {
            over.push((Limit::Requests, format!("{rpm} requests per minute"), wait));
        }
        if let Some(tpm) = config.tokens_per_minute
            && let Some(wait) = ledger.tokens.wait(now, tpm.get())
        {
            over.push((Limit::Tokens, format!("{tpm} tokens per minute"), wait));
        }
        if let Some(refusal) = self.over_budget(config, &mut ledger) {
            return Err(refusal);
        }
        if !over.is_empty() {
            return Err(self.refused(&config.name, &over));
        }
        let slot = self.global()?;
        ledger.in_flight += 1;
        ledger.requests.record(now);
        drop(ledger);
        Ok(Admission::new(
            slot,
            Some(Arc::clone(key)),
            self.metrics.clone(),
        ))
    }

    /// Admits one generation for `caller` as [`Access::admit`] does, its key's limits
    /// counted across every instance when they are shared (first there: the counts of
    /// this instance never pass the shared ones). A Redis that cannot count refuses (503).
    pub async fn admit_everywhere(&self, caller: &Caller) -> Result<Admission, Error> {
        let (Some(shared), Some(key)) = (self.shared.get(), &caller.0) else {
            return self.admit(caller);
        };
        let config = &key.config;
        let limits = Limits {
            max_concurrent: config.max_concurrent.map_or(0, NonZeroU32::get),
            requests_per_minute: config.requests_per_minute.map_or(0, NonZeroU32::get),
            tokens_per_minute: config.tokens_per_minute.map_or(0, |n| n.get()),
            budget_usd: config.budget_usd.unwrap_or(0.0),
            period: config.budget_period.bounds(rill_ledger::now_ms()),
        };
        if limits.max_concurrent == 0
            && limits.requests_per_minute == 0
            && limits.tokens_per_minute == 0
            && limits.budget_usd <= 0.0
        {
            return self.admit(caller);
        }
        let (limit, what, wait) = match shared.admit(&config.name, limits).await {
            Ok(Ok(ticket)) => {
                let mut admission = self.admit(caller)?;
                admission.share(ticket, Arc::clone(shared), limits.period);
                return Ok(admission);
            }
            Ok(Err((refusal, wait))) => match refusal {
                Refusal::Concurrency => (
                    Limit::Concurrency,
                    format!("{} concurrent generations", limits.max_concurrent),
                    wait,
                ),
                Refusal::Requests => (
                    Limit::Requests,
                    format!("{} requests per minute", limits.requests_per_minute),
                    wait,
                ),
                Refusal::Tokens => (
                    Limit::Tokens,
                    format!("{} tokens per minute", limits.tokens_per_minute),
                    wait,
                ),
                Refusal::Budget => return Err(self.budget_spent(config, None)),
            },
            Err(error) => {
                tracing::warn!(%error, key = %config.name, "cannot count the key's limits in Redis");
                return Err(Error::new(
                    ErrorKind::Overloaded,
                    "this server cannot reach its shared state store (Redis) to count this key's limits; retry shortly",
                ));
            }
        };
        Err(self.refused(&config.name, &[(limit, what, wait)]))
    }

    /// The 429 for a key that spent its budget for this period, which names the budget and
    /// when the period starts over.
    fn over_budget(&self, config: &KeyConfig, ledger: &mut Ledger) -> Option<Error> {
        let budget = config.budget_usd?;
        let now = rill_ledger::now_ms();
        let (start, _) = config.budget_period.bounds(now);
        ledger.spend.roll(start);
        if ledger.spend.usd < budget {
            return None;
        }
        Some(self.budget_spent(config, Some(ledger.spend.usd)))
    }

    /// The 429 for a key that spent its budget (`spent` of it here, or counted across
    /// every instance).
    fn budget_spent(&self, config: &KeyConfig, spent: Option<f64>) -> Error {
        let budget = config.budget_usd.unwrap_or_default();
        let now = rill_ledger::now_ms();
        let (_, next) = config.budget_period.bounds(now);
        self.metrics
            .key_limited(&config.name, Limit::Budget.as_str());
        tracing::info!(key = %config.name, "request refused: the key's budget is spent");
        let wait = Duration::from_millis(u64::try_from(next - now).unwrap_or(0));
        let spent = match spent {
            Some(usd) => format!("${usd:.4} of its ${budget} budget"),
            None => format!("its ${budget} budget (on every instance together)"),
        };
        let message = format!(
            "this key has spent {spent} for this {}; it starts over at {}",
            config.budget_period.name(),
            rill_ledger::format_time(next)
        );
        Error::new(ErrorKind::RateLimited, message)
            .with_code("budget_exceeded")
            .with_retry_after(wait)
    }

    /// Reads what each key with a budget spent in its current period from the ledger, so a
    /// restart does not forget it. Keys whose spend cannot be read start from 0 (logged).
    pub async fn load_spend(&self, reader: &rill_ledger::Reader) {
        for key in &self.keys {
            let Some(start) = key.budget_period_start() else {
                continue;
            };
            let filter = rill_ledger::Filter {
                key: Some(key.config.name.clone()),
                since_ms: Some(start),
                ..rill_ledger::Filter::default()
            };
            match reader.usage(&filter, rill_ledger::GroupBy::Key).await {
                Ok(groups) => {
                    let usd = groups.iter().map(|group| group.cost_usd).sum::<f64>();
                    if let Some(shared) = self.shared.get() {
                        let period = key.config.budget_period.bounds(rill_ledger::now_ms());
                        shared.spend(&key.config.name, period, usd, true);
                    }
                    let mut ledger = key.ledger();
                    ledger.spend.roll(start);
                    ledger.spend.usd += usd;
                }
                Err(error) => tracing::warn!(
                    key = %key.config.name,
                    %error,
                    "cannot read the key's spend from the ledger; its budget counts from 0"
                ),
            }
        }
    }

    /// Admits a replay (a resume of a stream) for `caller`: it counts against the key's
    /// requests per minute like a new request, since sending a long log costs as much as
    /// a generation's stream; 429 when the key is over that limit.
    pub fn admit_replay(&self, caller: &Caller) -> Result<(), Error> {
        let Some(key) = &caller.0 else {
            return Ok(());
        };
        let now = Instant::now();
        let mut ledger = key.ledger();
        if let Some(rpm) = key.config.requests_per_minute
            && let Some(wait) = ledger.requests.wait(now, rpm.get())
        {
            let over = [(Limit::Requests, format!("{rpm} requests per minute"), wait)];
            return Err(self.refused(&key.config.name, &over));
        }
        ledger.requests.record(now);
        Ok(())
    }

    /// The 429 for a key over the limits in `over` (each with how long until it frees).
    fn refused(&self, key: &str, over: &[(Limit, String, Duration)]) -> Error {
        if let Some((limit, _, _)) = over.first() {
            self.metrics.key_limited(key, limit.as_str());
            tracing::info!(
                key = %key,
                limit = limit.as_str(),
                "request refused: over the key's limit"
            );
        }
        // Every limit that is over must free up before the request can pass.
        let wait = over
            .iter()
            .map(|(_, _, wait)| *wait)
            .max()
            .unwrap_or_default();
        let limits: Vec<&str> = over.iter().map(|(_, what, _)| what.as_str()).collect();
        let message = format!(
            "this key is over its limit of {}; retry in {} s",
            limits.join(" and "),
            whole_seconds(wait)
        );
        Error::new(ErrorKind::RateLimited, message)
            .with_code("rate_limit_exceeded")
            .with_retry_after(wait)
    }

    fn global(&self) -> Result<admission::Slot, Error> {
        admission::Cap::acquire(&self.generations).ok_or_else(|| {
            self.metrics.capacity_refused();
            tracing::info!("generation refused: `server.max_concurrent_generations` reached");
            Error::new(
                ErrorKind::Overloaded,
                "the server is running as many generations as it may; retry in 1 s",
            )
            .with_retry_after(Duration::from_secs(1))
        })
    }
}

/// Seconds as `Retry-After` gives them: rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The key a request carries: the bearer token of `Authorization`, or `x-api-key`. Both
/// may be sent (some SDKs do) if they agree.
fn presented_key(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    let invalid = || {
        Error::new(ErrorKind::Authentication, "the API key is not valid")
            .with_code("invalid_api_key")
    };
    let bearer = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| invalid())?.trim();
            match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    Some(token.trim()).filter(|t| !t.is_empty())
                }
                // Another scheme (Basic, say) carries no key of ours.
                _ => None,
            }
        }
        None => None,
    };
    let api_key = match headers.get(API_KEY_HEADER) {
        Some(value) => {
            Some(value.to_str().map_err(|_| invalid())?.trim()).filter(|k| !k.is_empty())
        }
        None => None,
    };
    match (bearer, api_key) {
        (Some(a), Some(b)) if a != b => Err(Error::new(
            ErrorKind::Authentication,
            "the request carries two different API keys, in `Authorization` and in `x-api-key`\nhint: send one",
        )),
        (Some(key), _) | (None, Some(key)) => Ok(Some(key)),
        (None, None) => Ok(None),
    }
}

/// Paths served without a key even when keys are configured: the chat page's files
/// (static, the same for everyone; the page's own requests carry a key like any
/// client's) and the health check.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/rill-client.js" | "/health") || path.starts_with("/assets/")
}
