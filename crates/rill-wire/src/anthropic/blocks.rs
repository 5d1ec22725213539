//! Core content events -> Anthropic content blocks, one block open at a time.
//!
//! Anthropic blocks are strictly sequential (`content_block_start`, deltas,
//! `content_block_stop`, then the next block), while core may interleave parallel tool
//! calls and text. Text and reasoning blocks end when something else comes; a signature
//! ends the thinking block it seals (a `signature_delta`, then the stop), or, when no
//! thinking block is open, comes in an empty thinking block of its own; a redacted
//! block is a `redacted_thinking` block, whole at its start; a tool block ends with its
//! `ToolCallEnd` (or at `Finish`). Whatever arrives while a tool block is open and is
//! not part of it (another call, text, a signature) waits in a queue and is sent, in
//! arrival order, when that block ends. Streams that do not interleave (every real one
//! seen so far) never wait.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use rill_sse::FrameBuf;

use super::out::{BlockOut, DeltaOut, EventOut};

/// A text-like block kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Thinking,
}

#[derive(Debug, Clone, Copy)]
enum Open {
    Text(u32),
    Thinking(u32),
    Tool { block: u32, call: u32 },
}

#[derive(Debug, Clone)]
enum Pending {
    Text(Kind, String),
    Signature(String),
    Redacted(String),
    Tool(PendingCall),
}

#[derive(Debug, Clone)]
struct PendingCall {
    call: u32,
    id: String,
    name: String,
    arguments: String,
    ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Open,
    Queued,
    Closed,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Blocks {
    next_index: u32,
    open: Option<Open>,
    queue: VecDeque<Pending>,
    /// Every core tool call seen, by core index.
    calls: BTreeMap<u32, Call>,
}

impl Blocks {
    /// Whether the tool call with core index `call` has started.
    pub(super) fn knows(&self, call: u32) -> bool {
        self.calls.contains_key(&call)
    }

    pub(super) fn text(&mut self, kind: Kind, text: &str, out: &mut FrameBuf) {
        if !self.waiting() {
            return self.send_text(kind, text, out);
        }
        match self.queue.back_mut() {
            Some(Pending::Text(k, queued)) if *k == kind => queued.push_str(text),
            _ => self.queue.push_back(Pending::Text(kind, text.to_owned())),
        }
    }

    /// A signature for the reasoning before it.
    pub(super) fn signature(&mut self, signature: &str, out: &mut FrameBuf) {
        if self.waiting() {
            self.queue
                .push_back(Pending::Signature(signature.to_owned()));
        } else {
            self.send_signature(signature, out);
        }
    }

    /// A redacted reasoning block.
    pub(super) fn redacted(&mut self, data: &str, out: &mut FrameBuf) {
        if self.waiting() {
            self.queue.push_back(Pending::Redacted(data.to_owned()));
        } else {
            self.send_redacted(data, out);
        }
    }

    /// Starts a tool call (once per `call`).
    pub(super) fn tool_start(&mut self, call: u32, id: &str, name: &str, out: &mut FrameBuf) {
        if self.knows(call) {
            return;
        }
        if !self.waiting() {
            return self.open_tool(call, id, name, out);
        }
        self.calls.insert(call, Call::Queued);
        self.queue.push_back(Pending::Tool(PendingCall {
            call,
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: String::new(),
            ended: false,
        }));
    }

    /// A fragment of a started call's arguments. Fragments after the call ended are
    /// dropped: a closed block cannot take more.
    pub(super) fn tool_args(&mut self, call: u32, arguments: &str, out: &mut FrameBuf) {
        match (self.calls.get(&call), self.open) {
            (Some(Call::Open), Some(Open::Tool { block, call: open })) if open == call => {
                let delta = DeltaOut::InputJson {
                    partial_json: arguments,
                };
                EventOut::ContentBlockDelta {
                    index: block,
                    delta,
                }
                .write(out);
            }
            (Some(Call::Queued), _) => {
                if let Some(pending) = self.pending(call) {
                    pending.arguments.push_str(arguments);
                }
            }
            _ => {}
        }
    }

    pub(super) fn tool_end(&mut self, call: u32, out: &mut FrameBuf) {
        match self.calls.get(&call) {
            Some(Call::Open) => {
                self.close(out);
                self.drain(out);
            }
            Some(Call::Queued) => {
                if let Some(pending) = self.pending(call) {
                    pending.ended = true;
                }
            }
            _ => {}
        }
    }

