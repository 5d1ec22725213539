//! What a generation used and how it ended, settled once when it ends, however it ends.
//!
//! An [`Account`] is opened by the pipeline for every admitted generation and travels
//! inside its stream with the [`Admission`]. It watches the events go by (the model that
//! serves, the first token, usage reports, the terminal event); when the stream is dropped
//! (its last event, a cancel, a disconnect, a timeout, shutdown) it settles: the key is
//! charged what is still uncharged, and one [`Record`] goes to the ledger.
//!
//! Counts the provider reported win and are never replaced by estimates. A stream that
//! ends without a final report (cancelled, failed, or from an upstream that sends none,
//! such as llama.cpp's server) is counted with the engine's own tally when the engine
//! served it, else estimated from the text (`estimate`), and marked estimated.

mod estimate;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::Stream;
use rill_core::{
    ChatRequest, ErrorKind, EventStream, FinishReason, Message, StreamEvent, Tally, Usage,
};
use rill_ledger::{CacheUse, Ledger, Outcome, Price, Record, Tokens};
use tokio::time::Instant;

use crate::access::Admission;
use crate::metrics::Metrics;
use crate::models::ModelRegistry;
use crate::state::AppState;
use crate::telemetry::Telemetry;
use estimate::TextSample;

/// Why a generation was stopped from outside its stream (a cancel, a disconnect,
/// shutdown): told by whoever stops it, before it drops the stream. Clones share one
/// value; the first one told wins.
#[derive(Clone, Default)]
pub struct Stopped(Arc<AtomicU8>);

impl Stopped {
    pub fn set(&self, why: Outcome) {
        let Some(index) = Outcome::ALL.iter().position(|o| *o == why) else {
            return;
        };
        // 0 is "not told"; the first cause told stays.
        let _ = self
            .0
            .compare_exchange(0, index as u8 + 1, Ordering::AcqRel, Ordering::Acquire);
    }

    fn get(&self) -> Option<Outcome> {
        let told = self.0.load(Ordering::Acquire);
        Outcome::ALL.get(usize::from(told).checked_sub(1)?).copied()
    }
}

/// An admitted generation's stream, with who started it and how to say why it stopped.
pub struct Tracked {
    pub stream: EventStream,
    /// The key that started it, the only one that may resume or cancel it.
    pub owner: Option<String>,
    pub stopped: Stopped,
}

/// The request a generation answers: what the ledger records of it besides the stream.
pub struct Entry {
    pub id: String,
    pub dialect: &'static str,
    /// The model asked for, by rill's name.
    pub model: String,
}

pub struct Account {
    /// Until the account settles.
    admission: Option<Admission>,
    ledger: Ledger,
    models: Arc<ModelRegistry>,
    metrics: Metrics,
    telemetry: Telemetry,
    entry: Entry,
    started_at_ms: i64,
    started: Instant,
    meter: Meter,
    /// The model that serves (its `Start`), by rill's name, and its price.
    served: Option<String>,
    price: Option<Price>,
    first_token: Option<Instant>,
    end: Option<End>,
    stopped: Stopped,
    /// Whether usage events carry their cost to the client.
    cost_in_usage: bool,
    /// Answered from the response cache: nothing is charged, and what it saved is
    /// recorded.
    cache: Option<CacheUse>,
}

/// How the stream itself ended.
enum End {
    Finished(FinishReason),
    Failed(ErrorKind),
}

/// What the generation used, as it streams past.
#[derive(Default)]
struct Meter {
    /// The provider's own counts, when it keeps them (the embedded engine).
    tally: Tally,
    prompt: TextSample,
    output: TextSample,
    /// The last usage the stream reported.
    reported: Option<Usage>,
    /// The counts estimated when the stream finished without a report.
    estimate: Option<Tokens>,
}

