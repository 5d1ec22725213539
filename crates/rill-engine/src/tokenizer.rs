//! The tokenizer, built from a GGUF file's `tokenizer.ggml.*` metadata.
//!
//! Byte-level BPE (`tokenizer.ggml.model` = `gpt2`) as llama.cpp runs it: control tokens
//! are cut out of the text first (when asked to), the rest is split into words by the
//! pre-tokenizer named in `tokenizer.ggml.pre`, each word's bytes are mapped to GPT-2's
//! printable characters and merged pair by pair in `tokenizer.ggml.merges` order. The ids
//! match llama.cpp's for SmolLM2 (see `tests/engine/tokenizer.rs`, which checks a corpus
//! of llama.cpp's own output).
//!
//! Why not the `tokenizers` crate: the ids must be llama.cpp's, and two of llama.cpp's
//! behaviours are not expressible there: it drops bytes the vocabulary has no token for
//! (SmolLM2 lacks six control characters), and its letter/number classes are Unicode
//! 15.1, while `tokenizers`' regex engine follows newer Unicode tables and splits some
//! scripts differently. Byte-level BPE itself is small; owning it makes both exact.

mod pretokenize;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use candle_core::quantized::gguf_file::Value;

use crate::{EngineError, Gguf};
use pretokenize::Splitter;

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
const TYPE_NORMAL: i32 = 1;
const TYPE_UNKNOWN: i32 = 2;
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;

/// Pre-tokenizer types whose splitting is known: the ones llama.cpp splits with the GPT-2
/// pattern after cutting out every digit, and plain GPT-2.
const DIGIT_SPLIT_PRE: &[&str] = &["smollm", "starcoder", "refact", "codeshell"];
const GPT2_PRE: &[&str] = &["gpt2"];

/// Marks a BPE symbol with no token: a merged-away symbol, or a byte the vocabulary has
/// no token for (llama.cpp drops those bytes; so does this tokenizer).
const NO_TOKEN: u32 = u32::MAX;

/// Token texts llama.cpp always treats as end of generation.
const EOG_TEXTS: &[&str] = &["<|im_end|>", "<|endoftext|>"];

/// A token cut out of the text before pre-tokenizing.
#[derive(Debug)]
struct Special {
    text: String,
    id: u32,
    /// Control and unknown tokens are only recognized with `parse_special`; user-defined
    /// ones always are (as in llama.cpp and Hugging Face `tokenizers`).
    control: bool,
}

/// BPE merges: `(left, right)` -> `(rank, merged)`.
type Merges = HashMap<(u32, u32), (u32, u32)>;

/// The token of each byte and the bytes of each token.
struct ByteTables {
    byte_ids: Vec<u32>,
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

/// A byte-level BPE tokenizer. Cheap to share: `Send + Sync`, all lookups are read-only.
#[derive(Debug)]
pub struct Tokenizer {
    vocab: HashMap<String, u32>,
    merges: Merges,
    /// The token of each single byte, [`NO_TOKEN`] when the vocabulary lacks it (SmolLM2
    /// has none for 0xC0, 0xC1 and 0xF5..=0xFF, never seen in UTF-8, nor for six rare
    /// ASCII control characters such as U+0004).
    byte_ids: Vec<u32>,
    /// Every token's bytes, back to back; token `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    /// Longest first.
    specials: Vec<Special>,
    splitter: Splitter,
    eog: Vec<u32>,
    bos: Option<(u32, String)>,
    eos: Option<(u32, String)>,
    add_bos: bool,
}

impl Tokenizer {
    /// Builds the tokenizer from `tokenizer.ggml.*` metadata (model `gpt2` = byte-level
    /// BPE; pre-tokenizer `smollm` and the types llama.cpp splits the same way).
    pub fn from_gguf(gguf: &Gguf) -> Result<Self, EngineError> {
        let model = gguf.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(EngineError::Tokenizer(format!(
                "unsupported tokenizer model `{model}` (only `gpt2`, byte-level BPE, is supported)"
            )));
        }
        let splitter = Splitter::new(splits_digits(gguf)?)?;