    /// Ends every block, sending whatever still waits: the answer is complete.
    pub(super) fn close_all(&mut self, out: &mut FrameBuf) {
        self.close(out);
        for pending in &mut self.queue {
            if let Pending::Tool(call) = pending {
                call.ended = true;
            }
        }
        self.drain(out);
        self.close(out);
    }

    /// Whether new content must wait: an open tool block may still get arguments.
    fn waiting(&self) -> bool {
        matches!(self.open, Some(Open::Tool { .. }))
    }

    fn pending(&mut self, call: u32) -> Option<&mut PendingCall> {
        self.queue.iter_mut().find_map(|pending| match pending {
            Pending::Tool(pending) if pending.call == call => Some(pending),
            _ => None,
        })
    }

    /// Sends queued content until the queue is empty or a queued call is left open.
    fn drain(&mut self, out: &mut FrameBuf) {
        while !self.waiting() {
            let Some(pending) = self.queue.pop_front() else {
                break;
            };
            match pending {
                Pending::Text(kind, text) => self.send_text(kind, &text, out),
                Pending::Signature(signature) => self.send_signature(&signature, out),
                Pending::Redacted(data) => self.send_redacted(&data, out),
                Pending::Tool(call) => {
                    self.open_tool(call.call, &call.id, &call.name, out);
                    if !call.arguments.is_empty() {
                        self.tool_args(call.call, &call.arguments, out);
                    }
                    if call.ended {
                        self.close(out);
                    }
                }
            }
        }
    }

    fn send_text(&mut self, kind: Kind, text: &str, out: &mut FrameBuf) {
        let index = match (self.open, kind) {
            (Some(Open::Text(index)), Kind::Text)
            | (Some(Open::Thinking(index)), Kind::Thinking) => index,
            _ => {
                self.close(out);
                let (block, open): (_, fn(u32) -> Open) = match kind {
                    Kind::Text => (BlockOut::Text { text: "" }, Open::Text),
                    Kind::Thinking => (
                        BlockOut::Thinking {
                            thinking: "",
                            signature: "",
                        },
                        Open::Thinking,
                    ),
                };
                let index = self.start(block, out);
                self.open = Some(open(index));
                index
            }
        };
        let delta = match kind {
            Kind::Text => DeltaOut::Text { text },
            Kind::Thinking => DeltaOut::Thinking { thinking: text },
        };
        EventOut::ContentBlockDelta { index, delta }.write(out);
    }

    /// `signature_delta` on the open thinking block, or on an empty one opened for it;
    /// the block ends: what comes next is new reasoning or other content.
    fn send_signature(&mut self, signature: &str, out: &mut FrameBuf) {
        let index = match self.open {
            Some(Open::Thinking(index)) => index,
            _ => {
                self.close(out);
                let block = BlockOut::Thinking {
                    thinking: "",
                    signature: "",
                };
                let index = self.start(block, out);
                self.open = Some(Open::Thinking(index));
                index
            }
        };
        let delta = DeltaOut::Signature { signature };
        EventOut::ContentBlockDelta { index, delta }.write(out);
        self.close(out);
    }

    /// A `redacted_thinking` block: whole at its start, then its stop.
    fn send_redacted(&mut self, data: &str, out: &mut FrameBuf) {
        self.close(out);
        let index = self.start(BlockOut::RedactedThinking { data }, out);
        EventOut::ContentBlockStop { index }.write(out);
    }

    fn open_tool(&mut self, call: u32, id: &str, name: &str, out: &mut FrameBuf) {
        self.close(out);
        let input = Value::Object(serde_json::Map::new());
        let block = self.start(
            BlockOut::ToolUse {
                id,
                name,
                input: &input,
            },
            out,
        );
        self.open = Some(Open::Tool { block, call });
        self.calls.insert(call, Call::Open);
    }

    fn start(&mut self, content_block: BlockOut<'_>, out: &mut FrameBuf) -> u32 {
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        EventOut::ContentBlockStart {
            index,
            content_block,
        }
        .write(out);
        index
    }

    /// Ends the open block, if any.
    fn close(&mut self, out: &mut FrameBuf) {
        let index = match self.open.take() {
            None => return,
            Some(Open::Text(index) | Open::Thinking(index)) => index,
            Some(Open::Tool { block, call }) => {
                self.calls.insert(call, Call::Closed);
                block
            }
        };
        EventOut::ContentBlockStop { index }.write(out);
    }
}
