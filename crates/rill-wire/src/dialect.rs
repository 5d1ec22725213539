//! What a client dialect is, as one trait the server serves any dialect through.
//!
//! A dialect parses a request body into a core [`ChatRequest`] and its own options,
//! makes a stream encoder per reader (which writes numbered SSE frames straight into a
//! caller-owned [`FrameBuf`]), renders a collected answer as its non-streaming body and
//! an error as its error body, and may have a resume form of its own. The server's one
//! generation pipeline is generic over [`ClientDialect`]; adding a dialect is a module
//! here and a line in the server's route table.

use bytes::BufMut;
use rill_core::{ChatRequest, Completion, Error, StreamEvent};
use rill_sse::FrameBuf;
use serde::Serialize;

/// Turns core events into one dialect's SSE frames. One per reader of a stream; it must
/// be deterministic (the same events give the same frames), which is what makes a replay
/// after a reconnect give the same frames.
pub trait EventEncoder: Send + 'static {
    /// Writes the frames for `event` (possibly none).
    fn encode(&mut self, event: &StreamEvent, out: &mut FrameBuf);
    /// Writes the closing frames after the last event (`data: [DONE]`, say).
    fn finish(&mut self, out: &mut FrameBuf);
}

/// A dialect as a value: what the server keeps of it once the request is parsed (to
/// answer a stream's later errors, such as a 410 on an expired resume, in its shape).
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// A stable name (`openai-chat`): logs, metrics, records.
    pub name: &'static str,
    /// The error body, before the first byte of a response.
    pub error_body: fn(&Error) -> String,
    /// The error body's content type.
    pub error_content_type: &'static str,
}

impl PartialEq for Dialect {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Dialect {}

/// What every answer of a generation shares, whatever its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The response id (`chatcmpl-...`), also the stream's id.
    pub id: String,
    /// The model, by the name the client asked for.
    pub model: String,
    /// Unix seconds.
    pub created: u64,
}

/// A dialect's own way to resume a stream (besides `GET /v1/streams/{id}`).
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    /// The route, with the stream's id as `{id}`.
    pub path: &'static str,
    /// The frame a client has, from the request's query (`None`: from the start).
    pub after: fn(Option<&str>) -> Result<Option<u64>, Error>,
}

/// A client dialect, everything the server needs to serve it.
pub trait ClientDialect: Sized + Send + Sync + 'static {
    /// The dialect as a value.
    const DIALECT: Dialect;
    /// The prefix of the response ids it makes (`chatcmpl-`).
    const ID_PREFIX: &'static str;
    /// Response headers every stream of it carries besides the SSE ones.
    const STREAM_HEADERS: &'static [(&'static str, &'static str)] = &[];
    /// Its own resume form, if it has one.
    const RESUME: Option<Resume> = None;

    /// What a request asks besides the core request (stream or not, usage chunks, ...).
    type Options: Clone + Send + Sync + 'static;
    /// Its stream encoder.
    type Encoder: EventEncoder;

    /// Parses a request body. Errors are 400s naming the field at fault.
    fn parse(body: &[u8]) -> Result<(ChatRequest, Self::Options), Error>;
    /// Whether the request asked for a stream.
    fn streams(options: &Self::Options) -> bool;
    /// A fresh encoder for one reader of the stream.
    fn encoder(answer: &Answer, options: &Self::Options) -> Self::Encoder;
    /// The non-streaming body of a collected answer; `None` for a dialect that has no
    /// such form (whose [`ClientDialect::streams`] is always true).
    fn body(answer: &Answer, options: &Self::Options, completion: &Completion) -> Option<String>;
}

/// The frames an encoder writes for `events` and its finish, as (event name, data)
/// pairs: for tests and callers that frame events themselves.
pub fn payloads(
    encoder: &mut impl EventEncoder,
    events: &[StreamEvent],
    finish: bool,
) -> Vec<(Option<&'static str>, String)> {
    let mut out = FrameBuf::payloads();
    for event in events {
        encoder.encode(event, &mut out);
    }
    if finish {
        encoder.finish(&mut out);
    }
    out.take_payloads()
}

/// Writes `value` as one frame's JSON data; should it fail to serialise (which the
/// dialects' own output types cannot), `fallback` is written instead.
pub(crate) fn json_frame<T: Serialize>(
    out: &mut FrameBuf,
    event: Option<&'static str>,
    value: &T,
    fallback: (Option<&'static str>, &str),
) {
    if out
        .frame(event, |buf| serde_json::to_writer(buf.writer(), value))
        .is_err()
    {
        out.frame_str(fallback.0, fallback.1);
    }
}

/// The payloads an encoder call writes, as strings (data-only dialects).
pub(crate) fn payload_strings(write: impl FnOnce(&mut FrameBuf)) -> Vec<String> {
    let mut out = FrameBuf::payloads();
    write(&mut out);
    out.take_payloads()
        .into_iter()
        .map(|(_, data)| data)
        .collect()
}

/// The payloads an encoder call writes, as named events (named-event dialects).
pub(crate) fn sse_events(write: impl FnOnce(&mut FrameBuf)) -> Vec<crate::SseEvent> {
    let mut out = FrameBuf::payloads();
    write(&mut out);
    named_events(&mut out)
}

/// What a payloads-mode buffer holds, as named events; the buffer starts over.
pub(crate) fn named_events(out: &mut FrameBuf) -> Vec<crate::SseEvent> {
    out.take_payloads()
        .into_iter()
        .map(|(event, data)| crate::SseEvent {
            event: event.unwrap_or("message"),
            data,
        })
        .collect()
}
