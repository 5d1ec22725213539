//! Load generator for `bench/run gateway`: streams OpenAI Chat Completions requests
//! (`stream: true`, `stream_options.include_usage: true`) at a fixed concurrency and prints
//! one JSON document of raw per-stream timings on stdout.
//!
//! ```console
//! $ cargo run --release -p rill --example gateway_load -- \
//!     --url http://127.0.0.1:9000/v1/chat/completions --model bench --concurrency 64
//! ```
//!
//! `--concurrency` workers each run `--warmup-per-worker` then `--requests-per-worker`
//! streams back to back (or one every `--interval-ms`) over kept-alive connections
//! (`--no-keepalive`: a new one each);
//! worker `i` starts `i * ramp / concurrency` after the first, so the connections do not
//! all open in the same millisecond. For every stream it records the time to the first non-empty content
//! delta, the gaps between consecutive content deltas (each timed when the bytes carrying
//! it were read), and whether the stream completed: a chunk with a `finish_reason`, then
//! `data: [DONE]`, with no error event on the way (and, with `--expect-bytes`, exactly that
//! much content). Nothing is aggregated here; `bench/gateway.py` computes percentiles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

#[derive(Debug, Parser)]
struct Args {
    /// The Chat Completions endpoint, e.g. http://127.0.0.1:8080/v1/chat/completions.
    #[arg(long)]
    url: String,
    /// The model to ask for.
    #[arg(long)]
    model: String,
    /// Streams in flight at once (one worker each).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Streams each worker runs, one after the other.
    #[arg(long, default_value_t = 1)]
    requests_per_worker: usize,
    /// Streams each worker runs first, marked `"warmup": true` (they open the connection
    /// that the measured streams then reuse).
    #[arg(long, default_value_t = 0)]
    warmup_per_worker: usize,
    /// Each worker starts a stream at most every this many milliseconds (0: back to
    /// back): clients that pause between questions, rather than a saturating load.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
    /// Spread the workers' first requests over this many milliseconds.
    #[arg(long, default_value_t = 0)]
    ramp_ms: u64,
    /// The user message.
    #[arg(long, default_value = "Tell me about streaming.")]
    prompt: String,
    /// `max_tokens` for the request, if any.
    #[arg(long)]
    max_tokens: Option<u32>,
    /// `temperature` for the request, if any (0 makes answers cacheable).
    #[arg(long)]
    temperature: Option<f32>,
    /// A request header as `name: value` (repeatable), such as `cache-control: no-cache`.
    #[arg(long = "header", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Sent as `Authorization: Bearer`, if given.
    #[arg(long)]
    api_key: Option<String>,
    /// A stream is complete only if its content has exactly this many bytes.
    #[arg(long)]
    expect_bytes: Option<usize>,
    /// Give up on a stream after this many seconds (it counts as failed).
    #[arg(long, default_value_t = 120)]
    timeout_s: u64,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Open a new connection for every stream instead of keeping connections alive.
    #[arg(long)]
    no_keepalive: bool,
}

/// What one stream did. Times are microseconds from sending the request.
#[derive(Debug, Default)]
struct StreamResult {
    status: u16,
    ttft_us: Option<u64>,
    total_us: u64,
    gaps_us: Vec<u32>,
    chunks: u32,
    content_bytes: usize,
    finish: Option<String>,
    usage: bool,
    done: bool,
    error: Option<String>,
}