impl Account {
    /// Opens the account of a generation just admitted; notes what `request` sends (its
    /// text, for an estimate) and gives it a tally for a provider that counts as it goes.
    /// Call before the provider starts.
    pub fn open(
        state: &AppState,
        admission: Admission,
        entry: Entry,
        request: &mut ChatRequest,
    ) -> Self {
        let mut meter = Meter::default();
        request.tally = meter.tally.clone();
        measure(&mut meter.prompt, request);
        Self {
            admission: Some(admission),
            ledger: state.ledger.clone(),
            models: Arc::clone(&state.models),
            metrics: state.metrics.clone(),
            telemetry: state.telemetry.clone(),
            entry,
            started_at_ms: rill_ledger::now_ms(),
            started: Instant::now(),
            meter,
            served: None,
            price: None,
            first_token: None,
            end: None,
            stopped: Stopped::default(),
            cost_in_usage: state.cost_in_usage,
            cache: None,
        }
    }

    /// The answer comes from the response cache (`how`), not from a generation of its
    /// own: it costs nothing, its usage shows the counts the answer had when generated
    /// (at a cost of 0), and the record says what it saved.
    pub fn served_from_cache(&mut self, how: CacheUse) {
        self.cache = Some(how);
    }

    /// What `tokens` cost this generation: nothing when they came from the cache.
    fn cost(&self, tokens: &Tokens) -> Option<f64> {
        let price = self.price?;
        Some(match self.cache {
            Some(_) => 0.0,
            None => price.cost(tokens),
        })
    }

    /// The provider refused to start (every attempt failed): the account settles with
    /// `error` when dropped.
    pub fn failed(&mut self, error: &rill_core::Error) {
        self.end = Some(End::Failed(error.kind));
    }

    /// Moves the account into `stream`: it is held for exactly as long as the stream
    /// lives, sees every event, and settles when the stream is dropped. A stream that
    /// finished without a usage report gets one more event before it ends: a usage with
    /// rill's estimate, marked `estimated`, so the client sees counts too.
    pub fn track(self, stream: EventStream) -> Tracked {
        let owner = self.key();
        let stopped = self.stopped.clone();
        let stream = Tracking {
            inner: Some(stream),
            account: self,
        };
        Tracked {
            stream: Box::pin(stream),
            owner,
            stopped,
        }
    }

    /// After a stream that finished without reporting usage: the counts rill estimates
    /// (the engine's tally, else the text counted; CPU work, once per such stream), kept
    /// for the record, as a usage event for the client.
    fn estimated_usage(&mut self) -> Option<Usage> {
        if !matches!(self.end, Some(End::Finished(_))) || self.meter.reported.is_some() {
            return None;
        }
        let tokens = self.meter.tokens(false);
        self.meter.estimate = Some(tokens);
        let cost = self.cost(&tokens);
        if let (Some(admission), Some(cost)) = (&mut self.admission, cost) {
            admission.charger().spend(cost);
        }
        Some(Usage {
            input_tokens: tokens.input,
            output_tokens: tokens.output,
            reasoning_tokens: None,
            cached_input_tokens: None,
            cache_write_tokens: None,
            cost_usd: cost.filter(|_| self.cost_in_usage),
            estimated: true,
        })
    }

