//! Newline-delimited JSON framing: one payload per line, for bodies such as Ollama's.

use rill_core::Error;

use crate::framing::{Framing, Payload};

/// The default [`Lines::with_max_line`] limit: 16 MiB, as `rill-sse`'s events.
const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

/// Splits a body into lines as it arrives, whatever the chunking: a line ends at `\n`
/// (a `\r` before it is dropped, so `\r\n` works too), a last line without `\n` counts at
/// the end of the body, and blank lines are skipped. Memory stays bounded: a line longer
/// than the limit, even one that never ends, is an error, and so is one that is not
/// UTF-8. As with `rill-sse`, an error drops the lines completed earlier in the same
/// chunk, and every later call returns it again: the stream cannot be trusted after it.
#[derive(Debug)]
pub(crate) struct Lines {
    /// The unfinished current line: bytes scanned so far, without `\n`.
    line: Vec<u8>,
    max_line: usize,
    failed: Option<Error>,
}

impl Lines {
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    /// Lines of at most `max_line` bytes (line end excluded).
    pub fn with_max_line(max_line: usize) -> Self {
        Self {
            line: Vec::new(),
            max_line,
            failed: None,
        }
    }

    /// The lines that `chunk` completes, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<String>, Error> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(end);
            self.extend(head)?;
            let line = std::mem::take(&mut self.line);
            lines.extend(self.complete(line)?);
            rest = tail.get(1..).unwrap_or_default();
        }
        self.extend(rest)?;
        Ok(lines)
    }

    /// The body ended: its last line, if it did not end with `\n`.
    pub fn finish(&mut self) -> Result<Option<String>, Error> {
        self.check()?;
        let line = std::mem::take(&mut self.line);
        self.complete(line)
    }

    fn check(&self) -> Result<(), Error> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, message: String) -> Error {
        let error = Error::upstream(format!("the upstream's stream: {message}"));
        self.line = Vec::new();
        self.failed = Some(error.clone());
        error
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.check()?;
        if self.line.len().saturating_add(bytes.len()) > self.max_line {
            let limit = self.max_line;
            return Err(self.fail(format!("a line exceeded the maximum size of {limit} bytes")));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn complete(&mut self, mut line: Vec<u8>) -> Result<Option<String>, Error> {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match String::from_utf8(line) {
            Ok(line) => Ok(Some(line)),
            Err(_) => Err(self.fail("a line is not valid UTF-8".to_owned())),
        }
    }
}

fn payload(data: String) -> Payload {
    Payload {
        event: String::new(),
        data,
    }
}

impl Framing for Lines {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Payload>, Error> {
        Ok(Lines::feed(self, chunk)?.into_iter().map(payload).collect())
    }

    fn finish(&mut self) -> Result<Option<Payload>, Error> {
        Ok(Lines::finish(self)?.map(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `chunks`, the last unterminated one included.
    fn split<'a>(lines: &mut Lines, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(lines.feed(chunk).unwrap());
        }
        out.extend(lines.finish().unwrap());
        out
    }

    const BODY: &str = "{\"a\":1}\n{\"b\":\"é😊\"}\r\n\n  \r\n{\"c\":\"x\\ny\"}\r\n{\"d\":[]}";
    const LINES: [&str; 4] = [
        "{\"a\":1}",
        "{\"b\":\"é😊\"}",
        "{\"c\":\"x\\ny\"}",
        "{\"d\":[]}",
    ];

    #[test]
    fn whole_split_at_every_byte_and_one_byte_at_a_time() {
        let bytes = BODY.as_bytes();
        assert_eq!(split(&mut Lines::new(), [bytes]), LINES);
        for at in 0..=bytes.len() {
            let (head, tail) = bytes.split_at(at);
            assert_eq!(
                split(&mut Lines::new(), [head, tail]),
                LINES,
                "split at {at}"
            );
        }
        assert_eq!(split(&mut Lines::new(), bytes.chunks(1)), LINES);
    }

    #[test]
    fn lines_come_out_as_soon_as_their_newline_arrives() {
        let mut lines = Lines::new();
        assert!(lines.feed(b"{\"a\"").unwrap().is_empty());
        assert_eq!(lines.feed(b":1}\n{\"b\"").unwrap(), ["{\"a\":1}"]);
        assert_eq!(lines.feed(b":2}\r").unwrap(), Vec::<String>::new());
        assert_eq!(lines.feed(b"\n").unwrap(), ["{\"b\":2}"]);
        assert_eq!(lines.finish().unwrap(), None);
    }

    #[test]
    fn a_line_past_the_limit_is_an_error_even_if_it_never_ends() {
        let mut lines = Lines::with_max_line(8);
        assert_eq!(lines.feed(b"12345678\n").unwrap(), ["12345678"]);
        assert!(lines.feed(b"1234").unwrap().is_empty());
        let error = lines.feed(b"56789").unwrap_err();
        assert_eq!(
            error,
            Error::upstream("the upstream's stream: a line exceeded the maximum size of 8 bytes")
        );
        // Poisoned: the same error from then on, and the buffer is freed.
        assert_eq!(lines.feed(b"\n").unwrap_err(), error);
        assert_eq!(lines.finish().unwrap_err(), error);
        assert!(lines.line.is_empty());
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error() {
        let mut lines = Lines::new();
        let error = lines.feed(b"ok\n\xff\xfe\nlater\n").unwrap_err();
        assert_eq!(
            error,
            Error::upstream("the upstream's stream: a line is not valid UTF-8")
        );
        assert!(Lines::new().finish().unwrap().is_none());
    }

    #[test]
    fn payloads_have_an_empty_event_name() {
        let mut lines = Lines::new();
        let payloads = Framing::feed(&mut lines, b"{}\n").unwrap();
        assert_eq!(payloads, [payload("{}".into())]);
        assert_eq!(payloads[0].event, "");
    }
}
