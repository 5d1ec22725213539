//! One response's view of a session: the log replayed and followed through a fresh
//! encoder, each frame numbered, heartbeats while nothing happens.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use rill_sse::FrameBuf;
use rill_wire::EventEncoder;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::hub::Hub;
use super::run::{Pulled, Run, abort_future};
use super::store::{SessionLog, Status};

/// Past this many bytes of frames a chunk goes out without waiting for more.
const CHUNK_BYTES: usize = 16 * 1024;

/// The body of one SSE response: a stream of chunks, each the frames that were ready.
/// Dropping it (the client went away) unsubscribes.
pub struct Subscription {
    hub: Arc<Hub>,
    log: Arc<dyn SessionLog>,
    /// The generation, while it runs on this server.
    run: Option<Arc<Run>>,
    encoder: Box<dyn EventEncoder>,
    /// Reused for every chunk; leaves out the frames a resuming client has.
    frames: FrameBuf,
    /// The next log event to encode.
    cursor: usize,
    heartbeat: Duration,
    /// Fires `heartbeat` after the last chunk sent. It is re-armed only when it fires
    /// early (a chunk went out meanwhile), not on every chunk: with thousands of streams
    /// a timer reset per event would cost more than the events themselves.
    idle: Pin<Box<Sleep>>,
    last_sent: Instant,
    /// Shutdown's abort, while this reader pulls the stream itself.
    abort: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The encoder's closing frames were made: nothing more comes.
    closed: bool,
}

impl Subscription {
    pub(super) fn new(
        hub: Arc<Hub>,
        log: Arc<dyn SessionLog>,
        run: Option<Arc<Run>>,
        after: Option<u64>,
    ) -> Self {
        let heartbeat = Duration::from_secs(hub.config().heartbeat_secs);
        let abort = run.as_ref().map(|_| abort_future(hub.abort_token()));
        Self {
            encoder: (log.meta().encoder)(),
            hub,
            log,
            run,
            frames: FrameBuf::resuming_after(after),
            cursor: 0,
            heartbeat,
            idle: Box::pin(tokio::time::sleep(heartbeat)),
            last_sent: Instant::now(),
            abort,
            closed: false,
        }
    }

    pub fn log(&self) -> &Arc<dyn SessionLog> {
        &self.log
    }

    /// Encodes the log's events from the cursor on; `follow` is woken at its next change
    /// if there were none.
    fn drain(&mut self, follow: Option<&std::task::Waker>) {
        if self.closed {
            return;
        }
        let (encoder, frames) = (&mut self.encoder, &mut self.frames);
        let (read, status) = self.log.read(
            self.cursor,
            &mut |event| encoder.encode(event, frames),
            follow,
        );
        self.cursor += read;
        if status == Status::Done {
            self.encoder.finish(&mut self.frames);
            self.closed = true;
        }
    }

    fn chunk(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.last_sent = Instant::now();
        Poll::Ready(Some(Ok(self.frames.take())))
    }

    /// The closing frames, then the end of the body.
    fn last_chunk(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        if self.frames.is_empty() {
            Poll::Ready(None)
        } else {
            self.chunk()
        }
    }
}

impl Stream for Subscription {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            this.drain(None);
            if this.closed {
                return this.last_chunk();
            }
            // Events the stream has ready go out together, up to a chunk's worth: one
            // write for a burst, not one per event.
            if this.frames.len() < CHUNK_BYTES {
                let pulled = match (&this.run, &mut this.abort) {
                    (Some(run), Some(abort)) => run.pull(&this.hub, cx, abort),
                    _ => Pulled::NotMine,
                };
                match pulled {
                    Pulled::Changed => continue,
                    Pulled::Pending => {}
                    Pulled::NotMine => {
                        // Follow the log; read once more in case it changed meanwhile.
                        let before = this.cursor;
                        this.drain(Some(cx.waker()));
                        if this.cursor != before || this.closed {
                            continue;
                        }
                    }
                }
            }
            if !this.frames.is_empty() {
                return this.chunk();
            }
            if this.idle.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = this.last_sent + this.heartbeat;
            if Instant::now() < due {
                // Something was sent since the timer was set: wait the rest.
                this.idle.as_mut().reset(due);
                continue;
            }
            this.idle.as_mut().reset(Instant::now() + this.heartbeat);
            this.frames.comment("keep-alive");
            return this.chunk();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            self.hub.unsubscribed(run);
        }
    }
}