    /// Notes `event`; a usage report gets its cost at the serving model's price (which is
    /// what the client then sees).
    fn observe(&mut self, event: &mut StreamEvent) {
        if event.is_content() && self.first_token.is_none() {
            self.first_token = Some(Instant::now());
        }
        let output = &mut self.meter.output;
        match event {
            StreamEvent::Start { model } => {
                self.price = self.models.price(model);
                self.served = Some(model.clone());
            }
            StreamEvent::TextDelta(text)
            | StreamEvent::ReasoningDelta(text)
            | StreamEvent::RefusalDelta(text) => output.push(text),
            StreamEvent::ToolCallStart { name, .. } => output.push(name),
            StreamEvent::ToolCallDelta { arguments, .. } => output.push(arguments),
            StreamEvent::Usage(usage) => {
                // Cost is rill's to say, never a provider's.
                let cost = self.cost(&reported(usage));
                usage.cost_usd = cost.filter(|_| self.cost_in_usage);
                self.meter.reported = Some(*usage);
                if let Some(admission) = &mut self.admission
                    && self.cache.is_none()
                {
                    let charger = admission.charger();
                    charger.charge(usage.total_tokens(), false);
                    if let Some(cost) = cost {
                        charger.spend(cost);
                    }
                }
            }
            StreamEvent::Finish(reason) => self.end = Some(End::Finished(*reason)),
            StreamEvent::Error(error) => self.end = Some(End::Failed(error.kind)),
            StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_)
            | StreamEvent::ToolCallEnd { .. } => {}
        }
    }

    fn key(&self) -> Option<String> {
        self.admission.as_ref()?.key().map(str::to_owned)
    }

    /// How the generation ended, the kind of its error if it failed, and the HTTP status
    /// that kind stands for.
    fn outcome(&self) -> (Outcome, Option<ErrorKind>) {
        match &self.end {
            Some(End::Finished(reason)) => (
                match reason {
                    FinishReason::Stop | FinishReason::StopSequence => Outcome::Stop,
                    FinishReason::Length => Outcome::Length,
                    FinishReason::ToolCalls => Outcome::ToolCalls,
                    FinishReason::ContentFilter => Outcome::ContentFilter,
                },
                None,
            ),
            Some(End::Failed(ErrorKind::Timeout)) => (Outcome::Timeout, Some(ErrorKind::Timeout)),
            Some(End::Failed(ErrorKind::Cancelled)) => (Outcome::Cancelled, None),
            Some(End::Failed(kind)) => (Outcome::Error, Some(*kind)),
            // Stopped from outside: whoever stopped it said why; a non-streaming request
            // whose client left says nothing.
            None => (self.stopped.get().unwrap_or(Outcome::Disconnected), None),
        }
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let ended = Instant::now();
        let (outcome, error_kind) = self.outcome();
        let served = self.served.take();
        let provider = served
            .as_deref()
            .and_then(|model| self.models.provider_kind(model))
            .map(str::to_owned);
        let price = self.price;
        let ms = |from: Instant, to: Instant| to.duration_since(from).as_secs_f64() * 1e3;
        let mut record = Record {
            id: std::mem::take(&mut self.entry.id),
            started_at_ms: self.started_at_ms,
            key: self.key(),
            dialect: self.entry.dialect.to_owned(),
            model_requested: std::mem::take(&mut self.entry.model),
            model_served: served,
            provider,
            attempts: self.meter.tally.attempts().max(1),
            ttft_ms: self.first_token.map(|at| ms(self.started, at)),
            duration_ms: ms(self.started, ended),
            tokens: Tokens::default(),
            cost_usd: None,
            price,
            outcome,
            error_kind: error_kind.map(|kind| kind.as_str().to_owned()),
            cache: self.cache,
            saved_usd: None,
        };
        // Every upstream failure: the attempts that failed before their first token, and
        // an error that ended a stream that had started (a cancel is no failure).
        let mut failures = self.meter.tally.failures();
        if let Some(End::Failed(kind)) = &self.end
            && record.model_served.is_some()
            && record.cache.is_none()
            && *kind != ErrorKind::Cancelled
        {
            failures.push(kind.status_code());
        }
        // A label for the model asked for that stays among the configured ones (a
        // catch-all registry serves any name).
        let label = match self
            .models
            .entries()
            .iter()
            .any(|e| e.name == record.model_requested)
        {
            true => record.model_requested.clone(),
            false => "other".to_owned(),
        };
        let metrics = self.metrics.clone();
        let telemetry = self.telemetry.clone();
        let meter = std::mem::take(&mut self.meter);
        // The slots are given back now; the last charge and the record follow.
        let mut charger = self.admission.take().map(Admission::into_charger);
        let finished = matches!(self.end, Some(End::Finished(_)));
        let counted = record.model_served.is_some();
        let ledger = self.ledger.clone();
        let estimate = counted && meter.needs_estimate(finished);
        let settle = move || {
            if counted {
                record.tokens = meter.tokens(finished);
            }
            let tokens = &record.tokens;
            let estimated = tokens.input_estimated || tokens.output_estimated;
            let cost = record.price.map(|price| price.cost(tokens));
            if record.cache.is_some() {
                record.cost_usd = cost.map(|_| 0.0);
                record.saved_usd = cost;
            } else {
                record.cost_usd = cost;
            }
            if let Some(charger) = charger.as_mut().filter(|_| record.cache.is_none()) {
                charger.charge(tokens.input + tokens.output, estimated);
                charger.spend(record.cost_usd.unwrap_or_default());
            }
            log(&record);
            metrics.generation_ended(&record, &label, &failures);
            telemetry.generation(&record);
            ledger.record(record);
        };
        if estimate {
            // Counting text is CPU work: off the async workers.
            self.ledger.spawn_blocking(settle);
        } else {
            settle();
        }
    }
}