        let tokens = strings(gguf, "tokenizer.ggml.tokens")?;
        let n_tokens = u32::try_from(tokens.len())
            .map_err(|_| EngineError::Tokenizer("too many tokens".to_owned()))?;
        let mut vocab = HashMap::with_capacity(tokens.len());
        for (id, text) in (0..n_tokens).zip(&tokens) {
            // On duplicates the last id wins, as in llama.cpp's text -> id map.
            vocab.insert((*text).to_owned(), id);
        }

        let optional_id = |key: &str| -> Result<Option<u32>, EngineError> {
            if !gguf.has(key) {
                return Ok(None);
            }
            let id = gguf.u32(key)?;
            Ok((id < n_tokens).then_some(id))
        };
        let bos_id = optional_id("tokenizer.ggml.bos_token_id")?;
        let eos_id = optional_id("tokenizer.ggml.eos_token_id")?;
        let eot_id = optional_id("tokenizer.ggml.eot_token_id")?;
        let add_bos = gguf.has("tokenizer.ggml.add_bos_token")
            && gguf.bool("tokenizer.ggml.add_bos_token")?;

        let mut eog: Vec<u32> = [eos_id, eot_id].into_iter().flatten().collect();
        eog.extend(
            EOG_TEXTS
                .iter()
                .filter_map(|text| vocab.get(*text).copied()),
        );
        eog.sort_unstable();
        eog.dedup();

        let specials = special_tokens(&tokens, &token_types(gguf)?, &eog);
        let ByteTables {
            byte_ids,
            bytes,
            offsets,
        } = byte_tables(&tokens, &vocab, &specials)?;
        let merges = merges(gguf, &vocab)?;
        let text_of = |id: u32| Some((id, (*tokens.get(id as usize)?).to_owned()));
        Ok(Self {
            merges,
            byte_ids,
            bytes,
            offsets,
            specials,
            splitter,
            eog,
            bos: bos_id.and_then(text_of),
            eos: eos_id.and_then(text_of),
            add_bos,
            vocab,
        })
    }

