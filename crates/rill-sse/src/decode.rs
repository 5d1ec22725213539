//! The incremental decoder: network chunks -> lines -> events.

use crate::interpret::Interpreter;
use crate::{Event, SseError};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The default [`Decoder::with_max_event_size`] limit: 16 MiB.
const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// An incremental WHATWG Server-Sent Events decoder.
///
/// Feed it the body's chunks as they arrive, split anywhere; it returns each event as
/// soon as its terminating blank line is complete. The result never depends on where the
/// chunks were split. An event whose blank line never arrives (the stream ended first) is
/// never dispatched, as the standard requires: there is deliberately no `finish` method.
///
/// # Errors and poisoning
///
/// When the event being accumulated grows past the size limit, [`feed`](Self::feed)
/// returns [`SseError::EventTooLarge`] and drops the events completed earlier in that
/// same chunk. The decoder is then poisoned: its buffers are freed and every later call
/// to `feed` returns the same error. The stream cannot be resynchronised reliably, so
/// drop the connection (a reconnecting client starts a new `Decoder`, sending
/// [`last_event_id`](Self::last_event_id) if it is non-empty).
#[derive(Debug)]
pub struct Decoder {
    /// The unfinished current line. Never holds CR or LF: only bytes already scanned.
    line: Vec<u8>,
    /// The last chunk ended in CR, so an LF at the start of the next one ends nothing.
    after_cr: bool,
    /// How many bytes of a leading BOM were seen in earlier chunks; `None` once decided.
    bom_seen: Option<usize>,
    fields: Interpreter,
    limit: usize,
    poisoned: bool,
}

impl Decoder {
    /// A decoder with the default maximum event size of 16 MiB.
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A decoder that fails once an event grows past `limit` bytes.
    ///
    /// The size of an event is the length of its data buffer (each value plus LF) and of
    /// its type buffer plus the bytes of its current, unfinished line, so memory stays
    /// bounded even by a line that never ends. This counts comment and unknown-field
    /// lines too: a single line longer than `limit` is an error whatever it is.
    pub fn with_max_event_size(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            bom_seen: Some(0),
            fields: Interpreter::default(),
            limit,
            poisoned: false,
        }
    }

    /// Feeds the next network chunk (any split, may be empty); returns the events that it
    /// completed, in order.
    ///
    /// # Errors
    ///
    /// [`SseError::EventTooLarge`] when the event being accumulated exceeds the limit;
    /// the decoder is poisoned from then on (see the type's docs).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, SseError> {
        if self.poisoned {
            return Err(self.too_large());
        }
        let mut events = Vec::new();
        let mut rest = self.skip_bom(chunk);
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            let (tail, line_end) = rest.split_at(end);
            self.end_line(tail, &mut events)?;
            rest = match line_end {
                [b'\r', b'\n', after @ ..] => after,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, after @ ..] | after @ [] => after,
            };
        }
        if !rest.is_empty() {
            self.check(self.line.len() + rest.len())?;
            self.line.extend_from_slice(rest);
        }
        Ok(events)
    }

    /// The reconnection time in milliseconds from the last valid `retry:` field, if any.
    pub fn retry(&self) -> Option<u64> {
        self.fields.retry()
    }

    /// The last event ID: the `id:` value committed by the latest blank line, which is
    /// what a reconnecting client sends as `Last-Event-ID` (when non-empty). An `id:`
    /// line of an event still in progress does not count until its blank line arrives.
    pub fn last_event_id(&self) -> &str {
        self.fields.last_event_id()
    }

    /// Holds back the bytes of a leading BOM (which may be split across chunks) and
    /// returns what is left of `chunk` to decode.
    fn skip_bom<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        let Some(seen) = self.bom_seen else {
            return chunk;
        };
        let missing = &BOM[seen..];
        let n = missing.len().min(chunk.len());
        if chunk[..n] != missing[..n] {
            // Not a BOM after all: what was held back is ordinary text.
            self.line.extend_from_slice(&BOM[..seen]);
            self.bom_seen = None;
            chunk
        } else if n == missing.len() {
            self.bom_seen = None;
            &chunk[n..]
        } else {
            self.bom_seen = Some(seen + n);
            &[]
        }
    }

    /// Completes the current line with `tail` (the bytes before its line end) and
    /// interprets it, in place when no earlier chunk holds a part of it.
    fn end_line(&mut self, tail: &[u8], events: &mut Vec<Event>) -> Result<(), SseError> {
        self.check(self.line.len() + tail.len())?;
        let event = if self.line.is_empty() {
            self.fields.line(tail)
        } else {
            self.line.extend_from_slice(tail);
            let event = self.fields.line(&self.line);
            self.line.clear();
            event
        };
        events.extend(event);
        // Replacing invalid UTF-8 with U+FFFD can make the buffers outgrow the line.
        self.check(0)
    }

    /// Fails (and poisons the decoder) when the event plus `line_len` bytes of the
    /// current line exceed the limit.
    fn check(&mut self, line_len: usize) -> Result<(), SseError> {
        if self.fields.buffered().saturating_add(line_len) <= self.limit {
            return Ok(());
        }
        self.poisoned = true;
        self.line = Vec::new();
        self.fields.discard_event();
        Err(self.too_large())
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge { limit: self.limit }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_line_keeps_memory_bounded() {
        let limit = 4096;
        let mut decoder = Decoder::with_max_event_size(limit);
        let chunk = [b'x'; 1000];
        let mut fed = 0;
        let error = loop {
            match decoder.feed(&chunk) {
                Ok(events) => assert!(events.is_empty()),
                Err(error) => break error,
            }
            fed += chunk.len();
            assert!(
                decoder.line.len() <= limit,
                "held {} bytes",
                decoder.line.len()
            );
            assert!(fed <= limit, "no error after {fed} bytes");
        };
        assert_eq!(error, SseError::EventTooLarge { limit });
        assert_eq!(decoder.line.capacity(), 0, "the buffer is freed");
        assert_eq!(
            decoder.feed(b"\n\n"),
            Err(error),
            "the decoder stays poisoned"
        );
    }

    #[test]
    fn one_byte_chunks_are_appended_not_rescanned() {
        let mut decoder = Decoder::new();
        for &byte in b"data: abc" {
            assert_eq!(decoder.feed(&[byte]), Ok(vec![]));
        }
        assert_eq!(decoder.line, b"data: abc");
        let events = decoder.feed(b"\n\n").unwrap();
        assert_eq!(events.len(), 1);
        assert!(decoder.line.is_empty());
    }

    #[test]
    fn a_partial_bom_is_held_back_then_released() {
        let mut decoder = Decoder::new();
        assert_eq!(decoder.feed(b"\xEF\xBB"), Ok(vec![]));
        assert_eq!(decoder.bom_seen, Some(2));
        assert!(decoder.line.is_empty());
        assert_eq!(decoder.feed(b"x"), Ok(vec![]));
        assert_eq!(decoder.bom_seen, None);
        assert_eq!(decoder.line, b"\xEF\xBBx");
    }
}
