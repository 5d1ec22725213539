//! Core content events -> the Responses output items, numbered by `output_index` in the
//! order they open.
//!
//! Text and refusal text go to a `message` item (an `output_text` or `refusal` part,
//! a new part when the kind changes), reasoning to a `reasoning` item (one summary part).
//! At most one message or reasoning item is open: it ends when content of another item
//! comes. A reasoning signature ends the open reasoning item as its `encrypted_content`,
//! or, with none open, comes in a `reasoning` item of its own without a summary. A
//! `function_call` item ends with its `ToolCallEnd` (or at `Finish`), so parallel calls
//! whose fragments interleave stay open side by side: every delta names its item, and
//! nothing waits in a buffer. The items keep their text, which the `.done` events and
//! the Response object repeat.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::item_out::{ItemOut, PartOut, SummaryOut};
use super::out::SinkExt;
use super::out::{
    ArgumentsDelta, ArgumentsDone, Body, Delta, ItemEvent, PartEvent, RefusalDone, Sink,
    SummaryDelta, SummaryDone, SummaryPartEvent, TextDone,
};
use super::response::item_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Refusal,
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    open: bool,
    /// Set when the item ends: it was cut off by the length limit or a content filter.
    incomplete: bool,
    body: ItemBody,
}

#[derive(Debug, Clone)]
enum ItemBody {
    /// Its last part is the open one while the item is open.
    Message(Vec<(Kind, String)>),
    Reasoning {
        text: String,
        /// Whether its summary part was added (it is, once text came).
        summarised: bool,
        encrypted: Option<String>,
    },
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug, Clone, Default)]
pub(super) struct Output {
    response_id: String,
    items: Vec<Item>,
    /// The open message or reasoning item.
    current: Option<usize>,
    /// Core tool-call index -> output index.
    calls: BTreeMap<u32, usize>,
}