impl Meter {
    /// Whether the counts need the text counted: no final report, and no tally.
    fn needs_estimate(&self, finished: bool) -> bool {
        !(finished && self.reported.is_some())
            && self.estimate.is_none()
            && self.tally.usage().is_none()
    }

    /// The generation's counts: the provider's final report when the stream finished with
    /// one; else what it reported so far, raised to the engine's own tally or to an
    /// estimate from the text where those say more, and marked estimated there (CPU work:
    /// see [`TextSample::tokens`]).
    fn tokens(&self, finished: bool) -> Tokens {
        if let Some(estimate) = self.estimate {
            return estimate;
        }
        let mut tokens = reported(&self.reported.unwrap_or_default());
        if finished && self.reported.is_some() {
            return tokens;
        }
        // Not the provider's report: the engine's own exact tally, else counted text.
        let (input, output) = match self.tally.usage() {
            Some(tally) => (tally.input_tokens, tally.output_tokens),
            None if tokens.input == 0 => (self.prompt.tokens(), self.output.tokens()),
            None => (0, self.output.tokens()),
        };
        if tokens.input == 0 && input > 0 {
            tokens.input = input;
            tokens.input_estimated = true;
        }
        if output > tokens.output {
            tokens.output = output;
            tokens.output_estimated = true;
        }
        tokens
    }
}

/// One line per generation: who, what, how much, how fast, how it ended (never a key or
/// any content).
fn log(record: &Record) {
    let tokens = &record.tokens;
    tracing::info!(
        id = %record.id,
        key = record.key.as_deref().unwrap_or("-"),
        model = %record.model_requested,
        served_by = record.model_served.as_deref().unwrap_or("-"),
        attempts = record.attempts,
        input_tokens = tokens.input,
        output_tokens = tokens.output,
        estimated = tokens.input_estimated || tokens.output_estimated,
        ttft_ms = record.ttft_ms.map(|ms| ms.round() as u64),
        duration_ms = record.duration_ms.round() as u64,
        cost_usd = record.cost_usd,
        outcome = record.outcome.as_str(),
        error = record.error_kind.as_deref(),
        "generation"
    );
}

/// A generation's stream with its account: every event is observed, and a usage estimate
/// follows a finish that came without a report.
struct Tracking {
    inner: Option<EventStream>,
    account: Account,
}

impl Stream for Tracking {
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match ready!(inner.as_mut().poll_next(cx)) {
            Some(mut event) => {
                this.account.observe(&mut event);
                Poll::Ready(Some(event))
            }
            None => {
                this.inner = None;
                Poll::Ready(this.account.estimated_usage().map(StreamEvent::Usage))
            }
        }
    }
}

/// The counts a provider reported, as the ledger keeps them.
fn reported(usage: &Usage) -> Tokens {
    Tokens {
        input: usage.input_tokens,
        output: usage.output_tokens,
        cached_input: usage.cached_input_tokens.unwrap_or_default(),
        cache_write: usage.cache_write_tokens.unwrap_or_default(),
        reasoning: usage.reasoning_tokens.unwrap_or_default(),
        input_estimated: usage.estimated,
        output_estimated: usage.estimated,
    }
}

