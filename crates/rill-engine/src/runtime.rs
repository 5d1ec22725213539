//! The engine thread: a bounded queue in, batched decoding, events out.
//!
//! One OS thread owns the model's working state and never runs on a tokio worker. Every
//! step it admits waiting requests (prefilling each prompt, reusing the longest cached
//! prefix), then decodes one token for *all* running sequences in a single batched
//! forward pass, so concurrent conversations share each pass over the weights instead of
//! queueing behind each other. Candle spreads each pass over the CPU cores.
//!
//! Events go out on an unbounded channel per request: a slow reader must not stall the
//! thread that serves everyone, and each channel is bounded in practice by the request's
//! `max_tokens`. A request whose receiver is gone is dropped before the next token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use tokio::sync::mpsc::UnboundedSender;

use crate::model::{KvCache, Model};
use crate::prefix::PrefixCache;
use crate::{EngineError, Sampler, SamplerConfig, StopMatcher, Tokenizer, Utf8Stream};

/// Limits of the engine thread.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    /// Requests waiting to start; one more is refused (429 with `Retry-After`).
    pub queue_capacity: usize,
    /// Sequences decoded together in one step.
    pub max_batch: usize,
    /// Finished conversations whose KV cache is kept for prefix reuse.
    pub prefix_cache_entries: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 32,
            max_batch: 8,
            prefix_cache_entries: 4,
        }
    }
}

/// One generation request, already tokenized.
pub struct Job {
    pub prompt: Vec<u32>,
    pub sampler: SamplerConfig,
    pub max_tokens: usize,
    pub stop: Vec<String>,
    pub model_name: String,
    pub events: UnboundedSender<StreamEvent>,
    /// Counts the prompt and every generated token as they happen, for a caller whose
    /// stream ends before the usage report (a cancel).
    pub tally: rill_core::Tally,
}

/// Counters the engine thread keeps, readable from anywhere.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Sequences being generated right now.
    pub running: AtomicUsize,
    /// Tokens generated since start.
    pub generated_tokens: AtomicU64,
    /// Prompt tokens whose KV cache was reused instead of recomputed.
    pub reused_prompt_tokens: AtomicU64,
    /// Generations stopped because their client went away.
    pub cancelled: AtomicU64,
}

/// A handle to the engine thread. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    queue: SyncSender<Job>,
    capacity: usize,
    stats: Arc<EngineStats>,
}

impl Runtime {
    /// Starts the engine thread.
    pub fn start(
        model: Arc<Model>,
        tokenizer: Arc<Tokenizer>,
        config: RuntimeConfig,
    ) -> Result<Self, EngineError> {
        let (queue, jobs) = std::sync::mpsc::sync_channel(config.queue_capacity);
        let capacity = config.queue_capacity;
        let stats = Arc::new(EngineStats::default());
        let worker = Worker::new(model, tokenizer, config, Arc::clone(&stats));
        std::thread::Builder::new()
            .name("rill-engine".into())
            .spawn(move || worker.run(jobs))
            .map_err(|e| EngineError::Model(format!("cannot start the engine thread: {e}")))?;
        Ok(Self {
            queue,
            capacity,
            stats,
        })
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Queues a job, or refuses it at once when the queue is full.
    pub fn submit(&self, job: Job) -> Result<(), Error> {
        match self.queue.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "the engine is overloaded: {} requests are already waiting; retry shortly",
                    self.capacity
                ),
            )
            .with_code("overloaded")
            .with_retry_after(std::time::Duration::from_secs(1))),
            Err(TrySendError::Disconnected(_)) => Err(Error::internal("the engine has stopped")),
        }
    }
}

/// A sequence being generated.
struct Sequence {
    job: Job,
    cache: KvCache,
    sampler: Sampler,
    /// The last sampled token, not yet in the cache.
    next: u32,
    /// Tokens in the cache: prompt, then generated.
    tokens: Vec<u32>,
    generated: usize,
    /// Prompt tokens whose KV came from the prefix cache.
    reused: usize,
    utf8: Utf8Stream,
    stop: StopMatcher,
}

struct Worker {
    model: Arc<Model>,
    tokenizer: Arc<Tokenizer>,
    config: RuntimeConfig,
    prefixes: PrefixCache,
    running: Vec<Sequence>,
    stats: Arc<EngineStats>,
}

impl Worker {
    fn new(
        model: Arc<Model>,
        tokenizer: Arc<Tokenizer>,
        config: RuntimeConfig,
        stats: Arc<EngineStats>,
    ) -> Self {
        let prefixes = PrefixCache::new(config.prefix_cache_entries);
        Self {
            model,
            tokenizer,
            config,
            prefixes,
            running: Vec::new(),
            stats,
        }
    }

    fn publish(&self) {
        self.stats
            .running
            .store(self.running.len(), Ordering::Relaxed);
    }

