//! The forward pass on the real model: greedy answers, KV-cache consistency (prefill vs
//! decode, prefix reuse), batching, errors.

use std::sync::OnceLock;

use rill_engine::{Gguf, KvCache, Model, Tokenizer};

use super::support::model_path;

/// The default system prompt + a question, in ChatML, as llama.cpp tokenizes it
/// (llama-cpp-python 0.3.36: `Llama.tokenize(prompt.encode(), add_bos=False, special=True)`).
/// Hard-coded so these tests do not depend on the tokenizer.
const FRANCE: [u32; 37] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
    19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531,
    198,
];
/// Same system prompt, "Write a haiku about the sea.": 38 tokens.
const HAIKU: [u32; 38] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
    19712, 8182, 2, 198, 1, 4093, 198, 19161, 253, 421, 30614, 563, 260, 3426, 30, 2, 198, 1, 520,
    9531, 198,
];
/// No system prompt, "Explain photosynthesis in one sentence.": 15 tokens.
const PHOTOSYNTHESIS: [u32; 15] = [
    1, 4093, 198, 36971, 19173, 281, 582, 6330, 30, 2, 198, 1, 520, 9531, 198,
];

const END_OF_GENERATION: [u32; 2] = [0, 2];

struct Loaded {
    gguf: Gguf,
    model: Model,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let gguf = Gguf::open(&model_path()).expect("open the model file");
        let model = Model::load(&gguf, &candle_core::Device::Cpu).expect("load the model");
        Loaded { gguf, model }
    })
}

fn model() -> &'static Model {
    &loaded().model
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in logits.iter().enumerate() {
        if *v > logits[best] {
            best = i;
        }
    }
    best as u32
}

fn top(logits: &[f32], n: usize) -> Vec<(u32, f32)> {
    let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
    ids.sort_by(|a, b| logits[*b as usize].total_cmp(&logits[*a as usize]));
    ids.into_iter()
        .take(n)
        .map(|i| (i, logits[i as usize]))
        .collect()
}

/// Greedy decoding of up to `max` tokens, stopping at an end-of-generation token.
fn greedy(prompt: &[u32], max: usize) -> Vec<u32> {
    let model = model();
    let mut cache = model.new_cache();
    let mut token = argmax(&model.forward(prompt, &mut cache).expect("prefill"));
    let mut out = Vec::new();
    while out.len() < max && !END_OF_GENERATION.contains(&token) {
        out.push(token);
        token = argmax(&model.forward(&[token], &mut cache).expect("decode"));
    }
    out
}

/// Largest difference between two logit vectors, relative to the largest logit magnitude.
fn relative_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

#[test]
fn config_comes_from_the_metadata() {
    let config = model().config();
    assert_eq!(config.vocab_size, 49152);
    assert_eq!(config.context_length, 8192);
    assert_eq!(config.embedding_length, 576);
    assert_eq!(config.block_count, 30);
    assert_eq!(config.head_count, 9);
    assert_eq!(config.head_count_kv, 3);
    assert_eq!(config.head_dim, 64);
    assert_eq!(config.rope_freq_base, 100_000.0);
    assert!((config.rms_eps - 1e-5).abs() < 1e-9);
}

/// Greedy decoding gives llama.cpp's greedy answer where llama.cpp's choices are clear
/// (every step of this one has a gap of at least 0.47 between its top two logits).
#[test]
fn greedy_answer_is_llama_cpps() {
    let expected: Vec<u32> = LLAMA_CPP[2].1.iter().map(|(token, _)| *token).collect();
    assert!(LLAMA_CPP[2].1.iter().all(|(_, gap)| *gap > 0.45));
    assert_eq!(greedy(&PHOTOSYNTHESIS, expected.len()), expected);
}

#[test]
fn greedy_answer_through_the_tokenizer_is_llama_cpps() {
    let Ok(tokenizer) = Tokenizer::from_gguf(&loaded().gguf) else {
        panic!("the tokenizer does not load from the model's GGUF");
    };
    let prompt = "<|im_start|>user\nExplain photosynthesis in one sentence.<|im_end|>\n<|im_start|>assistant\n";
    let ids = tokenizer.encode(prompt, true).expect("encode");
    assert_eq!(ids, PHOTOSYNTHESIS);
    let expected: Vec<u32> = LLAMA_CPP[2].1.iter().map(|(token, _)| *token).collect();
    let text = tokenizer.decode(&greedy(&ids, expected.len()));
    assert_eq!(text, tokenizer.decode(&expected));
    assert!(text.starts_with("Photosynthesis"), "{text:?}");
}

