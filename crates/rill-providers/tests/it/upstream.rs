//! A loopback HTTP upstream: it records each request it receives and answers with a
//! response the test builds, typically a body streamed in small, delayed chunks.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// A request as the upstream saw it.
#[derive(Debug)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

pub struct Upstream {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Upstream {
    /// Serves every path and method with `reply()`.
    pub async fn start(reply: impl Fn() -> Response + Clone + Send + Sync + 'static) -> Self {
        let (tx, seen) = mpsc::unbounded_channel();
        let handler = move |uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let path = uri.path().to_owned();
            tx.send(Seen {
                path,
                query: uri.query().map(str::to_owned),
                headers,
                body,
            })
            .unwrap();
            reply()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handler);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, seen }
    }

    /// A request received and not yet taken, if any.
    pub fn try_seen(&mut self) -> Option<Seen> {
        self.seen.try_recv().ok()
    }

    /// The next request received.
    pub async fn seen(&mut self) -> Seen {
        tokio::time::timeout(Duration::from_secs(5), self.seen.recv())
            .await
            .expect("no request reached the upstream")
            .unwrap()
    }
}

/// A 200 SSE response whose body is `chunks`, in order.
pub fn sse(chunks: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(chunks))
        .unwrap()
}

/// A 200 NDJSON response (Ollama's) whose body is `chunks`, in order.
pub fn ndjson(
    chunks: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    Response::builder()
        .header("content-type", "application/x-ndjson")
        .body(Body::from_stream(chunks))
        .unwrap()
}

/// `bytes` cut into chunks of 1 to 13 bytes (so that lines, field names and JSON are
/// split at every kind of place), each sent `delay` after the previous one.
pub fn trickle(
    bytes: &[u8],
    delay: Duration,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    for size in (1..=13).cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(Bytes::copy_from_slice(chunk));
        rest = tail;
    }
    futures_util::stream::iter(chunks).then(move |chunk| async move {
        tokio::time::sleep(delay).await;
        Ok(chunk)
    })
}

/// One SSE event as Anthropic frames it.
pub fn frame(event: &str, data: &str) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// Wraps `stream` so that `dropped` receives `()` when the server drops it: when the
/// connection is closed, or the response is over.
pub fn on_drop<S: Stream + Send + 'static>(
    stream: S,
    dropped: mpsc::UnboundedSender<()>,
) -> impl Stream<Item = S::Item> + Send + 'static {
    struct Signal(mpsc::UnboundedSender<()>);
    impl Drop for Signal {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let signal = Signal(dropped);
    stream.map(move |item| {
        let _keep = &signal;
        item
    })
}

/// Never yields and never ends: a connection the upstream keeps open.
pub fn hang() -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::pending()
}

/// An item that makes the server abort the response mid-body.
pub fn abort() -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::once(async {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "upstream went away",
        ))
    })
}
