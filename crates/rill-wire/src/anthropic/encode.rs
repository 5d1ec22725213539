//! Core events -> Anthropic Messages stream events.

use rill_core::{Error, FinishReason, StreamEvent, Usage};

use rill_sse::FrameBuf;

use super::blocks::{Blocks, Kind};
use super::error::error_out;
use super::out::{EventOut, MessageDeltaOut, MessageOut, SseEvent, UsageOut};
use crate::dialect::{EventEncoder, sse_events};

/// Stateful streaming encoder: core events -> Anthropic SSE events, each an event name
/// and its JSON data (frame each as `event: <event>` + `data: <data>`).
///
/// The sequence is `message_start` (sent on [`StreamEvent::Start`], or before the first
/// content if `Start` never came), content blocks (see below), `message_delta` with the
/// stop reason and usage, and `message_stop`. Text and refusal text become `text`
/// blocks (a refusal turns an `end_turn` into `refusal`); reasoning becomes `thinking`
/// blocks when the client asked for thinking and is dropped otherwise, as Claude sends
/// no thinking unasked; a reasoning signature becomes the `signature_delta` that ends
/// its thinking block, and a redacted block a `redacted_thinking` block, asked for or
/// not: the provider needs them back to go on (a signature whose text was dropped
/// comes in an empty thinking block). Tool calls become `tool_use` blocks whose
/// arguments stream as `input_json_delta`. One block is open at a time; content that
/// interleaves with an open tool call waits until that call ends (see `blocks.rs`).
///
/// `message_start` carries the usage known by then, usually none: its `input_tokens`
/// is then 0 and the real counts come in `message_delta` (the official SDKs take both
/// from there). Because `Usage` may come after `Finish`, `Finish` ends the blocks but
/// `message_delta` waits for a `Usage` that comes after it, or for
/// [`finish`](Self::finish). An `Error` becomes an `error` event and ends the stream.
/// Empty deltas produce nothing.
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    id: String,
    model: String,
    thinking: bool,
    started: bool,
    blocks: Blocks,
    refusal: bool,
    usage: Option<Usage>,
    /// Set by `Finish`: the `message_delta` still to send.
    stop_reason: Option<&'static str>,
    done: bool,
}

impl StreamEncoder {
    /// `id` (`msg_...`) and `model` go into `message_start`; `thinking` is
    /// [`ParsedRequest::thinking`](super::ParsedRequest::thinking). A tool call without an
    /// id gets `toolu_<id without msg_>_<index>`.
    pub fn new(id: String, model: String, thinking: bool) -> Self {
        Self {
            id,
            model,
            thinking,
            started: false,
            blocks: Blocks::default(),
            refusal: false,
            usage: None,
            stop_reason: None,
            done: false,
        }
    }

    /// Encodes one event into zero or more SSE events.
    pub fn encode(&mut self, event: &StreamEvent) -> Vec<SseEvent> {
        sse_events(|out| self.encode_into(event, out))
    }