/// llama.cpp's greedy continuations (llama-cpp-python 0.3.36, same GGUF, 2 threads,
/// `logits_all=True`): per step, llama.cpp's top token and the gap between its top two logits.
/// Produced by evaluating prompt + continuation one token at a time and reading `scores`.
/// (token, gap between llama.cpp's top two logits) per step.
type Steps = [(u32, f32); 12];

const LLAMA_CPP: [(&[u32], Steps); 3] = [
    (
        &FRANCE,
        [
            (60, 0.089),
            (23, 1.497),
            (39614, 0.719),
            (1141, 3.589),
            (552, 1.44),
            (28, 0.825),
            (2618, 0.596),
            (12693, 0.019),
            (2756, 6.126),
            (28, 2.242),
            (2618, 0.271),
            (12572, 0.338),
        ],
    ),
    (
        &HAIKU,
        [
            (788, 0.072),
            (260, 1.821),
            (16862, 1.738),
            (282, 2.471),
            (260, 4.028),
            (4461, 0.086),
            (28, 2.65),
            (253, 1.683),
            (33023, 0.53),
            (10364, 0.175),
            (38203, 0.313),
            (28, 2.524),
        ],
    ),
    (
        &PHOTOSYNTHESIS,
        [
            (33580, 3.46),
            (14870, 7.322),
            (314, 4.729),
            (253, 3.047),
            (4334, 0.892),
            (980, 0.655),
            (338, 1.437),
            (2518, 0.473),
            (2109, 3.471),
            (288, 3.37),
            (7728, 1.457),
            (1420, 2.026),
        ],
    ),
];

/// Teacher-forced along llama.cpp's greedy continuation, this engine picks the same token
/// wherever llama.cpp's choice is clear, and keeps llama.cpp's token in its top two where it
/// is a near tie (near ties can flip with float differences: both quantize activations to
/// 8 bits per 32 values, but sum in different orders).
#[test]
fn next_tokens_agree_with_llama_cpp() {
    let model = model();
    for (prompt, steps) in LLAMA_CPP {
        let mut cache = model.new_cache();
        let mut logits = model.forward(prompt, &mut cache).expect("prefill");
        for (step, (token, gap)) in steps.into_iter().enumerate() {
            let best = top(&logits, 2);
            if gap >= 0.5 {
                assert_eq!(
                    best[0].0, token,
                    "step {step}: llama.cpp's gap {gap}, ours {best:?}"
                );
            } else {
                assert!(
                    best.iter().any(|(t, _)| *t == token),
                    "step {step}: ours {best:?}"
                );
            }
            logits = model.forward(&[token], &mut cache).expect("decode");
        }
    }
}

/// A prompt run at once equals a shorter prompt plus decode steps: the KV cache holds what
/// the later rows need, at the right positions.
#[test]
fn prefill_equals_prefill_then_decode_steps() {
    let model = model();
    let mut full = model.new_cache();
    let expected = model.forward(&HAIKU, &mut full).expect("prefill");
    assert_eq!(full.len(), HAIKU.len());
    assert_eq!(expected.len(), model.config().vocab_size);

    let split = HAIKU.len() - 5;
    let mut cache = model.new_cache();
    model.forward(&HAIKU[..split], &mut cache).expect("prefill");
    let mut last = Vec::new();
    for &token in &HAIKU[split..] {
        last = model.forward(&[token], &mut cache).expect("decode");
    }
    assert_eq!(cache.len(), HAIKU.len());
    assert_same(&expected, &last);
}

#[test]
fn prompt_in_two_parts_equals_one_prompt() {
    let model = model();
    let expected = model
        .forward(&HAIKU, &mut model.new_cache())
        .expect("prefill");
    let mut cache = model.new_cache();
    model.forward(&HAIKU[..20], &mut cache).expect("part 1");
    let logits = model.forward(&HAIKU[20..], &mut cache).expect("part 2");
    assert_same(&expected, &logits);
}

/// With rill's kernels (this machine's), a row's logits are bit-identical however it was
/// batched; elsewhere they agree to float rounding.
fn assert_same(expected: &[f32], got: &[f32]) {
    if model().batch_invariant() {
        assert!(expected == got, "differ: {}", relative_diff(expected, got));
    } else {
        let diff = relative_diff(expected, got);
        assert!(diff < 1e-3, "relative difference {diff}");
    }
}

