//! The cases every upstream kind must pass, as one table. Each kind (`KIND` in its
//! module) says how it frames a body, what its error bodies look like and what it
//! streams; `conformance!` in `main.rs` runs every case against every kind, one test per
//! case and kind, so that a failure names both. What only one kind has (Gemini's retry
//! delay in the body, say) stays in that kind's module.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use rill_core::{Error, ErrorKind, EventStream, Provider, StreamEvent};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use crate::common::{self, all_events, next, text};
use crate::upstream::{Seen, Upstream, abort, hang, on_drop, trickle};

/// A body's chunks, as an upstream sends them.
pub type Chunks = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The bytes of an answer and every event it must give.
pub type Recorded = fn() -> (Vec<u8>, Vec<StreamEvent>);
/// The bytes of a whole answer, and its text.
pub type Whole = (fn() -> Vec<u8>, &'static str);

/// One upstream kind, as the cases see it.
pub struct Kind {
    /// rill's name for the model; errors name it.
    pub name: &'static str,
    /// The operator's key for the upstream, which no error may show.
    pub key: &'static str,
    /// The provider for an upstream at `base_url`, with the key or without one.
    pub provider: fn(base_url: &str, key: Option<&str>) -> Box<dyn Provider>,
    /// The header the key travels in.
    pub key_header: &'static str,
    /// What else a request without a key must still carry.
    pub keyless: fn(&Seen),
    /// The path (and query) a generation is posted to.
    pub path: &'static str,
    /// A streaming response with these chunks, framed as the kind frames them.
    pub serve: fn(Chunks) -> Response,
    /// An error response: the status, the kind's own error type or status name (where
    /// its bodies have one) and the message.
    pub error: fn(status: u16, code: &str, message: &str) -> Response,
    /// The type and message of a rate limit.
    pub rate_limit: (&'static str, &'static str),
    /// A refused key: the status, type and message, and what the error must still say.
    pub refused_key: (u16, &'static str, &'static str, &'static str),
    /// Statuses with their types, and the error kind each must become.
    pub statuses: &'static [(u16, &'static str, ErrorKind)],
    /// A recorded answer cut before its end, and the text it holds.
    pub cut: fn() -> Vec<u8>,
    pub cut_text: &'static str,
    /// A no-op the kind's framing allows (a comment, a blank line): sent 50 ms later, it
    /// makes the server flush what came before a connection breaks.
    pub pause: &'static [u8],
    /// The opening of an answer that goes on forever, and its text delta `tick `.
    pub endless: (fn() -> String, &'static str),
    /// An answer that stops with an error mid-stream, and every event it must give.
    pub mid_stream_error: Option<Recorded>,
    /// A whole recorded answer and its text.
    pub whole: Option<Whole>,
}

const MS: Duration = Duration::from_millis(1);

impl Kind {
    fn provider(&self, upstream: &Upstream) -> Box<dyn Provider> {
        (self.provider)(&upstream.url, Some(self.key))
    }

    async fn start(&self, upstream: &Upstream) -> EventStream {
        common::start(self.provider(upstream).as_ref(), self.name).await
    }

    async fn refused(&self, provider: &dyn Provider) -> Error {
        common::refused(provider, self.name).await
    }

    /// An upstream that answers every request with this error.
    async fn failing(
        &'static self,
        status: u16,
        code: &'static str,
        message: &str,
        headers: &'static [(&'static str, &'static str)],
    ) -> Upstream {
        let message = message.to_owned();
        Upstream::start(move || {
            let mut response = (self.error)(status, code, &message);
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(*name, HeaderValue::from_static(value));
            }
            response
        })
        .await
    }

    /// An upstream that serves `bytes` a few at a time, then `tail`.
    async fn serving(
        &'static self,
        bytes: Vec<u8>,
        tail: fn() -> Chunks,
        dropped: Option<mpsc::UnboundedSender<()>>,
    ) -> Upstream {
        Upstream::start(move || {
            let chunks: Chunks = Box::pin(trickle(&bytes, MS).chain(tail()));
            match &dropped {
                Some(dropped) => (self.serve)(Box::pin(on_drop(chunks, dropped.clone()))),
                None => (self.serve)(chunks),
            }
        })
        .await
    }

    fn pause(&'static self) -> Chunks {
        let pause = self.pause;
        Box::pin(futures_util::stream::once(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Bytes::from_static(pause))
        }))
    }
}

