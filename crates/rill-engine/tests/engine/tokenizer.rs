//! The tokenizer against llama.cpp: every entry of `tests/data/tokenizer-reference.json`
//! (written by `scripts/tokenizer-reference.py` from llama.cpp's own tokenizer) must give
//! exactly llama.cpp's ids; plus round trips, the special ids, and a property test.
//!
//! Needs the embedded model file; a missing file fails the tests (it is never skipped).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::quantized::gguf_file::{self, Value};
use proptest::prelude::*;
use rill_engine::{EngineError, Gguf, Tokenizer};

use super::support::model_path;

/// Characters whose bytes SmolLM2's vocabulary has no token for: llama.cpp drops them when
/// tokenizing (the corpus shows it), and so does rill, so they do not round-trip.
const DROPPED: &[char] = &['\u{4}', '\u{6}', '\u{13}', '\u{14}', '\u{16}', '\u{1d}'];

fn without_dropped(text: &str) -> String {
    text.chars().filter(|c| !DROPPED.contains(c)).collect()
}

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let gguf = Gguf::open(&model_path()).expect("open the model file");
        Tokenizer::from_gguf(&gguf).expect("build the tokenizer")
    })
}

struct Entry {
    text: String,
    special: bool,
    ids: Vec<u32>,
}

fn reference() -> Vec<Entry> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tokenizer-reference.json");
    let json = std::fs::read_to_string(&path).expect("read tokenizer-reference.json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("parse the reference");
    let entries = value.as_array().expect("the reference is a list");
    entries
        .iter()
        .map(|entry| Entry {
            text: entry["text"].as_str().expect("text").to_owned(),
            special: entry["special"].as_bool().expect("special"),
            ids: entry["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|id| u32::try_from(id.as_u64().expect("id")).expect("u32 id"))
                .collect(),
        })
        .collect()
}

/// Ids with the token each stands for, e.g. `[1 "<|im_start|>", 4093 "user"]`.
fn show(tokenizer: &Tokenizer, ids: &[u32]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .map(|&id| {
            format!(
                "{id} {:?}",
                String::from_utf8_lossy(tokenizer.token_bytes(id))
            )
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

#[test]
fn matches_llama_cpp_on_the_reference_corpus() {
    let tokenizer = tokenizer();
    let entries = reference();
    assert!(
        entries.len() >= 60,
        "the reference corpus has only {} entries",
        entries.len()
    );
    let mut report = String::new();
    let mut failed = 0;
    for (n, entry) in entries.iter().enumerate() {
        let got = tokenizer
            .encode(&entry.text, entry.special)
            .expect("encode");
        if got != entry.ids {
            failed += 1;
            let first = got
                .iter()
                .zip(&entry.ids)
                .take_while(|(a, b)| a == b)
                .count();
            let _ = write!(
                report,
                "\n#{n} text {:?} (parse_special: {})\n  first difference at index {first}\n  \
                 expected (llama.cpp): {}\n  got:                  {}\n",
                entry.text,
                entry.special,
                show(tokenizer, &entry.ids),
                show(tokenizer, &got),
            );
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} entries differ from llama.cpp:{report}",
        entries.len()
    );
}

#[test]
fn reference_texts_round_trip() {
    let tokenizer = tokenizer();
    for entry in reference() {
        let ids = tokenizer
            .encode(&entry.text, entry.special)
            .expect("encode");
        // Control tokens decode to their text, so special entries round-trip as well.
        let expected = without_dropped(&entry.text);
        assert_eq!(
            tokenizer.decode(&ids),
            expected,
            "decode(encode({:?}))",
            entry.text
        );
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| tokenizer.token_bytes(id).iter().copied())
            .collect();
        assert_eq!(
            bytes,
            expected.as_bytes(),
            "token bytes of {:?}",
            entry.text
        );
    }
}

#[test]
fn smollm2_special_tokens() {
    let tokenizer = tokenizer();
    assert_eq!(tokenizer.vocab_size(), 49152);
    assert_eq!(tokenizer.eog_ids(), [0, 2]);
    assert_eq!(tokenizer.bos_to_add(), None);
    assert_eq!(tokenizer.token_id("<|im_start|>"), Some(1));
    assert_eq!(tokenizer.token_id("<|im_end|>"), Some(2));
    assert_eq!(tokenizer.token_id("<|endoftext|>"), Some(0));
    assert_eq!(tokenizer.token_id("no such token"), None);
    assert_eq!(tokenizer.bos_token(), Some("<|im_start|>"));
    assert_eq!(tokenizer.eos_token(), Some("<|im_end|>"));
    assert_eq!(tokenizer.token_bytes(1), b"<|im_start|>");
    assert_eq!(tokenizer.token_bytes(u32::MAX), b"");
    assert_eq!(tokenizer.token_bytes(49152), b"");
}

#[test]
fn special_tokens_only_with_parse_special() {
    let tokenizer = tokenizer();
    let text = "<|im_start|>user\nHi<|im_end|>\n";
    let with = tokenizer.encode(text, true).expect("encode");
    assert_eq!(with.first(), Some(&1));
    assert!(with.contains(&2));
    let without = tokenizer.encode(text, false).expect("encode");
    assert!(
        without.iter().all(|&id| id > 16),
        "{}",
        show(tokenizer, &without)
    );
    assert_eq!(
        tokenizer.encode("", true).expect("encode"),
        Vec::<u32>::new()
    );
}

#[test]
fn token_bytes_are_raw_bytes() {
    let tokenizer = tokenizer();
    // "é" is two bytes; byte-level BPE has a token for it, or two byte tokens.
    let ids = tokenizer.encode(" é", false).expect("encode");
    let bytes: Vec<u8> = ids
        .iter()
        .flat_map(|&id| tokenizer.token_bytes(id).to_vec())
        .collect();
    assert_eq!(bytes, " é".as_bytes());
    // A 4-byte emoji split over several tokens decodes lossily token by token but exactly
    // when the bytes are joined.
    let ids = tokenizer.encode("🦙", false).expect("encode");
    assert_eq!(tokenizer.decode(&ids), "🦙");
}

#[test]
fn bytes_without_a_token_are_dropped() {
    let tokenizer = tokenizer();
    for c in DROPPED {
        assert_eq!(
            tokenizer.encode(&c.to_string(), false).expect("encode"),
            Vec::<u32>::new()
        );
    }
    let plain = tokenizer.encode("a b", false).expect("encode");
    assert_eq!(tokenizer.encode("a\u{4} b", false).expect("encode"), plain);
}

/// Writes a tiny GGUF file with the given tokenizer metadata and vocabulary (merges: `a b`).
fn gguf_with(
    name: &str,
    model: &str,
    pre: &str,
    tokens: &[String],
) -> Result<Tokenizer, EngineError> {
    let path =
        std::env::temp_dir().join(format!("rill-tokenizer-{}-{name}.gguf", std::process::id()));
    let tokens: Vec<Value> = tokens.iter().map(|t| Value::String(t.clone())).collect();
    let metadata = [
        ("tokenizer.ggml.model", Value::String(model.to_owned())),
        ("tokenizer.ggml.pre", Value::String(pre.to_owned())),
        ("tokenizer.ggml.tokens", Value::Array(tokens)),
        (
            "tokenizer.ggml.merges",
            Value::Array(vec![Value::String("a b".to_owned())]),
        ),
    ];
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let mut file = std::fs::File::create(&path).expect("create a temporary GGUF file");
    gguf_file::write(&mut file, &metadata, &[]).expect("write the GGUF file");
    drop(file);
    let result = Gguf::open(&path).and_then(|gguf| Tokenizer::from_gguf(&gguf));
    let _ = std::fs::remove_file(&path);
    result
}

/// Printable ASCII (byte-level tokens for those bytes) plus `ab`.
fn toy_vocab() -> Vec<String> {
    ('!'..='~')
        .map(String::from)
        .chain(["ab".to_owned()])
        .collect()
}

#[test]
fn unsupported_tokenizers_are_named() {
    let vocab = toy_vocab();
    let error = gguf_with("model", "llama", "default", &vocab).expect_err("an error");
    assert!(
        matches!(&error, EngineError::Tokenizer(m) if m.contains("`llama`")),
        "{error}"
    );
    let error = gguf_with("pre", "gpt2", "qwen2", &vocab).expect_err("an error");
    assert!(
        matches!(&error, EngineError::Tokenizer(m) if m.contains("`qwen2`")),
        "{error}"
    );
    let not_bytes = ["a", "b", "ab"].map(String::from);
    let error = gguf_with("bytes", "gpt2", "smollm", &not_bytes).expect_err("an error");
    assert!(
        matches!(&error, EngineError::Tokenizer(m) if m.contains("ASCII")),
        "{error}"
    );
}

#[test]
fn toy_vocabulary() {
    let tokenizer = gguf_with("toy", "gpt2", "smollm", &toy_vocab()).expect("a tokenizer");
    let id = |t: &str| tokenizer.token_id(t).expect("in the toy vocabulary");
    assert_eq!(tokenizer.vocab_size(), 95);
    assert_eq!(tokenizer.encode("ab", false).expect("encode"), [id("ab")]);
    assert_eq!(
        tokenizer.encode("aab", false).expect("encode"),
        [id("a"), id("ab")]
    );
    // The toy vocabulary has no token for " ": the space is dropped, like llama.cpp does.
    assert_eq!(
        tokenizer.encode("ab ab1", false).expect("encode"),
        [id("ab"), id("ab"), id("1")]
    );
    assert_eq!(tokenizer.eog_ids(), Vec::<u32>::new());
    assert_eq!(
        (tokenizer.bos_to_add(), tokenizer.bos_token()),
        (None, None)
    );
}

/// Strings mixing pieces the tokenizer treats specially with arbitrary characters.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "[ \t\n\r]{1,6}",
        "[0-9.,]{1,8}",
        "'(s|t|re|ve|m|ll|d|S|T|RE)",
        Just("<|im_start|>".to_owned()),
        Just("<|im_end|>".to_owned()),
        Just("<|endoftext|>".to_owned()),
        "\\PC{1,8}",
        "[\u{0300}-\u{036F}\u{1F300}-\u{1F6FF}\u{200D}\u{FE0F}]{1,4}",
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

fn special_ids(tokenizer: &Tokenizer) -> HashMap<u32, &'static str> {
    ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        .into_iter()
        .filter_map(|t| tokenizer.token_id(t).map(|id| (id, t)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn plain_text_round_trips(text in tricky_text()) {
        let tokenizer = tokenizer();
        let ids = tokenizer.encode(&text, false).expect("encode");
        prop_assert_eq!(tokenizer.decode(&ids), without_dropped(&text));
        let specials = special_ids(tokenizer);
        prop_assert!(ids.iter().all(|id| !specials.contains_key(id)), "{}", show(tokenizer, &ids));
        prop_assert!(ids.iter().all(|&id| (id as usize) < tokenizer.vocab_size()));
    }

    #[test]
    fn parsed_special_text_round_trips(text in tricky_text()) {
        let tokenizer = tokenizer();
        let ids = tokenizer.encode(&text, true).expect("encode");
        prop_assert_eq!(tokenizer.decode(&ids), without_dropped(&text));
    }
}
