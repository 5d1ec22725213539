//! The deserialise-side types of a Gemini stream chunk (a `GenerateContentResponse`),
//! and its usage in core's terms.
//!
//! Tolerant: every field may be missing or `null`, and members rill does not read
//! (`safetyRatings`, `citationMetadata`, `inlineData`, code execution parts, ...) are
//! ignored.

use rill_core::{Error, Usage};
use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;

use super::error::ErrorIn;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ChunkIn {
    pub candidates: Option<Vec<CandidateIn>>,
    pub usage_metadata: Option<UsageIn>,
    pub model_version: Option<String>,
    pub response_id: Option<String>,
    pub prompt_feedback: Option<PromptFeedbackIn>,
    pub error: Option<ErrorIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CandidateIn {
    pub content: Option<ContentIn>,
    pub finish_reason: Option<String>,
    pub index: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct ContentIn {
    pub parts: Option<Vec<PartIn>>,
}

/// A `Part`: Gemini tells its kinds apart by which member is set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PartIn {
    pub text: Option<String>,
    pub thought: Option<bool>,
    pub function_call: Option<FunctionCallIn>,
    /// May come on any part: a function call, a thought, a text (often an empty one).
    pub thought_signature: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct FunctionCallIn {
    /// Sent by some models and Vertex; usually absent.
    pub id: Option<String>,
    pub name: Option<String>,
    pub args: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PromptFeedbackIn {
    pub block_reason: Option<String>,
}

/// Token counts, running totals; a count a chunk does not repeat keeps its last value.
#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(super) struct UsageIn {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
}

impl UsageIn {
    pub(super) fn update(&mut self, later: UsageIn) {
        let fields = [
            (&mut self.prompt_token_count, later.prompt_token_count),
            (
                &mut self.candidates_token_count,
                later.candidates_token_count,
            ),
            (&mut self.thoughts_token_count, later.thoughts_token_count),
            (
                &mut self.cached_content_token_count,
                later.cached_content_token_count,
            ),
            (
                &mut self.tool_use_prompt_token_count,
                later.tool_use_prompt_token_count,
            ),
        ];
        for (field, value) in fields {
            if value.is_some() {
                *field = value;
            }
        }
    }

    /// Core's counts: the input is the prompt and the tool-use prompt (code execution
    /// results), the output is the answer *and* the thoughts (Gemini counts them apart;
    /// core's `output_tokens` includes reasoning), so input + output is Gemini's
    /// `totalTokenCount`. Cached tokens are part of the prompt's count in both.
    pub(super) fn core(&self) -> Usage {
        let sum = |a: Option<u64>, b: Option<u64>| {
            a.unwrap_or_default().saturating_add(b.unwrap_or_default())
        };
        Usage {
            input_tokens: sum(self.prompt_token_count, self.tool_use_prompt_token_count),
            output_tokens: sum(self.candidates_token_count, self.thoughts_token_count),
            reasoning_tokens: self.thoughts_token_count,
            cached_input_tokens: self.cached_content_token_count,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }
    }
}

pub(super) fn parse(data: &str) -> Result<ChunkIn, Error> {
    serde_json::from_str(data).map_err(|e| match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid chunk: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent a chunk that is not valid JSON: {e}"
        )),
    })
}