fn nothing() -> Chunks {
    Box::pin(futures_util::stream::empty())
}

fn hanging() -> Chunks {
    Box::pin(hang())
}

fn aborting() -> Chunks {
    Box::pin(abort())
}

/// The stream ends in an error event after all of `expected`, and never finishes.
#[track_caller]
pub fn ends_in_an_error<'a>(events: &'a [StreamEvent], expected: &str) -> &'a Error {
    assert_eq!(text(events), expected);
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Finish(_))),
        "{events:?}"
    );
    match events.last() {
        Some(StreamEvent::Error(error)) => error,
        other => panic!("the stream ended with {other:?}"),
    }
}

pub async fn a_rate_limit_passes_through_with_its_retry_after(kind: &'static Kind) {
    let (code, message) = kind.rate_limit;
    let upstream = kind
        .failing(429, code, message, &[("retry-after", "7")])
        .await;
    let error = kind.refused(kind.provider(&upstream).as_ref()).await;
    assert_eq!(
        error,
        Error::new(ErrorKind::RateLimited, message).with_retry_after(Duration::from_secs(7))
    );
    assert_eq!(error.status_code(), 429);
}

pub async fn a_refused_key_is_a_bad_gateway_that_never_shows_the_key(kind: &'static Kind) {
    let (status, code, message, shown) = kind.refused_key;
    let upstream = kind.failing(status, code, message, &[]).await;
    let error = kind.refused(kind.provider(&upstream).as_ref()).await;
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.status_code(), 502);
    let name = format!("`{}`", kind.name);
    assert!(error.message.contains(&name), "{error:?}");
    assert!(error.message.contains(shown), "{error:?}");
    assert!(!error.message.contains(kind.key), "{error:?}");

    // A proxy that quotes the key it refused.
    let echo = format!("key `{}` is not valid", kind.key);
    let upstream = kind.failing(status, code, &echo, &[]).await;
    let error = kind.refused(kind.provider(&upstream).as_ref()).await;
    assert_eq!(error.status_code(), 502);
    assert!(!error.message.contains(kind.key), "{error:?}");
    assert!(error.message.contains("[redacted]"), "{error:?}");
}

pub async fn each_status_maps_to_what_rill_s_client_should_see(kind: &'static Kind) {
    for &(status, code, expected) in kind.statuses {
        let upstream = kind.failing(status, code, "from upstream", &[]).await;
        let error = kind.refused(kind.provider(&upstream).as_ref()).await;
        assert_eq!(error.kind, expected, "{status} {code}: {error:?}");
        assert!(
            error.message.contains("from upstream"),
            "{status}: {error:?}"
        );
        assert_eq!(error.retry_after, None);
    }
}

pub async fn nothing_listening_is_an_upstream_error(kind: &'static Kind) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = kind
        .refused((kind.provider)(&url, Some(kind.key)).as_ref())
        .await;
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(!error.message.contains(&url), "{error:?}");
}

pub async fn a_body_that_ends_before_the_answer_does_ends_in_an_error(kind: &'static Kind) {
    let upstream = kind.serving((kind.cut)(), nothing, None).await;
    let events = all_events(kind.start(&upstream).await).await;
    let error = ends_in_an_error(&events, kind.cut_text);
    assert_eq!(
        *error,
        Error::upstream("the stream ended before the generation finished")
    );
}

pub async fn a_connection_that_breaks_mid_stream_ends_in_an_error(kind: &'static Kind) {
    let upstream = Upstream::start(move || broken_after(kind, (kind.cut)())).await;
    let events = all_events(kind.start(&upstream).await).await;
    let error = ends_in_an_error(&events, kind.cut_text);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.starts_with("request failed"), "{error:?}");
}

