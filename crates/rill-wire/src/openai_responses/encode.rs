//! Core events -> Responses stream events.

use rill_core::{Error, FinishReason, StreamEvent, Usage};

use super::echo::Echo;
use super::items::{Kind, Output};
use super::out::{Body, Sink, SinkExt, SseEvent, Wrapped};
use super::response::{Meta, Outcome, ResponseOut};
use crate::dialect::EventEncoder;

/// Stateful streaming encoder: core events -> Responses SSE events, each an event name
/// and its JSON data (frame each as `event: <event>` + `data: <data>`). Every event's
/// data carries its `type` (the event name) and a `sequence_number`: 0, 1, 2, ...
///
/// The sequence is `response.created` and `response.in_progress` (sent on
/// [`StreamEvent::Start`], or before the first content if `Start` never came), the
/// output items (see below), and one terminal event carrying the whole Response object
/// with its items and usage: `response.completed`, or `response.incomplete` when the
/// answer hit the length limit (`incomplete_details.reason: "max_output_tokens"`) or a
/// content filter (`"content_filter"`).
///
/// Items: text and refusal text stream into a `message` item (`output_text` and
/// `refusal` parts), reasoning into a `reasoning` item as summary text
/// (`response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`)
/// whose signature, when one seals it, is the `encrypted_content` of its
/// `response.output_item.done` (a client keeps it and sends the item back in `input`;
/// redacted reasoning has no place here and is left out),
/// tool calls into `function_call` items whose arguments stream as
/// `response.function_call_arguments.delta`. Each item opens with
/// `response.output_item.added` and ends with its `.done` events and
/// `response.output_item.done` carrying the whole item. An answer without any content
/// gets one empty message. See `items.rs` for when items end.
///
/// Because `Usage` may come after `Finish`, `Finish` ends the items but the terminal
/// event waits for a `Usage` that comes after it, or for [`finish`](Self::finish); its
/// `usage` is `null` when none came. An `Error` becomes an `error` event and
/// `response.failed`, and ends the stream. Empty deltas produce nothing.
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    info: Info,
    /// The frames of [`StreamEncoder::encode`] and [`StreamEncoder::finish`], numbered
    /// from the first event on.
    payloads: Sink,
    output: Output,
    started: bool,
    usage: Option<Usage>,
    /// Set by `Finish`: the terminal event still to send.
    finish: Option<FinishReason>,
    done: bool,
}

impl StreamEncoder {
    /// `id` (`resp_...`), `model`, `created_at` (unix seconds) and `echo`
    /// ([`ParsedRequest::echo`](super::ParsedRequest::echo)) go into every Response
    /// object. Item ids are `msg_`, `rs_` or `fc_`, then the id without `resp_` and the
    /// item's output index; a tool call without an id gets `call_<...>_<index>`.
    pub fn new(id: String, model: String, created_at: u64, echo: Echo) -> Self {
        Self {
            output: Output::new(id.clone()),
            info: Info {
                id,
                model,
                created_at,
                echo,
            },
            payloads: Sink::payloads(),
            started: false,
            usage: None,
            finish: None,
            done: false,
        }
    }

    /// Encodes one event into zero or more SSE events.
    pub fn encode(&mut self, event: &StreamEvent) -> Vec<SseEvent> {
        let mut sink = std::mem::take(&mut self.payloads);
        self.encode_into(event, &mut sink);
        self.payloads = sink;
        self.take_payloads()
    }

