//! An admitted generation: the slots it holds until its stream is dropped, and the
//! tokens it reports.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::StreamExt;
use rill_core::{ChatRequest, EventStream, Message, StreamEvent, Tally, Usage};
use tokio::time::Instant;

use super::Key;
use super::estimate::TextSample;
use crate::metrics::Metrics;

/// `server.max_concurrent_generations`: how many run now, and how many may.
pub(super) struct Cap {
    running: AtomicU32,
    max: Option<NonZeroU32>,
}

impl Cap {
    pub(super) fn new(max: Option<NonZeroU32>) -> Self {
        Self {
            running: AtomicU32::new(0),
            max,
        }
    }

    /// One more running generation, unless that would pass the cap.
    pub(super) fn acquire(this: &Arc<Self>) -> Option<Slot> {
        let max = this.max.map_or(u32::MAX, NonZeroU32::get);
        this.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(Slot(Arc::clone(this)))
    }
}

/// One place under the cap, given back when dropped.
pub(super) struct Slot(Arc<Cap>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What an admitted generation holds: its place under the server's cap and, for a key,
/// one of the key's concurrent generations. Dropping it gives both back.
pub struct Admission {
    _slot: Slot,
    key: Option<Arc<Key>>,
    metrics: Metrics,
    /// Tokens of this generation charged so far (a later `Usage` replaces an earlier one,
    /// so only the difference is charged).
    charged: u64,
    /// What the generation used, watched so that a stream ending without a usage report
    /// is charged too. Only for a key: nothing is charged without one.
    meter: Option<Meter>,
}

/// A keyed generation's use as its stream passes.
#[derive(Default)]
struct Meter {
    /// The provider's own counts, when it keeps them (the embedded engine).
    tally: Tally,
    prompt: TextSample,
    output: TextSample,
    /// The last usage the stream reported.
    reported: Option<Usage>,
    finished: bool,
}

/// An admitted generation's stream, and the name of the key that started it (the only
/// one that may resume or cancel it).
pub struct Admitted {
    pub stream: EventStream,
    pub owner: Option<String>,
}

impl Admission {
    pub(super) fn new(slot: Slot, key: Option<Arc<Key>>, metrics: Metrics) -> Self {
        let meter = key.as_ref().map(|_| Meter::default());
        Self {
            _slot: slot,
            key,
            metrics,
            charged: 0,
            meter,
        }
    }

    /// Notes what `request` sends (its text, for an estimate) and gives it a tally for a
    /// provider that counts as it goes. Call before the provider starts.
    pub fn measure(&mut self, request: &mut ChatRequest) {
        let Some(meter) = &mut self.meter else {
            return;
        };
        request.tally = meter.tally.clone();
        let prompt = &mut meter.prompt;
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

    /// Moves the admission into `stream`: it is held for exactly as long as the stream
    /// lives (a session drops its stream when the generation ends, however it ends; a
    /// non-streaming request when its answer is collected or its client leaves), and
    /// every `Usage` the stream reports is charged to the key as it passes. A stream that
    /// ends without one is charged what it used when it is dropped: the provider's own
    /// counts if it kept them, else an estimate (`estimate`).
    pub fn track(self, stream: EventStream) -> Admitted {
        let owner = self.key.as_ref().map(|key| key.config.name.clone());
        let mut admission = self;
        let stream = stream.map(move |event| {
            admission.observe(&event);
            event
        });
        Admitted {
            stream: Box::pin(stream),
            owner,
        }
    }

    fn observe(&mut self, event: &StreamEvent) {
        let Some(meter) = &mut self.meter else {
            return;
        };
        match event {
            StreamEvent::TextDelta(text)
            | StreamEvent::ReasoningDelta(text)
            | StreamEvent::RefusalDelta(text) => meter.output.push(text),
            StreamEvent::ToolCallStart { name, .. } => meter.output.push(name),
            StreamEvent::ToolCallDelta { arguments, .. } => meter.output.push(arguments),
            StreamEvent::Usage(usage) => {
                meter.reported = Some(*usage);
                let total = usage.total_tokens();
                self.charge(total, false);
            }
            StreamEvent::Finish(_) => meter.finished = true,
            _ => {}
        }
    }

    /// Charges the key up to `total` tokens for this generation.
    fn charge(&mut self, total: u64, estimated: bool) {
        let Some(key) = &self.key else {
            return;
        };
        let tokens = total.saturating_sub(self.charged);
        self.charged = self.charged.max(total);
        charge(key, &self.metrics, tokens, estimated);
    }
}

fn charge(key: &Key, metrics: &Metrics, tokens: u64, estimated: bool) {
    if tokens == 0 {
        return;
    }
    key.ledger().tokens.charge(Instant::now(), tokens);
    metrics.key_tokens(&key.config.name, tokens);
    if estimated {
        metrics.key_estimated_tokens(&key.config.name, tokens);
    }
}

impl Meter {
    /// Whether the stream's own report covers the whole generation: it finished and
    /// reported usage.
    fn is_settled(&self) -> bool {
        self.finished && self.reported.is_some()
    }

    /// What the generation used, as well as it can be told: reported counts win, then
    /// the provider's own tally, then estimates from the text (CPU work: see
    /// [`TextSample::tokens`]).
    fn total(&self) -> u64 {
        let reported = self.reported.unwrap_or_default();
        let tally = self.tally.usage();
        let input = match (reported.input_tokens, tally) {
            (0, Some(tally)) => tally.input_tokens,
            (0, None) => self.prompt.tokens(),
            (reported, _) => reported,
        };
        let output = match tally {
            Some(tally) => tally.output_tokens,
            None => self.output.tokens(),
        };
        input + output.max(reported.output_tokens)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let Some(key) = self.key.clone() else {
            return;
        };
        {
            let mut ledger = key.ledger();
            ledger.in_flight = ledger.in_flight.saturating_sub(1);
        }
        let Some(meter) = self.meter.take() else {
            return;
        };
        if meter.is_settled() {
            return;
        }
        let (metrics, charged) = (self.metrics.clone(), self.charged);
        // Counting text is CPU work; the provider's own tally is not.
        let exact = meter.tally.usage().is_some();
        let settle = move || {
            let total = meter.total();
            let tokens = total.saturating_sub(charged);
            tracing::debug!(key = %key.config.name, tokens, "charged an estimate: the stream ended without a usage report");
            charge(&key, &metrics, tokens, true);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !exact => drop(runtime.spawn_blocking(settle)),
            _ => settle(),
        }
    }
}
