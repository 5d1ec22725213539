//! Fuzzes the decoder and the encoder.
//!
//! Input: the first byte `n` picks how many of the following bytes are chunk sizes
//! (`n % 8`, each size `byte % 16`, cycled; 0 gives an empty chunk); the rest is the
//! stream. Checks, with no panic anywhere:
//! - the stream decodes identically whole, in those chunks, and one byte at a time, and
//!   agrees with the naive reference decoder of the test suite;
//! - with a small size limit, the error does not depend on the chunking and the events
//!   delivered before it are a prefix of the unlimited result;
//! - the stream read as (lossy) UTF-8 round-trips through `Frame` and `comment`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rill_sse::{Decoder, Event, Frame, SseError, comment};

#[path = "../../tests/sse/reference.rs"]
mod reference;

type Outcome = (Vec<Event>, Option<u64>, String);

fuzz_target!(|input: &[u8]| {
    let Some((&n, rest)) = input.split_first() else {
        return;
    };
    let (sizes, stream) = rest.split_at(usize::from(n % 8).min(rest.len()));
    let sizes: Vec<usize> = sizes.iter().map(|&b| usize::from(b % 16)).collect();
    let chunks = chunk(stream, &sizes);

    let whole = decode([stream]);
    assert_eq!(whole, reference::reference_decode(stream), "reference");
    assert_eq!(decode(chunks.iter().copied()), whole, "chunks");
    assert_eq!(decode(stream.chunks(1)), whole, "bytewise");

    let limit = usize::from(n) / 2;
    let (whole_limited, whole_error) = decode_limited(limit, [stream]);
    let (split_limited, split_error) = decode_limited(limit, chunks.iter().copied());
    assert_eq!(whole_error, split_error, "limit {limit}");
    if whole_error.is_none() {
        assert_eq!(whole_limited, whole.0);
        assert_eq!(split_limited, whole.0);
    } else {
        assert!(whole_limited.is_empty());
        assert!(whole.0.starts_with(&split_limited));
    }

    round_trip(&String::from_utf8_lossy(stream));
});

/// Cuts `stream` into chunks of the given sizes, cycled (a 1 is added if all are 0).
fn chunk<'a>(stream: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut sizes = sizes.to_vec();
    if sizes.iter().all(|&s| s == 0) {
        sizes.push(1);
    }
    let mut chunks = Vec::new();
    let mut rest = stream;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

fn decode<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::with_max_event_size(usize::MAX);
    let mut events = Vec::new();
    for chunk in chunks {
        match decoder.feed(chunk) {
            Ok(more) => events.extend(more),
            Err(error) => panic!("unlimited decoder failed: {error}"),
        }
    }
    (events, decoder.retry(), decoder.last_event_id().to_owned())
}

fn decode_limited<'a>(
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

fn round_trip(text: &str) {
    let mut wire = comment(text);
    Frame::data(text)
        .event(text)
        .id(text)
        .retry(7)
        .encode_into(&mut wire);
    Frame::data(text).encode_into(&mut wire);
    assert!(!wire.starts_with('\u{FEFF}'));

    let (events, retry, last_event_id) = decode([wire.as_bytes()]);
    let data = text.replace("\r\n", "\n").replace('\r', "\n");
    let event = text.replace(['\r', '\n'], "");
    let id = text.replace(['\r', '\n', '\0'], "");
    let event = if event.is_empty() {
        "message".to_owned()
    } else {
        event
    };
    let expected = vec![
        Event {
            event,
            data: data.clone(),
            last_event_id: id.clone(),
        },
        Event {
            event: "message".to_owned(),
            data,
            last_event_id: id.clone(),
        },
    ];
    assert_eq!(events, expected, "round trip");
    assert_eq!((retry, last_event_id), (Some(7), id));
}
