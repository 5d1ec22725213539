//! Measures the embedded model's speed: time to first token (prefill + first token) and
//! decode tokens per second, greedy, median of several runs.
//!
//! `cargo run --release -p rill-engine --example engine_speed -- [--prompt-tokens N]
//! [--tokens 200] [--runs 3] [--batch B] [--threads T] [--model PATH] [--print]
//! [--candle-matmul]`
//!
//! `--threads` sets `RAYON_NUM_THREADS` (candle's thread count) before the first candle
//! call. `--batch B` also measures `forward_batch` over B sequences.

use std::path::PathBuf;
use std::time::Instant;

use rill_engine::{EngineError, Gguf, LoadOptions, Model, Tokenizer};

/// The default system prompt + "Write a haiku about the sea." in ChatML: 38 tokens, as
/// llama.cpp (llama-cpp-python 0.3.36, `tokenize(special=True)`) tokenizes it. Hard-coded so
/// the measurement does not depend on the tokenizer.
const PROMPT: [u32; 38] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
    19712, 8182, 2, 198, 1, 4093, 198, 19161, 253, 421, 30614, 563, 260, 3426, 30, 2, 198, 1, 520,
    9531, 198,
];

struct Args {
    prompt_tokens: Option<usize>,
    tokens: usize,
    runs: usize,
    batch: usize,
    model: PathBuf,
    print: bool,
    threads: Option<usize>,
    candle_matmul: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        prompt_tokens: None,
        tokens: 200,
        runs: 3,
        batch: 0,
        model: default_model(),
        print: false,
        threads: None,
        candle_matmul: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--prompt-tokens" => args.prompt_tokens = Some(number(value()?)?),
            "--tokens" => args.tokens = number(value()?)?,
            "--runs" => args.runs = number(value()?)?.max(1),
            "--batch" => args.batch = number(value()?)?,
            "--threads" => {
                args.threads = Some(number(value()?)?);
            }
            "--model" => args.model = PathBuf::from(value()?),
            "--print" => args.print = true,
            "--candle-matmul" => args.candle_matmul = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn default_model() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("RILL_MODEL").unwrap_or_else(|| {
        var("RILL_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|dir| dir.join("rill")))
            .or_else(|| var("HOME").map(|home| home.join(".cache").join("rill")))
            .unwrap_or_else(|| PathBuf::from(".cache/rill"))
            .join("models")
            .join("SmolLM2-135M-Instruct.Q4_1.gguf")
    })
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if let Some(threads) = args.threads {
        // candle reads RAYON_NUM_THREADS once, at its first parallel op; setting the process
        // environment is `unsafe` in edition 2024, so re-run this program with it set.
        let threads = threads.to_string();
        if std::env::var("RAYON_NUM_THREADS").ok().as_deref() != Some(threads.as_str()) {
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(std::env::args().skip(1))
                .env("RAYON_NUM_THREADS", &threads)
                .status()?;
            std::process::exit(status.code().unwrap_or(1));
        }
    }
    let started = Instant::now();
    let gguf = Gguf::open(&args.model)?;
    let options = LoadOptions {
        candle_matmul: args.candle_matmul,
    };
    let model = Model::load_with(&gguf, &candle_core::Device::Cpu, &options)?;
    println!("load: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    let mut prompt = PROMPT.to_vec();
    if let Some(n) = args.prompt_tokens {
        // Longer prompts repeat the system prompt's text; shorter ones keep its start.
        while prompt.len() < n {
            prompt.splice(3..3, PROMPT[3..19].iter().copied());
        }
        prompt.truncate(n.max(1));
    }
    println!(
        "prompt: {} tokens, decode: {} tokens, threads: {}",
        prompt.len(),
        args.tokens,
        candle_core::utils::get_num_threads()
    );

    let mut ttfts = Vec::new();
    let mut rates = Vec::new();
    for run in 0..args.runs {
        let mut cache = model.new_cache();
        let start = Instant::now();
        let mut token = argmax(&model.forward(&prompt, &mut cache)?);
        let ttft = start.elapsed().as_secs_f64();
        let mut generated = vec![token];
        let decode_start = Instant::now();
        for _ in 1..args.tokens {
            token = argmax(&model.forward(&[token], &mut cache)?);
            generated.push(token);
        }
        let rate = (args.tokens - 1) as f64 / decode_start.elapsed().as_secs_f64();
        println!(
            "run {run}: TTFT {:.1} ms, decode {:.1} tok/s",
            ttft * 1e3,
            rate
        );
        if args.print && run == 0 {
            println!("{:?}", &generated[..generated.len().min(20)]);
            match Tokenizer::from_gguf(&gguf) {
                Ok(tokenizer) => println!("{:?}", tokenizer.decode(&generated)),
                Err(e) => println!("(no text: {e})"),
            }
        }
        ttfts.push(ttft);
        rates.push(rate);
    }
    println!(
        "median: TTFT {:.1} ms, decode {:.1} tok/s",
        median(ttfts) * 1e3,
        median(rates)
    );

    if args.batch > 0 {
        batch(&model, &prompt, args.batch, args.tokens)?;
    }
    Ok(())
}

/// Decodes `n` sequences together, step by step, and reports the total tokens per second.
fn batch(model: &Model, prompt: &[u32], n: usize, tokens: usize) -> Result<(), EngineError> {
    let mut caches: Vec<_> = (0..n).map(|_| model.new_cache()).collect();
    let mut next = Vec::with_capacity(n);
    for cache in caches.iter_mut() {
        next.push(argmax(&model.forward(prompt, cache)?));
    }
    let start = Instant::now();
    for _ in 1..tokens {
        let mut refs: Vec<&mut rill_engine::KvCache> = caches.iter_mut().collect();
        let logits = model.forward_batch(&next, &mut refs)?;
        next = logits.iter().map(|l| argmax(l)).collect();
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "batch {n}: {:.1} steps/s, {:.1} tok/s in total",
        (tokens - 1) as f64 / elapsed,
        (n * (tokens - 1)) as f64 / elapsed
    );
    Ok(())
}
