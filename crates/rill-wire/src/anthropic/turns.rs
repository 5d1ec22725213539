//! Core messages -> Anthropic's top-level `system` and its alternating `messages`, for
//! [`super::request_body`].
//!
//! Anthropic has no system role, no tool role and wants user and assistant turns to
//! alternate. So system texts go to `system`; a core tool message becomes a
//! `tool_result` block in a user turn; consecutive messages of one side (user and tool
//! messages are the user's side) become one turn whose blocks keep their order. An
//! assistant's signed and redacted reasoning blocks open its content, as Anthropic
//! wants them before the `tool_use` they led to.

use std::borrow::Cow;

use rill_core::{Message, Reasoning, ToolCall};
use serde::Serialize;
use serde_json::Value;

use super::convert::BLOCK_SEPARATOR;
use super::out::tool_input;

/// One Anthropic message.
#[derive(Serialize)]
pub(super) struct TurnOut<'a> {
    role: &'static str,
    content: ContentOut<'a>,
}

/// A turn's `content`: a string when it is one text, else blocks.
#[derive(Serialize)]
#[serde(untagged)]
enum ContentOut<'a> {
    Text(&'a str),
    Blocks(Vec<TurnBlock<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TurnBlock<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        content: &'a str,
    },
}

impl TurnBlock<'_> {
    fn is_empty_text(&self) -> bool {
        matches!(self, Self::Text { text } if text.is_empty())
    }
}

/// The conversation as Anthropic takes it.
pub(super) struct History<'a> {
    /// Every non-empty system text, in order, joined with a blank line.
    pub system: Option<Cow<'a, str>>,
    pub turns: Vec<TurnOut<'a>>,
}

pub(super) fn history(messages: &[Message]) -> History<'_> {
    let mut systems: Vec<&str> = Vec::new();
    let mut turns: Vec<(&'static str, Vec<TurnBlock<'_>>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            Message::System { text } => {
                if !text.is_empty() {
                    systems.push(text);
                }
                continue;
            }
            Message::User { text } => ("user", vec![TurnBlock::Text { text }]),
            Message::Tool { tool_call_id, text } => (
                "user",
                vec![TurnBlock::ToolResult {
                    tool_use_id: tool_call_id,
                    content: text,
                }],
            ),
            Message::Assistant {
                text,
                tool_calls,
                reasoning,
            } => {
                let reasoning = reasoning.iter().filter_map(thinking);
                let text = text.as_deref().map(|text| TurnBlock::Text { text });
                let calls = tool_calls.iter().map(tool_use);
                let blocks = reasoning.chain(text).chain(calls).collect();
                ("assistant", blocks)
            }
        };
        match turns.last_mut() {
            Some((last, open)) if *last == role => open.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let system = match systems.as_slice() {
        [] => None,
        [one] => Some(Cow::Borrowed(*one)),
        many => Some(Cow::Owned(many.join(BLOCK_SEPARATOR))),
    };
    let turns = turns
        .into_iter()
        .map(|(role, blocks)| TurnOut {
            role,
            content: content(blocks),
        })
        .collect();
    History { system, turns }
}

/// A signed block as `thinking`, a redacted one as `redacted_thinking`. Unsigned
/// reasoning is left out: Anthropic refuses a thinking block without a valid signature,
/// and reads none it did not sign.
fn thinking(block: &Reasoning) -> Option<TurnBlock<'_>> {
    match block {
        Reasoning::Text {
            text,
            signature: Some(signature),
        } => Some(TurnBlock::Thinking {
            thinking: text,
            signature,
        }),
        Reasoning::Text {
            signature: None, ..
        } => None,
        Reasoning::Redacted { data } => Some(TurnBlock::RedactedThinking { data }),
    }
}

/// `input` is the arguments' JSON object, `{}` when they are not one (see
/// [`super::request_body`]).
fn tool_use(call: &ToolCall) -> TurnBlock<'_> {
    TurnBlock::ToolUse {
        id: &call.id,
        name: &call.name,
        input: tool_input(call),
    }
}

/// Anthropic refuses empty text blocks, so they are left out of a turn that has other
/// content; a turn of empty texts only is `""` (what the client sent; Anthropic's 400
/// for it then reaches the client), and a turn without any block is `[]`.
fn content(mut blocks: Vec<TurnBlock<'_>>) -> ContentOut<'_> {
    if blocks.iter().all(TurnBlock::is_empty_text) {
        return if blocks.is_empty() {
            ContentOut::Blocks(blocks)
        } else {
            ContentOut::Text("")
        };
    }
    blocks.retain(|block| !block.is_empty_text());
    if let [TurnBlock::Text { text }] = blocks.as_slice() {
        return ContentOut::Text(text);
    }
    ContentOut::Blocks(blocks)
}
