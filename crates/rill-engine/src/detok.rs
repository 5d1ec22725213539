//! Incremental detokenizing that never emits broken UTF-8.

/// Collects token bytes and releases only complete UTF-8 characters. A character split
/// across tokens (emoji and CJK often are) is held until its last byte arrives; bytes
/// that can never form a character become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds a token's bytes; returns the text that is now complete (possibly empty).
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    rest = &[];
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match error.error_len() {
                        // Invalid bytes: replace them and go on.
                        Some(len) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[len..];
                        }
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        let keep = rest.len();
        let start = self.pending.len() - keep;
        self.pending.drain(..start);
        out
    }

    /// Whatever is still held, at the end of generation (incomplete bytes become U+FFFD).
    pub fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_split_characters_until_complete() {
        let mut s = Utf8Stream::default();
        let emoji = "🦀".as_bytes();
        assert_eq!(s.push(b"a"), "a");
        assert_eq!(s.push(&emoji[..1]), "");
        assert_eq!(s.push(&emoji[1..3]), "");
        assert_eq!(s.push(&emoji[3..]), "🦀");
        let cjk = "漢字".as_bytes();
        assert_eq!(s.push(&cjk[..4]), "漢");
        assert_eq!(s.push(&cjk[4..]), "字");
        assert_eq!(s.finish(), "");
    }

    #[test]
    fn every_split_of_mixed_text_reassembles_exactly() {
        let text = "héllo 👋🏽 世界 ok";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut s = Utf8Stream::default();
            let mut out = s.push(&bytes[..cut]);
            out += &s.push(&bytes[cut..]);
            out += &s.finish();
            assert_eq!(out, text, "cut at {cut}");
        }
        let mut s = Utf8Stream::default();
        let out: String = bytes
            .iter()
            .map(|b| s.push(std::slice::from_ref(b)))
            .collect();
        assert_eq!(out, text);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(&[b'a', 0xff, b'b']), "a\u{fffd}b");
        assert_eq!(s.push(&[0xe6, 0xbc]), "");
        assert_eq!(s.finish(), "\u{fffd}");
    }
}
