//! Stop sequences over streamed text.

/// Finds stop sequences in text that arrives in pieces. Text that might still be the
/// start of a stop sequence is held back (and only that much), so a client never sees
/// part of a stop sequence.
#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What a piece of text produced.
#[derive(Debug, PartialEq, Eq)]
pub struct StopScan {
    /// Text safe to send now.
    pub emit: String,
    /// A stop sequence matched: `emit` ends right before it; generation must stop.
    pub stopped: bool,
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> StopScan {
        if self.stops.is_empty() {
            return StopScan {
                emit: text.to_owned(),
                stopped: false,
            };
        }
        self.held.push_str(text);
        let earliest = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min();
        if let Some(at) = earliest {
            let mut emit = std::mem::take(&mut self.held);
            emit.truncate(at);
            return StopScan {
                emit,
                stopped: true,
            };
        }
        let keep = self.longest_partial_suffix();
        let emit = self.held[..self.held.len() - keep].to_owned();
        self.held.drain(..self.held.len() - keep);
        StopScan {
            emit,
            stopped: false,
        }
    }

    /// The held text, when generation ends without a match.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length of the longest suffix of `held` that is a proper prefix of some stop.
    fn longest_partial_suffix(&self) -> usize {
        let held = self.held.as_str();
        let mut best = 0;
        for stop in &self.stops {
            let max = stop.len().saturating_sub(1).min(held.len());
            for len in (best + 1..=max).rev() {
                let start = held.len() - len;
                if held.is_char_boundary(start) && stop.starts_with(&held[start..]) {
                    best = len;
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| (*s).to_owned()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = String::new();
        for piece in pieces {
            let scan = m.push(piece);
            out += &scan.emit;
            if scan.stopped {
                return (out, true);
            }
        }
        out += &m.finish();
        (out, false)
    }

    #[test]
    fn stop_split_across_pieces_is_never_sent() {
        assert_eq!(
            run(&["END"], &["Hello E", "N", "D and more"]),
            ("Hello ".into(), true)
        );
    }

    #[test]
    fn holds_back_only_what_could_still_match() {
        let stops = vec!["STOP".to_owned()];
        let mut m = StopMatcher::new(&stops);
        assert_eq!(m.push("abc S").emit, "abc ");
        assert_eq!(m.push("T").emit, "");
        assert_eq!(
            m.push("x").emit,
            "STx",
            "a broken partial match is released at once"
        );
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(
            run(&["world", "lo"], &["hello world"]),
            ("hel".into(), true)
        );
    }

    #[test]
    fn no_match_releases_everything() {
        assert_eq!(run(&["zz"], &["a z", "b z"]), ("a zb z".into(), false));
        assert_eq!(run(&[], &["plain"]), ("plain".into(), false));
    }

    #[test]
    fn multibyte_text_and_stops() {
        assert_eq!(run(&["世界"], &["你好世", "界!"]), ("你好".into(), true));
        assert_eq!(run(&["éa"], &["café", "b"]), ("caféb".into(), false));
    }
}
