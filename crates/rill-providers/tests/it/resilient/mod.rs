//! The resilient provider: timeouts, retries and fallbacks before the first token, on
//! tokio's paused clock (every timeout and pause is exact), with providers that play a
//! different part on each call and count the calls.

mod fallbacks;
mod retries;
mod timeouts;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ChatRequest, Error, EventStream, Provider, ProviderFuture, StreamEvent};
use rill_providers::{Backoff, Link, Policy, Resilient, ScriptConfig, ScriptedProvider, Timeouts};
use tokio::time::Instant;

pub use crate::common::{request, text};

/// Plays `parts[n]` on its n-th call (the last part for every later call), and records
/// when each call came and how many of its streams were dropped.
#[derive(Clone)]
pub struct Calls {
    parts: Arc<[Arc<dyn Provider>]>,
    started: Arc<Mutex<Vec<Instant>>>,
    dropped: Arc<AtomicUsize>,
}

impl Calls {
    pub fn new(parts: Vec<Arc<dyn Provider>>) -> Self {
        assert!(!parts.is_empty());
        Self {
            parts: parts.into(),
            started: Arc::default(),
            dropped: Arc::default(),
        }
    }

    /// The same part on every call.
    pub fn always(part: impl Provider) -> Self {
        Self::new(vec![Arc::new(part)])
    }

    pub fn count(&self) -> usize {
        self.started.lock().unwrap().len()
    }

    /// When each call came.
    pub fn times(&self) -> Vec<Instant> {
        self.started.lock().unwrap().clone()
    }

    /// How many streams the caller dropped.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Provider for Calls {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let n = {
            let mut started = self.started.lock().unwrap();
            started.push(Instant::now());
            started.len() - 1
        };
        let part = Arc::clone(&self.parts[n.min(self.parts.len() - 1)]);
        let dropped = Arc::clone(&self.dropped);
        Box::pin(async move {
            let stream = part.start(request).await?;
            let guard = DropCount(dropped);
            let counted = stream.map(move |event| {
                let _keep = &guard;
                event
            });
            Ok(Box::pin(counted) as EventStream)
        })
    }
}

/// Fails every call before the stream with this error.
pub struct Fails(pub Error);

impl Provider for Fails {
    fn start(&self, _: ChatRequest) -> ProviderFuture {
        let error = self.0.clone();
        Box::pin(async move { Err(error) })
    }
}

/// Streams exactly these events, at once; then ends, or keeps the stream open.
pub struct Play {
    events: Vec<StreamEvent>,
    hang: bool,
}

impl Play {
    pub fn new(events: Vec<StreamEvent>) -> Self {
        Self {
            events,
            hang: false,
        }
    }

    pub fn hanging(events: Vec<StreamEvent>) -> Self {
        Self { events, hang: true }
    }
}

impl Provider for Play {
    fn start(&self, _: ChatRequest) -> ProviderFuture {
        let events = futures_util::stream::iter(self.events.clone());
        let stream: EventStream = if self.hang {
            Box::pin(events.chain(futures_util::stream::pending()))
        } else {
            Box::pin(events)
        };
        Box::pin(async move { Ok(stream) })
    }
}

/// Never answers: an upstream that sends no response headers.
pub struct Silent;

impl Provider for Silent {
    fn start(&self, _: ChatRequest) -> ProviderFuture {
        Box::pin(futures_util::future::pending())
    }
}

/// A scripted answer, at 10 tokens a second.
pub fn script(text: &str) -> ScriptConfig {
    ScriptConfig {
        text: Some(text.into()),
        tokens_per_second: Some(10.0),
        ..ScriptConfig::default()
    }
}

pub fn scripted(script: ScriptConfig) -> ScriptedProvider {
    ScriptedProvider::new("upstream-id", script)
}

/// One second to the first token, two attempts, 100 ms base backoff (at most 5 s), no
/// idle or total limit.
pub fn policy() -> Policy {
    Policy {
        max_attempts: 2,
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(5),
        },
        timeouts: Timeouts {
            first_token: Some(Duration::from_secs(1)),
            idle: None,
            total: None,
        },
    }
}

pub fn link(name: &str, provider: &Calls, policy: Policy) -> Link {
    Link::new(name, Arc::new(provider.clone()), policy)
}

/// Every event of a stream, which must end within 10 minutes of the paused clock.
pub async fn events(stream: EventStream) -> Vec<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(600), stream.collect())
        .await
        .expect("the stream did not end")
}

/// The stream of `resilient`, which must accept the request.
pub async fn start(resilient: &Resilient) -> EventStream {
    match resilient.start(request("a")).await {
        Ok(stream) => stream,
        Err(error) => panic!("no attempt was accepted: {error:?}"),
    }
}

/// The models the `Start` events of `events` name.
pub fn starts(events: &[StreamEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::Start { model } => Some(model.as_str()),
            _ => None,
        })
        .collect()
}

/// The stream's error, which must be its last event.
pub fn error(events: &[StreamEvent]) -> &Error {
    match events.last() {
        Some(StreamEvent::Error(error)) => error,
        other => panic!("the stream ended with {other:?}, not an error"),
    }
}
