//! Core events -> chat-completions stream payloads.

use std::slice;

use rill_core::{FinishReason, StreamEvent, Usage};

use rill_sse::FrameBuf;

use super::error::error_body;
use super::out::{ChoiceOut, ChunkOut, DeltaOut, FunctionDeltaOut, ToolCallDeltaOut, UsageOut};
use crate::dialect::{EventEncoder, json_frame, payload_strings};

/// The payload that ends every chat-completions stream.
pub const DONE: &str = "[DONE]";

/// Stateful streaming encoder: core events -> SSE `data:` frames, each a JSON chunk or
/// `[DONE]`, written into a [`FrameBuf`] ([`EventEncoder`]; [`StreamEncoder::encode`]
/// returns the payloads as strings instead).
///
/// The first chunk carries `delta: {"role":"assistant","content":""}` (sent on
/// [`StreamEvent::Start`], or before the first content if `Start` never came). Reasoning is
/// sent as `delta.reasoning_content` (the DeepSeek convention most OpenAI-compatible
/// clients read). `Usage` is remembered and sent by [`finish`](Self::finish) in the final
/// `choices: []` chunk when `include_usage` was asked for (and omitted when no usage is
/// known). An `Error` becomes an `{"error":{...}}` payload and `[DONE]`; nothing follows.
/// After `Finish` only `Usage` and `Error` are still taken into account. Empty deltas,
/// `ToolCallEnd`, reasoning signatures and redacted reasoning produce nothing: this
/// dialect has no way to say them (Chat Completions has no standard field for a
/// signature, so a client of it cannot hand one back).
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    finished: bool,
    done: bool,
    usage: Option<Usage>,
}

impl StreamEncoder {
    /// `id` (`chatcmpl-...`), `model` and `created` (unix seconds) repeat on every chunk.
    pub fn new(id: String, model: String, created: u64, include_usage: bool) -> Self {
        Self {
            id,
            model,
            created,
            include_usage,
            started: false,
            finished: false,
            done: false,
            usage: None,
        }
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
        if self.done {
            return;
        }
        // After `Finish` only a late usage report (or an error) still means something.
        if self.finished && !matches!(event, StreamEvent::Usage(_) | StreamEvent::Error(_)) {
            return;
        }
        match event {
            StreamEvent::Start { .. } => self.start(out),
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                self.delta(
                    out,
                    DeltaOut {
                        content: Some(text),
                        ..DeltaOut::default()
                    },
                );
            }
            StreamEvent::ReasoningDelta(text) if !text.is_empty() => {
                let delta = DeltaOut {
                    reasoning_content: Some(text),
                    ..DeltaOut::default()
                };
                self.delta(out, delta);
            }
            StreamEvent::RefusalDelta(text) if !text.is_empty() => {
                self.delta(
                    out,
                    DeltaOut {
                        refusal: Some(text),
                        ..DeltaOut::default()
                    },
                );
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                let call = ToolCallDeltaOut {
                    index: *index,
                    id: Some(id),
                    kind: Some("function"),
                    function: FunctionDeltaOut {
                        name: Some(name),
                        arguments: "",
                    },
                };
                self.delta(
                    out,
                    DeltaOut {
                        tool_calls: Some([call]),
                        ..DeltaOut::default()
                    },
                );
            }
            StreamEvent::ToolCallDelta { index, arguments } if !arguments.is_empty() => {
                let call = ToolCallDeltaOut {
                    index: *index,
                    id: None,
                    kind: None,
                    function: FunctionDeltaOut {
                        name: None,
                        arguments,
                    },
                };
                self.delta(
                    out,
                    DeltaOut {
                        tool_calls: Some([call]),
                        ..DeltaOut::default()
                    },
                );
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => {
                self.start(out);
                self.chunk(out, DeltaOut::default(), Some(finish_reason(*reason)));
                self.finished = true;
            }
            StreamEvent::Error(error) => {
                out.frame_str(None, &error_body(error));
                out.frame_str(None, DONE);
                self.done = true;
            }
            // Empty deltas, `ToolCallEnd` and reasoning signatures and redacted blocks
            // have no representation in this dialect.
            StreamEvent::TextDelta(_)
            | StreamEvent::ReasoningDelta(_)
            | StreamEvent::RefusalDelta(_)
            | StreamEvent::ToolCallDelta { .. }
            | StreamEvent::ToolCallEnd { .. }
            | StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_) => {}
        }
    }

    /// Emits the usage chunk (if `include_usage` and a usage is known) and `[DONE]`,
    /// unless the stream is already done (after an error).
    fn finish_into(&mut self, out: &mut FrameBuf) {
        if self.done {
            return;
        }
        if let (true, Some(usage)) = (self.include_usage, &self.usage) {
            let chunk = ChunkOut {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                choices: &[],
                usage: Some(Some(UsageOut::from(usage))),
            };
            json_frame(out, None, &chunk, (None, FALLBACK));
        }
        out.frame_str(None, DONE);
        self.done = true;
    }

    /// Whether `[DONE]` has been produced.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The role chunk, once.
    fn start(&mut self, out: &mut FrameBuf) {
        if !self.started {
            self.started = true;
            let delta = DeltaOut {
                role: Some("assistant"),
                content: Some(""),
                ..DeltaOut::default()
            };
            self.chunk(out, delta, None);
        }
    }

    fn delta(&mut self, out: &mut FrameBuf, delta: DeltaOut<'_>) {
        self.start(out);
        self.chunk(out, delta, None);
    }

    fn chunk(&self, out: &mut FrameBuf, delta: DeltaOut<'_>, finish_reason: Option<&'static str>) {
        let choice = ChoiceOut {
            index: 0,
            delta,
            logprobs: (),
            finish_reason,
        };
        let chunk = ChunkOut {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            choices: slice::from_ref(&choice),
            usage: self.include_usage.then_some(None),
        };
        json_frame(out, None, &chunk, (None, FALLBACK));
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

/// What stands in for a chunk that failed to serialise (which cannot happen: these
/// types hold only strings, numbers and pass-through JSON values).
const FALLBACK: &str = r#"{"error":{"message":"rill failed to serialise a response","type":"server_error","param":null,"code":null}}"#;

/// The `finish_reason` string for a core reason.
pub(super) fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopSequence => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
    }
}
