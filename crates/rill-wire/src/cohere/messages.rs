//! Core messages -> Cohere v2's `messages`, for [`super::request_body`].
//!
//! Cohere's roles are core's: `system`, `user`, `assistant` (with `tool_calls` whose
//! `arguments` are JSON text, as OpenAI's) and `tool` (with the `tool_call_id` it
//! answers). Content is sent as a plain string, which Cohere takes for every role.

use rill_core::{Message, ToolCall};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub(super) struct MessageOut<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    r#type: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// The messages in order. An assistant message's `content` is left out when it has no
/// text (Cohere refuses an empty content string); a user, system or tool message always
/// has one, `""` included.
pub(super) fn messages(messages: &[Message]) -> Vec<MessageOut<'_>> {
    messages
        .iter()
        .map(|message| match message {
            Message::System { text } => plain("system", text),
            Message::User { text } => plain("user", text),
            // Cohere's messages have no place for reasoning or its signatures.
            Message::Assistant {
                text,
                tool_calls,
                reasoning: _,
            } => MessageOut {
                role: "assistant",
                content: text.as_deref().filter(|t| !t.is_empty()),
                tool_calls: tool_calls.iter().map(tool_call).collect(),
                tool_call_id: None,
            },
            Message::Tool { tool_call_id, text } => MessageOut {
                tool_call_id: Some(tool_call_id),
                ..plain("tool", text)
            },
        })
        .collect()
}

fn plain<'a>(role: &'static str, content: &'a str) -> MessageOut<'a> {
    MessageOut {
        role,
        content: Some(content),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// `arguments` is the call's JSON text as it is when it is a JSON object; anything else
/// (a call cut off by the length limit, `""` for a call without parameters) is sent as
/// `{}`: Cohere parses the text and refuses what is not an object.
fn tool_call(call: &ToolCall) -> ToolCallOut<'_> {
    let arguments = match serde_json::from_str::<Value>(&call.arguments) {
        Ok(Value::Object(_)) => call.arguments.as_str(),
        _ => "{}",
    };
    ToolCallOut {
        id: &call.id,
        r#type: "function",
        function: FunctionOut {
            name: &call.name,
            arguments,
        },
    }
}