impl StreamResult {
    fn ok(&self, expect_bytes: Option<usize>) -> bool {
        self.error.is_none()
            && self.status == 200
            && self.finish.is_some()
            && self.done
            && expect_bytes.is_none_or(|n| n == self.content_bytes)
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<IgnoredAny>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

struct Shared {
    client: reqwest::Client,
    args: Args,
    body: bytes::Bytes,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

fn parse_header(header: &str) -> Result<(String, String), String> {
    let (name, value) = header
        .split_once(':')
        .ok_or_else(|| format!("`{header}` is not `name: value`"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let output = runtime.block_on(run(args))?;
    println!("{output}");
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<serde_json::Value> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(if args.no_keepalive { 0 } else { usize::MAX })
        .pool_idle_timeout(Duration::from_secs(300))
        .connect_timeout(Duration::from_secs(30))
        .build()
        .context("could not build the HTTP client")?;
    let mut body = json!({
        "model": args.model,
        "stream": true,
        "stream_options": { "include_usage": true },
        "messages": [{ "role": "user", "content": args.prompt }],
    });
    if let Some(max_tokens) = args.max_tokens {
        body["max_tokens"] = json!(max_tokens);
    }
    if let Some(temperature) = args.temperature {
        body["temperature"] = json!(temperature);
    }
    let body = bytes::Bytes::from(serde_json::to_vec(&body)?);
    let concurrency = args.concurrency.max(1);
    let shared = Arc::new(Shared {
        client,
        args,
        body,
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });

    let start = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let shared = Arc::clone(&shared);
        let delay = Duration::from_millis(shared.args.ramp_ms) * i as u32 / concurrency as u32;
        workers.push(tokio::spawn(async move {
            tokio::time::sleep_until((start + delay).into()).await;
            let warmup = shared.args.warmup_per_worker;
            let mut results = Vec::with_capacity(warmup + shared.args.requests_per_worker);
            let interval = Duration::from_millis(shared.args.interval_ms);
            let first = Instant::now();
            for n in 0..warmup + shared.args.requests_per_worker {
                tokio::time::sleep_until((first + interval * n as u32).into()).await;
                let began = Instant::now();
                let result = one_stream(&shared).await;
                results.push((began.duration_since(start), n < warmup, result));
            }
            results
        }));
    }
    let mut streams = Vec::new();
    for worker in workers {
        streams.extend(worker.await?);
    }
    let wall = start.elapsed();

    let expect = shared.args.expect_bytes;
    let failed = streams.iter().filter(|(_, _, r)| !r.ok(expect)).count();
    let streams: Vec<serde_json::Value> = streams
        .into_iter()
        .map(|(began, warmup, r)| {
            json!({
                "ok": r.ok(expect),
                "warmup": warmup,
                "start_us": began.as_micros() as u64,
                "status": r.status,
                "ttft_us": r.ttft_us,
                "total_us": r.total_us,
                "chunks": r.chunks,
                "content_bytes": r.content_bytes,
                "finish": r.finish,
                "usage": r.usage,
                "done": r.done,
                "error": r.error,
                "gaps_us": r.gaps_us,
            })
        })
        .collect();
    Ok(json!({
        "url": shared.args.url,
        "concurrency": concurrency,
        "requests": streams.len(),
        "failed": failed,
        "wall_us": wall.as_micros() as u64,
        "max_in_flight": shared.max_in_flight.load(Ordering::Relaxed),
        "streams": streams,
    }))
}

async fn one_stream(shared: &Shared) -> StreamResult {
    let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::Relaxed);
    let sent = Instant::now();
    let mut result = StreamResult::default();
    let timeout = Duration::from_secs(shared.args.timeout_s);
    if tokio::time::timeout(timeout, read_stream(shared, sent, &mut result))
        .await
        .is_err()
    {
        result.error = Some(format!("timed out after {} s", timeout.as_secs()));
    }
    result.total_us = sent.elapsed().as_micros() as u64;
    if result.error.is_none() && (result.finish.is_none() || !result.done) {
        result.error = Some(format!(
            "incomplete: finish {:?}, [DONE] {}",
            result.finish, result.done
        ));
    }
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    result
}

async fn read_stream(shared: &Shared, sent: Instant, result: &mut StreamResult) {
    let mut request = shared
        .client
        .post(&shared.args.url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(shared.body.clone());
    if let Some(key) = &shared.args.api_key {
        request = request.bearer_auth(key);
    }
    for (name, value) in &shared.args.headers {
        request = request.header(name, value);
    }
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            result.error = Some(format!("request: {}", error.without_url()));
            return;
        }
    };
    result.status = response.status().as_u16();
    if !response.status().is_success() {
        let body = response.text().await.unwrap_or_default();
        result.error = Some(format!(
            "status {}: {}",
            result.status,
            body.chars().take(300).collect::<String>()
        ));
        return;
    }
    let mut decoder = rill_sse::Decoder::new();
    let mut last: Option<Instant> = None;
    loop {
        let bytes = match response.chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(error) => {
                result.error = Some(format!("body: {}", error.without_url()));
                return;
            }
        };
        let at = Instant::now();
        let events = match decoder.feed(&bytes) {
            Ok(events) => events,
            Err(error) => {
                result.error = Some(format!("sse: {error}"));
                return;
            }
        };
        for event in events {
            if event.data == "[DONE]" {
                result.done = true;
                continue;
            }
            if result.done {
                result.error = Some("data after [DONE]".to_owned());
                return;
            }
            let chunk: Chunk = match serde_json::from_str(&event.data) {
                Ok(chunk) => chunk,
                Err(error) => {
                    result.error = Some(format!("bad chunk ({error}): {}", event.data));
                    return;
                }
            };
            if let Some(error) = chunk.error {
                result.error = Some(format!("error event: {error}"));
                return;
            }
            if chunk.usage.is_some() {
                result.usage = true;
            }
            for choice in chunk.choices {
                if let Some(reason) = choice.finish_reason {
                    result.finish = Some(reason);
                }
                let Some(text) = choice.delta.and_then(|d| d.content) else {
                    continue;
                };
                if text.is_empty() {
                    continue;
                }
                result.chunks += 1;
                result.content_bytes += text.len();
                match last {
                    None => result.ttft_us = Some(at.duration_since(sent).as_micros() as u64),
                    Some(prev) => result.gaps_us.push(
                        u32::try_from(at.duration_since(prev).as_micros()).unwrap_or(u32::MAX),
                    ),
                }
                last = Some(at);
            }
        }
    }
}
