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

use crate::config::{Config, ModelConfig};
use crate::models::ModelEntry;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

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
