//! (e) Dropping the stream closes the upstream connection: the upstream, which would
//! stream forever, sees its response body dropped.

use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use rill_core::StreamEvent;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::{next, provider, start};
use crate::upstream::{Upstream, frame, on_drop, sse};

/// `message_start`, a text block, then a `text_delta` every 20 ms, forever.
fn endless() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let head = frame(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#,
    ) + &frame(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    let tick = frame(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tick "}}"#,
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