impl Output {
    pub(super) fn new(response_id: String) -> Self {
        Self {
            response_id,
            ..Self::default()
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether the tool call with core index `call` has started.
    pub(super) fn knows(&self, call: u32) -> bool {
        self.calls.contains_key(&call)
    }

    /// The items as they stand, for a Response object.
    pub(super) fn items(&self) -> Vec<ItemOut<'_>> {
        self.items.iter().map(Item::out).collect()
    }

    pub(super) fn text(&mut self, kind: Kind, delta: &str, sink: &mut Sink) {
        let index = match self.current {
            Some(index) if matches!(self.items[index].body, ItemBody::Message(_)) => index,
            _ => self.open(ItemBody::Message(Vec::new()), "msg", sink),
        };
        let item = &mut self.items[index];
        let ItemBody::Message(parts) = &mut item.body else {
            return;
        };
        if parts.last().is_none_or(|(last, _)| *last != kind) {
            if let Some(part) = parts.last() {
                close_part(&item.id, index, parts.len() - 1, part, sink);
            }
            parts.push((kind, String::new()));
            sink.push(Body::PartAdded(PartEvent {
                item_id: &item.id,
                output_index: index,
                content_index: parts.len() - 1,
                part: part_out((kind, "")),
            }));
        }
        let content_index = parts.len() - 1;
        if let Some((_, text)) = parts.last_mut() {
            text.push_str(delta);
        }
        if delta.is_empty() {
            return;
        }
        let delta = Delta {
            item_id: &item.id,
            output_index: index,
            content_index,
            delta,
            logprobs: (kind == Kind::Text).then_some([]),
        };
        sink.push(match kind {
            Kind::Text => Body::TextDelta(delta),
            Kind::Refusal => Body::RefusalDelta(delta),
        });
    }

    pub(super) fn reasoning(&mut self, delta: &str, sink: &mut Sink) {
        let index = match self.current {
            Some(index) if matches!(self.items[index].body, ItemBody::Reasoning { .. }) => index,
            _ => {
                let body = ItemBody::Reasoning {
                    text: String::new(),
                    summarised: true,
                    encrypted: None,
                };
                let index = self.open(body, "rs", sink);
                let part = SummaryOut::new("");
                let item_id = &self.items[index].id;
                sink.push(Body::SummaryPartAdded(summary_part(item_id, index, part)));
                index
            }
        };
        let item = &mut self.items[index];
        if let ItemBody::Reasoning { text, .. } = &mut item.body {
            text.push_str(delta);
        }
        sink.push(Body::SummaryDelta(SummaryDelta {
            item_id: &item.id,
            output_index: index,
            summary_index: 0,
            delta,
        }));
    }

    /// A signature for the reasoning before it: the open reasoning item's
    /// `encrypted_content`, or a summary-less reasoning item's; the item ends.
    pub(super) fn reasoning_signature(&mut self, signature: &str, sink: &mut Sink) {
        let index = match self.current {
            Some(index) if matches!(self.items[index].body, ItemBody::Reasoning { .. }) => index,
            _ => {
                let body = ItemBody::Reasoning {
                    text: String::new(),
                    summarised: false,
                    encrypted: None,
                };
                self.open(body, "rs", sink)
            }
        };
        if let ItemBody::Reasoning { encrypted, .. } = &mut self.items[index].body {
            *encrypted = Some(signature.to_owned());
        }
        self.close(index, false, sink);
    }

    /// Starts a tool call (once per `call`); an empty `id` gets
    /// `call_<response id without resp_>_<call>`.
    pub(super) fn call_start(&mut self, call: u32, id: &str, name: &str, sink: &mut Sink) {
        if self.knows(call) {
            return;
        }
        let call_id = match id {
            "" => item_id("call", &self.response_id, call as usize),
            id => id.to_owned(),
        };
        let body = ItemBody::Call {
            call_id,
            name: name.to_owned(),
            arguments: String::new(),
        };
        let index = self.open(body, "fc", sink);
        self.current = None;
        self.calls.insert(call, index);
    }

    /// A fragment of a started call's arguments; dropped once the call has ended.
    pub(super) fn call_args(&mut self, call: u32, delta: &str, sink: &mut Sink) {
        let Some(&index) = self.calls.get(&call) else {
            return;
        };
        let item = &mut self.items[index];
        if let (true, ItemBody::Call { arguments, .. }) = (item.open, &mut item.body) {
            arguments.push_str(delta);
            sink.push(Body::ArgumentsDelta(ArgumentsDelta {
                item_id: &item.id,
                output_index: index,
                delta,
            }));
        }
    }

    pub(super) fn call_end(&mut self, call: u32, sink: &mut Sink) {
        if let Some(&index) = self.calls.get(&call) {
            self.close(index, false, sink);
        }
    }

    /// Ends every open item: the answer is complete, or cut off (`incomplete`).
    pub(super) fn close_all(&mut self, incomplete: bool, sink: &mut Sink) {
        for index in 0..self.items.len() {
            self.close(index, incomplete, sink);
        }
    }

    /// An empty message, for an answer that would have no item at all.
    pub(super) fn empty_message(&mut self, sink: &mut Sink) {
        self.text(Kind::Text, "", sink);
    }

    /// Opens an item at the next output index; it becomes the current one.
    fn open(&mut self, body: ItemBody, kind: &str, sink: &mut Sink) -> usize {
        if let Some(current) = self.current.take() {
            self.close(current, false, sink);
        }
        let index = self.items.len();
        self.items.push(Item {
            id: item_id(kind, &self.response_id, index),
            open: true,
            incomplete: false,
            body,
        });
        self.current = Some(index);
        let item = self.items[index].out();
        sink.push(Body::ItemAdded(ItemEvent {
            output_index: index,
            item,
        }));
        index
    }

    /// Ends the item at `index`, if it is open: its `.done` events, then
    /// `output_item.done` with the whole item.
    fn close(&mut self, index: usize, incomplete: bool, sink: &mut Sink) {
        if self.current == Some(index) {
            self.current = None;
        }
        let Some(item) = self.items.get_mut(index).filter(|item| item.open) else {
            return;
        };
        item.open = false;
        item.incomplete = incomplete;
        let item_id = item.id.as_str();
        match &item.body {
            ItemBody::Message(parts) => {
                if let Some(part) = parts.last() {
                    close_part(item_id, index, parts.len() - 1, part, sink);
                }
            }
            ItemBody::Reasoning {
                text,
                summarised: true,
                ..
            } => {
                sink.push(Body::SummaryDone(SummaryDone {
                    item_id,
                    output_index: index,
                    summary_index: 0,
                    text,
                }));
                let part = SummaryOut::new(text);
                sink.push(Body::SummaryPartDone(summary_part(item_id, index, part)));
            }
            ItemBody::Reasoning {
                summarised: false, ..
            } => {}
            ItemBody::Call { arguments, .. } => {
                sink.push(Body::ArgumentsDone(ArgumentsDone {
                    item_id,
                    output_index: index,
                    arguments,
                }));
            }
        }
        sink.push(Body::ItemDone(ItemEvent {
            output_index: index,
            item: item.out(),
        }));
    }
}

impl Item {
    fn out(&self) -> ItemOut<'_> {
        let status = match (self.open, self.incomplete) {
            (true, _) => "in_progress",
            (false, true) => "incomplete",
            (false, false) => "completed",
        };
        let id = Cow::Borrowed(self.id.as_str());
        match &self.body {
            ItemBody::Message(parts) => ItemOut::Message {
                id,
                status,
                role: "assistant",
                content: parts.iter().map(|(k, t)| part_out((*k, t))).collect(),
            },
            ItemBody::Reasoning {
                text,
                summarised,
                encrypted,
            } => ItemOut::Reasoning {
                id,
                // While it streams, the summary is in its parts' events.
                summary: if self.open || !summarised {
                    Vec::new()
                } else {
                    vec![SummaryOut::new(text)]
                },
                encrypted_content: encrypted.as_deref(),
            },
            ItemBody::Call {
                call_id,
                name,
                arguments,
            } => ItemOut::FunctionCall {
                id,
                status,
                call_id: Cow::Borrowed(call_id),
                name,
                arguments,
            },
        }
    }
}

fn part_out((kind, text): (Kind, &str)) -> PartOut<'_> {
    match kind {
        Kind::Text => PartOut::OutputText {
            annotations: [],
            logprobs: [],
            text,
        },
        Kind::Refusal => PartOut::Refusal { refusal: text },
    }
}

/// A part's `.done` event and `content_part.done`.
fn close_part(
    item_id: &str,
    index: usize,
    content_index: usize,
    part: &(Kind, String),
    sink: &mut Sink,
) {
    let (kind, text) = (part.0, part.1.as_str());
    sink.push(match kind {
        Kind::Text => Body::TextDone(TextDone {
            item_id,
            output_index: index,
            content_index,
            text,
            logprobs: [],
        }),
        Kind::Refusal => Body::RefusalDone(RefusalDone {
            item_id,
            output_index: index,
            content_index,
            refusal: text,
        }),
    });
    sink.push(Body::PartDone(PartEvent {
        item_id,
        output_index: index,
        content_index,
        part: part_out((kind, text)),
    }));
}

fn summary_part<'a>(item_id: &'a str, index: usize, part: SummaryOut<'a>) -> SummaryPartEvent<'a> {
    SummaryPartEvent {
        item_id,
        output_index: index,
        summary_index: 0,
        part,
    }
}
