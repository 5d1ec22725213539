//! Sliding 60-second windows, one of requests and one of tokens, per key.
//!
//! Both answer the same question: may one more request start now, and if not, how long
//! until it may. Time is tokio's clock, so tests can pause and advance it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How far back a window looks.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Token charges this close together share one entry (which bounds a window to about 60
/// entries whatever the traffic); each entry leaves the window 60 s after its last charge,
/// so a charge counts for at most one second longer than 60 s, never shorter.
const BUCKET: Duration = Duration::from_secs(1);

/// The instants of the requests admitted in the last 60 s.
#[derive(Debug, Default)]
pub struct Requests(VecDeque<Instant>);

impl Requests {
    /// `None` if a request may start now under `limit` requests per 60 s; otherwise how
    /// long until the oldest request that stands in the way leaves the window.
    pub fn wait(&mut self, now: Instant, limit: u32) -> Option<Duration> {
        self.expire(now);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if self.0.len() < limit {
            return None;
        }
        let blocking = self.0.get(self.0.len() - limit)?;
        Some((*blocking + WINDOW).saturating_duration_since(now))
    }

    pub fn record(&mut self, now: Instant) {
        self.expire(now);
        self.0.push_back(now);
    }

    fn expire(&mut self, now: Instant) {
        while self.0.front().is_some_and(|at| *at + WINDOW <= now) {
            self.0.pop_front();
        }
    }
}

/// The tokens charged in the last 60 s.
#[derive(Debug, Default)]
pub struct Tokens {
    /// (first charge, last charge, tokens), oldest first.
    buckets: VecDeque<(Instant, Instant, u64)>,
    total: u64,
}

impl Tokens {
    pub fn charge(&mut self, now: Instant, tokens: u64) {
        self.expire(now);
        if tokens == 0 {
            return;
        }
        match self.buckets.back_mut() {
            Some((first, last, n)) if now.saturating_duration_since(*first) < BUCKET => {
                *last = now;
                *n += tokens;
            }
            _ => self.buckets.push_back((now, now, tokens)),
        }
        self.total = self.total.saturating_add(tokens);
    }

    /// `None` while fewer than `limit` tokens were charged in the last 60 s; otherwise how
    /// long until enough charges leave the window to be under it.
    pub fn wait(&mut self, now: Instant, limit: u64) -> Option<Duration> {
        self.expire(now);
        if self.total < limit {
            return None;
        }
        let mut left = self.total;
        for (_, last, n) in &self.buckets {
            left -= n;
            if left < limit {
                return Some((*last + WINDOW).saturating_duration_since(now));
            }
        }
        Some(WINDOW)
    }

    fn expire(&mut self, now: Instant) {
        while let Some((_, last, n)) = self.buckets.front() {
            if *last + WINDOW > now {
                break;
            }
            self.total -= n;
            self.buckets.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    impl Tokens {
        fn total(&mut self, now: Instant) -> u64 {
            self.expire(now);
            self.total
        }
    }

    #[test]
    fn requests_slide_out_sixty_seconds_after_they_came() {
        let t0 = Instant::now();
        let mut window = Requests::default();
        assert_eq!(window.wait(t0, 2), None);
        window.record(t0);
        window.record(t0 + secs(20));
        assert_eq!(window.wait(t0 + secs(20), 2), Some(secs(40)));
        assert_eq!(window.wait(t0 + secs(59), 2), Some(secs(1)));
        // At 60 s the first one is out: exactly one more fits.
        assert_eq!(window.wait(t0 + secs(60), 2), None);
        window.record(t0 + secs(60));
        assert_eq!(window.wait(t0 + secs(60), 2), Some(secs(20)));
        assert_eq!(window.wait(t0 + secs(60), 3), None);
    }

    #[test]
    fn tokens_wait_until_enough_have_left() {
        let t0 = Instant::now();
        let mut window = Tokens::default();
        window.charge(t0, 70);
        window.charge(t0 + secs(10), 50);
        assert_eq!(window.total(t0 + secs(10)), 120);
        // Under 100 once the first 70 leave; under 50 only once both have.
        assert_eq!(window.wait(t0 + secs(10), 100), Some(secs(50)));
        assert_eq!(window.wait(t0 + secs(10), 50), Some(secs(60)));
        assert_eq!(window.wait(t0 + secs(10), 121), None);
        assert_eq!(window.wait(t0 + secs(60), 100), None);
        assert_eq!(window.total(t0 + secs(70)), 0);
    }

    #[test]
    fn close_charges_share_a_bucket_that_never_outlives_its_last_charge_by_more_than_60s() {
        let t0 = Instant::now();
        let mut window = Tokens::default();
        // Steady traffic every 400 ms: buckets stay about a second wide.
        for i in 0..300u32 {
            window.charge(t0 + Duration::from_millis(u64::from(i) * 400), 1);
        }
        let end = t0 + Duration::from_millis(299 * 400);
        assert!(window.buckets.len() <= 62, "{}", window.buckets.len());
        let total = window.total(end);
        assert!((150..=153).contains(&total), "{total}");
        assert_eq!(window.total(end + secs(60)), 0);
    }
}
