//! Conversion of `instructions` and `input`: input items -> core messages. Each error
//! names the exact JSON path at fault.

use rill_core::{Error, Message, Reasoning, ToolCall};

use super::request::{RawContent, RawInput, RawItem, RawRole};
use crate::request_json::{invalid, missing};

/// The conversation: `instructions` (when not empty) as the first system message, then
/// one core message per input item, except that `function_call` items join the
/// assistant message before them (a Responses turn is a message item and then its call
/// items; core holds them as one assistant message), and `reasoning` items are the
/// reasoning of the assistant message they belong to: the one the next assistant
/// message or call item is part of (a turn opens with its reasoning), or, when what
/// follows is not the assistant's (a user message, a tool output, the end), the
/// assistant message right before them (a signature that came after the text it
/// sealed); without either, an assistant message of its own.
pub(super) fn messages(
    instructions: Option<String>,
    input: Option<RawInput>,
) -> Result<Vec<Message>, Error> {
    let input = input.ok_or_else(|| missing("input".to_owned()))?;
    let mut out = Vec::new();
    out.extend(
        instructions
            .filter(|text| !text.is_empty())
            .map(|text| Message::System { text }),
    );
    let first = out.len();
    let items = match input {
        RawInput::Text(text) => {
            out.push(Message::User { text });
            return Ok(out);
        }
        RawInput::Items(items) => items,
    };
    if items.is_empty() {
        return Err(invalid("input", "`input` must contain at least one item"));
    }
    let mut reasoning = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        self::item(i, item, &mut reasoning, &mut out)?;
    }
    let reasoning_only = out.len() == first;
    settle(&mut reasoning, &mut out);
    if reasoning_only {
        let message = "`input` must contain at least one message, function call or output";
        return Err(invalid("input", message));
    }
    Ok(out)
}

/// Appends the core message of one item. `reasoning` holds the reasoning items read
/// since the last other item, until it is known whose they are.
fn item(
    i: usize,
    item: RawItem,
    reasoning: &mut Vec<Reasoning>,
    out: &mut Vec<Message>,
) -> Result<(), Error> {
    let at = |field: &str| format!("input[{i}].{field}");
    match item.kind.as_deref().unwrap_or("message") {
        "message" => match message(i, item)? {
            Message::Assistant {
                text, tool_calls, ..
            } => out.push(Message::Assistant {
                text,
                tool_calls,
                reasoning: std::mem::take(reasoning),
            }),
            message => {
                settle(reasoning, out);
                out.push(message);
            }
        },
        "function_call" => {
            let call = ToolCall {
                id: item.call_id.ok_or_else(|| missing(at("call_id")))?,
                name: item.name.ok_or_else(|| missing(at("name")))?,
                arguments: item.arguments.ok_or_else(|| missing(at("arguments")))?,
            };
            match out.last_mut() {
                Some(Message::Assistant {
                    tool_calls,
                    reasoning: before,
                    ..
                }) => {
                    tool_calls.push(call);
                    before.append(reasoning);
                }
                _ => out.push(Message::Assistant {
                    text: None,
                    tool_calls: vec![call],
                    reasoning: std::mem::take(reasoning),
                }),
            }
        }
        "function_call_output" => {
            let tool_call_id = item.call_id.ok_or_else(|| missing(at("call_id")))?;
            let output = item.output.ok_or_else(|| missing(at("output")))?;
            let text = text(output, |j, field| format!("input[{i}].output[{j}].{field}"))?;
            settle(reasoning, out);
            out.push(Message::Tool { tool_call_id, text });
        }
        "reasoning" => reasoning.extend(self::reasoning(i, item)?),
        "item_reference" => {
            let message = "`item_reference` items are not supported: rill keeps no stored items; send the item itself";
            return Err(invalid(at("type"), message));
        }
        kind => return Err(unsupported_item(&at("type"), kind)),
    }
    Ok(())
}

/// Reasoning items that no assistant item follows: the assistant message right before
/// them has them, or one of their own does.
fn settle(reasoning: &mut Vec<Reasoning>, out: &mut Vec<Message>) {
    if reasoning.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(Message::Assistant {
            reasoning: before, ..
        }) => before.append(reasoning),
        _ => out.push(Message::Assistant {
            text: None,
            tool_calls: Vec::new(),
            reasoning: std::mem::take(reasoning),
        }),
    }
}

fn message(i: usize, item: RawItem) -> Result<Message, Error> {
    let at = |field: &str| format!("input[{i}].{field}");
    let role = item.role.ok_or_else(|| missing(at("role")))?;
    let content = item.content.ok_or_else(|| missing(at("content")))?;
    let text = text(content, |j, field| {
        format!("input[{i}].content[{j}].{field}")
    })?;
    Ok(match role {
        RawRole::System | RawRole::Developer => Message::System { text },
        RawRole::User => Message::User { text },
        RawRole::Assistant => Message::Assistant {
            text: Some(text),
            tool_calls: Vec::new(),
            reasoning: Vec::new(),
        },
    })
}

/// A `reasoning` item: its summary texts, set apart with a blank line as a stream's
/// summary parts are (or its `reasoning_text` content when it has no summary), and its
/// `encrypted_content` as the signature. `None` for an item with neither.
fn reasoning(i: usize, item: RawItem) -> Result<Option<Reasoning>, Error> {
    let mut texts = Vec::new();
    for (j, part) in item.summary.into_iter().flatten().enumerate() {
        texts.push(
            part.text
                .ok_or_else(|| missing(format!("input[{i}].summary[{j}].text")))?,
        );
    }
    if texts.is_empty()
        && let Some(RawContent::Parts(parts)) = item.content
    {
        let reasoning_text = parts.into_iter().filter(|p| p.kind == "reasoning_text");
        texts.extend(reasoning_text.filter_map(|p| p.text));
    }
    let text = texts.join("\n\n");
    let signature = item.encrypted_content.filter(|e| !e.is_empty());
    Ok((!text.is_empty() || signature.is_some()).then_some(Reasoning::Text { text, signature }))
}

/// A message's or a function call output's text: the string, or its text parts
/// (`input_text` or `output_text`, whichever the role) concatenated. Refusal parts (in
/// assistant history) are ignored; media parts are refused.
fn text(content: RawContent, at: impl Fn(usize, &str) -> String) -> Result<String, Error> {
    let parts = match content {
        RawContent::Text(text) => return Ok(text),
        RawContent::Parts(parts) => parts,
    };
    let mut text = String::new();
    for (j, part) in parts.into_iter().enumerate() {
        match part.kind.as_str() {
            "input_text" | "output_text" => {
                text.push_str(&part.text.ok_or_else(|| missing(at(j, "text")))?);
            }
            "refusal" => {}
            "input_image" | "input_file" | "input_audio" => {
                let message = format!("rill does not support `{}` content yet", part.kind);
                return Err(invalid(at(j, "type"), message));
            }
            other => {
                let message = format!(
                    "unknown content part type `{other}`; expected `input_text` or `output_text`"
                );
                return Err(invalid(at(j, "type"), message));
            }
        }
    }
    Ok(text)
}

/// An item rill has no use for: a built-in or custom tool's call or output, or
/// something unknown.
fn unsupported_item(param: &str, kind: &str) -> Error {
    let tool_item = kind.ends_with("_call") || kind.ends_with("_call_output");
    let message = if tool_item || kind.starts_with("mcp_") {
        format!("rill only runs `function` tools, so `{kind}` items are not supported")
    } else {
        format!(
            "unknown input item type `{kind}`; expected `message`, `function_call`, `function_call_output` or `reasoning`"
        )
    };
    invalid(param, message)
}
