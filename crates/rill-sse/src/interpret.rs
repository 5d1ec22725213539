//! Interpreting complete lines (WHATWG "Interpreting an event stream"): fields, comments
//! and dispatch. Knows nothing about chunks; [`crate::Decoder`] feeds it whole lines.

use std::borrow::Cow;
use std::mem;

use crate::Event;

/// The event being accumulated plus the state that outlives events.
#[derive(Debug, Default)]
pub(crate) struct Interpreter {
    /// The data buffer: every `data` value followed by LF.
    data: String,
    /// The event type buffer.
    event_type: String,
    /// The last-event-id buffer, set by `id` fields.
    id_buffer: String,
    /// The last event ID string: `id_buffer` as committed by the last blank line.
    last_event_id: String,
    /// The reconnection time from the last valid `retry` field.
    retry: Option<u64>,
}

impl Interpreter {
    /// Processes one line (without its line end); returns the event it dispatches, if any.
    pub(crate) fn line(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(0) => return None, // a comment
            Some(colon) => {
                let (name, value) = (&line[..colon], &line[colon + 1..]);
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                self.data.push_str(&utf8(value));
                self.data.push('\n');
            }
            b"event" => replace(&mut self.event_type, value),
            b"id" if !value.contains(&0) => replace(&mut self.id_buffer, value),
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    self.retry = Some(ms);
                }
            }
            _ => {} // unknown fields (and `id` with a NUL) are ignored
        }
        None
    }

    /// Bytes held for the event being accumulated (counted against the size limit).
    pub(crate) fn buffered(&self) -> usize {
        self.data.len() + self.event_type.len()
    }

    /// Drops the event being accumulated and releases its memory.
    pub(crate) fn discard_event(&mut self) {
        self.data = String::new();
        self.event_type = String::new();
    }

    pub(crate) fn retry(&self) -> Option<u64> {
        self.retry
    }

    pub(crate) fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    fn dispatch(&mut self) -> Option<Event> {
        self.last_event_id.clone_from(&self.id_buffer);
        if self.data.is_empty() {
            self.event_type.clear();
            return None;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let event = match mem::take(&mut self.event_type) {
            t if t.is_empty() => "message".to_owned(),
            t => t,
        };
        Some(Event {
            event,
            data: mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        })
    }
}

/// UTF-8 decoding with U+FFFD for invalid sequences; borrows when the bytes are valid.
fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn replace(buffer: &mut String, value: &[u8]) {
    buffer.clear();
    buffer.push_str(&utf8(value));
}

/// A `retry` value is used only when it is one or more ASCII digits (so `+5`, `1_000`,
/// `1000x` and `` are ignored). A value too large for `u64` is ignored too, as Chromium does.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |ms, &b| {
        b.is_ascii_digit()
            .then(|| ms.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_accepts_only_ascii_digits() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"02000"), Some(2000));
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        for bogus in [
            &b""[..],
            b"+5",
            b"-5",
            b"1_000",
            b"1000x",
            b" 1",
            b"1.5",
            b"\xd9\xa1", // ARABIC-INDIC DIGIT ONE is a digit, but not an ASCII one
            b"18446744073709551616",
        ] {
            assert_eq!(parse_retry(bogus), None, "{bogus:?}");
        }
    }

    #[test]
    fn id_is_committed_by_a_blank_line_even_without_data() {
        let mut interpreter = Interpreter::default();
        assert_eq!(interpreter.line(b"id: 7"), None);
        assert_eq!(interpreter.last_event_id(), "");
        assert_eq!(interpreter.line(b""), None);
        assert_eq!(interpreter.last_event_id(), "7");
    }
}
