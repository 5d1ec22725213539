//! `UIMessage`s -> core messages. Each error names the exact JSON path at fault
//! (`messages[1].parts[2].type`).
//!
//! The rules follow the AI SDK's own `convertToModelMessages`, which is what the app's
//! server would run: a `step-start` part ends a step, and each step of an assistant
//! message becomes an assistant turn (its text and tool calls) followed by one tool
//! message per finished call. Where core has less room than the SDK's model messages,
//! the choices are documented on [`super::parse_request`].

use rill_core::{Error, Message, Reasoning, ToolCall};
use serde_json::Value;

use super::request::{RawMessage, RawPart};
use crate::request_json::{invalid, missing};

/// Appends the core messages for one UI message: an assistant message may become
/// several (one assistant turn and its tool results per step).
pub(super) fn message(i: usize, m: RawMessage, out: &mut Vec<Message>) -> Result<(), Error> {
    let Some(parts) = m.parts else {
        let mut message = format!("missing required field `messages[{i}].parts`");
        if m.content.is_some() {
            message.push_str(
                "; hint: this is an AI SDK 4 message (`content`); rill reads the UI messages of `ai` 5 and later",
            );
        }
        return Err(invalid(format!("messages[{i}].parts"), message));
    };
    match m.role.as_str() {
        "system" => out.push(Message::System {
            text: texts(i, "system", parts)?,
        }),
        "user" => out.push(Message::User {
            text: texts(i, "user", parts)?,
        }),
        "assistant" => assistant(i, parts, out)?,
        role => {
            let message = format!(
                "invalid value `{role}` for `messages[{i}].role`: expected `system`, `user` or `assistant`"
            );
            return Err(invalid(format!("messages[{i}].role"), message));
        }
    }
    Ok(())
}

fn part_at(i: usize, j: usize, field: &str) -> String {
    format!("messages[{i}].parts[{j}].{field}")
}

/// A system or user message: its text parts, joined. `step-start` and `data-*` parts
/// carry nothing for the model (the SDK drops them too); anything else is refused.
fn texts(i: usize, role: &str, parts: Vec<RawPart>) -> Result<String, Error> {
    let mut text = String::new();
    for (j, part) in parts.into_iter().enumerate() {
        match Kind::of(&part.kind) {
            Kind::Text => text.push_str(&part_text(i, j, part.text)?),
            Kind::StepStart | Kind::Data => {}
            Kind::File => return Err(file_part(i, j)),
            Kind::Reasoning | Kind::Tool(_) | Kind::DynamicTool | Kind::Source => {
                let message = format!(
                    "`{}` parts belong in `assistant` messages, not in `{role}` messages",
                    part.kind
                );
                return Err(invalid(part_at(i, j, "type"), message));
            }
            Kind::Unknown => return Err(unknown_part(i, j, &part.kind)),
        }
    }
    Ok(text)
}

/// One step of an assistant message, being gathered.
#[derive(Default)]
struct Step {
    text: String,
    calls: Vec<ToolCall>,
    results: Vec<Message>,
    reasoning: Vec<Reasoning>,
}

impl Step {
    /// Appends the step's turn and its tool results, unless it has nothing to say.
    fn flush(&mut self, out: &mut Vec<Message>) {
        let step = std::mem::take(self);
        if step.text.is_empty() && step.calls.is_empty() {
            return;
        }
        out.push(Message::Assistant {
            text: (!step.text.is_empty()).then_some(step.text),
            tool_calls: step.calls,
            reasoning: step.reasoning,
        });
        out.extend(step.results);
    }
}

fn assistant(i: usize, parts: Vec<RawPart>, out: &mut Vec<Message>) -> Result<(), Error> {
    let mut step = Step::default();
    for (j, part) in parts.into_iter().enumerate() {
        match Kind::of(&part.kind) {
            Kind::Text => step.text.push_str(&part_text(i, j, part.text)?),
            Kind::StepStart => step.flush(out),
            Kind::Reasoning => step.reasoning.extend(reasoning(part)),
            // Cited sources and app data: not for the model.
            Kind::Source | Kind::Data => {}
            Kind::Tool(name) => {
                let name = name.to_owned();
                tool(i, j, name, part, &mut step)?;
            }
            Kind::DynamicTool => {
                let name = part
                    .tool_name
                    .clone()
                    .ok_or_else(|| missing(part_at(i, j, "toolName")))?;
                tool(i, j, name, part, &mut step)?;
            }
            Kind::File => return Err(file_part(i, j)),
            Kind::Unknown => return Err(unknown_part(i, j, &part.kind)),
        }
    }
    step.flush(out);
    Ok(())
}

