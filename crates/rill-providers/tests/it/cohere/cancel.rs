//! Dropping the stream closes the upstream connection: the upstream, which would stream
//! forever, sees its response body dropped within a second.

use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use rill_core::StreamEvent;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::{next, provider, start};
use crate::upstream::{Upstream, frame, on_drop, sse};

/// `message-start`, a text block, then a `content-delta` every 20 ms, forever.
fn endless() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let head = frame(
        "message-start",
        r#"{"id":"c14c80c3","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
    ) + &frame(
        "content-start",
        r#"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
    );
    let tick = frame(
        "content-delta",
        r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"tick "}}}}"#,
    );
    let ticks = futures_util::stream::iter(0u64..).then(move |_| {
        let tick = tick.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Bytes::from(tick))
        }
    });
    futures_util::stream::once(async move { Ok(Bytes::from(head)) }).chain(ticks)
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    let upstream = Upstream::start(move || sse(on_drop(endless(), dropped_tx.clone()))).await;
    let mut stream = start(&provider(&upstream)).await;
    let mut ticks = 0;
    while ticks < 3 {
        match next(&mut stream).await {
            Some(StreamEvent::TextDelta(text)) => {
                assert_eq!(text, "tick ");
                ticks += 1;
            }
            Some(StreamEvent::Start { .. }) => {}
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
