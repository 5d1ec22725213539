//! The non-streaming response body: a Message.

use rill_core::{Completion, FinishReason, Reasoning};

use super::encode::stop_reason;
use super::out::{BlockOut, FALLBACK, MessageOut, UsageOut, tool_input};

/// The non-streaming response body (a `message`) for a collected answer: the same
/// Message an SDK assembles from the stream.
///
/// Blocks come in stream order: one `thinking` block per reasoning block, with its
/// `signature` (`""` when none sealed it), and one `redacted_thinking` block per
/// redacted one; then `text`, the refusal as `text`, then one `tool_use` per call with
/// its arguments as `input` (`{}` when they are not a JSON object). Reasoning text is
/// only shown when `thinking` is true (see
/// [`ParsedRequest::thinking`](super::ParsedRequest::thinking)); signed and redacted
/// blocks come either way, as in the stream (a signed block's text then is `""`).
/// Empty parts are left out, so an empty answer has `content: []`. A completion without
/// a finish reason ended normally (`end_turn`, or `refusal` after a refusal); one
/// without a usage reports zeros.
pub fn message_body(id: &str, model: &str, completion: &Completion, thinking: bool) -> String {
    let inputs: Vec<_> = completion.tool_calls.iter().map(tool_input).collect();
    let reasoning = completion.reasoning_in_blocks();
    let mut content = Vec::with_capacity(reasoning.len() + 2 + inputs.len());
    for block in reasoning.iter() {
        match block {
            Reasoning::Text { text, signature } => {
                let shown = if thinking { text.as_str() } else { "" };
                if signature.is_some() || !shown.is_empty() {
                    content.push(BlockOut::Thinking {
                        thinking: shown,
                        signature: signature.as_deref().unwrap_or_default(),
                    });
                }
            }
            Reasoning::Redacted { data } => content.push(BlockOut::RedactedThinking { data }),
        }
    }
    for text in [&completion.text, &completion.refusal] {
        if !text.is_empty() {
            content.push(BlockOut::Text { text });
        }
    }
    for (call, input) in completion.tool_calls.iter().zip(&inputs) {
        content.push(BlockOut::ToolUse {
            id: &call.id,
            name: &call.name,
            input,
        });
    }
    let refusal = !completion.refusal.is_empty();
    let message = MessageOut {
        id,
        kind: "message",
        role: "assistant",
        model,
        content,
        stop_reason: Some(stop_reason(
            completion.finish_reason.unwrap_or(FinishReason::Stop),
            refusal,
        )),
        stop_sequence: None,
        usage: UsageOut::from(&completion.usage.unwrap_or_default()),
    };
    serde_json::to_string(&message).unwrap_or_else(|_| FALLBACK.to_owned())
}
