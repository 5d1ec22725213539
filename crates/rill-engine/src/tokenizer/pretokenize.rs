//! Splitting text into the words BPE merges within, the way llama.cpp splits them.
//!
//! The GPT-2 family pattern is
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
//! the `smollm`/`starcoder` family first cuts every `\p{N}` character out on its own, then
//! applies that pattern to each piece. Like llama.cpp, this is a hand-written scanner (no
//! backtracking regex), and the lookahead of `\s+(?!\S)` only sees the current piece.

use crate::EngineError;

/// The Unicode version of llama.cpp's character tables (`unicode-data.cpp`): characters
/// assigned later count as unassigned there (so as `[^\s\p{L}\p{N}]`), and must here too,
/// whatever Unicode version `regex-syntax` ships.
const UNICODE_AGE: &str = "15.1";

/// The character classes the pattern distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// `\p{L}`
    Letter,
    /// `\p{N}`
    Number,
    /// `\s` (the Unicode `White_Space` property)
    Space,
    /// everything else, unassigned code points included
    Other,
}

/// One character of the text being split.
#[derive(Clone, Copy)]
struct Cp {
    /// Byte offset in the text.
    at: usize,
    ch: char,
    class: Class,
}

/// The pre-tokenizer: character classes (from `regex-syntax`'s Unicode tables, limited to
/// [`UNICODE_AGE`]) and whether digits are split off one by one.
#[derive(Debug)]
pub(crate) struct Splitter {
    /// Sorted, disjoint ranges of letters, numbers and spaces (`\p{Age}` is cumulative).
    ranges: Vec<(u32, u32, Class)>,
    ascii: [Class; 128],
    split_digits: bool,
}

impl Splitter {
    pub(crate) fn new(split_digits: bool) -> Result<Self, EngineError> {
        let mut ranges = Vec::new();
        let letter = format!(r"[\p{{L}}&&\p{{Age={UNICODE_AGE}}}]");
        let number = format!(r"[\p{{N}}&&\p{{Age={UNICODE_AGE}}}]");
        for (pattern, class) in [
            (letter.as_str(), Class::Letter),
            (number.as_str(), Class::Number),
            (r"\s", Class::Space),
        ] {
            ranges.extend(
                unicode_class(pattern)?
                    .into_iter()
                    .map(|(lo, hi)| (lo, hi, class)),
            );
        }
        ranges.sort_unstable_by_key(|&(lo, _, _)| lo);
        let mut ascii = [Class::Other; 128];
        for (byte, class) in (0u32..).zip(ascii.iter_mut()) {
            *class = lookup(&ranges, byte);
        }
        Ok(Self {
            ranges,
            ascii,
            split_digits,
        })
    }

    fn class(&self, ch: char) -> Class {
        let cp = u32::from(ch);
        match self.ascii.get(cp as usize) {
            Some(&class) => class,
            None => lookup(&self.ranges, cp),
        }
    }

    /// Calls `word` with each word of `text`, in order; the words concatenate to `text`.
    pub(crate) fn split<'t>(&self, text: &'t str, mut word: impl FnMut(&'t str)) {
        let cps: Vec<Cp> = text
            .char_indices()
            .map(|(at, ch)| Cp {
                at,
                ch,
                class: self.class(ch),
            })
            .collect();
        let mut emit = |from: usize, to: usize| {
            let start = cps.get(from).map_or(text.len(), |cp| cp.at);
            let end = cps.get(to).map_or(text.len(), |cp| cp.at);
            if let Some(piece) = text.get(start..end)
                && !piece.is_empty()
            {
                word(piece);
            }
        };
        if !self.split_digits {
            split_gpt2(&cps, 0, cps.len(), &mut emit);
            return;
        }
        // `\p{N}`: each number character is a piece; the runs between them are pieces too.
        let mut start = 0;
        for (pos, cp) in cps.iter().enumerate() {
            if cp.class == Class::Number {
                split_gpt2(&cps, start, pos, &mut emit);
                split_gpt2(&cps, pos, pos + 1, &mut emit);
                start = pos + 1;
            }
        }
        split_gpt2(&cps, start, cps.len(), &mut emit);
    }
}

