//! The encoder: what a server writes. Every frame decodes back to what was given.

/// One event to write, built like `Frame::data(json).event("delta").id("42")`.
///
/// The encoding never emits a BOM or a data-less event, splits data at every line end
/// (CRLF, CR or LF) into several `data:` lines, and removes the characters that would
/// break the frame from the `event` (CR, LF) and `id` (CR, LF, NUL) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Frame<'a> {
    data: &'a str,
    event: Option<&'a str>,
    id: Option<&'a str>,
    retry: Option<u64>,
}

impl<'a> Frame<'a> {
    /// A data-only event (type `message`). Empty data is still an event: it is written as
    /// one `data: ` line, which a decoder dispatches with data `""`.
    pub fn data(data: &'a str) -> Self {
        Self {
            data,
            event: None,
            id: None,
            retry: None,
        }
    }

    /// Adds `event: <type>`. CR and LF are removed from `event`.
    pub fn event(self, event: &'a str) -> Self {
        Self {
            event: Some(event),
            ..self
        }
    }

    /// Adds `id: <id>` (an empty id resets the client's last event ID). CR, LF and NUL
    /// are removed from `id`.
    pub fn id(self, id: &'a str) -> Self {
        Self {
            id: Some(id),
            ..self
        }
    }

    /// Adds `retry: <ms>`, the client's reconnection time.
    pub fn retry(self, ms: u64) -> Self {
        Self {
            retry: Some(ms),
            ..self
        }
    }

    /// The full frame, ending in a blank line.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 16);
        self.encode_into(&mut out);
        out
    }

    /// Appends the full frame, ending in a blank line, to `out`.
    pub fn encode_into(&self, out: &mut String) {
        if let Some(event) = self.event {
            field(out, "event", event, &['\r', '\n']);
        }
        if let Some(id) = self.id {
            field(out, "id", id, &['\r', '\n', '\0']);
        }
        if let Some(ms) = self.retry {
            field(out, "retry", &ms.to_string(), &[]);
        }
        for_each_line(self.data, |line| field(out, "data", line, &[]));
        out.push('\n');
    }
}

/// A comment frame (`: text` then a blank line), e.g. the keep-alive `comment("ping")`.
/// Decoders ignore it. A `text` with line ends becomes several comment lines.
#[must_use]
pub fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for_each_line(text, |line| {
        out.push(':');
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
        out.push('\n');
    });
    out.push('\n');
    out
}

/// Writes `name: value` and LF, leaving out the `forbidden` characters of `value`.
fn field(out: &mut String, name: &str, value: &str, forbidden: &[char]) {
    out.push_str(name);
    out.push_str(": ");
    if value.contains(forbidden) {
        out.extend(value.chars().filter(|c| !forbidden.contains(c)));
    } else {
        out.push_str(value);
    }
    out.push('\n');
}

/// Calls `f` with each line of `text`, split at CRLF, CR or LF; `""` is one empty line.
fn for_each_line(text: &str, mut f: impl FnMut(&str)) {
    // The line ends are ASCII, so every range falls on a character boundary.
    for_each_line_range(text.as_bytes(), |range| f(&text[range]));
}

/// Calls `f` with the range of each line of `text`, split at CRLF, CR or LF; an empty
/// `text` is one empty line.
pub(crate) fn for_each_line_range(text: &[u8], mut f: impl FnMut(std::ops::Range<usize>)) {
    let mut start = 0;
    while let Some(end) = memchr::memchr2(b'\r', b'\n', &text[start..]) {
        let end = start + end;
        f(start..end);
        start = end
            + if text[end..].starts_with(b"\r\n") {
                2
            } else {
                1
            };
    }
    f(start..text.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_split_at_every_kind_of_line_end() {
        assert_eq!(
            Frame::data("a\r\nb\rc\nd").encode(),
            "data: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(Frame::data("a\n").encode(), "data: a\ndata: \n\n");
        assert_eq!(Frame::data("\r\n\n").encode(), "data: \ndata: \ndata: \n\n");
    }

    #[test]
    fn empty_data_is_one_data_line() {
        assert_eq!(Frame::data("").encode(), "data: \n\n");
    }

    #[test]
    fn all_fields_in_a_fixed_order() {
        let frame = Frame::data(" {\"a\":1}")
            .retry(2500)
            .id("42")
            .event("delta");
        assert_eq!(
            frame.encode(),
            "event: delta\nid: 42\nretry: 2500\ndata:  {\"a\":1}\n\n"
        );
        let mut out = String::from(": ping\n\n");
        frame.encode_into(&mut out);
        assert_eq!(out, format!(": ping\n\n{}", frame.encode()));
    }

    #[test]
    fn event_and_id_lose_the_characters_that_would_break_the_frame() {
        let frame = Frame::data("x").event("a\r\nb\rc\nd\0").id("1\r2\n3\0 4");
        assert_eq!(frame.encode(), "event: abcd\0\nid: 123 4\ndata: x\n\n");
        assert_eq!(Frame::data("x").id("").encode(), "id: \ndata: x\n\n");
    }

    #[test]
    fn comments_split_lines_and_end_with_a_blank_line() {
        assert_eq!(comment("ping"), ": ping\n\n");
        assert_eq!(comment(""), ":\n\n");
        assert_eq!(comment("a\r\nb\rc\n"), ": a\n: b\n: c\n:\n\n");
    }
}
