//! Command-line arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rill_providers::ScriptConfig;

/// rill streams a language model's answer token by token: a server with a chat page and
/// OpenAI-compatible endpoints, and a terminal client.
#[derive(Debug, Parser)]
#[command(name = "rill", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the configured models over HTTP (OpenAI-compatible `/v1` endpoints).
    Serve(ServeArgs),
    /// Chat with a server in the terminal: one prompt, or a conversation when none is given.
    Chat(ChatArgs),
    /// List the models a server offers.
    Models(ClientArgs),
    /// Download and verify the default model into the cache (`rill serve` does this on
    /// first run), and print its path.
    Fetch,
    /// Serve a scripted OpenAI-compatible upstream (every model name answers), with an
    /// adjustable token rate and injected faults: for benchmarks and gateway tests.
    MockUpstream(MockArgs),
    /// What was spent: usage summed by key, model or day, from a running server (an admin
    /// key's `GET /v1/usage`) or straight from the ledger database (`--local`, `--db`).
    Usage(UsageArgs),
    /// Make virtual API keys for `[[keys]]` in the config, which stores only their SHA-256.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print a fresh random key and the `[[keys]]` entry that accepts it.
    New {
        /// The key's name in logs and metrics.
        #[arg(long, default_value = "my-app")]
        name: String,
    },
    /// Read a key from standard input (so it stays out of shell history and the process
    /// list) and print its SHA-256, the `sha256` of its `[[keys]]` entry.
    Hash,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1, or `server.host` in the config].
    #[arg(long, env = "RILL_HOST")]
    pub host: Option<IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 8080, or `server.port`].
    #[arg(long, short, env = "RILL_PORT")]
    pub port: Option<u16>,
    /// Configuration file (see `rill.example.toml`).
    #[arg(long, short, env = "RILL_CONFIG")]
    pub config: Option<PathBuf>,
    /// A GGUF file for the embedded engine [default: SmolLM2-135M-Instruct, downloaded
    /// to the cache on first run; or `engine.model` in the config].
    #[arg(long, env = "RILL_MODEL")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// The server's base URL.
    #[arg(long, env = "RILL_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// API key sent as `Authorization: Bearer`, if the server needs one.
    #[arg(long, env = "RILL_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Read the ledger file in rill's data directory instead of asking a server.
    #[arg(long)]
    pub local: bool,
    /// Read this ledger instead of asking a server: a SQLite file, `sqlite://PATH` or
    /// `postgres://...`.
    #[arg(long, conflicts_with = "local")]
    pub db: Option<String>,
    /// Sum by `key`, `model` or `day` (UTC).
    #[arg(long, default_value = "key")]
    pub group_by: String,
    /// Only this key's generations (by name).
    #[arg(long)]
    pub key: Option<String>,
    /// Only generations that asked for this model.
    #[arg(long)]
    pub model: Option<String>,
    /// From this instant on: a date (2026-12-07, UTC), an RFC 3339 time or Unix seconds.
    #[arg(long)]
    pub since: Option<String>,
    /// Before this instant (same forms).
    #[arg(long)]
    pub until: Option<String>,
    /// Print the groups as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Model to ask [default: the server's first model].
    #[arg(long, short)]
    pub model: Option<String>,
    /// A system prompt for the conversation.
    #[arg(long)]
    pub system: Option<String>,
    /// Upper bound on the answer's length in tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature (0 is greedy).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// The prompt. Without it, starts an interactive conversation (history is kept;
    /// Ctrl-C stops the current answer, Ctrl-D quits).
    pub prompt: Option<String>,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, short, default_value_t = 9000)]
    pub port: u16,
    /// The answer's text [default: echo the last user message].
    #[arg(long)]
    pub text: Option<String>,
    /// Tokens per second; 0 streams as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    pub tokens_per_second: f64,
    /// Pause this many milliseconds after `--stall-after` tokens.
    #[arg(long)]
    pub stall_ms: Option<u64>,
    /// Tokens before the stall.
    #[arg(long, default_value_t = 0)]
    pub stall_after: u32,
    /// Close the connection abruptly after this many tokens.
    #[arg(long)]
    pub close_after: Option<u32>,
    /// Send an error event after this many tokens.
    #[arg(long)]
    pub error_after: Option<u32>,
    /// Fail every request with this HTTP status before the first token.
    #[arg(long, value_parser = clap::value_parser!(u16).range(400..600))]
    pub fail_status: Option<u16>,
}

impl MockArgs {
    pub fn script(&self) -> ScriptConfig {
        ScriptConfig {
            text: self.text.clone(),
            tokens_per_second: Some(self.tokens_per_second),
            stall_ms: self.stall_ms,
            stall_after: self.stall_after,
            close_after: self.close_after,
            error_after: self.error_after,
            fail_status: self.fail_status,
            ..ScriptConfig::default()
        }
    }
}