    fn run(mut self, jobs: Receiver<Job>) {
        loop {
            // Idle: sleep until work arrives; the channel closing ends the thread.
            if self.running.is_empty() {
                match jobs.recv() {
                    Ok(job) => self.admit(job),
                    Err(_) => return,
                }
            }
            while self.running.len() < self.config.max_batch {
                match jobs.try_recv() {
                    Ok(job) => self.admit(job),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        if self.running.is_empty() {
                            return;
                        }
                        break;
                    }
                }
            }
            self.step();
            self.publish();
        }
    }

    /// Prefills a new request and emits its first token.
    fn admit(&mut self, job: Job) {
        if job.events.is_closed() {
            return;
        }
        let _ = job.events.send(StreamEvent::Start {
            model: job.model_name.clone(),
        });
        job.tally.set_input(job.prompt.len() as u64);
        let (mut cache, reused) = self
            .prefixes
            .take(&job.prompt)
            .unwrap_or_else(|| (self.model.new_cache(), 0));
        // At least one prompt token must run to produce logits.
        let keep = reused.min(job.prompt.len().saturating_sub(1));
        cache.truncate(keep);
        tracing::debug!(prompt = job.prompt.len(), reused = keep, "prefill");
        self.stats
            .reused_prompt_tokens
            .fetch_add(keep as u64, Ordering::Relaxed);
        let mut logits = match self.model.forward(&job.prompt[keep..], &mut cache) {
            Ok(logits) => logits,
            Err(error) => {
                fail(&job, &error);
                return;
            }
        };
        let mut sampler = Sampler::new(job.sampler.clone());
        sampler.observe_prompt(&job.prompt);
        let next = sampler.sample(&mut logits);
        let stop = StopMatcher::new(&job.stop);
        let sequence = Sequence {
            tokens: job.prompt.clone(),
            job,
            cache,
            sampler,
            next,
            generated: 0,
            reused: keep,
            utf8: Utf8Stream::default(),
            stop,
        };
        if let Some(sequence) = self.accept(sequence) {
            self.running.push(sequence);
        }
    }

    /// One batched decode step for every running sequence.
    fn step(&mut self) {
        // Requests whose client left are dropped before spending a pass on them.
        let (gone, running): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|s| s.job.events.is_closed());
        for sequence in gone {
            tracing::debug!(
                generated = sequence.generated,
                "client gone; generation stopped"
            );
            self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
            self.prefixes.put(sequence.tokens, sequence.cache);
        }
        self.running = running;
        if self.running.is_empty() {
            return;
        }
        let tokens: Vec<u32> = self.running.iter().map(|s| s.next).collect();
        let mut caches: Vec<&mut KvCache> = self.running.iter_mut().map(|s| &mut s.cache).collect();
        let result = self.model.forward_batch(&tokens, &mut caches);
        let sequences = std::mem::take(&mut self.running);
        match result {
            Ok(all_logits) => {
                for (mut sequence, mut logits) in sequences.into_iter().zip(all_logits) {
                    sequence.tokens.push(sequence.next);
                    sequence.next = sequence.sampler.sample(&mut logits);
                    if let Some(sequence) = self.accept(sequence) {
                        self.running.push(sequence);
                    }
                }
            }
            Err(error) => {
                for sequence in sequences {
                    fail(&sequence.job, &error);
                }
            }
        }
    }

    /// Handles a freshly sampled token: stop conditions, text out. Returns the sequence
    /// if it goes on.
    fn accept(&mut self, mut sequence: Sequence) -> Option<Sequence> {
        let token = sequence.next;
        if self.tokenizer.eog_ids().contains(&token) {
            return self.finish(sequence, FinishReason::Stop);
        }
        sequence.generated += 1;
        sequence.job.tally.add_output(1);
        self.stats.generated_tokens.fetch_add(1, Ordering::Relaxed);
        let text = sequence.utf8.push(self.tokenizer.token_bytes(token));
        let scan = sequence.stop.push(&text);
        if !scan.emit.is_empty()
            && sequence
                .job
                .events
                .send(StreamEvent::TextDelta(scan.emit))
                .is_err()
        {
            self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
            self.prefixes.put(sequence.tokens, sequence.cache);
            return None;
        }
        if scan.stopped {
            return self.finish_quietly(sequence, FinishReason::StopSequence);
        }
        let full = sequence.tokens.len() + 1 >= self.model.config().context_length;
        if sequence.generated >= sequence.job.max_tokens || full {
            return self.finish(sequence, FinishReason::Length);
        }
        Some(sequence)
    }

    /// Ends a sequence, releasing text still held for stop matching or UTF-8.
    fn finish(&mut self, mut sequence: Sequence, reason: FinishReason) -> Option<Sequence> {
        // The UTF-8 tail (replacement characters for an unfinished character) can still
        // complete a stop sequence; then the answer ends at it, as it would have mid-stream.
        let scan = sequence.stop.push(&sequence.utf8.finish());
        let (tail, reason) = if scan.stopped {
            (scan.emit, FinishReason::StopSequence)
        } else {
            (scan.emit + &sequence.stop.finish(), reason)
        };
        if !tail.is_empty() {
            let _ = sequence.job.events.send(StreamEvent::TextDelta(tail));
        }
        self.finish_quietly(sequence, reason)
    }

    fn finish_quietly(&mut self, sequence: Sequence, reason: FinishReason) -> Option<Sequence> {
        let usage = Usage {
            input_tokens: sequence.job.prompt.len() as u64,
            output_tokens: sequence.generated as u64,
            reasoning_tokens: None,
            cached_input_tokens: Some(sequence.reused as u64),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        };
        let _ = sequence.job.events.send(StreamEvent::Usage(usage));
        let _ = sequence.job.events.send(StreamEvent::Finish(reason));
        self.prefixes.put(sequence.tokens, sequence.cache);
        None
    }
}

fn fail(job: &Job, error: &EngineError) {
    tracing::error!(%error, "generation failed");
    let _ = job.events.send(StreamEvent::Error(Error::internal(
        "the engine failed while generating",
    )));
}
