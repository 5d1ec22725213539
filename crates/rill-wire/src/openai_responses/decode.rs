//! Upstream side: Responses stream events -> core events.

use std::collections::BTreeMap;

use rill_core::{Error, FinishReason, StreamEvent};

use super::error::{error_event_in, failure_in};
use super::events_in::{EventIn, ItemIn, PartIn, ResponseIn, parse};

/// Decodes the events of a Responses stream (SSE event name and data) into core events.
///
/// - `response.created` (or `response.in_progress`) -> `Start` with the upstream's model;
/// - `message` items -> `TextDelta` (`response.output_text.delta`) and `RefusalDelta`
///   (`response.refusal.delta`); `reasoning` items -> `ReasoningDelta`
///   (`response.reasoning_summary_text.delta`, and `response.reasoning_text.delta` from
///   open-weight models; a summary's later parts are set apart with a blank line), and
///   their `encrypted_content` (sent when the request asked for it) ->
///   `ReasoningSignature` at the item's `response.output_item.done`;
/// - `function_call` items -> `ToolCallStart` (with the item's `call_id`),
///   `ToolCallDelta` (`response.function_call_arguments.delta`) and `ToolCallEnd` (at
///   `response.output_item.done`); calls are numbered 0, 1, ... in the order their items
///   are added. A message or call whose text never streamed takes it from its `.done`
///   event (servers that send items whole);
/// - `response.completed` -> `Usage` (when the Response object has one), `ToolCallEnd`
///   for every call still open, then `Finish`: `ToolCalls` when the answer called a
///   tool, else `Stop`. `response.incomplete` the same with `Length`
///   (`max_output_tokens`, or a reason rill does not know) or `ContentFilter`. Only
///   these finish: a stream that ends before one is truncated, and
///   [`rill_core::terminated`] turns it into an error;
/// - `error` (the nested shape real servers send or the documented flat one) and
///   `response.failed` -> `Error`, its kind read from the error's `type` and `code` as
///   [`crate::openai_chat`] reads them.
///
/// Ignored: any other event type (annotations, built-in tools' progress, `.done` events
/// that repeat streamed text, `response.queued`, whatever comes next), items of other
/// types, `data: [DONE]`, and events after the terminal one.
#[derive(Debug, Clone, Default)]
pub struct EventDecoder {
    started: bool,
    done: bool,
    /// Items by output index.
    items: BTreeMap<u32, Item>,
    /// Reasoning items' `encrypted_content` from `.added`, until their `.done`.
    encrypted: BTreeMap<u32, String>,
    next_call: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Message {
        streamed: bool,
    },
    Reasoning {
        streamed: bool,
        done: bool,
    },
    Call {
        call: u32,
        open: bool,
        streamed: bool,
    },
    Other,
}

/// The event names whose data the decoder reads; `message` is an event without an
/// `event:` line, dispatched on its data's `type`.
const READ: [&str; 15] = [
    "message",
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_text.delta",
    "response.refusal.delta",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
];

