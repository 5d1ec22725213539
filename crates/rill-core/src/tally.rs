//! Tokens a provider counts while it generates, so that a generation stopped before its
//! usage report can still be charged exactly, and the attempts a chain of providers took
//! (with how each failed one failed).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::Usage;

/// A generation's token counts as its provider goes, shared with whoever started it.
///
/// A stream's `Usage` comes in its last events, which a cancelled or failed generation
/// never sends. A provider that knows its counts as it works (the embedded engine)
/// updates this tally; the caller reads it when the stream ends without a report. Others
/// leave it untouched, and [`Tally::usage`] says so with `None`: the caller estimates.
///
/// It travels in [`crate::ChatRequest::tally`]; clones share one count. It is not part
/// of what a request asks for: any two tallies compare equal.
#[derive(Clone, Default)]
pub struct Tally(Arc<Counts>);

#[derive(Default)]
struct Counts {
    counted: AtomicBool,
    input: AtomicU64,
    output: AtomicU64,
    attempts: AtomicU32,
    /// The HTTP status each failed attempt's error stands for.
    failures: Mutex<Vec<u16>>,
}

impl Tally {
    /// The prompt's length in tokens, once known.
    pub fn set_input(&self, tokens: u64) {
        self.0.input.store(tokens, Ordering::Relaxed);
        self.0.counted.store(true, Ordering::Release);
    }

    /// `tokens` more were generated.
    pub fn add_output(&self, tokens: u64) {
        self.0.output.fetch_add(tokens, Ordering::Relaxed);
        self.0.counted.store(true, Ordering::Release);
    }

    /// One more attempt was made (the resilient chain counts its retries and fallbacks).
    pub fn add_attempt(&self) {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// An attempt failed before its first token with an error standing for `status`.
    pub fn add_failure(&self, status: u16) {
        let mut failures = self
            .0
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        failures.push(status);
    }

    /// The statuses of the attempts that failed, in order.
    pub fn failures(&self) -> Vec<u16> {
        let failures = self
            .0
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        failures.clone()
    }

    /// Attempts made so far; 0 when no chain counted them (a bare provider: one).
    pub fn attempts(&self) -> u32 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    /// The counts so far, if the provider kept any.
    pub fn usage(&self) -> Option<Usage> {
        self.0.counted.load(Ordering::Acquire).then(|| Usage {
            input_tokens: self.0.input.load(Ordering::Relaxed),
            output_tokens: self.0.output.load(Ordering::Relaxed),
            ..Usage::default()
        })
    }
}

impl PartialEq for Tally {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tally").field(&self.usage()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_count_and_nobody_counting_is_none() {
        let tally = Tally::default();
        assert_eq!(tally.usage(), None);
        let provider = tally.clone();
        provider.set_input(12);
        provider.add_output(1);
        provider.add_output(2);
        let usage = tally.usage().unwrap();
        assert_eq!((usage.input_tokens, usage.output_tokens), (12, 3));
        assert_eq!(tally, Tally::default(), "not part of a request's content");
    }
}
