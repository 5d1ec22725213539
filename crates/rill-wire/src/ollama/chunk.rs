//! The deserialise-side types of an Ollama `/api/chat` stream line.
//!
//! Tolerant: every field may be missing or `null`, and members rill does not read
//! (`created_at`'s siblings `total_duration`, `load_duration`, `images`, ...) are ignored.

use rill_core::Error;
use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;

#[derive(Deserialize)]
pub(super) struct ChunkIn {
    pub model: Option<String>,
    pub created_at: Option<String>,
    pub message: Option<MessageIn>,
    pub done: Option<bool>,
    pub done_reason: Option<String>,
    pub prompt_eval_count: Option<u64>,
    pub eval_count: Option<u64>,
    pub error: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct MessageIn {
    pub content: Option<String>,
    pub thinking: Option<String>,
    pub tool_calls: Option<Vec<ToolCallIn>>,
}

#[derive(Deserialize)]
pub(super) struct ToolCallIn {
    /// Sent by some Ollama versions and proxies; usually absent.
    pub id: Option<String>,
    pub function: Option<FunctionIn>,
}

#[derive(Deserialize)]
pub(super) struct FunctionIn {
    pub name: Option<String>,
    pub arguments: Option<Value>,
}

pub(super) fn parse(line: &str) -> Result<ChunkIn, Error> {
    serde_json::from_str(line).map_err(|e| match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid chunk: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent a chunk that is not valid JSON: {e}"
        )),
    })
}