#[test]
fn truncate_then_forward_reuses_the_prefix() {
    let model = model();
    let mut reference = model.new_cache();
    let expected = model.forward(&FRANCE, &mut reference).expect("prefill");

    // A previous turn that shares the first 24 tokens (the system prompt and "user\n").
    let shared = 24;
    let mut cache = model.new_cache();
    model.forward(&HAIKU, &mut cache).expect("other prompt");
    for _ in 0..3 {
        let token = argmax(&model.forward(&[HAIKU[5]], &mut cache).expect("decode"));
        assert!(token < model.config().vocab_size as u32);
    }
    cache.truncate(shared);
    assert_eq!(cache.len(), shared);
    let logits = model
        .forward(&FRANCE[shared..], &mut cache)
        .expect("the rest");
    assert_same(&expected, &logits);

    cache.clear();
    assert!(cache.is_empty());
    let again = model.forward(&FRANCE, &mut cache).expect("from scratch");
    assert!(relative_diff(&expected, &again) < 1e-5);
}

#[test]
fn forward_batch_equals_separate_forwards() {
    let model = model();
    let prompts: [&[u32]; 3] = [&FRANCE, &HAIKU[..20], &PHOTOSYNTHESIS];
    let mut caches: Vec<KvCache> = Vec::new();
    let mut next = Vec::new();
    let mut separate: Vec<KvCache> = Vec::new();
    for prompt in prompts {
        let mut cache = model.new_cache();
        next.push(argmax(&model.forward(prompt, &mut cache).expect("prefill")));
        separate.push(cache.clone());
        caches.push(cache);
    }
    for _ in 0..4 {
        let mut refs: Vec<&mut KvCache> = caches.iter_mut().collect();
        let batched = model.forward_batch(&next, &mut refs).expect("batch step");
        assert_eq!(batched.len(), 3);
        for (i, cache) in separate.iter_mut().enumerate() {
            let alone = model.forward(&[next[i]], cache).expect("single step");
            assert_same(&alone, &batched[i]);
            assert_eq!(caches[i].len(), cache.len());
        }
        next = batched.iter().map(|l| argmax(l)).collect();
    }
}

#[test]
fn errors_leave_the_cache_as_it_was() {
    let model = model();
    let prompt = &PHOTOSYNTHESIS[..];
    let mut cache = model.new_cache();
    model.forward(prompt, &mut cache).expect("prefill");
    let held = cache.len();

    assert!(model.forward(&[], &mut cache).is_err(), "no tokens");
    assert!(
        model
            .forward(&[model.config().vocab_size as u32], &mut cache)
            .is_err(),
        "bad id"
    );
    let too_many = vec![198; model.config().context_length - held + 1];
    let error = model
        .forward(&too_many, &mut cache)
        .expect_err("context exceeded");
    assert!(error.to_string().contains("context length"), "{error}");
    assert_eq!(cache.len(), held);

    let mut a = model.new_cache();
    assert!(
        model.forward_batch(&[1, 2], &mut [&mut a]).is_err(),
        "mismatched lengths"
    );

    // The cache still works and gives the same answer as a fresh one.
    let logits = model.forward(&[9531], &mut cache).expect("decode");
    let mut fresh = model.new_cache();
    let mut all = prompt.to_vec();
    all.push(9531);
    let expected = model.forward(&all, &mut fresh).expect("prefill");
    assert_same(&expected, &logits);
}

/// candle's quantized matmuls (what CPUs without VNNI run, on Q4_1 re-quantized to Q8_0)
/// stay close to rill's kernels and rank the next token the same way.
#[test]
fn candle_matmul_path_agrees() {
    let options = rill_engine::LoadOptions {
        candle_matmul: true,
    };
    let candle = Model::load_with(&loaded().gguf, &candle_core::Device::Cpu, &options)
        .expect("load with candle's matmuls");
    assert!(!candle.batch_invariant());
    for prompt in [&FRANCE[..], &HAIKU[..], &PHOTOSYNTHESIS[..]] {
        let ours = model()
            .forward(prompt, &mut model().new_cache())
            .expect("rill");
        let theirs = candle
            .forward(prompt, &mut candle.new_cache())
            .expect("candle");
        let diff = relative_diff(&ours, &theirs);
        assert!(diff < 0.08, "relative difference {diff}");
        let (a, b) = (top(&ours, 5), top(&theirs, 5));
        assert!(b[..2].iter().any(|(t, _)| *t == a[0].0), "{a:?} vs {b:?}");
        let shared = a
            .iter()
            .filter(|(t, _)| b.iter().any(|(u, _)| u == t))
            .count();
        assert!(shared >= 4, "{a:?} vs {b:?}");
    }
}
