//! Dropping the stream closes the upstream connection: the upstream, which would stream
//! forever, sees its response body dropped within a second.

use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt;
use rill_core::StreamEvent;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::{next, provider, start};
use crate::upstream::{Upstream, ndjson, on_drop};

/// A text line every 20 ms, forever.
fn endless() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let tick = "{\"model\":\"llama3.2:3b\",\"created_at\":\"2025-06-12T09:41:07.1Z\",\"message\":{\"role\":\"assistant\",\"content\":\"tick \"},\"done\":false}\n";
    futures_util::stream::iter(0u64..).then(move |_| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(Bytes::from_static(tick.as_bytes()))
    })
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    let upstream = Upstream::start(move || ndjson(on_drop(endless(), dropped_tx.clone()))).await;
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
