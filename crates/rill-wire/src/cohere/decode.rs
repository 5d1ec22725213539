//! Upstream side: Cohere v2 chat stream events -> core events.

use std::collections::BTreeMap;

use rill_core::{ErrorKind, FinishReason, StreamEvent};

use super::error::{error_event, stream_error};
use super::events_in::{DeltaIn, EndDeltaIn, EventIn, ToolCallIn, parse};

/// Decodes the events of a Cohere `/v2/chat` stream (SSE event name and data) into core
/// events.
///
/// - `message-start` (or whatever comes first) -> `Start`. Cohere's stream does not name
///   the model, so `Start` carries the one the decoder was made with (the request's);
/// - `content-start` and `content-delta` -> `TextDelta` (`delta.message.content.text`), or
///   `ReasoningDelta` for a reasoning model's `content.thinking`; empty ones -> nothing;
/// - `tool-plan-delta` (the model's plan before it calls tools) -> `ReasoningDelta`;
/// - `tool-call-start` -> `ToolCallStart` (with Cohere's call id and the function's name)
///   and, when it already has some, a `ToolCallDelta` with the arguments;
///   `tool-call-delta` -> `ToolCallDelta` (the `function.arguments` fragment);
///   `tool-call-end` -> `ToolCallEnd`. Calls are numbered 0, 1, ... in the order they
///   start; an event without an `index` belongs to the latest call;
/// - `message-end` -> `Usage` (see below), then by `finish_reason`: `COMPLETE` is `Stop`
///   (`ToolCalls` if the answer made a call), `STOP_SEQUENCE` `StopSequence`,
///   `MAX_TOKENS` `Length`, `TOOL_CALL` `ToolCalls`, an unknown reason as `COMPLETE`;
///   calls that never ended get their `ToolCallEnd` first. `ERROR` is an `Error`
///   ([`ErrorKind::Upstream`], with `delta.error` as its message when there is one) and
///   `TIMEOUT` one of [`ErrorKind::Timeout`]: a generation that failed must not look
///   finished. Nothing after it is read;
/// - an `error` event (not in Cohere's documented stream; tolerated for proxies) ->
///   `Error` with its data's `message`.
///
/// Usage is `delta.usage.tokens` (what the model read and wrote, prompt template
/// included), each count falling back to `billed_units` when it is missing.
///
/// Ignored: `content-end`, `citation-start`, `citation-end`, and event types it does not
/// know. Only `message-end` finishes: a stream that ends before it was cut off, and
/// [`rill_core::terminated`] turns it into an error.
#[derive(Debug, Clone, Default)]
pub struct EventDecoder {
    model: String,
    started: bool,
    /// `message-end` or an error was decoded: nothing more is read.
    done: bool,
    /// Cohere's call index -> (core call index, still open).
    calls: BTreeMap<u32, (u32, bool)>,
    /// The core index of the latest call to start.
    latest: Option<u32>,
    next_call: u32,
}

/// The event names whose data the decoder reads; `message` is an event without an
/// `event:` line, dispatched on its data's `type`.
const READ: [&str; 10] = [
    "message",
    "message-start",
    "content-start",
    "content-delta",
    "tool-plan-delta",
    "tool-call-start",
    "tool-call-delta",
    "tool-call-end",
    "message-end",
    "error",
];