/// Notes the text `request` sends, for an estimate of its tokens.
fn measure(prompt: &mut TextSample, request: &ChatRequest) {
    for message in &request.messages {
        prompt.push(message.text().unwrap_or_default());
        if let Message::Assistant { tool_calls, .. } = message {
            for call in tool_calls {
                prompt.push(&call.name);
                prompt.push(&call.arguments);
            }
        }
    }
    for tool in &request.tools {
        prompt.push(&tool.name);
        prompt.push(tool.description.as_deref().unwrap_or_default());
        prompt.push(&tool.parameters.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last usage in `events`.
    fn last_usage(events: impl IntoIterator<Item = StreamEvent>) -> Tokens {
        let usage = events
            .into_iter()
            .filter_map(|event| match event {
                StreamEvent::Usage(usage) => Some(usage),
                _ => None,
            })
            .last()
            .expect("no usage");
        reported(&usage)
    }

    const PRICE: Price = Price {
        input_per_mtok: 1.0,
        output_per_mtok: 10.0,
        cached_input_per_mtok: Some(0.1),
        cache_write_per_mtok: Some(1.25),
        reasoning_per_mtok: Some(20.0),
    };

    fn cost(tokens: &Tokens) -> f64 {
        (PRICE.cost(tokens) * 1e12).round() / 1e12
    }

    #[test]
    fn openai_counts_cached_tokens_in_the_prompt_and_reasoning_in_the_output() {
        let chunk = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":600},"completion_tokens_details":{"reasoning_tokens":50}}}"#;
        let events = rill_wire::openai_chat::ChunkDecoder::new()
            .decode(chunk)
            .unwrap();
        let tokens = last_usage(events.into_iter().map(|(_, event)| event));
        assert_eq!(
            (
                tokens.input,
                tokens.cached_input,
                tokens.output,
                tokens.reasoning
            ),
            (1000, 600, 200, 50)
        );
        // 400 input + 600 cached + 150 output + 50 reasoning.
        let expected = (400.0 * 1.0 + 600.0 * 0.1 + 150.0 * 10.0 + 50.0 * 20.0) / 1e6;
        assert_eq!(cost(&tokens), (expected * 1e12_f64).round() / 1e12);
    }

    #[test]
    fn anthropic_counts_cache_reads_and_writes_apart_from_input_tokens() {
        let mut decoder = rill_wire::anthropic::EventDecoder::new();
        let mut events = decoder
            .decode(
                "message_start",
                r#"{"type":"message_start","message":{"model":"claude","usage":{"input_tokens":400,"cache_read_input_tokens":500,"cache_creation_input_tokens":100,"output_tokens":1}}}"#,
            )
            .unwrap();
        events.extend(
            decoder
                .decode(
                    "message_delta",
                    r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":200}}"#,
                )
                .unwrap(),
        );
        let tokens = last_usage(events);
        // The whole prompt is 1,000 tokens: 400 read fresh, 500 from the cache, 100 written.
        assert_eq!(
            (tokens.input, tokens.cached_input, tokens.cache_write),
            (1000, 500, 100)
        );
        let expected = (400.0 * 1.0 + 500.0 * 0.1 + 100.0 * 1.25 + 200.0 * 10.0) / 1e6;
        assert_eq!(cost(&tokens), (expected * 1e12_f64).round() / 1e12);
    }

    #[test]
    fn gemini_counts_cached_tokens_in_the_prompt_and_thoughts_apart_from_candidates() {
        let chunk = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":600,"candidatesTokenCount":150,"thoughtsTokenCount":50,"totalTokenCount":1200}}"#;
        let events = rill_wire::gemini::EventDecoder::new()
            .decode(chunk)
            .unwrap();
        let tokens = last_usage(events);
        // Thoughts are output: 150 answer + 50 reasoning.
        assert_eq!(
            (
                tokens.input,
                tokens.cached_input,
                tokens.output,
                tokens.reasoning
            ),
            (1000, 600, 200, 50)
        );
        let expected = (400.0 * 1.0 + 600.0 * 0.1 + 150.0 * 10.0 + 50.0 * 20.0) / 1e6;
        assert_eq!(cost(&tokens), (expected * 1e12_f64).round() / 1e12);
    }
}
