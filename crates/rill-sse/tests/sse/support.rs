//! Helpers: feed a stream in given chunks and compare outcomes across chunkings.

use rill_sse::{Decoder, Event, SseError};

/// Everything a decoder reports for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub retry: Option<u64>,
    pub last_event_id: String,
}

/// Feeds `chunks` in order to a fresh decoder (panics on a size error).
pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(
            decoder
                .feed(chunk)
                .unwrap_or_else(|e| panic!("unexpected: {e}")),
        );
    }
    Outcome {
        events,
        retry: decoder.retry(),
        last_event_id: decoder.last_event_id().to_owned(),
    }
}

/// Feeds `chunks` to a decoder with `limit`: the events it returned, and the error.
pub fn decode_limited<'a>(
    limit: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Event>, Option<SseError>) {
    let mut decoder = Decoder::with_max_event_size(limit);
    let mut events = Vec::new();
    for chunk in chunks {
        match decoder.feed(chunk) {
            Ok(more) => events.extend(more),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

/// `input` cut at `cuts` (sorted positions; repeats give empty chunks).
pub fn split_at<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    chunks
}

/// Decodes `input` whole, split in two at every byte position, and one byte at a time;
/// asserts all of them agree and returns the outcome.
pub fn decode_every_way(input: &[u8]) -> Outcome {
    let whole = decode_chunks([input]);
    for cut in 0..=input.len() {
        let split = decode_chunks(split_at(input, &[cut]));
        assert_eq!(split, whole, "split at byte {cut} of {:?}", escape(input));
    }
    let bytewise = decode_chunks(input.chunks(1));
    assert_eq!(bytewise, whole, "one byte at a time: {:?}", escape(input));
    whole
}

/// A readable form of a byte stream for failure messages.
pub fn escape(input: &[u8]) -> String {
    input.escape_ascii().to_string()
}

/// An event as a test expects it.
pub fn event(event: &str, data: &str, last_event_id: &str) -> Event {
    Event {
        event: event.to_owned(),
        data: data.to_owned(),
        last_event_id: last_event_id.to_owned(),
    }
}