    /// Encodes text. With `parse_special`, control token strings in the text (such as
    /// `<|im_start|>`) become their ids (for rendered chat templates); without it they are
    /// tokenized as plain text. Never adds BOS by itself (see [`Self::bos_to_add`]).
    /// Bytes the vocabulary has no token for are dropped, as llama.cpp drops them.
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>, EngineError> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        let mut symbols = Vec::new();
        for fragment in self.partition(text, parse_special) {
            match fragment {
                Fragment::Token(id) => ids.push(id),
                Fragment::Text(text) => {
                    self.splitter
                        .split(text, |word| self.bpe(word, &mut symbols, &mut ids));
                }
            }
        }
        Ok(ids)
    }

    /// Cuts special tokens out of `text`, longest tokens first (as llama.cpp does).
    fn partition<'t>(&self, text: &'t str, parse_special: bool) -> Vec<Fragment<'t>> {
        let mut fragments = vec![Fragment::Text(text)];
        for special in &self.specials {
            if special.control && !parse_special {
                continue;
            }
            let needle = special.text.as_str();
            if !fragments
                .iter()
                .any(|f| matches!(f, Fragment::Text(t) if t.contains(needle)))
            {
                continue;
            }
            let mut next = Vec::with_capacity(fragments.len() + 2);
            for fragment in fragments {
                let Fragment::Text(text) = fragment else {
                    next.push(fragment);
                    continue;
                };
                let mut rest = 0;
                for (at, _) in text.match_indices(needle) {
                    if let Some(before) = text.get(rest..at).filter(|t| !t.is_empty()) {
                        next.push(Fragment::Text(before));
                    }
                    next.push(Fragment::Token(special.id));
                    rest = at + needle.len();
                }
                if let Some(after) = text.get(rest..).filter(|t| !t.is_empty()) {
                    next.push(Fragment::Text(after));
                }
            }
            fragments = next;
        }
        fragments
    }

    /// Byte-level BPE over one word: merges the best-ranked adjacent pair (leftmost on
    /// ties) until no pair has a merge.
    fn bpe(&self, word: &str, symbols: &mut Vec<Symbol>, out: &mut Vec<u32>) {
        let bytes = word.as_bytes();
        if let [byte] = bytes {
            out.extend(
                self.byte_ids
                    .get(usize::from(*byte))
                    .filter(|&&id| id != NO_TOKEN),
            );
            return;
        }
        symbols.clear();
        let last = bytes.len().saturating_sub(1);
        symbols.extend(bytes.iter().enumerate().map(|(i, &byte)| {
            Symbol {
                id: self
                    .byte_ids
                    .get(usize::from(byte))
                    .copied()
                    .unwrap_or(NO_TOKEN),
                prev: i.checked_sub(1),
                next: (i < last).then_some(i + 1),
            }
        }));
        let mut queue = BinaryHeap::new();
        for left in 1..symbols.len() {
            self.push_pair(symbols, left - 1, left, &mut queue);
        }
        while let Some(Reverse(Candidate {
            left,
            right,
            left_id,
            right_id,
            merged,
            ..
        })) = queue.pop()
        {
            // Stale when either side has merged since (a merged-away symbol has no id).
            let (Some(l), Some(r)) = (symbols.get(left), symbols.get(right)) else {
                continue;
            };
            if l.id != left_id || r.id != right_id || l.next != Some(right) {
                continue;
            }
            let right_next = r.next;
            if let Some(r) = symbols.get_mut(right) {
                r.id = NO_TOKEN;
                r.next = None;
                r.prev = None;
            }
            if let Some(l) = symbols.get_mut(left) {
                l.id = merged;
                l.next = right_next;
            }
            if let Some(n) = right_next.and_then(|n| symbols.get_mut(n)) {
                n.prev = Some(left);
            }
            let prev = symbols.get(left).and_then(|l| l.prev);
            if let Some(prev) = prev {
                self.push_pair(symbols, prev, left, &mut queue);
            }
            if let Some(next) = right_next {
                self.push_pair(symbols, left, next, &mut queue);
            }
        }
        let mut at = Some(0);
        while let Some(symbol) = at.and_then(|i| symbols.get(i)) {
            if symbol.id != NO_TOKEN {
                out.push(symbol.id);
            }
            at = symbol.next;
        }
    }

    fn push_pair(
        &self,
        symbols: &[Symbol],
        left: usize,
        right: usize,
        queue: &mut BinaryHeap<Reverse<Candidate>>,
    ) {
        let (Some(l), Some(r)) = (symbols.get(left), symbols.get(right)) else {
            return;
        };
        if let Some(&(rank, merged)) = self.merges.get(&(l.id, r.id)) {
            queue.push(Reverse(Candidate {
                rank,
                left,
                right,
                left_id: l.id,
                right_id: r.id,
                merged,
            }));
        }
    }

    /// The raw bytes a token stands for (GPT-2's byte-to-character mapping reversed); a
    /// control token's text as bytes. An unknown id gives an empty slice.
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        let id = id as usize;
        match (self.offsets.get(id), self.offsets.get(id + 1)) {
            (Some(&start), Some(&end)) => self.bytes.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }

    /// Decodes ids to text (lossy where the bytes are not UTF-8), skipping nothing.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            bytes.extend_from_slice(self.token_bytes(id));
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        }
    }

    /// The id of a token, by its vocabulary text (`<|im_start|>`, `Ġthe`).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// End-of-generation ids: `tokenizer.ggml.eos_token_id`, `tokenizer.ggml.eot_token_id`
    /// and `<|im_end|>` and `<|endoftext|>` when the vocabulary has them. Sorted, unique.
    pub fn eog_ids(&self) -> &[u32] {
        &self.eog
    }

    /// The BOS id to put before a prompt, when `tokenizer.ggml.add_bos_token` says so.
    pub fn bos_to_add(&self) -> Option<u32> {
        self.bos
            .as_ref()
            .filter(|_| self.add_bos)
            .map(|(id, _)| *id)
    }

    /// The text of the BOS token (for chat templates).
    pub fn bos_token(&self) -> Option<&str> {
        self.bos.as_ref().map(|(_, text)| text.as_str())
    }

    /// The text of the EOS token (for chat templates).
    pub fn eos_token(&self) -> Option<&str> {
        self.eos.as_ref().map(|(_, text)| text.as_str())
    }

    pub fn vocab_size(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

enum Fragment<'t> {
    Text(&'t str),
    Token(u32),
}

/// A BPE symbol: a token id and its neighbours in the word.
#[derive(Debug)]
struct Symbol {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
}

/// A mergeable pair; ordered by rank, then by position (leftmost first).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    rank: u32,
    left: usize,
    right: usize,
    left_id: u32,
    right_id: u32,
    merged: u32,
}

