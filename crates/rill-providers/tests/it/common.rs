//! What every provider's tests share: the request they send, starting a generation that
//! must stream or must be refused, reading events with a deadline, and the fixtures.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ChatRequest, EventStream, Message, Provider, Sampling, StreamEvent};

/// A short conversation for the model rill calls `name`.
pub fn request(name: &str) -> ChatRequest {
    ChatRequest {
        model: name.into(),
        messages: vec![
            Message::System {
                text: "be brief".into(),
            },
            Message::User { text: "hi".into() },
        ],
        sampling: Sampling {
            max_tokens: Some(64),
            ..Sampling::default()
        },
        ..ChatRequest::default()
    }
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &(impl Provider + ?Sized), name: &str) -> EventStream {
    match provider.start(request(name)).await {
        Ok(stream) => stream,
        Err(error) => panic!("the provider failed before the stream: {error:?}"),
    }
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &(impl Provider + ?Sized), name: &str) -> rill_core::Error {
    match provider.start(request(name)).await {
        Ok(_) => panic!("the provider streamed instead of failing"),
        Err(error) => error,
    }
}

/// Every event of a stream, which must end by itself within 5 s.
pub async fn all_events(stream: EventStream) -> Vec<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(5), stream.collect())
        .await
        .expect("the stream did not end")
}

/// The next event, within 5 s.
pub async fn next(stream: &mut EventStream) -> Option<StreamEvent> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no event within 5 s")
}

/// A stream from `dir` (relative to this crate), such as rill-wire's fixtures.
pub fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The text of `events`.
pub fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
