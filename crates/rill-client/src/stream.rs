//! An upstream's SSE response body -> core events, decoded as the bytes arrive.

use std::collections::VecDeque;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use rill_core::{Error, EventStream, StreamEvent, terminated};
use rill_sse::Decoder;

use crate::decoder::UpstreamDecoder;
use crate::http::transport_error;

/// Turns a streaming response (already checked with [`crate::error_for_status`]) into
/// core events: each body chunk goes through the SSE decoder and every SSE event through
/// `decoder`, so an event is yielded as soon as its bytes arrived.
///
/// When the body ends cleanly the decoder's [`UpstreamDecoder::end`] has the last word
/// (a dialect without an end-of-stream event finishes there). The stream is
/// [`terminated`]: a body that ends (or fails) before the dialect's end of stream ends
/// with an error event, never quietly. A malformed event ends it with that error, after
/// the events decoded before it. Once `decoder` is done the rest of the body is not read.
/// Dropping the stream drops the body, which closes the connection, so the upstream stops
/// generating.
pub fn event_stream<D: UpstreamDecoder>(response: reqwest::Response, decoder: D) -> EventStream {
    terminated(Box::pin(events(response, decoder)))
}

struct State<D> {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    sse: Decoder,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    /// A transport or decoding error was queued, or the body ended: nothing more is read.
    stopped: bool,
}

impl<D: UpstreamDecoder> State<D> {
    fn fail(&mut self, error: Error) {
        self.stopped = true;
        self.pending.push_back(StreamEvent::Error(error));
    }

    fn feed(&mut self, chunk: &[u8]) {
        let events = match self.sse.feed(chunk) {
            Ok(events) => events,
            Err(e) => return self.fail(Error::upstream(format!("the upstream's stream: {e}"))),
        };
        for event in events {
            match self.decoder.decode(&event.event, &event.data) {
                Ok(decoded) => self.pending.extend(decoded),
                Err(error) => return self.fail(error),
            }
        }
    }
}

fn events<D: UpstreamDecoder>(
    response: reqwest::Response,
    decoder: D,
) -> impl futures_util::Stream<Item = StreamEvent> + Send + 'static {
    let state = State {
        body: response.bytes_stream().boxed(),
        sse: Decoder::new(),
        decoder,
        pending: VecDeque::new(),
        stopped: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                return Some((event, s));
            }
            if s.stopped || s.decoder.is_done() {
                return None;
            }
            match s.body.next().await {
                Some(Ok(chunk)) => s.feed(&chunk),
                Some(Err(e)) => s.fail(transport_error(e)),
                None => {
                    s.stopped = true;
                    s.pending.extend(s.decoder.end());
                }
            }
        }
    })
}
