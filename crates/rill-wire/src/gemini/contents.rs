//! Core messages -> Gemini's `systemInstruction` and its `contents`, for
//! [`super::request_body`].
//!
//! Gemini has no system or tool role: system texts go to `systemInstruction`, an
//! assistant message is a `model` turn, and a core tool message is a `functionResponse`
//! part in a `user` turn. Consecutive messages of one side become one turn whose parts
//! keep their order, so the parallel calls of a `model` turn are answered by one `user`
//! turn, as Gemini wants.
//!
//! A `model` turn's thought signature goes back on the part Gemini put it on, which is
//! where Gemini's docs say it puts one: the first `functionCall` part of a step (with
//! parallel calls only the first is signed; Gemini 3 refuses a history whose first call
//! of a step lacks its signature), or, in a step without calls, its last part, here its
//! text. A core assistant message is one step, and its last signature is the step's
//! (with `includeThoughts`, one that sealed thought text may come before it). Thought
//! text is not sent back: rill does not ask for it, and Gemini reads the signature.

use std::borrow::Cow;
use std::collections::HashMap;

use rill_core::{Error, Message, Reasoning, ToolCall};
use serde::Serialize;
use serde_json::Value;

/// What joins several system texts into one.
const SYSTEM_SEPARATOR: &str = "\n\n";

/// One `Content`: a role and its parts.
#[derive(Serialize)]
pub(super) struct ContentOut<'a> {
    role: &'static str,
    parts: Vec<PartOut<'a>>,
}

/// `systemInstruction`: a `Content` without a role.
#[derive(Serialize)]
pub(super) struct SystemOut<'a> {
    parts: [PartOut<'a>; 1],
}

/// A `Part`: its data, and the thought signature that came with it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartOut<'a> {
    #[serde(flatten)]
    data: PartData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
}

/// Gemini tells a part's kinds apart by which member is set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum PartData<'a> {
    Text(Cow<'a, str>),
    FunctionCall(FunctionCallOut<'a>),
    FunctionResponse(FunctionResponseOut<'a>),
}

impl<'a> From<PartData<'a>> for PartOut<'a> {
    fn from(data: PartData<'a>) -> Self {
        Self {
            data,
            thought_signature: None,
        }
    }
}

#[derive(Serialize)]
struct FunctionCallOut<'a> {
    name: &'a str,
    args: Value,
}

#[derive(Serialize)]
struct FunctionResponseOut<'a> {
    name: &'a str,
    response: ResultOut<'a>,
}

/// A tool's text as the function's response object (Gemini wants an object).
#[derive(Serialize)]
struct ResultOut<'a> {
    result: &'a str,
}

/// The conversation as Gemini takes it.
pub(super) struct History<'a> {
    pub system: Option<SystemOut<'a>>,
    pub contents: Vec<ContentOut<'a>>,
}

/// Splits `messages` into the system instruction and the turns. `Err` for a tool result
/// whose call no earlier assistant message made: Gemini needs the function's name, which
/// only that call has.
pub(super) fn history(messages: &[Message]) -> Result<History<'_>, Error> {
    let mut systems: Vec<&str> = Vec::new();
    let mut contents: Vec<ContentOut<'_>> = Vec::new();
    // Call id -> function name, the latest call with that id winning.
    let mut names: HashMap<&str, &str> = HashMap::new();
    for message in messages {
        let (role, parts) = match message {
            Message::System { text } => {
                if !text.is_empty() {
                    systems.push(text);
                }
                continue;
            }
            Message::User { text } => ("user", text_part(text).into_iter().collect()),
            Message::Assistant {
                text,
                tool_calls,
                reasoning,
            } => {
                names.extend(tool_calls.iter().map(|c| (c.id.as_str(), c.name.as_str())));
                let text = text.as_deref().and_then(text_part);
                let calls = tool_calls.iter().map(function_call);
                let mut parts: Vec<_> = text.into_iter().chain(calls).collect();
                let signature = reasoning.iter().rev().find_map(Reasoning::signature);
                let signed = if tool_calls.is_empty() {
                    parts.last_mut()
                } else {
                    parts
                        .iter_mut()
                        .find(|p| matches!(p.data, PartData::FunctionCall(_)))
                };
                if let Some(part) = signed {
                    part.thought_signature = signature;
                }
                ("model", parts)
            }
            Message::Tool { tool_call_id, text } => {
                let name = names
                    .get(tool_call_id.as_str())
                    .ok_or_else(|| unanswerable(tool_call_id))?;
                let part = PartData::FunctionResponse(FunctionResponseOut {
                    name,
                    response: ResultOut { result: text },
                });
                ("user", vec![part.into()])
            }
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some(last) if last.role == role => last.parts.extend(parts),
            _ => contents.push(ContentOut { role, parts }),
        }
    }
    let system = match systems.as_slice() {
        [] => None,
        [one] => Some(Cow::Borrowed(*one)),
        many => Some(Cow::Owned(many.join(SYSTEM_SEPARATOR))),
    };
    Ok(History {
        system: system.map(|text| SystemOut {
            parts: [PartData::Text(text).into()],
        }),
        contents,
    })
}

/// Gemini refuses empty text parts (`empty text parameter`): they are left out.
fn text_part(text: &str) -> Option<PartOut<'_>> {
    (!text.is_empty()).then(|| PartData::Text(Cow::Borrowed(text)).into())
}

/// `args` is the arguments' JSON object, as far as it goes for a call cut off by the
/// length limit; arguments that are not one (`""` for a call without parameters) are
/// sent as `{}`, the only kind of value Gemini takes there.
fn function_call(call: &ToolCall) -> PartOut<'_> {
    let args = Value::Object(rill_core::arguments_object(&call.arguments));
    PartData::FunctionCall(FunctionCallOut {
        name: &call.name,
        args,
    })
    .into()
}

fn unanswerable(id: &str) -> Error {
    Error::invalid_request(format!(
        "a tool result answers the tool call `{id}`, but no earlier assistant message made that call"
    ))
}
