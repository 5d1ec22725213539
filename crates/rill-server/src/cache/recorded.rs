//! A stored answer: its core events with when each came, recorded as a generation
//! streams past, and replayed as a stream.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::Stream;
use rill_core::{EventStream, FinishReason, StreamEvent};
use tokio::time::{Instant, Sleep};

use super::ResponseCache;
use super::key::CacheKey;
use crate::config::Pacing;
use crate::session::event_text;

/// An answer's events, each with its time since the generation started.
pub struct Recorded {
    events: Vec<(Duration, StreamEvent)>,
    bytes: u64,
    /// Past this many bytes nothing more is kept, and the answer is not stored.
    limit: u64,
    /// How it ended: only a clean finish is stored.
    finish: Option<FinishReason>,
    failed: bool,
    /// How long it is served.
    pub ttl: Duration,
}

impl Recorded {
    /// An empty recording that gives up past `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            events: Vec::new(),
            bytes: std::mem::size_of::<Self>() as u64,
            limit,
            finish: None,
            failed: false,
            ttl: Duration::ZERO,
        }
    }

    /// Keeps `event`, which came `at` after the start.
    pub fn push(&mut self, at: Duration, event: &StreamEvent) {
        match event {
            StreamEvent::Finish(reason) => self.finish = Some(*reason),
            StreamEvent::Error(_) => self.failed = true,
            _ => {}
        }
        if self.bytes > self.limit {
            return;
        }
        self.bytes += weight(event);
        self.events.push((at, event.clone()));
    }

    /// The answer to store, if the generation finished cleanly: stopped, at its length
    /// limit or calling tools; never an error, a cancel, a timeout, a stream cut short or
    /// an answer withheld by a content filter.
    pub fn into_answer(mut self, ttl: Duration) -> Option<Self> {
        let clean = matches!(
            self.finish,
            Some(
                FinishReason::Stop
                    | FinishReason::StopSequence
                    | FinishReason::Length
                    | FinishReason::ToolCalls
            )
        );
        if !clean || self.failed || self.bytes > self.limit {
            return None;
        }
        self.events.shrink_to_fit();
        self.ttl = ttl;
        Some(self)
    }

    /// What the answer takes in memory, roughly, for the store's bound.
    pub fn weight(&self) -> u32 {
        u32::try_from(self.bytes).unwrap_or(u32::MAX)
    }

    /// Each event with its time since the start.
    pub fn timed(&self) -> impl Iterator<Item = (Duration, &StreamEvent)> {
        self.events.iter().map(|(at, event)| (*at, event))
    }

    /// A stored answer read back (from a shared store), served for `ttl`.
    pub fn from_timed(events: Vec<(Duration, StreamEvent)>, ttl: Duration) -> Self {
        let mut answer = Self::new(u64::MAX);
        answer.bytes += events.iter().map(|(_, event)| weight(event)).sum::<u64>();
        answer.events = events;
        answer.ttl = ttl;
        answer
    }
}

/// What keeping `event` takes, roughly.
fn weight(event: &StreamEvent) -> u64 {
    (std::mem::size_of::<(Duration, StreamEvent)>() + event_text(event)) as u64
}

/// A generation's stream on its way to its readers, recorded as it passes; a clean
/// finish is stored in the cache. While it lives it is the running generation identical
/// requests may share (its flight), if it leads one.
pub(super) struct Recorder {
    pub(super) inner: EventStream,
    /// Until the stream ends.
    pub(super) recorded: Option<Recorded>,
    pub(super) started: Instant,
    pub(super) cache: Arc<ResponseCache>,
    pub(super) key: CacheKey,
    pub(super) ttl: Duration,
    /// The flight this stream is, registered under `key` until it ends.
    pub(super) flight: Option<u64>,
}

impl Stream for Recorder {
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = self.get_mut();
        match ready!(this.inner.as_mut().poll_next(cx)) {
            Some(event) => {
                if let Some(recorded) = &mut this.recorded {
                    recorded.push(this.started.elapsed(), &event);
                }
                Poll::Ready(Some(event))
            }
            None => {
                let answer = this.recorded.take().and_then(|r| r.into_answer(this.ttl));
                if let Some(answer) = answer {
                    this.cache.store(this.key, Arc::new(answer));
                }
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(flight) = self.flight {
            self.cache.landed(&self.key, flight);
        }
    }
}

/// A stored answer streamed out again, paced as configured.
pub(super) struct Replay {
    answer: Arc<Recorded>,
    next: usize,
    pace: Pace,
    sleep: Option<Pin<Box<Sleep>>>,
}

/// When each event of a replay is due.
struct Pace {
    pacing: Pacing,
    started: Instant,
    /// When the last content event went out (for a token rate).
    last_content: Option<Instant>,
}

impl Pace {
    /// When `event`, recorded `at` after the start, is due, if it must wait.
    fn due(&self, at: Duration, event: &StreamEvent) -> Option<Instant> {
        match self.pacing {
            Pacing::Instant => None,
            Pacing::Recorded => Some(self.started + at),
            Pacing::TokensPerSec(rate) if event.is_content() => self
                .last_content
                .map(|last| last + Duration::from_secs_f64(1.0 / rate)),
            Pacing::TokensPerSec(_) => None,
        }
    }