/// Whether the pre-tokenizer (`tokenizer.ggml.pre`) cuts out digits one by one before
/// the GPT-2 pattern; an error names an unsupported type.
fn splits_digits(gguf: &Gguf) -> Result<bool, EngineError> {
    let pre = if gguf.has("tokenizer.ggml.pre") {
        gguf.str("tokenizer.ggml.pre")?
    } else {
        ""
    };
    if DIGIT_SPLIT_PRE.contains(&pre) {
        Ok(true)
    } else if GPT2_PRE.contains(&pre) {
        Ok(false)
    } else {
        let supported: Vec<&str> = DIGIT_SPLIT_PRE.iter().chain(GPT2_PRE).copied().collect();
        Err(EngineError::Tokenizer(format!(
            "unsupported pre-tokenizer type `{pre}` (supported: {})",
            supported.join(", ")
        )))
    }
}

/// `tokenizer.ggml.token_type`, or nothing (all normal) when absent.
fn token_types(gguf: &Gguf) -> Result<Vec<i32>, EngineError> {
    const KEY: &str = "tokenizer.ggml.token_type";
    if !gguf.has(KEY) {
        return Ok(Vec::new());
    }
    gguf.array(KEY)?
        .iter()
        .map(|v| v.to_i32().map_err(|_| bad(KEY, "an i32 array")))
        .collect()
}

/// The tokens cut out of text before pre-tokenizing, longest first: control tokens
/// (llama.cpp also promotes end-of-generation tokens to control), user-defined and unknown
/// ones.
fn special_tokens(tokens: &[&str], types: &[i32], eog: &[u32]) -> Vec<Special> {
    let mut specials: Vec<Special> = (0u32..)
        .zip(tokens)
        .filter_map(|(id, text)| {
            let kind = types.get(id as usize).copied().unwrap_or(TYPE_NORMAL);
            let control = kind == TYPE_CONTROL || kind == TYPE_UNKNOWN || eog.contains(&id);
            ((control || kind == TYPE_USER_DEFINED) && !text.is_empty()).then(|| Special {
                text: (*text).to_owned(),
                id,
                control,
            })
        })
        .collect();
    // Stable: equally long tokens stay in id order.
    specials.sort_by_key(|s| Reverse(s.text.len()));
    specials
}

