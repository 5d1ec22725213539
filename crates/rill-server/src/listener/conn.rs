//! One connection: what it is doing (idle, sending a request head, busy with requests),
//! the deadline that follows from that, and the pieces that keep it up to date.
//!
//! hyper knows when a request head is complete but not when one began, and has a single
//! timer that runs from the moment it waits for a head; so a kept-alive connection and a
//! half-sent head would share one timeout. Three small wrappers tell this state apart
//! instead: the socket notes the first byte that arrives while nothing is in flight, the
//! service notes each request it starts, and each response body notes when it is done.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a connection may spend on each phase; `None` is no limit.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From a new connection, or from the first byte of a request on a kept-alive one, to
    /// the end of the request's head.
    pub header: Option<Duration>,
    /// A kept-alive connection with nothing in flight.
    pub idle: Option<Duration>,
}

/// Why a connection was closed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Header,
    Idle,
}

/// The state one connection shares with its socket, service and response bodies.
pub struct Conn {
    /// When the registry made this connection's clock start; times below are
    /// milliseconds since then, plus one (zero means "not set").
    epoch: Instant,
    /// Requests whose response body has not ended.
    in_flight: AtomicU32,
    /// When the connection last had nothing in flight (its start, or its last response).
    idle_since: AtomicU64,
    /// When a request head began arriving with nothing in flight; zero when none is.
    head_since: AtomicU64,
    /// Made room for a newer connection, or otherwise told to close now.
    evicted: AtomicBool,
    /// Wakes the connection's task to look at the state again.
    pub(super) changed: Notify,
}

impl Conn {
    /// A new connection, treated as one whose first request head has begun: a client
    /// that connects and sends nothing has the header timeout, not the idle one.
    pub fn new(epoch: Instant) -> Self {
        let conn = Self {
            epoch,
            in_flight: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
        };
        let now = conn.now();
        conn.idle_since.store(now, Ordering::Relaxed);
        conn.head_since.store(now, Ordering::Relaxed);
        conn
    }

    fn now(&self) -> u64 {
        let elapsed = Instant::now().saturating_duration_since(self.epoch);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn at(&self, stamp: u64) -> Instant {
        self.epoch + Duration::from_millis(stamp.saturating_sub(1))
    }

    /// Whether nothing is in flight, so that closing the connection loses nothing a
    /// client was promised (at most a request head that has not arrived whole).
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Marks the connection to be closed at once, and wakes its task.
    pub fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Bytes arrived. With nothing in flight they begin a request head.
    fn received(&self) {
        if self.is_idle() && self.head_since.load(Ordering::Relaxed) == 0 {
            self.head_since.store(self.now(), Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    /// A request's head is complete: from now on, until its response ends, the
    /// connection is busy and no connection timeout applies (the body has its own).
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Relaxed);
        self.changed.notify_one();
        InFlight(Arc::clone(self))
    }

    /// When the connection must close unless its state changes first, and why; `None`
    /// while requests are in flight.
    pub fn deadline(&self, timeouts: Timeouts) -> Option<(Instant, Expiry)> {
        if !self.is_idle() {
            return None;
        }
        let head = self.head_since.load(Ordering::Relaxed);
        if head != 0 {
            return timeouts.header.map(|t| (self.at(head) + t, Expiry::Header));
        }
        let idle = self.idle_since.load(Ordering::Relaxed);
        timeouts.idle.map(|t| (self.at(idle) + t, Expiry::Idle))
    }
}

/// A request in flight on a connection; dropped when its response body ends (or is
/// dropped unsent).
pub struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.idle_since.store(conn.now(), Ordering::Relaxed);
        conn.in_flight.fetch_sub(1, Ordering::AcqRel);
        conn.changed.notify_one();
    }
}

/// A response body that holds its request's [`InFlight`] until it ends.
pub struct Tracked {
    body: Body,
    in_flight: Option<InFlight>,
}

impl Tracked {
    pub fn new(body: Body, in_flight: InFlight) -> Self {
        Self {
            body,
            in_flight: Some(in_flight),
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.in_flight = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting the bytes that begin a request.
pub struct Watched<T> {
    io: T,
    conn: Arc<Conn>,
}

impl<T> Watched<T> {
    pub fn new(io: T, conn: Arc<Conn>) -> Self {
        Self { io, conn }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.received();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header: Some(Duration::from_secs(10)),
        idle: Some(Duration::from_secs(60)),
    };

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_has_the_header_timeout_then_idle_after_its_response() {
        let start = Instant::now();
        let conn = Arc::new(Conn::new(start));
        let (at, why) = conn.deadline(TIMEOUTS).unwrap();
        assert_eq!((at - start, why), (Duration::from_secs(10), Expiry::Header));

        tokio::time::advance(Duration::from_secs(2)).await;
        let request = conn.request_started();
        assert!(conn.deadline(TIMEOUTS).is_none(), "busy: no deadline");
        tokio::time::advance(Duration::from_secs(100)).await;
        drop(request);
        let (at, why) = conn.deadline(TIMEOUTS).unwrap();
        assert_eq!((at - start, why), (Duration::from_secs(162), Expiry::Idle));

        // The next request's first bytes start the header clock.
        tokio::time::advance(Duration::from_secs(5)).await;
        conn.received();
        let (at, why) = conn.deadline(TIMEOUTS).unwrap();
        assert_eq!(
            (at - start, why),
            (Duration::from_secs(117), Expiry::Header)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_during_a_request_do_not_start_a_head() {
        let conn = Arc::new(Conn::new(Instant::now()));
        let request = conn.request_started();
        conn.received();
        drop(request);
        assert_eq!(conn.deadline(TIMEOUTS).unwrap().1, Expiry::Idle);
    }
}
