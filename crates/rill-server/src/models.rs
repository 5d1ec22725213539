//! The models clients can ask for, each bound to a provider.

use std::sync::Arc;

use rill_core::Provider;
use rill_providers::ScriptedProvider;

use crate::config::{Config, ProviderKind};

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
}

impl ModelRegistry {
    pub fn new(entries: Vec<ModelEntry>) -> Self {
        Self {
            entries,
            catch_all: None,
        }
    }

    /// A registry that serves every model name with `provider`.
    pub fn catch_all(provider: Arc<dyn Provider>) -> Self {
        Self {
            entries: Vec::new(),
            catch_all: Some(provider),
        }
    }

    pub fn from_config(config: &Config) -> Self {
        let entries = config
            .effective_models()
            .into_iter()
            .map(|model| {
                let provider: Arc<dyn Provider> = match model.provider {
                    ProviderKind::Scripted => {
                        Arc::new(ScriptedProvider::new(&model.name, model.script))
                    }
                };
                ModelEntry {
                    name: model.name,
                    owned_by: "rill",
                    provider,
                }
            })
            .collect();
        Self::new(entries)
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
