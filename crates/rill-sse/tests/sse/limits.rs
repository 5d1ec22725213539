//! The maximum event size bounds memory without rejecting events under it.

use rill_sse::{Decoder, SseError};

use crate::support::{decode_limited, split_at};

#[test]
fn an_endless_line_is_an_error_not_an_allocation() {
    let limit = 64 * 1024;
    let mut decoder = Decoder::with_max_event_size(limit);
    let chunk = vec![b'a'; 4096];
    assert_eq!(decoder.feed(b"data: "), Ok(vec![]));
    let mut fed = 6;
    let error = loop {
        match decoder.feed(&chunk) {
            Ok(events) => assert!(events.is_empty()),
            Err(error) => break error,
        }
        fed += chunk.len();
        assert!(fed <= limit, "still no error after {fed} bytes");
    };
    assert_eq!(error, SseError::EventTooLarge { limit });
    assert_eq!(
        error.to_string(),
        "an event exceeded the maximum size of 65536 bytes"
    );
    // Poisoned: even a harmless chunk reports the error again.
    assert_eq!(decoder.feed(b"\n\ndata: ok\n\n"), Err(error));
}

#[test]
fn an_endless_comment_is_bounded_too() {
    let (events, error) = decode_limited(100, [&b": "[..], &[b'x'; 99][..]]);
    assert!(events.is_empty());
    assert_eq!(error, Some(SseError::EventTooLarge { limit: 100 }));
}

#[test]
fn many_lines_accumulating_past_the_limit_are_an_error() {
    let input = "data: 0123456789\n".repeat(10) + "\n";
    // Each line adds 11 bytes (value + LF) to the data buffer; while the 10th line (16
    // bytes) is read the event holds 9 * 11 + 16 = 115 bytes.
    assert_eq!(decode_limited(115, [input.as_bytes()]).1, None);
    let (events, error) = decode_limited(114, [input.as_bytes()]);
    assert_eq!(
        (events, error),
        (vec![], Some(SseError::EventTooLarge { limit: 114 }))
    );
}

#[test]
fn events_under_the_limit_pass_one_after_another() {
    let limit = 1024;
    let data = "d".repeat(limit - "data:".len());
    let input = format!("data:{data}\n\n").repeat(50);
    let (events, error) = decode_limited(limit, [input.as_bytes()]);
    assert_eq!(error, None);
    assert_eq!(events.len(), 50);
    assert!(events.iter().all(|event| event.data == data));
    let one_too_many = format!("data:{data}x\n\n");
    assert!(decode_limited(limit, [one_too_many.as_bytes()]).1.is_some());
}

#[test]
fn events_before_the_error_are_delivered_by_earlier_chunks() {
    let input = format!("data:1\n\ndata:{}\n\n", "x".repeat(100));
    let (events, error) = decode_limited(50, split_at(input.as_bytes(), &[8]));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, "1");
    assert!(error.is_some());
    // The same bytes in one chunk: the error wins and the chunk's events are dropped.
    assert_eq!(decode_limited(50, [input.as_bytes()]).0, vec![]);
}

#[test]
fn the_default_limit_is_16_mib() {
    let data = "x".repeat(16 * 1024 * 1024 - "data:".len());
    let mut decoder = Decoder::new();
    assert_eq!(
        decoder
            .feed(format!("data:{data}\n\n").as_bytes())
            .map(|e| e.len()),
        Ok(1)
    );
    let mut decoder = Decoder::default();
    let too_large = decoder.feed(format!("data:{data}x").as_bytes());
    assert_eq!(
        too_large,
        Err(SseError::EventTooLarge {
            limit: 16 * 1024 * 1024
        })
    );
}

#[test]
fn a_long_line_fed_one_byte_at_a_time_takes_linear_time() {
    // Rescanning the buffered line on every chunk would make this quadratic: ~10^12
    // byte visits for 2 MiB, which would not finish.
    let input = format!("data:{}\n\n", "x".repeat(2 * 1024 * 1024));
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for byte in input.as_bytes().chunks(1) {
        events.extend(decoder.feed(byte).unwrap());
    }
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data.len(), 2 * 1024 * 1024);
}