/// The token of each byte, and every token's bytes back to back with their offsets: the
/// byte-level mapping reversed, or a special token's text as it is.
fn byte_tables(
    tokens: &[&str],
    vocab: &HashMap<String, u32>,
    specials: &[Special],
) -> Result<ByteTables, EngineError> {
    let mut char_bytes = HashMap::with_capacity(256);
    let mut byte_ids = Vec::with_capacity(256);
    for (byte, ch) in (0u8..=255).zip(byte_chars()) {
        char_bytes.insert(ch, byte);
        let id = vocab.get(ch.encode_utf8(&mut [0; 4]) as &str);
        byte_ids.push(id.copied().unwrap_or(NO_TOKEN));
    }
    // A byte-level vocabulary has a token for each printable ASCII character at least.
    if byte_ids
        .get(0x21..0x7F)
        .is_none_or(|ids| ids.contains(&NO_TOKEN))
    {
        return Err(EngineError::Tokenizer(
            "the vocabulary lacks byte-level tokens for printable ASCII".to_owned(),
        ));
    }
    let mut is_special = vec![false; tokens.len()];
    for special in specials {
        if let Some(flag) = is_special.get_mut(special.id as usize) {
            *flag = true;
        }
    }
    let mut bytes = Vec::with_capacity(tokens.iter().map(|t| t.len()).sum());
    let mut offsets = Vec::with_capacity(tokens.len() + 1);
    offsets.push(0);
    for (text, special) in tokens.iter().zip(is_special) {
        if special {
            bytes.extend_from_slice(text.as_bytes());
        } else {
            for ch in text.chars() {
                match char_bytes.get(&ch) {
                    Some(&byte) => bytes.push(byte),
                    // Not a byte-level character: keep it as it is.
                    None => bytes.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
        }
        offsets.push(bytes.len());
    }
    Ok(ByteTables {
        byte_ids,
        bytes,
        offsets,
    })
}

/// `tokenizer.ggml.merges` (`"left right"`, best first) as `(left, right) -> (rank, merged)`.
fn merges(gguf: &Gguf, vocab: &HashMap<String, u32>) -> Result<Merges, EngineError> {
    let texts = strings(gguf, "tokenizer.ggml.merges")?;
    let mut merges = HashMap::with_capacity(texts.len());
    let mut joined = String::new();
    let mut skipped = 0usize;
    for (rank, merge) in (0u32..).zip(&texts) {
        let pair = merge.split_once(' ').and_then(|(left, right)| {
            joined.clear();
            joined.push_str(left);
            joined.push_str(right);
            Some((
                (*vocab.get(left)?, *vocab.get(right)?),
                *vocab.get(&joined)?,
            ))
        });
        match pair {
            // The first (best) rank of a pair counts, as in llama.cpp.
            Some((pair, merged)) => {
                merges.entry(pair).or_insert((rank, merged));
            }
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        // llama.cpp would still merge such text and fall back to byte tokens; no model
        // rill ships has any.
        tracing::warn!(
            skipped,
            "BPE merges whose parts are not in the vocabulary were ignored"
        );
    }
    Ok(merges)
}

fn bad(key: &str, expected: &'static str) -> EngineError {
    EngineError::BadMetadata {
        key: key.to_owned(),
        expected,
    }
}

fn strings<'g>(gguf: &'g Gguf, key: &str) -> Result<Vec<&'g str>, EngineError> {
    gguf.array(key)?
        .iter()
        .map(|value| match value {
            Value::String(text) => Ok(text.as_str()),
            _ => Err(bad(key, "a string array")),
        })
        .collect()
}

/// GPT-2's byte-level alphabet: the character standing for each byte. Printable Latin-1
/// bytes stand for themselves; the others map to U+0100 onwards, in byte order.
fn byte_chars() -> [char; 256] {
    let mut chars = ['\0'; 256];
    let mut extra = 0u32;
    for (byte, ch) in (0u32..).zip(chars.iter_mut()) {
        let printable = matches!(byte, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF);
        let cp = if printable {
            byte
        } else {
            extra += 1;
            255 + extra
        };
        *ch = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
    }
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_alphabet() {
        let chars = byte_chars();
        assert_eq!(chars[usize::from(b' ')], 'Ġ');
        assert_eq!(chars[usize::from(b'\n')], 'Ċ');
        assert_eq!(chars[usize::from(b'a')], 'a');
        assert_eq!(chars[0xAD], 'Ń');
        let mut sorted = chars.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 256);
    }

    #[test]
    fn send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Tokenizer>();
    }
}
