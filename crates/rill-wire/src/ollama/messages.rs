//! Core messages -> Ollama's `messages`, for [`super::request_body`].
//!
//! Ollama's roles are core's: `system`, `user`, `assistant` (with `tool_calls` whose
//! arguments are JSON objects) and `tool`. A tool result carries the function's name in
//! `tool_name` (Ollama 0.9 and later read it; older versions ignore unknown fields), not
//! the call's id: Ollama's calls have none.

use std::collections::HashMap;

use rill_core::{Message, ToolCall};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub(super) struct MessageOut<'a> {
    role: &'static str,
    content: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_name: Option<&'a str>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: Value,
}

/// The messages in order. A tool result's `tool_name` is the name of the latest earlier
/// assistant call with its id; a result whose id no earlier call has is sent without one
/// (Ollama does not need it: it matches results to calls by order).
pub(super) fn messages(messages: &[Message]) -> Vec<MessageOut<'_>> {
    // Call id -> function name, the latest call with that id winning.
    let mut names: HashMap<&str, &str> = HashMap::new();
    messages
        .iter()
        .map(|message| match message {
            Message::System { text } => plain("system", text),
            Message::User { text } => plain("user", text),
            // Ollama's thinking carries no signature, and rill sends none back.
            Message::Assistant {
                text,
                tool_calls,
                reasoning: _,
            } => {
                names.extend(tool_calls.iter().map(|c| (c.id.as_str(), c.name.as_str())));
                MessageOut {
                    tool_calls: tool_calls.iter().map(tool_call).collect(),
                    ..plain("assistant", text.as_deref().unwrap_or_default())
                }
            }
            Message::Tool { tool_call_id, text } => MessageOut {
                tool_name: names.get(tool_call_id.as_str()).copied(),
                ..plain("tool", text)
            },
        })
        .collect()
}

fn plain<'a>(role: &'static str, content: &'a str) -> MessageOut<'a> {
    MessageOut {
        role,
        content,
        tool_calls: Vec::new(),
        tool_name: None,
    }
}

/// `arguments` is the arguments' JSON object, as far as it goes for a call cut off by
/// the length limit; arguments that are not one (`""` for a call without parameters) are
/// sent as `{}`, the only kind of value Ollama takes there.
fn tool_call(call: &ToolCall) -> ToolCallOut<'_> {
    let arguments = Value::Object(rill_core::arguments_object(&call.arguments));
    ToolCallOut {
        function: FunctionOut {
            name: &call.name,
            arguments,
        },
    }
}
