//! Streaming responses: a session's frames, each written and flushed as soon as it
//! exists, and the dialect encoders that make them.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use rill_core::StreamEvent;

use crate::session::Subscription;

/// The header that names a stream's id, for `GET /v1/streams/{id}` and its cancel.
pub const STREAM_ID_HEADER: HeaderName = HeaderName::from_static("x-rill-stream-id");

/// One SSE event's content before framing: its `event:` name, if the dialect names its
/// events, and its data. The subscriber adds the `id:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub event: Option<&'static str>,
    pub data: String,
}

/// Turns core events into one dialect's SSE payloads. One instance per subscriber; it
/// must be deterministic (the same events give the same payloads), which is what makes a
/// replay after a reconnect give the same frames.
pub trait DialectEncoder: Send + 'static {
    /// Appends the payloads for `event` to `out` (possibly none).
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<Payload>);
    /// Appends the closing payloads after the last event (e.g. `data: [DONE]`).
    fn finish(&mut self, out: &mut Vec<Payload>);
}

/// A dialect's stateful encoder (in `rill-wire`): core events in, payloads out.
pub trait WireEncoder: Send + 'static {
    type Payload: Into<Payload>;
    fn encode(&mut self, event: &StreamEvent) -> Vec<Self::Payload>;
    fn finish(&mut self) -> Vec<Self::Payload>;
}

/// Data-only dialects (OpenAI Chat, the AI SDK UI stream): `data: <payload>`.
impl From<String> for Payload {
    fn from(data: String) -> Self {
        Self { event: None, data }
    }
}

/// Named-event dialects (Anthropic Messages, OpenAI Responses): `event:` and `data:`.
impl From<rill_wire::SseEvent> for Payload {
    fn from(event: rill_wire::SseEvent) -> Self {
        Self {
            event: Some(event.event),
            data: event.data,
        }
    }
}

/// Frames every payload of a [`WireEncoder`].
pub struct Framed<E>(pub E);

impl<E: WireEncoder> DialectEncoder for Framed<E> {
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<Payload>) {
        out.extend(self.0.encode(event).into_iter().map(Into::into));
    }

    fn finish(&mut self, out: &mut Vec<Payload>) {
        out.extend(self.0.finish().into_iter().map(Into::into));
    }
}

/// Implements [`WireEncoder`] for encoders with inherent `encode`/`finish` methods.
macro_rules! wire_encoder {
    ($($encoder:ty => $payload:ty),* $(,)?) => {$(
        impl WireEncoder for $encoder {
            type Payload = $payload;
            fn encode(&mut self, event: &StreamEvent) -> Vec<$payload> {
                <$encoder>::encode(self, event)
            }
            fn finish(&mut self) -> Vec<$payload> {
                <$encoder>::finish(self)
            }
        }
    )*};
}

wire_encoder! {
    rill_wire::openai_chat::StreamEncoder => String,
    rill_wire::anthropic::StreamEncoder => rill_wire::SseEvent,
    rill_wire::openai_responses::StreamEncoder => rill_wire::SseEvent,
    rill_wire::vercel_ui::StreamEncoder => String,
}

/// The SSE response of `subscription`: its frames as they come, the stream's id in
/// `x-rill-stream-id`, and the session's own headers.
pub fn response(subscription: Subscription) -> Response {
    let session = std::sync::Arc::clone(subscription.session());
    let mut response = Response::new(Body::from_stream(subscription.into_body()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Ok(id) = HeaderValue::from_str(session.id()) {
        headers.insert(STREAM_ID_HEADER, id);
    }
    for (name, value) in session.headers() {
        headers.insert(name.clone(), value.clone());
    }
    response
}