impl EventDecoder {
    /// A decoder whose `Start` names `model`, the upstream model the request asked for.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            ..Self::default()
        }
    }

    /// Decodes one SSE event: its name (`rill_sse::Event::event`) and data.
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). JSON padded with
    /// spaces is fine; data without a `type` takes the event name as its type. Empty data
    /// and events after the end decode to nothing.
    pub fn decode(
        &mut self,
        event: &str,
        data: &str,
    ) -> Result<Vec<StreamEvent>, rill_core::Error> {
        let data = data.trim();
        if self.done || !READ.contains(&event) {
            return Ok(Vec::new());
        }
        if event == "error" {
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

    /// Whether `message-end` or an error was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn apply(&mut self, event: EventIn, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                model: self.model.clone(),
            });
        }
        match event {
            EventIn::ContentStart { delta } | EventIn::ContentDelta { delta } => {
                let content = delta.and_then(|d| d.message).and_then(|m| m.content);
                if let Some(content) = content {
                    push_text(StreamEvent::ReasoningDelta, content.thinking, out);
                    push_text(StreamEvent::TextDelta, content.text, out);
                }
            }
            EventIn::ToolPlanDelta { delta } => {
                let plan = delta.and_then(|d| d.message).and_then(|m| m.tool_plan);
                push_text(StreamEvent::ReasoningDelta, plan, out);
            }
            EventIn::ToolCallStart { index, delta } => {
                self.call_start(index, tool_call(delta), out);
            }
            EventIn::ToolCallDelta { index, delta } => {
                let arguments = tool_call(delta)
                    .and_then(|c| c.function)
                    .and_then(|f| f.arguments)
                    .filter(|a| !a.is_empty());
                if let (Some(call), Some(arguments)) = (self.open_call(index), arguments) {
                    out.push(StreamEvent::ToolCallDelta {
                        index: call,
                        arguments,
                    });
                }
            }
            EventIn::ToolCallEnd { index } => {
                if let Some(call) = self.open_call(index) {
                    self.close(call);
                    out.push(StreamEvent::ToolCallEnd { index: call });
                }
            }
            EventIn::MessageEnd { delta } => self.message_end(delta, out),
            EventIn::MessageStart {} | EventIn::Other => {}
        }
    }

    fn call_start(
        &mut self,
        index: Option<u32>,
        call: Option<ToolCallIn>,
        out: &mut Vec<StreamEvent>,
    ) {
        let key = index.unwrap_or(self.next_call);
        if self.calls.contains_key(&key) {
            return;
        }
        let number = self.next_call;
        self.next_call = self.next_call.saturating_add(1);
        self.calls.insert(key, (number, true));
        self.latest = Some(number);
        let (id, function) = match call {
            Some(call) => (call.id, call.function),
            None => (None, None),
        };
        let (name, arguments) = match function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        out.push(StreamEvent::ToolCallStart {
            index: number,
            id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
        });
        if let Some(arguments) = arguments.filter(|a| !a.is_empty()) {
            out.push(StreamEvent::ToolCallDelta {
                index: number,
                arguments,
            });
        }
    }

    /// The core index of the open call Cohere's `index` (or, without one, the latest
    /// call) names.
    fn open_call(&self, index: Option<u32>) -> Option<u32> {
        let call = match index {
            Some(index) => self.calls.get(&index).copied(),
            None => self
                .latest
                .and_then(|latest| self.calls.values().copied().find(|(n, _)| *n == latest)),
        };
        call.filter(|(_, open)| *open).map(|(number, _)| number)
    }

    fn close(&mut self, call: u32) {
        for (number, open) in self.calls.values_mut() {
            if *number == call {
                *open = false;
            }
        }
    }

    fn message_end(&mut self, delta: Option<EndDeltaIn>, out: &mut Vec<StreamEvent>) {
        self.done = true;
        let (reason, error, usage) = match delta {
            Some(delta) => (delta.finish_reason, delta.error, delta.usage),
            None => (None, None, None),
        };
        if let Some(usage) = usage.and_then(|u| u.core()) {
            out.push(StreamEvent::Usage(usage));
        }
        let called = self.next_call > 0;
        let finish = match reason.as_deref() {
            Some("ERROR") => {
                let error = stream_error(
                    ErrorKind::Upstream,
                    error,
                    "the upstream's generation failed",
                );
                out.push(StreamEvent::Error(error));
                return;
            }
            Some("TIMEOUT") => {
                let error = stream_error(
                    ErrorKind::Timeout,
                    error,
                    "the upstream's generation timed out",
                );
                out.push(StreamEvent::Error(error));
                return;
            }
            Some("MAX_TOKENS") => FinishReason::Length,
            Some("STOP_SEQUENCE") => FinishReason::StopSequence,
            Some("TOOL_CALL") => FinishReason::ToolCalls,
            _ if called => FinishReason::ToolCalls,
            _ => FinishReason::Stop,
        };
        for (number, open) in self.calls.values_mut() {
            if *open {
                *open = false;
                out.push(StreamEvent::ToolCallEnd { index: *number });
            }
        }
        out.push(StreamEvent::Finish(finish));
    }
}

fn tool_call(delta: Option<DeltaIn>) -> Option<ToolCallIn> {
    delta.and_then(|d| d.message).and_then(|m| m.tool_calls)
}

fn push_text(event: fn(String) -> StreamEvent, text: Option<String>, out: &mut Vec<StreamEvent>) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        out.push(event(text));
    }
}
