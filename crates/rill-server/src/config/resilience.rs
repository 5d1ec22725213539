//! `[timeouts]`, `[retries]` and each model's `timeouts`, `max_attempts` and
//! `fallbacks`: the schema and its checks (`crate::resilience` builds the chains).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use rill_providers::{Policy, Timeouts};

use super::{Config, ConfigError, ModelConfig};

/// `[timeouts]`: every model's, unless it sets its own. Seconds, fractions allowed; 0 is
/// no limit. Each attempt (a retry, a fallback) gets them afresh.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutsConfig {
    /// Upstream providers: to open the connection (TCP and TLS).
    pub connect_secs: f64,
    /// From the request to the first content (text, reasoning, a tool call), response
    /// headers and the engine's queue included.
    pub first_token_secs: f64,
    /// The longest silence between two events once the first token came.
    pub idle_secs: f64,
    /// From the request to the end of the answer.
    pub total_secs: f64,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        let timeouts = Timeouts::default();
        let secs = |limit: Option<Duration>| limit.map_or(0.0, |d| d.as_secs_f64());
        Self {
            connect_secs: rill_providers::DEFAULT_CONNECT_TIMEOUT.as_secs_f64(),
            first_token_secs: secs(timeouts.first_token),
            idle_secs: secs(timeouts.idle),
            total_secs: secs(timeouts.total),
        }
    }
}

/// A model's `timeouts = { ... }`: each key it sets replaces `[timeouts]`'s.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelTimeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_token_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_secs: Option<f64>,
}

/// `[retries]`: how a failure before the first token is tried again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetriesConfig {
    /// Attempts on a model before its fallbacks (or the error), the first included;
    /// a model's own `max_attempts` replaces it.
    pub max_attempts: u32,
    /// Retry `n` waits a random time up to `base_delay_ms * 2^(n-1)`.
    pub base_delay_ms: u64,
    /// The longest wait before a retry, the upstream's `Retry-After` included.
    pub max_delay_ms: u64,
}

impl Default for RetriesConfig {
    fn default() -> Self {
        let policy = Policy::default();
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            max_attempts: policy.max_attempts,
            base_delay_ms: millis(policy.backoff.base),
            max_delay_ms: millis(policy.backoff.max),
        }
    }
}

/// Checks every key of this module's, and that fallbacks name other models and form no
/// cycle.
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    let global = &config.timeouts;
    for (key, secs) in [
        ("connect_secs", global.connect_secs),
        ("first_token_secs", global.first_token_secs),
        ("idle_secs", global.idle_secs),
        ("total_secs", global.total_secs),
    ] {
        check_secs(format!("`timeouts.{key}`"), secs)?;
    }
    if config.retries.max_attempts == 0 {
        return Err(ConfigError::NoAttempts {
            place: "`retries.max_attempts`".into(),
        });
    }
    let names: HashMap<&str, &ModelConfig> =
        config.models.iter().map(|m| (m.name.as_str(), m)).collect();
    for model in &config.models {
        let own = &model.timeouts;
        for (key, secs) in [
            ("connect_secs", own.connect_secs),
            ("first_token_secs", own.first_token_secs),
            ("idle_secs", own.idle_secs),
            ("total_secs", own.total_secs),
        ] {
            if let Some(secs) = secs {
                check_secs(format!("model `{}`'s `timeouts.{key}`", model.name), secs)?;
            }
        }
        if own.connect_secs.is_some() && !model.provider.is_upstream() {
            return Err(ConfigError::NotUpstream {
                model: model.name.clone(),
                key: "timeouts.connect_secs",
            });
        }
        if model.max_attempts == Some(0) {
            return Err(ConfigError::NoAttempts {
                place: format!("model `{}`'s `max_attempts`", model.name),
            });
        }
        for (i, fallback) in model.fallbacks.iter().enumerate() {
            let error = if *fallback == model.name {
                ConfigError::SelfFallback {
                    model: model.name.clone(),
                }
            } else if !names.contains_key(fallback.as_str()) {
                ConfigError::UnknownFallback {
                    model: model.name.clone(),
                    fallback: fallback.clone(),
                }
            } else if model.fallbacks[..i].contains(fallback) {
                ConfigError::DuplicateFallback {
                    model: model.name.clone(),
                    fallback: fallback.clone(),
                }
            } else {
                continue;
            };
            return Err(error);
        }
    }
    if let Some(cycle) = find_cycle(&config.models) {
        return Err(ConfigError::FallbackCycle { cycle });
    }
    Ok(())
}

fn check_secs(place: String, secs: f64) -> Result<(), ConfigError> {
    if secs == 0.0 || (secs > 0.0 && Duration::try_from_secs_f64(secs).is_ok()) {
        return Ok(());
    }
    Err(ConfigError::BadTimeout { place, secs })
}

/// A fallback cycle as `` `a` -> `b` -> `a` ``, if there is one. Names are known to exist.
fn find_cycle(models: &[ModelConfig]) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        models: &[ModelConfig],
        by_name: &HashMap<&str, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        at: usize,
    ) -> Option<String> {
        marks[at] = Mark::OnPath;
        path.push(at);
        for name in &models[at].fallbacks {
            let Some(&next) = by_name.get(name.as_str()) else {
                continue;
            };
            match marks[next] {
                Mark::Done => {}
                Mark::OnPath => {
                    let from = path.iter().position(|&i| i == next).unwrap_or(0);
                    let names: Vec<String> = path[from..]
                        .iter()
                        .chain([&next])
                        .map(|&i| format!("`{}`", models[i].name))
                        .collect();
                    return Some(names.join(" -> "));
                }
                Mark::New => {
                    if let Some(cycle) = visit(models, by_name, marks, path, next) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        marks[at] = Mark::Done;
        None
    }
    let by_name: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut marks = vec![Mark::New; models.len()];
    (0..models.len()).find_map(|start| {
        if marks[start] != Mark::New {
            return None;
        }
        visit(models, &by_name, &mut marks, &mut Vec::new(), start)
    })
}
