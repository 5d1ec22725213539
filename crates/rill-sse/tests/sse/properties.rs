//! Properties: any chunking gives the same result as feeding whole; the decoder agrees
//! with the naive reference decoder on arbitrary bytes; encoded frames round-trip.

use proptest::prelude::*;
use proptest::sample::Index;
use rill_sse::{Event, Frame, comment};

use crate::conformance::cases;
use crate::reference::reference_decode;
use crate::support::{Outcome, decode_chunks, decode_limited, split_at};

/// Up to 12 cut positions (repeats give empty chunks) for an input of `len` bytes.
fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..12)
}

fn positions(cuts: &[Index], len: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = cuts.iter().map(|cut| cut.index(len + 1)).collect();
    positions.sort_unstable();
    positions
}

/// Text rich in the characters that matter to SSE.
fn text() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        6 => any::<char>(),
        1 => Just('\r'),
        1 => Just('\n'),
        1 => Just(':'),
        1 => Just(' '),
        1 => Just('\0'),
        1 => Just('\u{FEFF}'),
    ];
    prop::collection::vec(c, 0..24).prop_map(String::from_iter)
}

const FRAGMENTS: &[&[u8]] = &[
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\0",
    b"12",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    b"\xE2\x80\xA6",
    b"\xF0\x9F",
    b"\xFF",
];

/// Byte streams built from SSE fragments and arbitrary bytes.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec);
    let piece = prop_oneof![4 => fragment, 1 => any::<u8>().prop_map(|b| vec![b])];
    prop::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

#[derive(Debug, Clone)]
enum Item {
    Frame {
        data: String,
        event: Option<String>,
        id: Option<String>,
        retry: Option<u64>,
    },
    Comment(String),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (text(), prop::option::of(text()), prop::option::of(text()), prop::option::of(any::<u64>()))
            .prop_map(|(data, event, id, retry)| Item::Frame { data, event, id, retry }),
        1 => text().prop_map(Item::Comment),
    ]
}

/// Encodes `items` into one stream and computes what decoding it must give.
fn encode(items: &[Item]) -> (Vec<u8>, Outcome) {
    let mut wire = String::new();
    let mut expected = Outcome {
        events: Vec::new(),
        retry: None,
        last_event_id: String::new(),
    };
    for item in items {
        match item {
            Item::Comment(text) => wire.push_str(&comment(text)),
            Item::Frame {
                data,
                event,
                id,
                retry,
            } => {
                let mut frame = Frame::data(data);
                if let Some(event) = event {
                    frame = frame.event(event);
                }
                if let Some(id) = id {
                    frame = frame.id(id);
                    expected.last_event_id = id.replace(['\r', '\n', '\0'], "");
                }
                if let Some(ms) = *retry {
                    frame = frame.retry(ms);
                    expected.retry = Some(ms);
                }
                frame.encode_into(&mut wire);
                let event = event
                    .as_deref()
                    .unwrap_or_default()
                    .replace(['\r', '\n'], "");
                expected.events.push(Event {
                    event: if event.is_empty() {
                        "message".to_owned()
                    } else {
                        event
                    },
                    data: data.replace("\r\n", "\n").replace('\r', "\n"),
                    last_event_id: expected.last_event_id.clone(),
                });
            }
        }
    }
    (wire.into_bytes(), expected)
}

proptest! {
    #[test]
    fn conformance_inputs_decode_the_same_in_any_chunks(case in any::<Index>(), cuts in cuts()) {
        let cases = cases();
        let case = case.get(&cases);
        let chunks = split_at(&case.input, &positions(&cuts, case.input.len()));
        prop_assert_eq!(decode_chunks(chunks), case.expected.clone(), "case {}", case.name);
    }

    #[test]
    fn encoded_streams_round_trip_in_any_chunks(items in prop::collection::vec(item(), 0..8), cuts in cuts()) {
        let (wire, expected) = encode(&items);
        prop_assert!(!wire.starts_with(b"\xEF\xBB\xBF"));
        prop_assert_eq!(decode_chunks([&wire[..]]), expected.clone());
        let chunks = split_at(&wire, &positions(&cuts, wire.len()));
        prop_assert_eq!(decode_chunks(chunks), expected);
    }

    #[test]
    fn one_frame_round_trips(data in text(), event in text(), id in text()) {
        let wire = Frame::data(&data).event(&event).id(&id).encode();
        let outcome = decode_chunks([wire.as_bytes()]);
        prop_assert_eq!(outcome.events.len(), 1);
        let decoded = &outcome.events[0];
        prop_assert_eq!(&decoded.data, &data.replace("\r\n", "\n").replace('\r', "\n"));
        let event = event.replace(['\r', '\n'], "");
        prop_assert_eq!(&decoded.event, if event.is_empty() { "message" } else { &event });
        prop_assert_eq!(&decoded.last_event_id, &id.replace(['\r', '\n', '\0'], ""));
    }

    #[test]
    fn arbitrary_bytes_agree_with_the_reference_in_any_chunks(input in sse_bytes(), cuts in cuts()) {
        let (events, retry, last_event_id) = reference_decode(&input);
        let expected = Outcome { events, retry, last_event_id };
        prop_assert_eq!(decode_chunks([&input[..]]), expected.clone());
        prop_assert_eq!(decode_chunks(split_at(&input, &positions(&cuts, input.len()))), expected);
    }

    #[test]
    fn the_size_limit_does_not_depend_on_chunking(
        input in sse_bytes(),
        cuts in cuts(),
        limit in 0usize..64,
    ) {
        let all = decode_chunks([&input[..]]).events;
        let (whole, whole_error) = decode_limited(limit, [&input[..]]);
        let chunks = split_at(&input, &positions(&cuts, input.len()));
        let (split, split_error) = decode_limited(limit, chunks);
        prop_assert_eq!(&whole_error, &split_error);
        if whole_error.is_none() {
            prop_assert_eq!(&whole, &all);
            prop_assert_eq!(&split, &all);
        } else {
            // Events from chunks before the failing one were delivered; nothing else.
            prop_assert!(whole.is_empty());
            prop_assert!(all.starts_with(&split));
        }
    }
}
