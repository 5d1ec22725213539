//! Upstream side: Anthropic stream events -> core events.

use std::collections::BTreeMap;

use rill_core::{Error, FinishReason, StreamEvent};
use serde_json::Value;

use super::events_in::{BlockIn, DeltaIn, EventIn, MessageIn, UsageIn, error_event, parse};

/// Decodes the events of an Anthropic Messages stream (SSE event name and data) into
/// core events.
///
/// - `message_start` -> `Start` (with the upstream's model) and, when the prompt's
///   tokens are already counted, `Usage`;
/// - `text`, `thinking` and `tool_use` blocks -> `TextDelta`, `ReasoningDelta` and
///   `ToolCallStart` / `ToolCallDelta` (the `input_json_delta` fragments) /
///   `ToolCallEnd`; tool calls are numbered 0, 1, ... in the order their blocks start;
/// - a thinking block's `signature_delta` -> `ReasoningSignature` (a signature that a
///   block's `content_block_start` already carries, as proxies that send blocks whole
///   do, comes out at its `content_block_stop`); a `redacted_thinking` block ->
///   `ReasoningRedacted` with its `data`;
/// - `message_delta` -> `Usage` (cumulative: a later count replaces an earlier one; cached
///   prompt tokens are counted into `input_tokens` as core does) and the stop reason;
/// - `message_stop` -> `ToolCallEnd` for every call whose block never stopped (a call cut
///   off by `max_tokens`), then `Finish`. Only `message_stop` finishes: a stream that
///   ends before it is truncated, and [`rill_core::terminated`] turns it into an error;
/// - `error` -> `Error`.
///
/// Ignored: `ping`, `citations_delta`, server-tool blocks, and any event, block or delta
/// type it does not know, as the official SDKs do. Events after `message_stop` or
/// `error` decode to nothing.
#[derive(Debug, Clone, Default)]
pub struct EventDecoder {
    started: bool,
    done: bool,
    /// Blocks by their Anthropic index.
    blocks: BTreeMap<u32, Block>,
    /// Signatures that thinking blocks started with, by index, until the block stops.
    signatures: BTreeMap<u32, String>,
    next_call: u32,
    usage: UsageIn,
    stop: Option<FinishReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    Tool { call: u32, open: bool },
    Other,
}

/// The event names whose data the decoder reads; `message` is an event without an
/// `event:` line, dispatched on its data's `type`.
const READ: [&str; 8] = [
    "message",
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "error",
];

