//! Server-Sent Events for rill: a WHATWG-conformant incremental [`Decoder`] (bytes in any
//! chunking -> [`Event`]s) and a [`Frame`] encoder that only emits frames the decoder
//! (and every browser) reads back unchanged, and [`FrameBuf`], numbered frames that
//! encoders write into directly. No HTTP, no async runtime, no JSON.
//!
//! # Key design decision: a hand-written, byte-level, chunk-invariant decoder
//!
//! The decoder is hand-written against the WHATWG "Server-sent events" parsing rules
//! because the obvious crate, `eventsource-stream` 0.2.3, fails them: it panics on a
//! leading BOM, accepts `retry:+5`, turns invalid UTF-8 into an error instead of
//! U+FFFD, and drops an event that is ended by a final lone CR at the end of the stream.
//!
//! It splits lines on raw bytes and decodes UTF-8 one complete line at a time. That is
//! exactly equivalent to decoding the whole stream first, because CR, LF and `:` are
//! ASCII and can never be part of a multi-byte sequence (a UTF-8 decoder ends an invalid
//! sequence at them), and it makes chunk boundaries irrelevant: a character, an invalid
//! sequence, a BOM or a CRLF split across chunks decodes the same as when whole. Every
//! byte is scanned once (with `memchr`); only the unfinished tail of a line is copied,
//! so feeding one byte at a time stays linear, and a complete line inside a chunk is
//! parsed in place without allocating.
//!
//! Memory is bounded by [`Decoder::with_max_event_size`]: a peer that sends an endless
//! line or an endless event gets [`SseError::EventTooLarge`], not an out-of-memory.
//!
//! ```
//! use rill_sse::{Decoder, Frame};
//!
//! let wire = Frame::data("hello\nworld").event("greeting").id("7").encode();
//! assert_eq!(wire, "event: greeting\nid: 7\ndata: hello\ndata: world\n\n");
//!
//! let mut decoder = Decoder::new();
//! let (head, tail) = wire.as_bytes().split_at(9);
//! assert!(decoder.feed(head)?.is_empty());
//! let events = decoder.feed(tail)?;
//! assert_eq!(events[0].event, "greeting");
//! assert_eq!(events[0].data, "hello\nworld");
//! assert_eq!(events[0].last_event_id, "7");
//! # Ok::<(), rill_sse::SseError>(())
//! ```

mod decode;
mod encode;
mod frames;
mod interpret;

pub use decode::Decoder;
pub use encode::{Frame, comment};
pub use frames::FrameBuf;

/// A dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type; `"message"` when no (non-empty) `event:` field was given.
    pub event: String,
    /// The data buffer with its one trailing LF removed (lines joined by LF).
    pub data: String,
    /// The last-event-id buffer at dispatch time (it persists across events).
    pub last_event_id: String,
}

/// Why [`Decoder::feed`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// The event being accumulated (its data and type buffers plus its current,
    /// unfinished line) grew past the decoder's limit.
    #[error("an event exceeded the maximum size of {limit} bytes")]
    EventTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
}
