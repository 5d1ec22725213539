//! An admitted generation: the slots it holds until its stream is dropped, and the
//! tokens it reports.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::StreamExt;
use rill_core::{EventStream, StreamEvent};
use tokio::time::Instant;

use super::Key;
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
}

/// An admitted generation's stream, and the name of the key that started it (the only
/// one that may resume or cancel it).
pub struct Admitted {
    pub stream: EventStream,
    pub owner: Option<String>,
}

impl Admission {
    pub(super) fn new(slot: Slot, key: Option<Arc<Key>>, metrics: Metrics) -> Self {
        Self {
            _slot: slot,
            key,
            metrics,
            charged: 0,
        }
    }

    /// Moves the admission into `stream`: it is held for exactly as long as the stream
    /// lives (a session drops its stream when the generation ends, however it ends; a
    /// non-streaming request when its answer is collected or its client leaves), and
    /// every `Usage` the stream reports is charged to the key as it passes.
    pub fn track(self, stream: EventStream) -> Admitted {
        let owner = self.key.as_ref().map(|key| key.config.name.clone());
        let mut admission = self;
        let stream = stream.map(move |event| {
            if let StreamEvent::Usage(usage) = &event {
                admission.charge(usage.total_tokens());
            }
            event
        });
        Admitted {
            stream: Box::pin(stream),
            owner,
        }
    }

    fn charge(&mut self, total: u64) {
        let Some(key) = &self.key else {
            return;
        };
        let tokens = total.saturating_sub(self.charged);
        self.charged = self.charged.max(total);
        if tokens == 0 {
            return;
        }
        key.ledger().tokens.charge(Instant::now(), tokens);
        self.metrics.key_tokens(&key.config.name, tokens);
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(key) = &self.key {
            let mut ledger = key.ledger();
            ledger.in_flight = ledger.in_flight.saturating_sub(1);
        }
    }
}