impl EventDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event: its name (`rill_sse::Event::event`) and data.
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). An `error` event is a
    /// [`StreamEvent::Error`], its kind mapped from the error's `type`. JSON padded with
    /// spaces is fine; data without a `type` takes the event name as its type.
    pub fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        let data = data.trim();
        if self.done || !READ.contains(&event) {
            return Ok(Vec::new());
        }
        if event == "error" {
            // Whatever its data says, an `error` event is an error.
            self.done = true;
            return Ok(vec![StreamEvent::Error(error_event(data))]);
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        self.apply(parse(event, data)?, &mut out);
        Ok(out)
    }

    /// Whether `message_stop` or an `error` was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn apply(&mut self, event: EventIn, out: &mut Vec<StreamEvent>) {
        match event {
            EventIn::MessageStart { message } => self.message_start(message, out),
            EventIn::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            EventIn::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            EventIn::ContentBlockStop { index } => {
                if let Some(signature) = self.signatures.remove(&index) {
                    out.push(StreamEvent::ReasoningSignature(signature));
                }
                if let Some(Block::Tool { call, open }) = self.blocks.get_mut(&index)
                    && *open
                {
                    *open = false;
                    out.push(StreamEvent::ToolCallEnd { index: *call });
                }
            }
            EventIn::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.and_then(|d| d.stop_reason) {
                    self.stop = Some(finish_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.usage.update(usage);
                    out.push(StreamEvent::Usage(self.usage.core()));
                }
            }
            EventIn::MessageStop {} => {
                self.start("", out);
                // Thinking blocks that never stopped still had their signature.
                let signatures = std::mem::take(&mut self.signatures);
                out.extend(
                    signatures
                        .into_values()
                        .map(StreamEvent::ReasoningSignature),
                );
                for block in self.blocks.values_mut() {
                    if let Block::Tool { call, open: true } = *block {
                        *block = Block::Tool { call, open: false };
                        out.push(StreamEvent::ToolCallEnd { index: call });
                    }
                }
                out.push(StreamEvent::Finish(self.stop.unwrap_or(FinishReason::Stop)));
                self.done = true;
            }
            EventIn::Error { error } => {
                out.push(StreamEvent::Error(error.unwrap_or_default().into_error()));
                self.done = true;
            }
            EventIn::Ping {} | EventIn::Unknown => {}
        }
    }

    /// `Start`, once, before anything else this decoder emits.
    fn start(&mut self, model: &str, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                model: model.to_owned(),
            });
        }
    }

    fn message_start(&mut self, message: MessageIn, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.start(message.model.as_deref().unwrap_or_default(), out);
        if let Some(usage) = message.usage {
            self.usage.update(usage);
            // rill (and some proxies) send 0 when the count is not known yet.
            let usage = self.usage.core();
            if usage.input_tokens > 0 {
                out.push(StreamEvent::Usage(usage));
            }
        }
    }

    fn block_start(&mut self, index: u32, block: BlockIn, out: &mut Vec<StreamEvent>) {
        self.start("", out);
        if self.blocks.contains_key(&index) {
            return;
        }
        let state = match block {
            BlockIn::Text { text } => {
                push_text(StreamEvent::TextDelta, text, out);
                Block::Text
            }
            BlockIn::Thinking {
                thinking,
                signature,
            } => {
                push_text(StreamEvent::ReasoningDelta, thinking, out);
                if let Some(signature) = signature.filter(|s| !s.is_empty()) {
                    self.signatures.insert(index, signature);
                }
                Block::Thinking
            }
            BlockIn::RedactedThinking { data } => {
                push_text(
                    StreamEvent::ReasoningRedacted,
                    data.unwrap_or_default(),
                    out,
                );
                Block::Other
            }
            BlockIn::ToolUse { id, name, input } => {
                let call = self.next_call;
                self.next_call = self.next_call.saturating_add(1);
                out.push(StreamEvent::ToolCallStart {
                    index: call,
                    id,
                    name,
                });
                // Anthropic sends `{}` and streams the input; some proxies send it whole.
                if let Some(input) = input.filter(|v| !is_empty_object(v)) {
                    let arguments = input.to_string();
                    out.push(StreamEvent::ToolCallDelta {
                        index: call,
                        arguments,
                    });
                }
                Block::Tool { call, open: true }
            }
            BlockIn::Other => Block::Other,
        };
        self.blocks.insert(index, state);
    }

    fn block_delta(&mut self, index: u32, delta: DeltaIn, out: &mut Vec<StreamEvent>) {
        self.start("", out);
        let block = self.blocks.get(&index).copied();
        if block == Some(Block::Other) {
            return;
        }
        match delta {
            DeltaIn::TextDelta { text } => push_text(StreamEvent::TextDelta, text, out),
            DeltaIn::ThinkingDelta { thinking } => {
                push_text(StreamEvent::ReasoningDelta, thinking, out);
            }
            // The block's own signature replaces one its start carried.
            DeltaIn::SignatureDelta { signature } => {
                if matches!(block, None | Some(Block::Thinking)) {
                    self.signatures.remove(&index);
                    let signature = signature.unwrap_or_default();
                    push_text(StreamEvent::ReasoningSignature, signature, out);
                }
            }
            DeltaIn::InputJsonDelta { partial_json } => {
                // Fragments need a started call to belong to.
                if let Some(Block::Tool { call, open: true }) = block
                    && !partial_json.is_empty()
                {
                    out.push(StreamEvent::ToolCallDelta {
                        index: call,
                        arguments: partial_json,
                    });
                }
            }
            DeltaIn::Other => {}
        }
    }
}

fn push_text(event: fn(String) -> StreamEvent, text: String, out: &mut Vec<StreamEvent>) {
    if !text.is_empty() {
        out.push(event(text));
    }
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(serde_json::Map::is_empty)
}

/// The core reason for a `stop_reason`. `pause_turn` (a server tool paused the turn)
/// ends this answer normally; unknown reasons are a normal stop.
fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "stop_sequence" => FinishReason::StopSequence,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}
