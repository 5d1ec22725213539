//! Core events -> UI message chunks.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};

use rill_sse::FrameBuf;

use super::calls::Calls;
use super::out::{ChunkOut, MetadataOut, ProviderMetadataOut, ReasoningMetadataOut, UsageOut};
use crate::dialect::{EventEncoder, payload_strings};

/// The payload that ends every UI message stream.
pub const DONE: &str = "[DONE]";

/// Stateful streaming encoder: core events -> SSE `data:` payloads, each a JSON UI
/// message chunk or `[DONE]`. Frame each returned string as one data-only SSE event
/// (`data: <payload>\n\n`).
///
/// The sequence is `start` (with the message id) and `start-step` (sent on
/// [`StreamEvent::Start`], or before the first content if `Start` never came), the
/// content, `finish-step`, `finish`, and `[DONE]` from [`finish`](Self::finish):
///
/// - text (refusal text too: this dialect has no separate place for it) streams as
///   `text-start` / `text-delta` / `text-end`, reasoning as `reasoning-start` / `-delta`
///   / `-end`; a block ends when other content comes, so text after a tool call is a new
///   part after it. Block ids are `text-<n>` and `reasoning-<n>`, unique in the answer;
/// - a reasoning signature ends the open reasoning part with `reasoning-end
///   {providerMetadata: {rill: {signature}}}`, or, with none open, comes as an empty
///   reasoning part of its own; a redacted block is an empty reasoning part ending with
///   `{rill: {redactedData}}`. `useChat` keeps the metadata on the part and sends it
///   back, which [`parse_request`](super::parse_request) reads;
/// - a tool call streams as `tool-input-start` and `tool-input-delta`s (parallel calls
///   may interleave: the client keys them by `toolCallId`), and at
///   [`StreamEvent::ToolCallEnd`] (or `Finish`) becomes `tool-input-available` with the
///   arguments parsed as `input`. Arguments that are not JSON, or that the client's
///   parser would refuse (see `input.rs`), become `tool-output-error` instead: the
///   call's part then shows the error, is not handed to `onToolCall`, and counts as
///   answered, so the next request tells the model what went wrong (what the SDK's
///   server does with its `tool-input-error`, which `ai@5.0.0` does not know);
/// - `Finish` ends every block and sends `finish-step`; the `finish` chunk waits for a
///   [`StreamEvent::Usage`] that comes after it, or for [`finish`](Self::finish). It
///   carries the finish reason and the usage, when known, as `messageMetadata:
///   {finishReason, usage?: {inputTokens, outputTokens, totalTokens, reasoningTokens?,
///   cachedInputTokens?}}`, which `useChat` merges into the message's `metadata`;
/// - an `Error` becomes `error {errorText}` (`useChat` sets `status: "error"` and
///   `error.message`), except an [`ErrorKind::Cancelled`] one, which ends the open blocks
///   and becomes `abort`: the answer stops without an error. Nothing but `[DONE]`
///   follows either. A stream that ends without `Finish` or `Error` gets an `error`:
///   a truncated answer never ends cleanly.
///
/// Every chunk has exactly the keys `ai@5.0.0`'s strict schema allows; `finishReason`
/// is only sent after [`with_finish_reason`](Self::with_finish_reason). Empty deltas
/// produce nothing.
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    /// The answer's message id.
    message_id: String,
    finish_reason: bool,
    started: bool,
    /// The open text or reasoning block.
    open: Option<Block>,
    next_block: u32,
    calls: Calls,
    usage: Option<Usage>,
    /// Set by `Finish`: the `finish` chunk still to send.
    finished: Option<FinishReason>,
    /// `finish`, `error` or `abort` is out; only `[DONE]` is left.
    ended: bool,
    done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Reasoning,
}

#[derive(Debug, Clone)]
struct Block {
    kind: Kind,
    id: String,
}

impl StreamEncoder {
    /// `id` is fresh for this response (`msg-<random>`): the answer's message id, and the
    /// stem of ids for tool calls that come without one (`<id>-call-<index>`).
    /// `continues` is [`ParsedRequest::continues`](super::ParsedRequest::continues): when
    /// set, `start` carries that id instead, so that `useChat` extends the message.
    pub fn new(id: String, continues: Option<String>) -> Self {
        Self {
            message_id: continues.unwrap_or_else(|| id.clone()),
            calls: Calls::new(id),
            finish_reason: false,
            started: false,
            open: None,
            next_block: 0,
            usage: None,
            finished: None,
            ended: false,
            done: false,
        }
    }

    /// Also sends `finish.finishReason` (`stop`, `length`, `tool-calls`,
    /// `content-filter`), which `useChat` hands to `onFinish`. Only for clients on
    /// `ai` >= 5.0.92: earlier 5.x versions refuse a `finish` chunk with that key and
    /// fail the stream.
    pub fn with_finish_reason(mut self) -> Self {
        self.finish_reason = true;
        self
    }

    /// Encodes one event into zero or more payloads.
    pub fn encode(&mut self, event: &StreamEvent) -> Vec<String> {
        payload_strings(|out| self.encode_into(event, out))
    }

    /// Call once when the core stream has ended: the closing payloads.
    pub fn finish(&mut self) -> Vec<String> {
        payload_strings(|out| self.finish_into(out))
    }

