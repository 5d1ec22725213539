//! Streaming responses: core events in, one flushed SSE frame per event out.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use rill_core::{Error, ErrorKind, EventStream, StreamEvent};
use rill_sse::Frame;
use tokio_util::sync::CancellationToken;

/// Turns core events into one dialect's SSE bytes. One instance per response.
pub trait DialectEncoder: Send + 'static {
    /// Appends the frames for `event` to `out` (possibly none).
    fn encode(&mut self, event: &StreamEvent, out: &mut String);
    /// Appends the closing frames after the last event (e.g. `data: [DONE]`).
    fn finish(&mut self, out: &mut String);
}

/// A dialect's stateful encoder (in `rill-wire`): core events in, payloads out.
pub trait WireEncoder: Send + 'static {
    type Payload: IntoFrame;
    fn encode(&mut self, event: &StreamEvent) -> Vec<Self::Payload>;
    fn finish(&mut self) -> Vec<Self::Payload>;
}

/// One payload as an SSE frame.
pub trait IntoFrame {
    fn encode_into(&self, out: &mut String);
}

/// Data-only dialects (OpenAI Chat, the AI SDK UI stream): `data: <payload>`.
impl IntoFrame for String {
    fn encode_into(&self, out: &mut String) {
        Frame::data(self).encode_into(out);
    }
}

/// Named-event dialects (Anthropic Messages, OpenAI Responses): `event:` and `data:`.
impl IntoFrame for rill_wire::SseEvent {
    fn encode_into(&self, out: &mut String) {
        Frame::data(&self.data).event(self.event).encode_into(out);
    }
}

/// Frames every payload of a [`WireEncoder`].
pub struct Framed<E>(pub E);

impl<E: WireEncoder> DialectEncoder for Framed<E> {
    fn encode(&mut self, event: &StreamEvent, out: &mut String) {
        for payload in self.0.encode(event) {
            payload.encode_into(out);
        }
    }

    fn finish(&mut self, out: &mut String) {
        for payload in self.0.finish() {
            payload.encode_into(out);
        }
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

/// An SSE response that polls `stream` directly: every event is encoded and handed to
/// hyper as its own body frame, so it is written as soon as it exists. When the client
/// goes away hyper drops the body, which drops `stream` and stops the generation. When
/// `abort` fires (shutdown deadline), the client gets a final error event instead.
pub fn response(
    stream: EventStream,
    encoder: impl DialectEncoder,
    abort: CancellationToken,
) -> Response {
    let state = State {
        stream: Some(stream),
        encoder,
        abort,
        out: String::new(),
    };
    let body = futures_util::stream::unfold(state, State::next_frame);
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

struct State<E> {
    /// `None` once the stream has ended and the closing frames were written.
    stream: Option<EventStream>,
    encoder: E,
    abort: CancellationToken,
    out: String,
}

impl<E> Drop for State<E> {
    fn drop(&mut self) {
        if self.stream.is_some() {
            // hyper dropped the body before the stream ended: the client went away.
            tracing::info!("client disconnected; generation cancelled");
        }
    }
}

impl<E: DialectEncoder> State<E> {
    async fn next_frame(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            let stream = self.stream.as_mut()?;
            let event = tokio::select! {
                biased;
                () = self.abort.cancelled() => Some(StreamEvent::Error(
                    Error::new(ErrorKind::Overloaded, "the server is shutting down; retry the request"),
                )),
                event = stream.next() => event,
            };
            match event {
                Some(event) => {
                    let terminal = matches!(event, StreamEvent::Error(_));
                    self.encoder.encode(&event, &mut self.out);
                    if terminal {
                        // Nothing follows an error; close the response now.
                        self.encoder.finish(&mut self.out);
                        self.stream = None;
                    }
                }
                None => {
                    self.encoder.finish(&mut self.out);
                    self.stream = None;
                }
            }
            if !self.out.is_empty() {
                let frame = Bytes::from(std::mem::take(&mut self.out));
                return Some((Ok(frame), self));
            }
        }
    }
}
