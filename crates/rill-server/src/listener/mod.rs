//! The listener: rill's own accept loop, so that no client can hold the server by its
//! connections.
//!
//! `axum::serve` gives hyper no timer and takes every connection it can accept, so a
//! client that sends half a request head, or nothing, keeps its connection forever, and
//! enough of them exhaust the file descriptors before any key is checked. Here every
//! connection has a deadline that follows its state (`conn`): the header timeout while a
//! request head is arriving (from the connection's start, or the first byte of a
//! request on a kept-alive one), the idle timeout while nothing is in flight, none while
//! a request is being served (its body has a deadline of its own, `routes::body`, and a
//! stream stays open as long as it streams). Open connections are capped (`registry`):
//! at the cap the oldest idle one makes room, and when all are busy the new one gets a
//! 503 and is closed at once.

mod conn;
mod registry;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::state::AppState;
pub use conn::{Expiry, Timeouts};
use conn::{Tracked, Watched};
use registry::{Admission, Registry, Slot};

/// Descriptors kept for everything that is not a client connection (the model file,
/// the log, databases); the rest is split between client connections and the upstream
/// connections they may each open.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The connection limits `config` asks for, the cap lowered to what the process's
/// descriptor limit allows (raised first to its hard limit where the OS lets it).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub timeouts: Timeouts,
}

impl Limits {
    pub fn from_config(config: &ServerConfig) -> Self {
        let timeouts = Timeouts {
            header: seconds(config.header_timeout_secs),
            idle: seconds(config.idle_timeout_secs),
        };
        let mut max_connections = config.max_connections;
        if let Some(descriptors) = raise_descriptor_limit() {
            let room = descriptors.saturating_sub(RESERVED_DESCRIPTORS) / 2;
            let room = usize::try_from(room).unwrap_or(usize::MAX).max(1);
            if room < max_connections {
                tracing::warn!(
                    configured = max_connections,
                    allowed = room,
                    descriptors,
                    "`server.max_connections` lowered to fit the process's descriptor limit (`ulimit -n`)"
                );
                max_connections = room;
            }
        }
        Self {
            max_connections,
            timeouts,
        }
    }
}

/// A config timeout: seconds (fractions allowed), 0 for none.
fn seconds(secs: f64) -> Option<Duration> {
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Raises the soft limit on open files to the hard limit; returns the limit in force.
fn raise_descriptor_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::debug!(%error, "could not read or raise the open-file limit");
            None
        }
    }
}

/// Serves `state` on `listener` until `state.shutdown` drains; then stops accepting,
/// lets every connection finish what it serves (the shutdown's abort deadline ends the
/// streams), and returns when all are closed and the ledger has written every record.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let limits = Limits::from_config(&state.server);
    let metrics = state.metrics.clone();
    let registry = Registry::new(limits.max_connections, metrics.connections_open());
    let drain = state.shutdown.drained();
    let sessions = std::sync::Arc::clone(&state.sessions);
    let ledger = state.ledger.clone();
    let telemetry = state.telemetry.clone();
    let router = crate::routes::app(state);
    let tracker = TaskTracker::new();
    let closing = CancellationToken::new();
    let mut accept_errors = AcceptErrors::default();
    tokio::pin!(drain);
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut drain => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_errors.handle(&error).await;
                    continue;
                }
            },
        };
        // Every frame is written the moment it exists; without TCP_NODELAY a small frame
        // waits for the client's delayed ACK of the one before it (about 40 ms on Linux).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let slot = match registry.admit() {
            Admission::Admitted(slot) => slot,
            Admission::Evicted(slot) => {
                metrics.connection_closed("evicted");
                slot
            }
            Admission::Refused => {
                metrics.connection_closed("refused");
                refuse(&tcp, registry.max());
                continue;
            }
        };
        let connection = Connection {
            router: router.clone(),
            slot,
            peer,
            timeouts: limits.timeouts,
            metrics: metrics.clone(),
        };
        tracker.spawn(connection.run(tcp, closing.clone()));
    }
    closing.cancel();
    tracker.close();
    tracker.wait().await;
    sessions.close().await;
    // Every generation has ended, so every record is on its way.
    ledger.close().await;
    // The exporter's shutdown blocks until the last spans are sent.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    Ok(())
}

/// Answers a connection over the cap with a 503 (if the socket takes it at once) and
/// closes it: a refusal must cost less than the connection it refuses.
fn refuse(tcp: &TcpStream, max: usize) {
    let body = format!(
        r#"{{"error":{{"message":"the server has {max} connections open, its limit; retry in 1 s","type":"server_error","param":null,"code":"too_many_connections"}}}}"#
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.try_write(response.as_bytes());
}

/// Accept errors: a connection that failed before it was accepted is skipped; anything
/// else (out of descriptors, most often) pauses accepting briefly, logged at most every
/// few seconds so a flood cannot flood the log too.
#[derive(Default)]
struct AcceptErrors {
    logged: Option<Instant>,
}

impl AcceptErrors {
    async fn handle(&mut self, error: &std::io::Error) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        if matches!(
            error.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset
        ) {
            return;
        }
        let now = Instant::now();
        if self
            .logged
            .is_none_or(|at| now - at > Duration::from_secs(5))
        {
            self.logged = Some(now);
            tracing::error!(%error, "could not accept a connection; pausing accepts briefly");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    router: Router,
    slot: Slot,
    peer: SocketAddr,
    timeouts: Timeouts,
    metrics: Metrics,
}

impl Connection {
    async fn run(self, tcp: TcpStream, closing: CancellationToken) {
        let conn = Arc::clone(&self.slot.conn);
        // An IPv4 client of a dual-stack socket arrives as `::ffff:a.b.c.d`: the same
        // address, and loopback if it is.
        let peer = SocketAddr::new(self.peer.ip().to_canonical(), self.peer.port());
        let router = self.router;
        let service_conn = Arc::clone(&conn);
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = service_conn.request_started();
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await.unwrap_or_else(|never| match never {});
                Ok::<_, Infallible>(response.map(|body| Tracked::new(body, in_flight)))
            }
        });
        let io = TokioIo::new(Watched::new(tcp, Arc::clone(&conn)));
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The deadlines are this connection's own (below); hyper's would cover idle time
        // and a request head with one timeout.
        builder.header_read_timeout(None);
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let far = || Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let sleep = tokio::time::sleep_until(far());
        tokio::pin!(sleep);
        let mut armed = None;
        let mut draining = false;
        loop {
            if conn.is_evicted() {
                tracing::debug!(%peer, "idle connection closed to make room for a new one");
                break;
            }
            let deadline = conn.deadline(self.timeouts);
            if let Some((at, why)) = deadline
                && at <= Instant::now()
            {
                let (reason, what) = match why {
                    Expiry::Header => ("header_timeout", "no complete request head in time"),
                    Expiry::Idle => ("idle_timeout", "idle for too long"),
                };
                tracing::debug!(%peer, "connection closed: {what}");
                self.metrics.connection_closed(reason);
                break;
            }
            let at = deadline.map(|(at, _)| at);
            if at != armed {
                armed = at;
                sleep.as_mut().reset(at.unwrap_or_else(far));
            }
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::trace!(%peer, %error, "connection ended with an error");
                    }
                    break;
                }
                () = &mut sleep => {}
                () = conn.changed.notified() => {}
                () = closing.cancelled(), if !draining => {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
        // Dropping the connection closes the socket; dropping the slot frees its place.
        drop(self.slot);
    }
}