/// The GPT-2 pattern over `cps[start..end]`; `emit(from, to)` receives character ranges.
fn split_gpt2(cps: &[Cp], start: usize, end: usize, emit: &mut impl FnMut(usize, usize)) {
    let class = |pos: usize| {
        if pos < end {
            cps.get(pos).map(|cp| cp.class)
        } else {
            None
        }
    };
    let ch = |pos: usize| {
        if pos < end {
            cps.get(pos).map(|cp| cp.ch)
        } else {
            None
        }
    };
    let mut last = start;
    let mut pos = start;
    while pos < end {
        let Some(current) = ch(pos) else { break };
        let mut next = None;
        // 's|'t|'re|'ve|'m|'ll|'d (lowercase only, as in the pattern)
        if current == '\'' {
            next = match (ch(pos + 1), ch(pos + 2)) {
                (Some('s' | 't' | 'm' | 'd'), _) => Some(pos + 2),
                (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => {
                    Some(pos + 3)
                }
                _ => None,
            };
        }
        if next.is_none() {
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            let body = if current == ' ' { pos + 1 } else { pos };
            if let Some(run @ (Class::Letter | Class::Number | Class::Other)) = class(body) {
                let mut to = body;
                while class(to) == Some(run) {
                    to += 1;
                }
                next = Some(to);
            }
        }
        if next.is_none() {
            let mut spaces = 0;
            while class(pos + spaces) == Some(Class::Space) {
                spaces += 1;
            }
            next = Some(if spaces > 1 && pos + spaces < end {
                // `\s+(?!\S)`: leave the last space to the word after it.
                pos + spaces - 1
            } else {
                // `\s+` (or a lone character nothing matched)
                pos + spaces.max(1)
            });
        }
        pos = next.unwrap_or(pos + 1);
        emit(last, pos);
        last = pos;
    }
}

fn lookup(ranges: &[(u32, u32, Class)], cp: u32) -> Class {
    let index = ranges.partition_point(|&(lo, _, _)| lo <= cp);
    match index.checked_sub(1).and_then(|i| ranges.get(i)) {
        Some(&(_, hi, class)) if cp <= hi => class,
        _ => Class::Other,
    }
}

/// The code point ranges of a Unicode class such as `\p{L}`, from `regex-syntax`'s tables.
fn unicode_class(pattern: &str) -> Result<Vec<(u32, u32)>, EngineError> {
    use regex_syntax::hir::{Class as HirClass, HirKind};
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| EngineError::Tokenizer(format!("character class `{pattern}`: {e}")))?;
    match hir.kind() {
        HirKind::Class(HirClass::Unicode(class)) => Ok(class
            .ranges()
            .iter()
            .map(|range| (u32::from(range.start()), u32::from(range.end())))
            .collect()),
        _ => Err(EngineError::Tokenizer(format!(
            "`{pattern}` is not a Unicode class"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, split_digits: bool) -> Vec<String> {
        let splitter = Splitter::new(split_digits).unwrap();
        let mut out = Vec::new();
        splitter.split(text, |w| out.push(w.to_owned()));
        out
    }

    #[test]
    fn gpt2_pattern() {
        assert_eq!(words("Hello world", false), ["Hello", " world"]);
        assert_eq!(
            words("I'm they'll don't", false),
            ["I", "'m", " they", "'ll", " don", "'t"]
        );
        assert_eq!(words("I'M", false), ["I", "'", "M"]);
        assert_eq!(words("a   b", false), ["a", "  ", " b"]);
        assert_eq!(words("a\n\nb", false), ["a", "\n", "\n", "b"]);
        assert_eq!(words("end  ", false), ["end", "  "]);
        assert_eq!(words("x 12", false), ["x", " 12"]);
        assert_eq!(words(" !?(x)", false), [" !?(", "x", ")"]);
        assert_eq!(words("", false), Vec::<String>::new());
    }

    #[test]
    fn digits_are_split_first() {
        assert_eq!(words("x 123", true), ["x", " ", "1", "2", "3"]);
        assert_eq!(words("a  1", true), ["a", "  ", "1"]);
        assert_eq!(words("v1.2", true), ["v", "1", ".", "2"]);
        assert_eq!(words("x²", true), ["x", "²"]);
    }

    #[test]
    fn unicode_classes() {
        let splitter = Splitter::new(true).unwrap();
        assert_eq!(splitter.class('é'), Class::Letter);
        assert_eq!(splitter.class('中'), Class::Letter);
        assert_eq!(splitter.class('٣'), Class::Number);
        assert_eq!(splitter.class('\u{3000}'), Class::Space);
        assert_eq!(splitter.class('\u{85}'), Class::Space);
        assert_eq!(splitter.class('😀'), Class::Other);
        assert_eq!(splitter.class('\u{0301}'), Class::Other);
        // Unicode 15.1 (CJK extension I) is in; 16.0 (Egyptian hieroglyphs extended-A) is not.
        assert_eq!(splitter.class('\u{2EBF0}'), Class::Letter);
        assert_eq!(splitter.class('\u{13460}'), Class::Other);
    }
}
