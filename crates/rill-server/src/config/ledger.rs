//! `[ledger]`: where the record of every generation is kept.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[ledger]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// Keep a record of every generation (on by default).
    pub enabled: bool,
    /// `postgres://user@host/db` (for many instances) or `sqlite://PATH`. Absent: the
    /// SQLite file `ledger.sqlite` in rill's data directory ([`data_dir`]).
    pub url: Option<String>,
    /// The longest a record waits before it is written (records are written in batches).
    pub flush_ms: u64,
    /// Records held while the database cannot be written; more are dropped and counted
    /// (`rill_ledger_dropped_total`).
    pub max_pending: usize,
    /// The usage clients receive carries its cost when the model has a price: `cost` in
    /// the usage of OpenAI Chat, Responses and Anthropic Messages (as OpenRouter's
    /// `usage.cost`), `x-rill-cost-usd` on non-streaming answers.
    pub cost_in_usage: bool,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            url: None,
            flush_ms: 500,
            max_pending: 100_000,
            cost_in_usage: true,
        }
    }
}

/// rill's data directory: `$RILL_DATA_DIR`, else `$XDG_DATA_HOME/rill`, else
/// `~/.local/share/rill`, else `./rill-data`.
pub fn data_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("RILL_DATA_DIR") {
        return dir.into();
    }
    if let Some(dir) = var("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("rill");
    }
    match var("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/rill"),
        None => PathBuf::from("rill-data"),
    }
}