    /// Call once when the core stream has ended: the closing SSE events.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut sink = std::mem::take(&mut self.payloads);
        self.finish_into(&mut sink);
        self.payloads = sink;
        self.take_payloads()
    }

    fn take_payloads(&mut self) -> Vec<SseEvent> {
        crate::dialect::named_events(&mut self.payloads)
    }

    fn encode_into(&mut self, event: &StreamEvent, sink: &mut Sink) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            // After `Finish` only a late usage report (or an error) still means something.
            match event {
                StreamEvent::Usage(usage) => {
                    self.usage = Some(*usage);
                    self.end(sink);
                }
                StreamEvent::Error(error) => self.error(error, sink),
                _ => {}
            }
            return;
        }
        match event {
            StreamEvent::Start { .. } => self.start(sink),
            StreamEvent::TextDelta(text) if !text.is_empty() => {
                self.start(sink);
                self.output.text(Kind::Text, text, sink);
            }
            StreamEvent::RefusalDelta(text) if !text.is_empty() => {
                self.start(sink);
                self.output.text(Kind::Refusal, text, sink);
            }
            StreamEvent::ReasoningDelta(text) if !text.is_empty() => {
                self.start(sink);
                self.output.reasoning(text, sink);
            }
            StreamEvent::ReasoningSignature(signature) if !signature.is_empty() => {
                self.start(sink);
                self.output.reasoning_signature(signature, sink);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.start(sink);
                self.output.call_start(*index, id, name, sink);
            }
            StreamEvent::ToolCallDelta { index, arguments } if !arguments.is_empty() => {
                self.start(sink);
                if !self.output.knows(*index) {
                    // A fragment of a call that never started: open it unnamed.
                    self.output.call_start(*index, "", "", sink);
                }
                self.output.call_args(*index, arguments, sink);
            }
            StreamEvent::ToolCallEnd { index } => self.output.call_end(*index, sink),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => {
                self.start(sink);
                if self.output.is_empty() {
                    self.output.empty_message(sink);
                }
                let incomplete = matches!(Outcome::of(*reason), Outcome::Incomplete(_));
                self.output.close_all(incomplete, sink);
                self.finish = Some(*reason);
            }
            StreamEvent::Error(error) => self.error(error, sink),
            // Empty deltas, and redacted reasoning, which this dialect cannot tell from
            // a signature (an `encrypted_content` without a summary).
            StreamEvent::TextDelta(_)
            | StreamEvent::RefusalDelta(_)
            | StreamEvent::ReasoningDelta(_)
            | StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_)
            | StreamEvent::ToolCallDelta { .. } => {}
        }
    }

    /// Sends the terminal event after a `Finish`. A stream that ended without `Finish`
    /// or `Error` (one not wrapped in [`rill_core::terminated`]) gets an `error` event and
    /// `response.failed` instead: a truncated answer is never a clean
    /// `response.completed`.
    fn finish_into(&mut self, sink: &mut Sink) {
        if !self.done {
            if self.finish.is_some() {
                self.end(sink);
            } else {
                let error = Error::upstream("the stream ended before the generation finished");
                self.error(&error, sink);
            }
        }
    }

    /// Whether the terminal event (or `error` and `response.failed`) has been produced.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// `response.created` and `response.in_progress`, once.
    fn start(&mut self, sink: &mut Sink) {
        if self.started {
            return;
        }
        self.started = true;
        for body in [Body::Created, Body::InProgress] {
            let response =
                ResponseOut::new(self.info.meta(), Outcome::InProgress, Vec::new(), None);
            sink.push(body(Wrapped { response }));
        }
    }

    /// The terminal event after `Finish`.
    fn end(&mut self, sink: &mut Sink) {
        let Some(reason) = self.finish else {
            return;
        };
        let outcome = Outcome::of(reason);
        let output = self.output.items();
        let response = ResponseOut::new(self.info.meta(), outcome, output, self.usage.as_ref());
        let body = match outcome {
            Outcome::Incomplete(_) => Body::Incomplete,
            _ => Body::Completed,
        };
        sink.push(body(Wrapped { response }));
        self.done = true;
    }

    /// `error`, then `response.failed` with the items as they stood.
    fn error(&mut self, error: &Error, sink: &mut Sink) {
        self.start(sink);
        sink.push_error(error);
        let output = self.output.items();
        let outcome = Outcome::Failed(error);
        let response = ResponseOut::new(self.info.meta(), outcome, output, self.usage.as_ref());
        sink.push(Body::Failed(Wrapped { response }));
        self.done = true;
    }
}

/// What every Response object of the stream says about itself.
#[derive(Debug, Clone)]
struct Info {
    id: String,
    model: String,
    created_at: u64,
    echo: Echo,
}

impl Info {
    fn meta(&self) -> Meta<'_> {
        Meta {
            id: &self.id,
            model: &self.model,
            created_at: self.created_at,
            echo: &self.echo,
        }
    }
}

impl EventEncoder for StreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut Sink) {
        self.encode_into(event, out);
    }

    fn finish(&mut self, out: &mut Sink) {
        self.finish_into(out);
    }
}