    /// Call once when the core stream has ended: the closing SSE events.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        sse_events(|out| self.finish_into(out))
    }

    fn encode_into(&mut self, event: &StreamEvent, out: &mut FrameBuf) {
        if self.done {
            return;
        }
        if self.stop_reason.is_some() {
            // After `Finish` only a late usage report (or an error) still means something.
            match event {
                StreamEvent::Usage(usage) => {
                    self.usage = Some(*usage);
                    self.end(out);
                }
                StreamEvent::Error(error) => self.error(error, out),
                _ => {}
            }
            return;
        }
        match event {
            StreamEvent::Start { .. } => self.start(out),
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                self.start(out);
                self.blocks.text(Kind::Text, text, out);
            }
            StreamEvent::RefusalDelta(text) if !text.is_empty() => {
                self.start(out);
                self.refusal = true;
                self.blocks.text(Kind::Text, text, out);
            }
            StreamEvent::ReasoningDelta(text) if self.thinking && !text.is_empty() => {
                self.start(out);
                self.blocks.text(Kind::Thinking, text, out);
            }
            StreamEvent::ReasoningSignature(signature) if !signature.is_empty() => {
                self.start(out);
                self.blocks.signature(signature, out);
            }
            StreamEvent::ReasoningRedacted(data) if !data.is_empty() => {
                self.start(out);
                self.blocks.redacted(data, out);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.start(out);
                let id = self.tool_id(*index, id);
                self.blocks.tool_start(*index, &id, name, out);
            }
            StreamEvent::ToolCallDelta { index, arguments } if !arguments.is_empty() => {
                self.start(out);
                if !self.blocks.knows(*index) {
                    // A fragment of a call that never started: open it unnamed.
                    let id = self.tool_id(*index, "");
                    self.blocks.tool_start(*index, &id, "", out);
                }
                self.blocks.tool_args(*index, arguments, out);
            }
            StreamEvent::ToolCallEnd { index } => self.blocks.tool_end(*index, out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => {
                self.start(out);
                self.blocks.close_all(out);
                self.stop_reason = Some(stop_reason(*reason, self.refusal));
            }
            StreamEvent::Error(error) => self.error(error, out),
            // Empty deltas, and reasoning nobody asked for.
            StreamEvent::TextDelta(_)
            | StreamEvent::RefusalDelta(_)
            | StreamEvent::ReasoningDelta(_)
            | StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_)
            | StreamEvent::ToolCallDelta { .. } => {}
        }
    }

    /// Sends the `message_delta` (with the usage known, or zeros) and `message_stop`
    /// after a `Finish`. A stream that ended without `Finish` or `Error` (one not
    /// wrapped in [`rill_core::terminated`]) gets an `error` event instead: a truncated
    /// answer is never a clean `message_stop`.
    fn finish_into(&mut self, out: &mut FrameBuf) {
        if self.done {
            return;
        }
        if self.stop_reason.is_some() {
            self.end(out);
        } else {
            let error = Error::upstream("the stream ended before the generation finished");
            self.error(&error, out);
        }
    }

    /// Whether `message_stop` or `error` has been produced.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// `message_start`, once.
    fn start(&mut self, out: &mut FrameBuf) {
        if self.started {
            return;
        }
        self.started = true;
        let message = MessageOut {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: &self.model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: UsageOut::from(&self.usage.unwrap_or_default()),
        };
        EventOut::MessageStart { message }.write(out);
    }

    /// `message_delta` and `message_stop`.
    fn end(&mut self, out: &mut FrameBuf) {
        let Some(stop_reason) = self.stop_reason else {
            return;
        };
        let delta = MessageDeltaOut {
            stop_reason,
            stop_sequence: None,
        };
        let usage = UsageOut::from(&self.usage.unwrap_or_default());
        EventOut::MessageDelta { delta, usage }.write(out);
        EventOut::MessageStop.write(out);
        self.done = true;
    }

    fn error(&mut self, error: &Error, out: &mut FrameBuf) {
        EventOut::Error {
            error: error_out(error),
        }
        .write(out);
        self.done = true;
    }

    fn tool_id(&self, index: u32, id: &str) -> String {
        if id.is_empty() {
            let suffix = self.id.strip_prefix("msg_").unwrap_or(&self.id);
            format!("toolu_{suffix}_{index}")
        } else {
            id.to_owned()
        }
    }
}

/// The `stop_reason` for a core reason. A refusal that ended normally is a `refusal`.
pub(super) fn stop_reason(reason: FinishReason, refusal: bool) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopSequence if refusal => "refusal",
        FinishReason::Stop => "end_turn",
        FinishReason::StopSequence => "stop_sequence",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
    }
}

impl EventEncoder for StreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut FrameBuf) {
        self.encode_into(event, out);
    }

    fn finish(&mut self, out: &mut FrameBuf) {
        self.finish_into(out);
    }
}
