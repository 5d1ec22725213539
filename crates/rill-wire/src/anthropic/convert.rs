//! Conversion of `system` and `messages`: content blocks -> core messages. Each error
//! names the exact JSON path at fault.

use rill_core::{Error, Message, Reasoning, ToolCall};

use super::request::{RawBlock, RawContent, RawMessage, RawResultContent, RawTextBlock};
use crate::request_json::{invalid, missing};

/// Text blocks of one message are joined with this: they are separate paragraphs.
pub(super) const BLOCK_SEPARATOR: &str = "\n\n";

/// The top-level `system` as a core system message; `None` when it is empty.
pub(super) fn system(system: RawResultContent) -> Result<Option<Message>, Error> {
    let text = match system {
        RawResultContent::Text(text) => text,
        RawResultContent::Blocks(blocks) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.into_iter().enumerate() {
                let at = |field: &str| format!("system[{i}].{field}");
                if block.kind != "text" {
                    let message = format!(
                        "`system` may only contain `text` blocks, got `{}`",
                        block.kind
                    );
                    return Err(invalid(at("type"), message));
                }
                texts.push(block.text.ok_or_else(|| missing(at("text")))?);
            }
            texts.join(BLOCK_SEPARATOR)
        }
    };
    Ok((!text.is_empty()).then_some(Message::System { text }))
}

/// Appends the core messages for one Anthropic message: a user message may become
/// several (one tool message per `tool_result` block, text in between kept in order).
pub(super) fn message(i: usize, m: RawMessage, out: &mut Vec<Message>) -> Result<(), Error> {
    let at = |field: &str| format!("messages[{i}].{field}");
    let content = m.content.ok_or_else(|| missing(at("content")))?;
    match m.role.as_str() {
        "user" => user(i, content, out),
        "assistant" => {
            out.push(assistant(i, content)?);
            Ok(())
        }
        role => {
            let mut message = format!(
                "invalid value `{role}` for `{}`: expected `user` or `assistant`",
                at("role")
            );
            if role == "system" {
                message.push_str("; the system prompt goes in the top-level `system` field");
            }
            Err(invalid(at("role"), message))
        }
    }
}

fn user(i: usize, content: RawContent, out: &mut Vec<Message>) -> Result<(), Error> {
    let blocks = match content {
        RawContent::Text(text) => {
            out.push(Message::User { text });
            return Ok(());
        }
        RawContent::Blocks(blocks) => blocks,
    };
    let first = out.len();
    let mut texts = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        match block.kind.as_str() {
            "text" => texts.push(block_text(i, j, block.text)?),
            "tool_result" => {
                flush_user_text(&mut texts, out);
                out.push(tool_result(i, j, block)?);
            }
            kind @ ("tool_use" | "thinking" | "redacted_thinking") => {
                let message = format!("`{kind}` blocks belong in `assistant` messages");
                return Err(invalid(block_at(i, j, "type"), message));
            }
            kind => return Err(unsupported_block(i, j, kind)),
        }
    }
    flush_user_text(&mut texts, out);
    if out.len() == first {
        // An empty array: still a (blank) turn, as the client sent one.
        out.push(Message::User {
            text: String::new(),
        });
    }
    Ok(())
}

fn flush_user_text(texts: &mut Vec<String>, out: &mut Vec<Message>) {
    if !texts.is_empty() {
        out.push(Message::User {
            text: texts.join(BLOCK_SEPARATOR),
        });
        texts.clear();
    }
}

