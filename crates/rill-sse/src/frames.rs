//! A caller-owned buffer of numbered frames that encoders write into directly.
//!
//! A server writes one frame per event of an answer, thousands of times a second per
//! stream. [`FrameBuf`] lets an encoder serialise an event's data straight into the bytes
//! that go on the wire, framed and numbered, with no string per event: the buffer is
//! reused, and [`FrameBuf::take`] hands what was written to the socket without copying.
//! A resumed stream skips the frames its client already has without even serialising
//! them ([`FrameBuf::resuming_after`]).

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

/// Numbered SSE frames, written as `event:` (if named), `id: <number>`, `data:` lines
/// and a blank line: what [`crate::Frame`] writes for the same fields.
#[derive(Debug, Clone, Default)]
pub struct FrameBuf {
    buf: BytesMut,
    /// The number the next frame gets.
    next: u64,
    /// Frames numbered up to this one are counted but not written (the client has them).
    skip_through: Option<u64>,
    /// Collects each frame's event and data instead of SSE text.
    payloads: Option<Vec<(Option<&'static str>, String)>>,
}

impl FrameBuf {
    /// Frames numbered from 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Frames numbered from 0, of which those up to `last` (a client's `Last-Event-ID`)
    /// are left out; `None` leaves out none.
    pub fn resuming_after(last: Option<u64>) -> Self {
        Self {
            skip_through: last,
            ..Self::default()
        }
    }