pub async fn dropping_the_stream_closes_the_upstream_connection(kind: &'static Kind) {
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    let upstream = Upstream::start(move || {
        let (head, tick) = (kind.endless.0(), kind.endless.1);
        let ticks = futures_util::stream::iter(0u64..).then(move |_| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Bytes::from_static(tick.as_bytes()))
        });
        let chunks = futures_util::stream::once(async move { Ok(Bytes::from(head)) })
            .filter(|head| std::future::ready(head.as_ref().is_ok_and(|h| !h.is_empty())))
            .chain(ticks);
        (kind.serve)(Box::pin(on_drop(chunks, dropped_tx.clone())))
    })
    .await;
    let mut stream = kind.start(&upstream).await;
    let mut ticks = 0;
    while ticks < 3 {
        match next(&mut stream).await {
            Some(StreamEvent::TextDelta(text)) => {
                assert_eq!(text, "tick ");
                ticks += 1;
            }
            Some(StreamEvent::Start { .. } | StreamEvent::Usage(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // Events arrive one by one while the upstream is still streaming.
    assert_eq!(dropped.try_recv(), Err(TryRecvError::Empty));
    drop(stream);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream kept streaming for a second after the stream was dropped");
}

fn teapot() -> Response {
    StatusCode::IM_A_TEAPOT.into_response()
}

pub async fn without_a_key_no_key_is_sent(kind: &'static Kind) {
    let mut upstream = Upstream::start(teapot).await;
    kind.refused((kind.provider)(&upstream.url, None).as_ref())
        .await;
    let seen = upstream.seen().await;
    assert!(seen.header(kind.key_header).is_none(), "{:?}", seen.headers);
    (kind.keyless)(&seen);
}

pub async fn redirects_are_not_followed(kind: &'static Kind) {
    // Following one would send the key to whatever host the redirect names.
    let mut elsewhere = Upstream::start(teapot).await;
    let location = format!("{}{}", elsewhere.url, kind.path);
    let mut upstream = Upstream::start(move || {
        Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header("location", &location)
            .body(Body::empty())
            .unwrap()
    })
    .await;
    let error = kind.refused(kind.provider(&upstream).as_ref()).await;
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    upstream.seen().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(elsewhere.try_seen().is_none());
}

pub async fn an_error_mid_stream_follows_the_partial_text_and_ends_the_stream(kind: &'static Kind) {
    let (bytes, expected) = (kind.mid_stream_error.expect("the kind lists this case"))();
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    // After the error the upstream keeps the connection open: the provider must stop
    // by itself, and let go of the connection.
    let upstream = kind.serving(bytes, hanging, Some(dropped_tx)).await;
    let mut stream = kind.start(&upstream).await;
    let mut events = Vec::new();
    while let Some(event) = next(&mut stream).await {
        let last = matches!(event, StreamEvent::Error(_));
        events.push(event);
        if last {
            break;
        }
    }
    assert_eq!(events, expected);
    // Still holding the stream: it is over, and the connection is already closed.
    assert_eq!(next(&mut stream).await, None);
    tokio::time::timeout(Duration::from_secs(1), dropped.recv())
        .await
        .expect("the upstream connection stayed open after the error");
}

pub async fn after_the_end_the_rest_of_the_body_is_not_read(kind: &'static Kind) {
    // An upstream that keeps the connection open after the answer's end must not hold
    // the stream open.
    let (whole, expected) = kind.whole.expect("the kind lists this case");
    let upstream = kind.serving(whole(), hanging, None).await;
    let events = all_events(kind.start(&upstream).await).await;
    assert_eq!(text(&events), expected);
    assert!(
        matches!(events.last(), Some(StreamEvent::Finish(_))),
        "{events:?}"
    );
}

/// Aborting after the pause, for kinds whose own tests need it.
pub fn broken_after(kind: &'static Kind, bytes: Vec<u8>) -> Response {
    let chunks = trickle(&bytes, MS).chain(kind.pause()).chain(aborting());
    (kind.serve)(Box::pin(chunks))
}
