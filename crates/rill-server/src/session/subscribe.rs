//! One response's view of a session: the log replayed and followed through a fresh
//! encoder, each frame numbered, heartbeats while nothing happens.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rill_sse::Frame;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use super::generation::{Session, Status};
use crate::sse::{DialectEncoder, Payload};

/// The body of one SSE response. Dropping it (the client went away) unsubscribes.
pub struct Subscription {
    session: Arc<Session>,
    encoder: Box<dyn DialectEncoder>,
    changed: watch::Receiver<u64>,
    /// The next log event to encode.
    cursor: usize,
    /// The number the next frame gets.
    frame: u64,
    /// Frames numbered up to this one were sent before (a resume): encoded again, to
    /// bring the encoder to the same state, but not sent.
    skip_through: Option<u64>,
    heartbeat: Duration,
    /// Fires `heartbeat` after the last chunk sent. It is re-armed only when it fires
    /// early (a chunk went out meanwhile), not on every chunk: with thousands of streams
    /// a timer reset per event would cost more than the events themselves.
    idle: std::pin::Pin<Box<Sleep>>,
    last_sent: Instant,
    grace: Duration,
    /// The encoder's closing frames were made: nothing more comes.
    closed: bool,
    payloads: Vec<Payload>,
}

impl Subscription {
    pub(super) fn new(
        session: Arc<Session>,
        after: Option<u64>,
        heartbeat: Duration,
        grace: Duration,
    ) -> Self {
        session.subscribed();
        Self {
            encoder: session.encoder(),
            changed: session.watch(),
            session,
            cursor: 0,
            frame: 0,
            skip_through: after,
            heartbeat,
            idle: Box::pin(tokio::time::sleep(heartbeat)),
            last_sent: Instant::now(),
            grace,
            closed: false,
            payloads: Vec::new(),
        }
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The response body: one chunk per batch of frames, written as soon as it exists.
    pub fn into_body(self) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
        futures_util::stream::unfold(self, Self::next_chunk)
    }

    async fn next_chunk(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if self.closed {
                return None;
            }
            // Mark what is about to be read as seen, so a change after it wakes us.
            self.changed.borrow_and_update();
            let (encoder, payloads) = (&mut self.encoder, &mut self.payloads);
            let (read, status) = self
                .session
                .read(self.cursor, |event| encoder.encode(event, payloads));
            self.cursor += read;
            if status == Status::Done {
                self.encoder.finish(&mut self.payloads);
                self.closed = true;
            }
            let chunk = self.frames();
            if !chunk.is_empty() {
                self.last_sent = Instant::now();
                return Some((Ok(Bytes::from(chunk)), self));
            }
            if self.closed {
                return None;
            }
            tokio::select! {
                changed = self.changed.changed() => {
                    // The session outlives its subscribers: the sender cannot be gone.
                    if changed.is_err() {
                        return None;
                    }
                }
                () = self.idle.as_mut() => {
                    let due = self.last_sent + self.heartbeat;
                    if Instant::now() < due {
                        // Something was sent since the timer was set: wait the rest.
                        self.idle.as_mut().reset(due);
                    } else {
                        self.last_sent = Instant::now();
                        self.idle.as_mut().reset(self.last_sent + self.heartbeat);
                        return Some((Ok(Bytes::from(rill_sse::comment("keep-alive"))), self));
                    }
                }
            }
        }
    }

    /// The pending payloads as numbered frames, leaving out those sent before a resume.
    fn frames(&mut self) -> String {
        let mut out = String::new();
        for payload in self.payloads.drain(..) {
            let number = self.frame;
            self.frame += 1;
            if self.skip_through.is_some_and(|last| number <= last) {
                continue;
            }
            let id = number.to_string();
            let frame = Frame::data(&payload.data).id(&id);
            match payload.event {
                Some(event) => frame.event(event).encode_into(&mut out),
                None => frame.encode_into(&mut out),
            }
        }
        out
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.session.unsubscribed(self.grace);
    }
}
