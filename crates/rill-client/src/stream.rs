//! An upstream's response body -> core events, decoded as the bytes arrive: one loop for
//! every framing (SSE, NDJSON) and every dialect.

use std::collections::VecDeque;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use rill_core::{Error, EventStream, StreamEvent, terminated};

use crate::decoder::UpstreamDecoder;
use crate::framing::{Framing, Payload, Sse};
use crate::http::transport_error;
use crate::ndjson::Lines;

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
    stream(response, Sse(rill_sse::Decoder::new()), decoder)
}

/// [`event_stream`] for a newline-delimited JSON body (Ollama's): every line is one
/// payload for `decoder`, with an empty event name. Lines may be split across chunks and
/// end in `\n` or `\r\n`; a last line without a line end counts when the body ends
/// cleanly; blank lines are skipped. A line longer than 16 MiB, or not UTF-8, ends the
/// stream with an error. Everything else is as for [`event_stream`].
pub fn ndjson_stream<D: UpstreamDecoder>(response: reqwest::Response, decoder: D) -> EventStream {
    stream(response, Lines::new(), decoder)
}

fn stream<F: Framing, D: UpstreamDecoder>(
    response: reqwest::Response,
    framing: F,
    decoder: D,
) -> EventStream {
    terminated(Box::pin(events(
        response.bytes_stream().boxed(),
        framing,
        decoder,
    )))
}

struct State<F, D> {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    framing: F,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    /// A transport or decoding error was queued, or the body ended: nothing more is read.
    stopped: bool,
}

impl<F: Framing, D: UpstreamDecoder> State<F, D> {
    fn fail(&mut self, error: Error) {
        self.stopped = true;
        self.pending.push_back(StreamEvent::Error(error));
    }

    fn feed(&mut self, chunk: &[u8]) {
        match self.framing.feed(chunk) {
            Ok(payloads) => self.decode(payloads),
            Err(error) => self.fail(error),
        }
    }

    fn decode(&mut self, payloads: impl IntoIterator<Item = Payload>) {
        for payload in payloads {
            if self.decoder.is_done() {
                return;
            }
            match self.decoder.decode(&payload.event, &payload.data) {
                Ok(decoded) => self.pending.extend(decoded),
                Err(error) => return self.fail(error),
            }
        }
    }

    /// The body ended cleanly: the framing's last payload, then the decoder's end.
    fn end(&mut self) {
        match self.framing.finish() {
            Ok(last) => self.decode(last),
            Err(error) => return self.fail(error),
        }
        if self.stopped || self.decoder.is_done() {
            return;
        }
        self.stopped = true;
        self.pending.extend(self.decoder.end());
    }
}

fn events<F: Framing, D: UpstreamDecoder>(
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    framing: F,
    decoder: D,
) -> impl futures_util::Stream<Item = StreamEvent> + Send + 'static {
    let state = State {
        body,
        framing,
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
                    s.end();
                    s.stopped = true;
                }
            }
        }
    })
}