    /// `event` went out now.
    fn sent(&mut self, event: &StreamEvent) {
        if matches!(self.pacing, Pacing::TokensPerSec(_)) && event.is_content() {
            self.last_content = Some(Instant::now());
        }
    }
}

impl Replay {
    pub(super) fn new(answer: Arc<Recorded>, pacing: Pacing) -> Self {
        Self {
            answer,
            next: 0,
            pace: Pace {
                pacing,
                started: Instant::now(),
                last_content: None,
            },
            sleep: None,
        }
    }
}

impl Stream for Replay {
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = self.get_mut();
        let Some((at, event)) = this.answer.events.get(this.next) else {
            return Poll::Ready(None);
        };
        if let Some(due) = this.pace.due(*at, event)
            && due > Instant::now()
        {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
            if sleep.deadline() != due {
                sleep.as_mut().reset(due);
            }
            ready!(sleep.as_mut().poll(cx));
        }
        this.pace.sent(event);
        this.next += 1;
        Poll::Ready(Some(event.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use rill_core::{Error, ErrorKind};

    fn text(t: &str) -> StreamEvent {
        StreamEvent::TextDelta(t.into())
    }

    fn recorded(events: &[(u64, StreamEvent)]) -> Recorded {
        let mut recorded = Recorded::new(u64::MAX);
        for (ms, event) in events {
            recorded.push(Duration::from_millis(*ms), event);
        }
        recorded
    }

    #[test]
    fn only_a_clean_finish_is_kept() {
        let finish = |reason| recorded(&[(0, text("a")), (1, StreamEvent::Finish(reason))]);
        for reason in [
            FinishReason::Stop,
            FinishReason::StopSequence,
            FinishReason::Length,
            FinishReason::ToolCalls,
        ] {
            assert!(finish(reason).into_answer(Duration::from_secs(1)).is_some());
        }
        assert!(
            finish(FinishReason::ContentFilter)
                .into_answer(Duration::from_secs(1))
                .is_none()
        );
        let failed = recorded(&[
            (0, text("a")),
            (1, StreamEvent::Error(Error::new(ErrorKind::Cancelled, "x"))),
        ]);
        assert!(failed.into_answer(Duration::from_secs(1)).is_none());
        let cut_short = recorded(&[(0, text("a"))]);
        assert!(cut_short.into_answer(Duration::from_secs(1)).is_none());
        let mut too_big = Recorded::new(200);
        for _ in 0..10 {
            too_big.push(Duration::ZERO, &text("word"));
        }
        too_big.push(Duration::ZERO, &StreamEvent::Finish(FinishReason::Stop));
        assert!(too_big.into_answer(Duration::from_secs(1)).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_replay_keeps_the_recorded_gaps_or_a_rate_or_none() {
        let events = [
            (0, StreamEvent::Start { model: "m".into() }),
            (100, text("a")),
            (300, text("b")),
            (350, StreamEvent::Finish(FinishReason::Stop)),
        ];
        let answer = Arc::new(
            recorded(&events)
                .into_answer(Duration::from_secs(1))
                .unwrap(),
        );
        let times = |pacing| {
            let answer = Arc::clone(&answer);
            async move {
                let start = Instant::now();
                Replay::new(answer, pacing)
                    .map(|_| start.elapsed().as_millis())
                    .collect::<Vec<_>>()
                    .await
            }
        };
        assert_eq!(times(Pacing::Instant).await, [0, 0, 0, 0]);
        assert_eq!(times(Pacing::Recorded).await, [0, 100, 300, 350]);
        assert_eq!(times(Pacing::TokensPerSec(10.0)).await, [0, 0, 100, 100]);
        let replayed: Vec<StreamEvent> = Replay::new(answer, Pacing::Instant).collect().await;
        assert_eq!(replayed, events.map(|(_, e)| e));
    }
}
