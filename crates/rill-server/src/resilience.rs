//! `[timeouts]`, `[retries]`, and each model's `timeouts`, `max_attempts` and
//! `fallbacks`: how long a model may take, how often it is tried, and which models serve
//! when it fails before its first token ([`rill_providers::resilient`] does the work).
//!
//! A model's chain is the model, then each of its fallbacks' chains in order, every model
//! at most once: with `a.fallbacks = ["b", "c"]` and `b.fallbacks = ["d"]`, `a` is tried,
//! then `b`, `d`, `c`. Each model in a chain keeps its own attempts and timeouts. A chain
//! that leads back to where it began is a config error.

use std::collections::HashMap;
use std::time::Duration;

use rill_providers::{Backoff, Link, Policy, Resilient, Timeouts};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, ModelConfig};
use crate::models::ModelEntry;

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

/// A configured limit: 0 is none. `validate` has checked the value.
fn limit(secs: f64) -> Option<Duration> {
    if secs == 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// The connect timeout of an upstream `model`.
pub(crate) fn connect_timeout(config: &Config, model: &ModelConfig) -> Option<Duration> {
    limit(
        model
            .timeouts
            .connect_secs
            .unwrap_or(config.timeouts.connect_secs),
    )
}

/// How `model` is tried.
pub(crate) fn policy(config: &Config, model: &ModelConfig) -> Policy {
    let (global, own) = (&config.timeouts, &model.timeouts);
    Policy {
        max_attempts: model.max_attempts.unwrap_or(config.retries.max_attempts),
        backoff: Backoff {
            base: Duration::from_millis(config.retries.base_delay_ms),
            max: Duration::from_millis(config.retries.max_delay_ms),
        },
        timeouts: Timeouts {
            first_token: limit(own.first_token_secs.unwrap_or(global.first_token_secs)),
            idle: limit(own.idle_secs.unwrap_or(global.idle_secs)),
            total: limit(own.total_secs.unwrap_or(global.total_secs)),
        },
    }
}

/// `models[index]` served through its chain; `bases` are the models' own providers, in
/// the same order.
pub(crate) fn resilient(
    config: &Config,
    models: &[ModelConfig],
    bases: &[ModelEntry],
    index: usize,
) -> Resilient {
    let link = |i: usize| {
        Link::new(
            models[i].name.clone(),
            std::sync::Arc::clone(&bases[i].provider),
            policy(config, &models[i]),
        )
    };
    let fallbacks = chain(models, index).into_iter().skip(1).map(link).collect();
    Resilient::new(link(index), fallbacks)
}

/// The indexes of `models[index]`'s chain, itself first.
fn chain(models: &[ModelConfig], index: usize) -> Vec<usize> {
    // Depth first, in the order each model lists its fallbacks.
    fn visit(
        models: &[ModelConfig],
        by_name: &HashMap<&str, usize>,
        at: usize,
        order: &mut Vec<usize>,
    ) {
        for name in &models[at].fallbacks {
            let Some(&next) = by_name.get(name.as_str()) else {
                continue;
            };
            if !order.contains(&next) {
                order.push(next);
                visit(models, by_name, next, order);
            }
        }
    }
    let by_name: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut order = vec![index];
    visit(models, &by_name, index, &mut order);
    order
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Result<Config, ConfigError> {
        Config::from_toml(toml)
    }

    fn models(spec: &[(&str, &[&str])]) -> String {
        spec.iter()
            .map(|(name, fallbacks)| {
                let list: Vec<String> = fallbacks.iter().map(|f| format!("{f:?}")).collect();
                format!(
                    "[[models]]\nname = {name:?}\nprovider = \"scripted\"\nfallbacks = [{}]\n",
                    list.join(", ")
                )
            })
            .collect()
    }

    #[test]
    fn defaults_come_from_the_providers_policy() {
        let c = config("").unwrap();
        assert_eq!(c.timeouts.connect_secs, 10.0);
        assert_eq!(c.timeouts.first_token_secs, 120.0);
        assert_eq!(c.timeouts.idle_secs, 60.0);
        assert_eq!(c.timeouts.total_secs, 0.0);
        assert_eq!(c.retries.max_attempts, 2);
        let model = ModelConfig::new("m", crate::ProviderKind::Scripted);
        assert_eq!(policy(&c, &model), Policy::default());
        assert_eq!(connect_timeout(&c, &model), Some(Duration::from_secs(10)));
    }

    #[test]
    fn a_models_keys_replace_the_global_ones_one_by_one() {
        let c = config(
            r#"
            [timeouts]
            first_token_secs = 30
            idle_secs = 0
            [retries]
            max_attempts = 4
            base_delay_ms = 100
            max_delay_ms = 2000
            [[models]]
            name = "up"
            provider = "openai"
            max_attempts = 1
            timeouts = { connect_secs = 2.5, total_secs = 0.5 }
            "#,
        )
        .unwrap();
        let model = &c.models[0];
        let policy = policy(&c, model);
        assert_eq!(policy.max_attempts, 1);
        assert_eq!(policy.backoff.base, Duration::from_millis(100));
        assert_eq!(policy.backoff.max, Duration::from_secs(2));
        assert_eq!(policy.timeouts.first_token, Some(Duration::from_secs(30)));
        assert_eq!(policy.timeouts.idle, None);
        assert_eq!(policy.timeouts.total, Some(Duration::from_millis(500)));
        assert_eq!(
            connect_timeout(&c, model),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's test jail fixes the error type"
    )]
    fn the_environment_overrides_the_global_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("rill.toml", "[timeouts]\nidle_secs = 5")?;
            jail.set_env("RILL_TIMEOUTS__IDLE_SECS", "0.25");
            jail.set_env("RILL_RETRIES__MAX_ATTEMPTS", "3");
            let path = std::path::Path::new("rill.toml");
            let c = Config::load(Some(path)).map_err(|e| e.to_string())?;
            assert_eq!(c.timeouts.idle_secs, 0.25);
            assert_eq!(c.retries.max_attempts, 3);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_their_place() {
        for (toml, place) in [
            ("[timeouts]\nidle_secs = -1", "`timeouts.idle_secs`"),
            ("[timeouts]\ntotal_secs = 1e30", "`timeouts.total_secs`"),
            (
                "[[models]]\nname = 'a'\nprovider = 'scripted'\ntimeouts = { first_token_secs = -0.5 }",
                "model `a`'s `timeouts.first_token_secs`",
            ),
            ("[retries]\nmax_attempts = 0", "`retries.max_attempts`"),
            (
                "[[models]]\nname = 'a'\nprovider = 'scripted'\nmax_attempts = 0",
                "model `a`'s `max_attempts`",
            ),
        ] {
            let err = config(toml).unwrap_err().to_string();
            assert!(err.contains(place), "{toml}: {err}");
        }
        let err = config("[timeouts]\nfirst_token_secs = 'soon'")
            .unwrap_err()
            .to_string();
        assert!(err.contains("first_token_secs"), "{err}");
        let err = config(
            "[[models]]\nname = 'a'\nprovider = 'scripted'\ntimeouts = { connect_secs = 1 }",
        )
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::NotUpstream { key, .. } if *key == "timeouts.connect_secs"),
            "{err}"
        );
    }

    #[test]
    fn fallbacks_must_name_other_models_once_without_cycles() {
        let err = config(&models(&[("a", &["nope"])])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::UnknownFallback { model, fallback } if model == "a" && fallback == "nope"),
            "{err}"
        );
        assert!(err.to_string().contains("`nope`"), "{err}");
        let err = config(&models(&[("a", &["a"])])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::SelfFallback { model } if model == "a"),
            "{err}"
        );
        let err = config(&models(&[("a", &["b", "b"]), ("b", &[])])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::DuplicateFallback { .. }),
            "{err}"
        );
        let err = config(&models(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`a` -> `b` -> `c` -> `a`"), "{err}");
        let err = config(&models(&[("x", &[]), ("a", &["b"]), ("b", &["a"])]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`a` -> `b` -> `a`"), "{err}");
        // Two models sharing a fallback is no cycle.
        config(&models(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])])).unwrap();
    }

    #[test]
    fn a_chain_follows_fallbacks_depth_first_and_names_each_model_once() {
        let c = config(&models(&[
            ("a", &["b", "c"]),
            ("b", &["d", "c"]),
            ("c", &[]),
            ("d", &["c"]),
        ]))
        .unwrap();
        let names = |i| -> Vec<&str> {
            chain(&c.models, i)
                .into_iter()
                .map(|j| c.models[j].name.as_str())
                .collect()
        };
        assert_eq!(names(0), ["a", "b", "d", "c"]);
        assert_eq!(names(1), ["b", "d", "c"]);
        assert_eq!(names(2), ["c"]);
    }
}
