//! The non-streaming response body (`chat.completion`).

use rill_core::Completion;
use serde::Serialize;

use super::encode::finish_reason;
use super::out::{ToolCallOut, UsageOut, to_json};

#[derive(Serialize)]
struct CompletionOut<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [ChoiceOut<'a>; 1],
    /// Omitted when unknown (the official SDKs model `usage` as optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct ChoiceOut<'a> {
    index: u32,
    message: MessageOut<'a>,
    logprobs: (),
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    role: &'static str,
    content: Option<&'a str>,
    refusal: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
}

/// The non-streaming response body (`chat.completion`) for a collected answer.
///
/// `content` is `null` when the answer is only tool calls or a refusal; `refusal` is `null`
/// unless there was one; `reasoning_content` appears only when non-empty. A completion
/// without a finish reason reports `stop`.
pub fn completion_body(id: &str, model: &str, created: u64, completion: &Completion) -> String {
    let text = &completion.text;
    let has_other = !completion.tool_calls.is_empty() || !completion.refusal.is_empty();
    let message = MessageOut {
        role: "assistant",
        content: (!text.is_empty() || !has_other).then_some(text.as_str()),
        refusal: Some(completion.refusal.as_str()).filter(|r| !r.is_empty()),
        tool_calls: completion
            .tool_calls
            .iter()
            .map(ToolCallOut::from)
            .collect(),
        reasoning_content: Some(completion.reasoning.as_str()).filter(|r| !r.is_empty()),
    };
    let reason = completion.finish_reason.map_or("stop", finish_reason);
    to_json(&CompletionOut {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [ChoiceOut {
            index: 0,
            message,
            logprobs: (),
            finish_reason: reason,
        }],
        usage: completion.usage.as_ref().map(UsageOut::from),
    })
}
