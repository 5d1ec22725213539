//! An admitted generation: the slots it holds until its stream is dropped, and the
//! charging of its tokens to its key.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::time::Instant;

use super::Key;
use crate::cluster::{SharedLimits, Ticket};
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
/// one of the key's concurrent generations. Dropping it gives both back. It travels
/// inside the generation's stream (see [`crate::account`]), so whatever ends the
/// generation gives the slots back.
pub struct Admission {
    _slot: Slot,
    key: Option<Arc<Key>>,
    charger: Charger,
    /// Its place among the key's generations on every instance, when they are counted
    /// together.
    _ticket: Option<Ticket>,
}

/// Charges a generation's tokens to its key's tokens per minute, as they become known.
pub struct Charger {
    key: Option<Arc<Key>>,
    metrics: Metrics,
    /// Tokens of this generation charged so far (a later count replaces an earlier one,
    /// so only the difference is charged).
    charged: u64,
    /// US dollars of this generation added to the key's spend so far, likewise.
    spent: f64,
    /// Where the key's counts on every instance are kept, and its budget period.
    shared: Option<(Arc<SharedLimits>, (i64, i64))>,
}

impl Admission {
    pub(super) fn new(slot: Slot, key: Option<Arc<Key>>, metrics: Metrics) -> Self {
        let charger = Charger {
            key: key.clone(),
            metrics,
            charged: 0,
            spent: 0.0,
            shared: None,
        };
        Self {
            _slot: slot,
            key,
            charger,
            _ticket: None,
        }
    }

    /// Counts the generation on every instance too: it holds `ticket`, and its tokens
    /// and spend (in the budget `period`) go to `limits`.
    pub(super) fn share(&mut self, ticket: Ticket, limits: Arc<SharedLimits>, period: (i64, i64)) {
        self._ticket = Some(ticket);
        self.charger.shared = Some((limits, period));
    }

    /// The name of the key that asked (the only one that may resume or cancel its
    /// stream), if keys are configured.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref().map(|key| key.config.name.as_str())
    }

    pub fn charger(&mut self) -> &mut Charger {
        &mut self.charger
    }

    /// The charger, to settle the generation's last count after its slots are given back
    /// (counting an answer's text is CPU work, done off the async workers).
    pub fn into_charger(self) -> Charger {
        Charger {
            key: self.charger.key.clone(),
            metrics: self.charger.metrics.clone(),
            charged: self.charger.charged,
            spent: self.charger.spent,
            shared: self.charger.shared.clone(),
        }
    }
}

impl Charger {
    /// Charges the key up to `total` tokens for this generation; `estimated` when the
    /// count is rill's estimate rather than the provider's.
    pub fn charge(&mut self, total: u64, estimated: bool) {
        let Some(key) = &self.key else {
            return;
        };
        let tokens = total.saturating_sub(self.charged);
        self.charged = self.charged.max(total);
        if tokens == 0 {
            return;
        }
        key.ledger().tokens.charge(Instant::now(), tokens);
        if let Some((shared, _)) = &self.shared {
            shared.charge(&key.config.name, tokens);
        }
        self.metrics.key_tokens(&key.config.name, tokens);
        if estimated {
            self.metrics.key_estimated_tokens(&key.config.name, tokens);
        }
    }
}

impl Charger {
    /// Adds up to `total_usd` for this generation to the key's spend (its budget).
    pub fn spend(&mut self, total_usd: f64) {
        let Some(key) = &self.key else {
            return;
        };
        let usd = total_usd - self.spent;
        if usd > 0.0 {
            self.spent = total_usd;
            key.spend(usd);
            if let Some((shared, period)) = &self.shared {
                shared.spend(&key.config.name, *period, usd, false);
            }
        }
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
