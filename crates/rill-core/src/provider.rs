//! The `Provider` trait: anything that turns a [`ChatRequest`] into a stream of events.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::future::BoxFuture;

use crate::{ChatRequest, Error, StreamEvent};

/// A generation in progress. Dropping it cancels the generation.
pub type EventStream = Pin<Box<dyn Stream<Item = StreamEvent> + Send + 'static>>;

/// What [`Provider::start`] returns.
pub type ProviderFuture = BoxFuture<'static, Result<EventStream, Error>>;

/// A source of generations: the embedded engine, an upstream HTTP API, a script.
///
/// `start` resolves once the provider has accepted the request (for an HTTP upstream:
/// once response headers arrived). Failures up to that point are `Err` and become an
/// HTTP error for the client; failures after it are [`StreamEvent::Error`] in the stream.
/// The future and the stream are `'static` so the caller may move them to any task.
pub trait Provider: Send + Sync + 'static {
    fn start(&self, request: ChatRequest) -> ProviderFuture;
}

/// Makes `stream` well-formed: it ends right after its terminal event (only `Usage` may
/// still follow a `Finish`), and a stream that ends without one ends with an
/// [`ErrorKind::Upstream`](crate::ErrorKind::Upstream) error instead, because a truncated
/// generation must never look like a finished one.
pub fn terminated(stream: EventStream) -> EventStream {
    Box::pin(Terminated {
        inner: Some(stream),
        finished: false,
    })
}

struct Terminated {
    inner: Option<EventStream>,
    finished: bool,
}

impl Stream for Terminated {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        loop {
            let Some(inner) = self.inner.as_mut() else {
                return Poll::Ready(None);
            };
            let event = match inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(event) => event,
            };
            match event {
                None => {
                    self.inner = None;
                    if self.finished {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(StreamEvent::Error(Error::upstream(
                        "the stream ended before the generation finished",
                    ))));
                }
                Some(event) if self.finished => {
                    // After `Finish`, only a late usage report is meaningful.
                    if matches!(event, StreamEvent::Usage(_)) {
                        return Poll::Ready(Some(event));
                    }
                }
                Some(event @ StreamEvent::Error(_)) => {
                    self.inner = None;
                    return Poll::Ready(Some(event));
                }
                Some(event) => {
                    self.finished = matches!(event, StreamEvent::Finish(_));
                    return Poll::Ready(Some(event));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::{ErrorKind, FinishReason, Usage};

    async fn run(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
        terminated(Box::pin(futures_util::stream::iter(events)))
            .collect()
            .await
    }

    #[tokio::test]
    async fn truncated_stream_ends_with_upstream_error() {
        let out = run(vec![StreamEvent::TextDelta("hi".into())]).await;
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], StreamEvent::Error(e) if e.kind == ErrorKind::Upstream));
    }

    #[tokio::test]
    async fn finished_stream_passes_late_usage_and_drops_the_rest() {
        let usage = Usage {
            input_tokens: 1,
            output_tokens: 2,
            ..Usage::default()
        };
        let out = run(vec![
            StreamEvent::TextDelta("a".into()),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::TextDelta("late".into()),
            StreamEvent::Usage(usage),
        ])
        .await;
        assert_eq!(
            out,
            vec![
                StreamEvent::TextDelta("a".into()),
                StreamEvent::Finish(FinishReason::Stop),
                StreamEvent::Usage(usage),
            ]
        );
    }

    #[tokio::test]
    async fn nothing_follows_an_error() {
        let out = run(vec![
            StreamEvent::Error(Error::internal("boom")),
            StreamEvent::TextDelta("x".into()),
        ])
        .await;
        assert_eq!(out.len(), 1);
    }
}