    /// A buffer that keeps each frame's event name and data apart instead of writing SSE
    /// text, for callers that frame events their own way (and tests).
    pub fn payloads() -> Self {
        Self {
            payloads: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// Writes one frame whose data `write` appends to the buffer it is given; data with
    /// line ends becomes several `data:` lines. If `write` fails, the frame is left out
    /// (and not counted) and its error returned.
    pub fn frame<E>(
        &mut self,
        event: Option<&'static str>,
        write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<(), E> {
        let number = self.next;
        if self.skip_through.is_some_and(|last| number <= last) {
            self.next += 1;
            return Ok(());
        }
        let start = self.buf.len();
        if self.payloads.is_none() {
            if let Some(event) = event {
                self.buf.put_slice(b"event: ");
                put_stripped(&mut self.buf, event.as_bytes(), b"\r\n");
                self.buf.put_u8(b'\n');
            }
            // Writing to a `BytesMut` cannot fail.
            let _ = write!(self.buf, "id: {number}\ndata: ");
        }
        let data = self.buf.len();
        if let Err(error) = write(&mut self.buf) {
            self.buf.truncate(start);
            return Err(error);
        }
        self.next += 1;
        if let Some(payloads) = &mut self.payloads {
            let text = String::from_utf8_lossy(&self.buf[data..]).into_owned();
            self.buf.truncate(start);
            payloads.push((event, text));
            return Ok(());
        }
        if memchr::memchr2(b'\r', b'\n', &self.buf[data..]).is_some() {
            let text = self.buf.split_off(data);
            split_lines(&mut self.buf, &text);
        }
        self.buf.put_slice(b"\n\n");
        Ok(())
    }

    /// Writes one frame whose data is `data`.
    pub fn frame_str(&mut self, event: Option<&'static str>, data: &str) {
        let _ = self.frame(event, |buf| {
            buf.put_slice(data.as_bytes());
            Ok::<(), std::convert::Infallible>(())
        });
    }

    /// Appends a comment frame (`: text`), which takes no number.
    pub fn comment(&mut self, text: &str) {
        if self.payloads.is_none() {
            self.buf.put_slice(crate::comment(text).as_bytes());
        }
    }

    /// The number the next frame gets.
    pub fn next_number(&self) -> u64 {
        self.next
    }

    /// Whether nothing was written since the last [`FrameBuf::take`].
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written since the last [`FrameBuf::take`].
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// What was written since the last call, to send as is. The buffer's memory is reused
    /// once the returned bytes are dropped.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// The event names and data of the frames written so far, for a buffer made with
    /// [`FrameBuf::payloads`] (empty otherwise); the buffer starts over.
    pub fn take_payloads(&mut self) -> Vec<(Option<&'static str>, String)> {
        self.payloads
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

/// Writes `value` without the bytes in `forbidden`.
fn put_stripped(buf: &mut BytesMut, value: &[u8], forbidden: &[u8]) {
    if value.iter().any(|b| forbidden.contains(b)) {
        buf.extend(value.iter().filter(|b| !forbidden.contains(b)));
    } else {
        buf.put_slice(value);
    }
}

/// Writes `text` as the rest of a `data: ` line, a new `data:` line at each CRLF, CR or LF.
fn split_lines(buf: &mut BytesMut, text: &[u8]) {
    let mut first = true;
    crate::encode::for_each_line_range(text, |line| {
        if !first {
            buf.put_slice(b"\ndata: ");
        }
        first = false;
        buf.put_slice(&text[line]);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, Frame};

    #[test]
    fn frames_are_what_frame_writes_numbered_in_order() {
        let mut buf = FrameBuf::new();
        buf.frame_str(None, r#"{"a":1}"#);
        buf.frame_str(Some("message_stop"), r#"{"type":"message_stop"}"#);
        let expected = [
            Frame::data(r#"{"a":1}"#).id("0").encode(),
            Frame::data(r#"{"type":"message_stop"}"#)
                .id("1")
                .event("message_stop")
                .encode(),
        ]
        .concat();
        assert_eq!(buf.take(), expected.as_bytes());
        assert!(buf.is_empty());
        buf.frame_str(None, "[DONE]");
        assert_eq!(
            buf.take(),
            Frame::data("[DONE]").id("2").encode().as_bytes()
        );
    }

    #[test]
    fn line_ends_in_data_become_data_lines_and_decode_back() {
        let mut buf = FrameBuf::new();
        buf.frame_str(Some("x"), "a\r\nb\rc\nd");
        let wire = buf.take();
        assert_eq!(
            wire,
            Frame::data("a\r\nb\rc\nd")
                .id("0")
                .event("x")
                .encode()
                .as_bytes()
        );
        let events = Decoder::new().feed(&wire).unwrap();
        assert_eq!(events[0].data, "a\nb\nc\nd");
    }

    #[test]
    fn a_resume_skips_the_frames_the_client_has_without_writing_them() {
        let mut buf = FrameBuf::resuming_after(Some(1));
        let mut written = Vec::new();
        for i in 0..4 {
            let _ = buf.frame(None, |b| {
                written.push(i);
                b.put_slice(b"x");
                Ok::<(), ()>(())
            });
        }
        assert_eq!(written, [2, 3]);
        let events = Decoder::new().feed(&buf.take()).unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.last_event_id.as_str()).collect();
        assert_eq!(ids, ["2", "3"]);
    }

    #[test]
    fn a_failed_write_leaves_no_trace_and_no_number() {
        let mut buf = FrameBuf::new();
        let result = buf.frame(Some("e"), |b| {
            b.put_slice(b"half");
            Err("no")
        });
        assert_eq!(result, Err("no"));
        assert!(buf.is_empty());
        buf.frame_str(None, "ok");
        assert_eq!(buf.take(), Frame::data("ok").id("0").encode().as_bytes());
    }

    #[test]
    fn payload_mode_keeps_events_and_data_apart() {
        let mut buf = FrameBuf::payloads();
        buf.frame_str(Some("a"), "1");
        buf.frame_str(None, "2");
        buf.comment("ignored");
        assert!(buf.is_empty());
        assert_eq!(
            buf.take_payloads(),
            [(Some("a"), "1".to_owned()), (None, "2".to_owned())]
        );
        assert_eq!(buf.next_number(), 2);
    }
}