fn assistant(i: usize, content: RawContent) -> Result<Message, Error> {
    let blocks = match content {
        RawContent::Text(text) => {
            return Ok(Message::Assistant {
                text: Some(text),
                tool_calls: Vec::new(),
                reasoning: Vec::new(),
            });
        }
        RawContent::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::new();
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        match block.kind.as_str() {
            "text" => texts.push(block_text(i, j, block.text)?),
            "tool_use" => tool_calls.push(tool_use(i, j, block)?),
            // Tolerant, as before core kept reasoning: a missing field is empty. An empty
            // signature (what rill wrote when it had none) is no signature.
            "thinking" => reasoning.push(Reasoning::Text {
                text: block.thinking.unwrap_or_default(),
                signature: block.signature.filter(|s| !s.is_empty()),
            }),
            "redacted_thinking" => {
                if let Some(data) = block.data.filter(|d| !d.is_empty()) {
                    reasoning.push(Reasoning::Redacted { data });
                }
            }
            "tool_result" => {
                let message = "`tool_result` blocks belong in `user` messages";
                return Err(invalid(block_at(i, j, "type"), message));
            }
            kind => return Err(unsupported_block(i, j, kind)),
        }
    }
    let text = (!texts.is_empty()).then(|| texts.join(BLOCK_SEPARATOR));
    Ok(Message::Assistant {
        text,
        tool_calls,
        reasoning,
    })
}

fn block_at(i: usize, j: usize, field: &str) -> String {
    format!("messages[{i}].content[{j}].{field}")
}

fn block_text(i: usize, j: usize, text: Option<String>) -> Result<String, Error> {
    text.ok_or_else(|| missing(block_at(i, j, "text")))
}

/// An assistant's `tool_use` block: its `input` becomes the call's JSON arguments text.
fn tool_use(i: usize, j: usize, block: RawBlock) -> Result<ToolCall, Error> {
    let id = block.id.ok_or_else(|| missing(block_at(i, j, "id")))?;
    let name = block.name.ok_or_else(|| missing(block_at(i, j, "name")))?;
    let arguments = block
        .input
        .map_or_else(|| "{}".to_owned(), |v| v.to_string());
    Ok(ToolCall {
        id,
        name,
        arguments,
    })
}

/// A user's `tool_result` block -> a core tool message.
fn tool_result(i: usize, j: usize, block: RawBlock) -> Result<Message, Error> {
    let tool_call_id = block
        .tool_use_id
        .ok_or_else(|| missing(block_at(i, j, "tool_use_id")))?;
    let mut text = match block.content {
        None => String::new(),
        Some(RawResultContent::Text(text)) => text,
        Some(RawResultContent::Blocks(blocks)) => result_text(i, j, blocks)?,
    };
    if block.is_error == Some(true) {
        text = if text.is_empty() {
            "error".to_owned()
        } else {
            format!("error: {text}")
        };
    }
    Ok(Message::Tool { tool_call_id, text })
}

fn result_text(i: usize, j: usize, blocks: Vec<RawTextBlock>) -> Result<String, Error> {
    let mut texts = Vec::with_capacity(blocks.len());
    for (k, block) in blocks.into_iter().enumerate() {
        let at = |field: &str| format!("messages[{i}].content[{j}].content[{k}].{field}");
        match block.kind.as_str() {
            "text" => texts.push(block.text.ok_or_else(|| missing(at("text")))?),
            kind if is_media(kind) => {
                let message = format!("rill does not support `{kind}` content yet");
                return Err(invalid(at("type"), message));
            }
            kind => {
                let message = format!("unknown tool result block type `{kind}`; expected `text`");
                return Err(invalid(at("type"), message));
            }
        }
    }
    Ok(texts.join(BLOCK_SEPARATOR))
}

fn is_media(kind: &str) -> bool {
    matches!(
        kind,
        "image" | "document" | "search_result" | "container_upload"
    )
}

/// A block rill has no use for: media, server tools, or something unknown.
fn unsupported_block(i: usize, j: usize, kind: &str) -> Error {
    let message = if is_media(kind) {
        format!("rill does not support `{kind}` content yet")
    } else if kind.ends_with("_tool_use") || kind.ends_with("_tool_result") {
        format!("rill does not run server tools, so `{kind}` blocks are not supported")
    } else {
        format!(
            "unknown content block type `{kind}`; expected `text`, `tool_use`, `tool_result` or `thinking`"
        )
    };
    invalid(block_at(i, j, "type"), message)
}
