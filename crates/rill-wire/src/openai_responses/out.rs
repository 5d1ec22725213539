//! Serialise-side types of the stream: the events and their numbering. They borrow from
//! the encoder's state: nothing is cloned to write an event.

use bytes::BufMut;
use rill_core::Error;
use rill_sse::FrameBuf;
use serde::Serialize;

use super::error::error_event;
use super::item_out::{ItemOut, PartOut, SummaryOut};
use super::response::ResponseOut;

pub use crate::SseEvent;

/// Where the encoder's events go: numbered frames, whose numbers are the events'
/// `sequence_number`s (so an encoder writes into one buffer from its first event on).
pub(super) type Sink = FrameBuf;

/// Writing the stream's events into a [`Sink`].
pub(super) trait SinkExt {
    /// An event of `body`'s kind, numbered as the frame it goes in.
    fn push(&mut self, body: Body<'_>);
    /// The `error` event.
    fn push_error(&mut self, error: &Error);
}

impl SinkExt for Sink {
    fn push(&mut self, body: Body<'_>) {
        let event = EventOut {
            kind: body.name(),
            sequence_number: self.next_number(),
            body,
        };
        let written = self.frame(Some(event.kind), |buf| {
            serde_json::to_writer(buf.writer(), &event)
        });
        if written.is_err() {
            self.push_error(&Error::internal("rill failed to serialise a response"));
        }
    }

    fn push_error(&mut self, error: &Error) {
        let event = error_event(self.next_number(), error);
        self.frame_str(Some(event.event), &event.data);
    }
}

/// An event: its `type`, its number, and the fields of its kind.
#[derive(Serialize)]
struct EventOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    sequence_number: u64,
    #[serde(flatten)]
    body: Body<'a>,
}

/// The fields of each kind of event (the `error` event is [`Sink::push_error`]'s).
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Body<'a> {
    Created(Wrapped<'a>),
    InProgress(Wrapped<'a>),
    Completed(Wrapped<'a>),
    Incomplete(Wrapped<'a>),
    Failed(Wrapped<'a>),
    ItemAdded(ItemEvent<'a>),
    ItemDone(ItemEvent<'a>),
    PartAdded(PartEvent<'a>),
    PartDone(PartEvent<'a>),
    TextDelta(Delta<'a>),
    TextDone(TextDone<'a>),
    RefusalDelta(Delta<'a>),
    RefusalDone(RefusalDone<'a>),
    SummaryPartAdded(SummaryPartEvent<'a>),
    SummaryPartDone(SummaryPartEvent<'a>),
    SummaryDelta(SummaryDelta<'a>),
    SummaryDone(SummaryDone<'a>),
    ArgumentsDelta(ArgumentsDelta<'a>),
    ArgumentsDone(ArgumentsDone<'a>),
}

impl Body<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::Created(_) => "response.created",
            Self::InProgress(_) => "response.in_progress",
            Self::Completed(_) => "response.completed",
            Self::Incomplete(_) => "response.incomplete",
            Self::Failed(_) => "response.failed",
            Self::ItemAdded(_) => "response.output_item.added",
            Self::ItemDone(_) => "response.output_item.done",
            Self::PartAdded(_) => "response.content_part.added",
            Self::PartDone(_) => "response.content_part.done",
            Self::TextDelta(_) => "response.output_text.delta",
            Self::TextDone(_) => "response.output_text.done",
            Self::RefusalDelta(_) => "response.refusal.delta",
            Self::RefusalDone(_) => "response.refusal.done",
            Self::SummaryPartAdded(_) => "response.reasoning_summary_part.added",
            Self::SummaryPartDone(_) => "response.reasoning_summary_part.done",
            Self::SummaryDelta(_) => "response.reasoning_summary_text.delta",
            Self::SummaryDone(_) => "response.reasoning_summary_text.done",
            Self::ArgumentsDelta(_) => "response.function_call_arguments.delta",
            Self::ArgumentsDone(_) => "response.function_call_arguments.done",
        }
    }
}

#[derive(Serialize)]
pub(super) struct Wrapped<'a> {
    pub response: ResponseOut<'a>,
}

#[derive(Serialize)]
pub(super) struct ItemEvent<'a> {
    pub output_index: usize,
    pub item: ItemOut<'a>,
}

#[derive(Serialize)]
pub(super) struct PartEvent<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    pub part: PartOut<'a>,
}

/// An `output_text` or `refusal` delta.
#[derive(Serialize)]
pub(super) struct Delta<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    pub delta: &'a str,
    /// Only on text deltas (always empty: rill sends no log probabilities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<[(); 0]>,
}

#[derive(Serialize)]
pub(super) struct TextDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    pub text: &'a str,
    pub logprobs: [(); 0],
}

#[derive(Serialize)]
pub(super) struct RefusalDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    pub refusal: &'a str,
}

#[derive(Serialize)]
pub(super) struct SummaryPartEvent<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: usize,
    pub part: SummaryOut<'a>,
}

#[derive(Serialize)]
pub(super) struct SummaryDelta<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: usize,
    pub delta: &'a str,
}

#[derive(Serialize)]
pub(super) struct SummaryDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: usize,
    pub text: &'a str,
}

#[derive(Serialize)]
pub(super) struct ArgumentsDelta<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub delta: &'a str,
}

#[derive(Serialize)]
pub(super) struct ArgumentsDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub arguments: &'a str,
}
