//! The scripted provider: a deterministic answer, a token rate, and injected faults.

mod plan;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use rill_core::{ChatRequest, Error, ErrorKind, Provider, ProviderFuture, StreamEvent};
use serde::Deserialize;

pub use tokens::split_tokens;

use plan::{Action, Plan};

/// What the scripted provider answers and how it misbehaves.
///
/// In `rill.toml` this is a model's `script` table; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptConfig {
    /// The answer's text. When absent, the answer echoes the last user message.
    pub text: Option<String>,
    /// Reasoning streamed before the answer.
    pub reasoning: Option<String>,
    /// The signature that seals the reasoning, sent right after it (a
    /// `ReasoningSignature`, which counts as no token); sent alone when there is no
    /// reasoning.
    pub reasoning_signature: Option<String>,
    /// Tool calls streamed after the text; the finish reason becomes `tool_calls`.
    pub tool_calls: Vec<ScriptedToolCall>,
    /// Content tokens per second; 0 or absent streams as fast as possible.
    pub tokens_per_second: Option<f64>,
    /// Pause for this many milliseconds once `stall_after` tokens were sent.
    pub stall_ms: Option<u64>,
    /// How many tokens precede the stall (0: before the first token).
    pub stall_after: u32,
    /// End the stream abruptly (no finish) after this many tokens.
    pub close_after: Option<u32>,
    /// Send an error event after this many tokens.
    pub error_after: Option<u32>,
    /// Fail before the first token, as an upstream answering this HTTP status would.
    pub fail_status: Option<u16>,
}

/// A tool call in a script.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedToolCall {
    pub name: String,
    /// The arguments as JSON text, streamed in fragments.
    pub arguments: String,
}

/// Plays a [`ScriptConfig`] for every request.
#[derive(Debug, Clone)]
pub struct ScriptedProvider {
    script: Arc<ScriptConfig>,
    /// The model name reported in `Start`.
    model: String,
}

impl ScriptedProvider {
    pub fn new(model: impl Into<String>, script: ScriptConfig) -> Self {
        Self {
            script: Arc::new(script),
            model: model.into(),
        }
    }
}

impl Provider for ScriptedProvider {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let script = Arc::clone(&self.script);
        let model = self.model.clone();
        Box::pin(async move {
            if let Some(status) = script.fail_status {
                let kind = ErrorKind::from_status(status);
                let mut error = Error::new(kind, format!("scripted failure with status {status}"));
                if matches!(kind, ErrorKind::RateLimited | ErrorKind::Overloaded) {
                    error = error.with_retry_after(Duration::from_secs(1));
                }
                return Err(error);
            }
            let plan = Plan::new(&script, &request, model);
            Ok(Box::pin(plan.into_stream()) as rill_core::EventStream)
        })
    }
}

impl Plan {
    /// Plays the plan in real time. Sleeping happens inside the stream's own polling, so
    /// dropping the stream stops it between any two tokens.
    fn into_stream(self) -> impl futures_util::Stream<Item = StreamEvent> + Send + 'static {
        let start = tokio::time::Instant::now();
        futures_util::stream::unfold(
            (self.steps.into_iter(), start),
            |(mut steps, start)| async move {
                let step = steps.next()?;
                tokio::time::sleep_until(start + step.at).await;
                match step.action {
                    Action::Emit(event) => Some((event, (steps, start))),
                    Action::Close => None,
                }
            },
        )
    }
}

#[cfg(test)]
mod tests;