impl EventDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event: its name (`rill_sse::Event::event`) and data.
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). An `error` event is a
    /// [`StreamEvent::Error`] whatever its data says. JSON padded with spaces is fine.
    pub fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        let data = data.trim();
        if self.done {
            return Ok(Vec::new());
        }
        if event == "error" {
            // Whatever its data says, an `error` event is an error.
            return Ok(vec![self.error(data)]);
        }
        if !READ.contains(&event) || data.is_empty() || data == "[DONE]" {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match parse(data)? {
            // Without an `event:` line the data's `type` still says so.
            EventIn::Error {} => out.push(self.error(data)),
            event => self.apply(event, &mut out),
        }
        Ok(out)
    }

    /// Whether a terminal event or an error was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn apply(&mut self, event: EventIn, out: &mut Vec<StreamEvent>) {
        match event {
            EventIn::Created { response } => {
                let model = response.and_then(|r| r.model).unwrap_or_default();
                self.start(model, out);
            }
            EventIn::ItemAdded { output_index, item } => self.added(output_index, item, out),
            EventIn::ItemDone { output_index, item } => self.item_done(output_index, item, out),
            EventIn::TextDelta {
                output_index,
                delta,
            } => self.text(output_index, delta, StreamEvent::TextDelta, out),
            EventIn::RefusalDelta {
                output_index,
                delta,
            } => self.text(output_index, delta, StreamEvent::RefusalDelta, out),
            EventIn::SummaryPartAdded { summary_index } if summary_index > 0 => {
                self.start(String::new(), out);
                out.push(StreamEvent::ReasoningDelta("\n\n".to_owned()));
            }
            EventIn::ReasoningDelta {
                output_index,
                delta,
            } if !delta.is_empty() => {
                self.start(String::new(), out);
                if let Some(Item::Reasoning { streamed, .. }) = self.items.get_mut(&output_index) {
                    *streamed = true;
                }
                out.push(StreamEvent::ReasoningDelta(delta));
            }
            EventIn::ArgumentsDelta {
                output_index,
                delta,
            } => self.arguments(output_index, delta, out),
            EventIn::ArgumentsDone {
                output_index,
                arguments,
            } => {
                if let Some(Item::Call {
                    streamed: false, ..
                }) = self.items.get(&output_index)
                {
                    self.arguments(output_index, arguments, out);
                }
            }
            EventIn::Completed { response } => self.end(response, None, out),
            EventIn::Incomplete { response } => {
                let reason = response
                    .as_ref()
                    .and_then(|r| r.incomplete_details.as_ref())
                    .and_then(|d| d.reason.as_deref());
                let reason = match reason {
                    Some("content_filter") => FinishReason::ContentFilter,
                    _ => FinishReason::Length,
                };
                self.end(response, Some(reason), out);
            }
            EventIn::Failed { response } => {
                let error = response.and_then(|r| r.error);
                out.push(StreamEvent::Error(failure_in(error)));
                self.done = true;
            }
            EventIn::SummaryPartAdded { .. }
            | EventIn::ReasoningDelta { .. }
            | EventIn::Error {}
            | EventIn::Unknown => {}
        }
    }

    fn error(&mut self, data: &str) -> StreamEvent {
        self.done = true;
        StreamEvent::Error(error_event_in(data))
    }

    /// `Start`, once, before anything else this decoder emits.
    fn start(&mut self, model: String, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start { model });
        }
    }

    fn added(&mut self, index: u32, item: ItemIn, out: &mut Vec<StreamEvent>) {
        self.start(String::new(), out);
        if self.items.contains_key(&index) {
            return;
        }
        let state = match item {
            ItemIn::Message { .. } => Item::Message { streamed: false },
            ItemIn::Reasoning {
                encrypted_content, ..
            } => {
                if let Some(encrypted) = encrypted_content.filter(|e| !e.is_empty()) {
                    self.encrypted.insert(index, encrypted);
                }
                Item::Reasoning {
                    streamed: false,
                    done: false,
                }
            }
            ItemIn::FunctionCall {
                call_id,
                name,
                arguments,
            } => {
                let call = self.next_call;
                self.next_call = self.next_call.saturating_add(1);
                out.push(StreamEvent::ToolCallStart {
                    index: call,
                    id: call_id,
                    name,
                });
                let streamed = !arguments.is_empty();
                if streamed {
                    out.push(StreamEvent::ToolCallDelta {
                        index: call,
                        arguments,
                    });
                }
                Item::Call {
                    call,
                    open: true,
                    streamed,
                }
            }
            ItemIn::Other => Item::Other,
        };
        self.items.insert(index, state);
    }

    /// An item's end. An item never added (a server that sends items whole) is added
    /// first, with its arguments; text and arguments that never streamed come from the
    /// whole item.
    fn item_done(&mut self, index: u32, item: ItemIn, out: &mut Vec<StreamEvent>) {
        if !self.items.contains_key(&index) {
            self.added(index, item.clone(), out);
        }
        match (self.items.get(&index).copied(), item) {
            (Some(Item::Message { streamed: false }), ItemIn::Message { content }) => {
                for part in content {
                    match part {
                        PartIn::OutputText { text } => {
                            self.text(index, text, StreamEvent::TextDelta, out);
                        }
                        PartIn::Refusal { refusal } => {
                            self.text(index, refusal, StreamEvent::RefusalDelta, out);
                        }
                        PartIn::Other => {}
                    }
                }
            }
            (
                Some(Item::Reasoning {
                    streamed,
                    done: false,
                }),
                ItemIn::Reasoning {
                    summary,
                    encrypted_content,
                },
            ) => {
                if !streamed {
                    let summary = summary.unwrap_or_default();
                    let texts: Vec<_> = summary.iter().map(|part| part.text.as_str()).collect();
                    let text = texts.join("\n\n");
                    if !text.is_empty() {
                        out.push(StreamEvent::ReasoningDelta(text));
                    }
                }
                let done = Item::Reasoning {
                    streamed: true,
                    done: true,
                };
                self.items.insert(index, done);
                let added = self.encrypted.remove(&index);
                let encrypted = encrypted_content.filter(|e| !e.is_empty()).or(added);
                out.extend(encrypted.map(StreamEvent::ReasoningSignature));
            }
            (
                Some(Item::Call {
                    call,
                    open: true,
                    streamed,
                }),
                ItemIn::FunctionCall { arguments, .. },
            ) => {
                if !streamed {
                    self.arguments(index, arguments, out);
                }
                self.items.insert(
                    index,
                    Item::Call {
                        call,
                        open: false,
                        streamed: true,
                    },
                );
                out.push(StreamEvent::ToolCallEnd { index: call });
            }
            _ => {}
        }
    }

    fn text(
        &mut self,
        index: u32,
        text: String,
        event: fn(String) -> StreamEvent,
        out: &mut Vec<StreamEvent>,
    ) {
        if text.is_empty() {
            return;
        }
        self.start(String::new(), out);
        if let Some(Item::Message { streamed }) = self.items.get_mut(&index) {
            *streamed = true;
        }
        out.push(event(text));
    }

    /// Fragments need a started, open call to belong to.
    fn arguments(&mut self, index: u32, arguments: String, out: &mut Vec<StreamEvent>) {
        if let Some(Item::Call {
            call,
            open: true,
            streamed,
        }) = self.items.get_mut(&index)
            && !arguments.is_empty()
        {
            *streamed = true;
            out.push(StreamEvent::ToolCallDelta {
                index: *call,
                arguments,
            });
        }
    }

    /// A terminal event: the usage, the calls still open, `Finish`.
    fn end(
        &mut self,
        response: Option<ResponseIn>,
        reason: Option<FinishReason>,
        out: &mut Vec<StreamEvent>,
    ) {
        let response = response.unwrap_or_default();
        self.start(response.model.unwrap_or_default(), out);
        if let Some(usage) = response.usage {
            out.push(StreamEvent::Usage(usage.into()));
        }
        for item in self.items.values_mut() {
            if let Item::Call {
                call, open: true, ..
            } = *item
            {
                *item = Item::Call {
                    call,
                    open: false,
                    streamed: true,
                };
                out.push(StreamEvent::ToolCallEnd { index: call });
            }
        }
        let reason = reason.unwrap_or(if self.next_call > 0 {
            FinishReason::ToolCalls
        } else {
            FinishReason::Stop
        });
        out.push(StreamEvent::Finish(reason));
        self.done = true;
    }
}