    fn encode_into(&mut self, event: &StreamEvent, out: &mut FrameBuf) {
        if self.ended {
            return;
        }
        if self.finished.is_some() {
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
            StreamEvent::TextDelta(text) | StreamEvent::RefusalDelta(text) if !text.is_empty() => {
                self.text(Kind::Text, text, out);
            }
            StreamEvent::ReasoningDelta(text) if !text.is_empty() => {
                self.text(Kind::Reasoning, text, out);
            }
            StreamEvent::ReasoningSignature(signature) if !signature.is_empty() => {
                self.seal(ReasoningMetadataOut::Signature(signature), out);
            }
            StreamEvent::ReasoningRedacted(data) if !data.is_empty() => {
                self.start(out);
                self.close(out);
                self.seal(ReasoningMetadataOut::RedactedData(data), out);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.tool_start(*index, id, name, out);
            }
            StreamEvent::ToolCallDelta { index, arguments } if !arguments.is_empty() => {
                self.tool_args(*index, arguments, out);
            }
            StreamEvent::ToolCallEnd { index } => self.calls.end(*index, out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => {
                self.start(out);
                self.close(out);
                self.calls.end_all(out);
                ChunkOut::FinishStep.write(out);
                self.finished = Some(*reason);
            }
            StreamEvent::Error(error) => self.error(error, out),
            // Empty deltas.
            StreamEvent::TextDelta(_)
            | StreamEvent::RefusalDelta(_)
            | StreamEvent::ReasoningDelta(_)
            | StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_)
            | StreamEvent::ToolCallDelta { .. } => {}
        }
    }

    /// Sends `finish` after a `Finish` (with the usage known), or an `error` if the
    /// stream stopped without finishing, and `[DONE]`, unless `[DONE]` is already out.
    fn finish_into(&mut self, out: &mut FrameBuf) {
        if self.done {
            return;
        }
        if !self.ended {
            if self.finished.is_some() {
                self.end(out);
            } else {
                let error = Error::upstream("the stream ended before the generation finished");
                self.error(&error, out);
            }
        }
        out.frame_str(None, DONE);
        self.done = true;
    }

    /// Whether `[DONE]` has been produced.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// `start` and `start-step`, once.
    fn start(&mut self, out: &mut FrameBuf) {
        if self.started {
            return;
        }
        self.started = true;
        ChunkOut::Start {
            message_id: &self.message_id,
        }
        .write(out);
        ChunkOut::StartStep.write(out);
    }

    fn text(&mut self, kind: Kind, delta: &str, out: &mut FrameBuf) {
        self.start(out);
        self.open_block(kind, out);
        if let Some(block) = &self.open {
            let id = &block.id;
            match kind {
                Kind::Text => ChunkOut::TextDelta { id, delta }.write(out),
                Kind::Reasoning => ChunkOut::ReasoningDelta { id, delta }.write(out),
            }
        }
    }

    /// Opens a block of `kind` unless one is open, ending the open one of the other kind.
    fn open_block(&mut self, kind: Kind, out: &mut FrameBuf) {
        if self.open.as_ref().is_some_and(|block| block.kind == kind) {
            return;
        }
        self.close(out);
        let prefix = match kind {
            Kind::Text => "text",
            Kind::Reasoning => "reasoning",
        };
        let id = format!("{prefix}-{}", self.next_block);
        self.next_block = self.next_block.saturating_add(1);
        match kind {
            Kind::Text => ChunkOut::TextStart { id: &id }.write(out),
            Kind::Reasoning => ChunkOut::ReasoningStart { id: &id }.write(out),
        }
        self.open = Some(Block { kind, id });
    }

    /// Ends the open reasoning part (an empty one when none is open) with `metadata`.
    fn seal(&mut self, metadata: ReasoningMetadataOut<'_>, out: &mut FrameBuf) {
        self.start(out);
        self.open_block(Kind::Reasoning, out);
        if let Some(Block { id, .. }) = self.open.take() {
            let provider_metadata = Some(ProviderMetadataOut { rill: metadata });
            ChunkOut::ReasoningEnd {
                id: &id,
                provider_metadata,
            }
            .write(out);
        }
    }

    /// Ends the open text or reasoning block, if any.
    fn close(&mut self, out: &mut FrameBuf) {
        if let Some(Block { kind, id }) = self.open.take() {
            match kind {
                Kind::Text => ChunkOut::TextEnd { id: &id }.write(out),
                Kind::Reasoning => ChunkOut::ReasoningEnd {
                    id: &id,
                    provider_metadata: None,
                }
                .write(out),
            }
        }
    }

    /// `tool-input-start`, once per core index; it ends the open text block.
    fn tool_start(&mut self, index: u32, id: &str, name: &str, out: &mut FrameBuf) {
        if self.calls.knows(index) {
            return;
        }
        self.start(out);
        self.close(out);
        self.calls.start(index, id, name, out);
    }

    /// A fragment of a call's arguments. A fragment of a call that never started opens
    /// it unnamed.
    fn tool_args(&mut self, index: u32, arguments: &str, out: &mut FrameBuf) {
        self.tool_start(index, "", "", out);
        self.calls.args(index, arguments, out);
    }

    /// `finish`, with the usage known.
    fn end(&mut self, out: &mut FrameBuf) {
        let Some(reason) = self.finished else {
            return;
        };
        let chunk = ChunkOut::Finish {
            finish_reason: self.finish_reason.then(|| finish_reason(reason)),
            message_metadata: Some(MetadataOut {
                finish_reason: finish_reason(reason),
                usage: self.usage.as_ref().map(UsageOut::from),
            }),
        };
        chunk.write(out);
        self.ended = true;
    }

    fn error(&mut self, error: &Error, out: &mut FrameBuf) {
        if error.kind == ErrorKind::Cancelled {
            self.close(out);
            ChunkOut::Abort.write(out);
        } else {
            ChunkOut::Error {
                error_text: &error.message,
            }
            .write(out);
        }
        self.ended = true;
    }
}

/// The `finishReason` for a core reason.
fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopSequence => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool-calls",
        FinishReason::ContentFilter => "content-filter",
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