/// A tool part: a finished call (`output-available` or `output-error`) becomes a call
/// and its result; one still waiting for its input or output is left out, as the SDK
/// does with `ignoreIncompleteToolCalls` (an unanswered call would make every upstream
/// refuse the conversation).
fn tool(i: usize, j: usize, name: String, part: RawPart, step: &mut Step) -> Result<(), Error> {
    let id = part
        .tool_call_id
        .ok_or_else(|| missing(part_at(i, j, "toolCallId")))?;
    let state = part.state.ok_or_else(|| missing(part_at(i, j, "state")))?;
    let result = match state.as_str() {
        "input-streaming" | "input-available" => return Ok(()),
        "output-available" if part.preliminary == Some(true) => return Ok(()),
        "output-available" => match part.output {
            Some(Value::String(text)) => text,
            Some(value) => value.to_string(),
            None => "null".to_owned(),
        },
        "output-error" => match part.error_text {
            Some(text) if !text.is_empty() => format!("error: {text}"),
            _ => "error".to_owned(),
        },
        other => {
            let message = format!(
                "invalid value `{other}` for `{}`: expected `input-streaming`, `input-available`, `output-available` or `output-error`",
                part_at(i, j, "state")
            );
            return Err(invalid(part_at(i, j, "state"), message));
        }
    };
    // A call whose input failed to parse has only its raw text (the SDK sends that).
    let arguments = match part.input.or(part.raw_input) {
        None => "{}".to_owned(),
        Some(Value::String(raw)) if state == "output-error" => raw,
        Some(input) => input.to_string(),
    };
    step.results.push(Message::Tool {
        tool_call_id: id.clone(),
        text: result,
    });
    step.calls.push(ToolCall {
        id,
        name,
        arguments,
    });
    Ok(())
}

/// A reasoning part: its text, sealed with the signature rill's stream put in its
/// `providerMetadata.rill`, or the redacted block that stands there. `None` when it has
/// neither text nor either of those.
fn reasoning(part: RawPart) -> Option<Reasoning> {
    let rill = part.provider_metadata.and_then(|m| m.rill);
    let (signature, redacted) = match rill {
        Some(rill) => (rill.signature, rill.redacted_data),
        None => (None, None),
    };
    if let Some(data) = redacted.filter(|d| !d.is_empty()) {
        return Some(Reasoning::Redacted { data });
    }
    let text = part.text.unwrap_or_default();
    let signature = signature.filter(|s| !s.is_empty());
    (!text.is_empty() || signature.is_some()).then_some(Reasoning::Text { text, signature })
}

fn part_text(i: usize, j: usize, text: Option<String>) -> Result<String, Error> {
    text.ok_or_else(|| missing(part_at(i, j, "text")))
}

fn file_part(i: usize, j: usize) -> Error {
    invalid(
        part_at(i, j, "type"),
        "rill does not support `file` parts (attachments) yet",
    )
}

fn unknown_part(i: usize, j: usize, kind: &str) -> Error {
    let message = format!(
        "unknown part type `{kind}`; expected `text`, `reasoning`, `tool-<name>`, `dynamic-tool`, `step-start`, `source-url`, `source-document`, `file` or `data-<name>`"
    );
    invalid(part_at(i, j, "type"), message)
}

/// A part's `type`, classified.
enum Kind<'a> {
    Text,
    Reasoning,
    /// `tool-<name>`: the name.
    Tool(&'a str),
    DynamicTool,
    StepStart,
    /// `source-url` and `source-document`.
    Source,
    File,
    /// `data-<name>`: the app's own data.
    Data,
    Unknown,
}

impl<'a> Kind<'a> {
    fn of(kind: &'a str) -> Self {
        match kind {
            "text" => Self::Text,
            "reasoning" => Self::Reasoning,
            "dynamic-tool" => Self::DynamicTool,
            "step-start" => Self::StepStart,
            "source-url" | "source-document" => Self::Source,
            "file" => Self::File,
            _ => {
                if let Some(name) = kind.strip_prefix("tool-") {
                    Self::Tool(name)
                } else if kind.starts_with("data-") {
                    Self::Data
                } else {
                    Self::Unknown
                }
            }
        }
    }
}
