//! Where stored answers live: behind [`CacheStore`], so that they can live outside the
//! process (a store shared by many instances); [`MemoryCache`] keeps them in it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::notification::RemovalCause;
use moka::sync::Cache;

use super::key::CacheKey;
use super::recorded::Recorded;
use crate::metrics::CacheStats;

/// A store's answer to a lookup.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = Option<Arc<Recorded>>> + Send + 'a>>;

/// Stored answers by cache key.
pub trait CacheStore: Send + Sync + 'static {
    /// The answer stored for `key`, while its time to live lasts.
    fn get(&self, key: &CacheKey) -> Lookup<'_>;
    /// Stores `answer` for `key` for `answer.ttl`, replacing what was there. Returns at
    /// once: a store that writes elsewhere writes in the background, and an answer that
    /// cannot be stored is only not served again.
    fn put(&self, key: CacheKey, answer: Arc<Recorded>);
}

/// Answers in this process's memory, bounded in bytes: past the bound moka's policy
/// (TinyLFU admission, LRU eviction) keeps the answers asked for most.
pub struct MemoryCache {
    cache: Cache<CacheKey, Arc<Recorded>>,
    stats: CacheStats,
}

/// Each answer lives for its own time to live.
struct OwnTtl;

impl Expiry<CacheKey, Arc<Recorded>> for OwnTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        answer: &Arc<Recorded>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(answer.ttl)
    }
}

impl MemoryCache {
    /// A store of at most about `max_bytes` of answers; `stats` counts its bytes and
    /// evictions.
    pub fn new(max_bytes: u64, stats: CacheStats) -> Self {
        let evictions = stats.clone();
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key: &CacheKey, answer: &Arc<Recorded>| answer.weight())
            .expire_after(OwnTtl)
            .eviction_listener(move |_key, _answer, cause| match cause {
                RemovalCause::Size => evictions.evicted("size"),
                RemovalCause::Expired => evictions.evicted("expired"),
                RemovalCause::Explicit | RemovalCause::Replaced => {}
            })
            .build();
        Self { cache, stats }
    }

    /// The bytes the stored answers take, as far as the bound counts them.
    pub fn bytes(&self) -> u64 {
        self.cache.weighted_size()
    }
}

impl CacheStore for MemoryCache {
    fn get(&self, key: &CacheKey) -> Lookup<'_> {
        let found = self.cache.get(key);
        self.stats.held(self.bytes());
        Box::pin(std::future::ready(found))
    }

    fn put(&self, key: CacheKey, answer: Arc<Recorded>) {
        self.cache.insert(key, answer);
        // Applies the bound now, not at some later maintenance: the bytes held never
        // stay above it.
        self.cache.run_pending_tasks();
        self.stats.held(self.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::{FinishReason, StreamEvent};

    fn answer(words: usize, ttl: Duration) -> Arc<Recorded> {
        let mut recorded = Recorded::new(u64::MAX);
        for _ in 0..words {
            recorded.push(Duration::ZERO, &StreamEvent::TextDelta("word ".into()));
        }
        recorded.push(Duration::ZERO, &StreamEvent::Finish(FinishReason::Stop));
        Arc::new(recorded.into_answer(ttl).expect("complete"))
    }

    fn key(n: u8) -> CacheKey {
        CacheKey([n; 32])
    }

    #[tokio::test]
    async fn the_bytes_held_stay_under_the_bound() {
        let stats = CacheStats::default();
        let bound = 100_000;
        let store = MemoryCache::new(bound, stats.clone());
        let one = answer(100, Duration::from_secs(60));
        assert!(u64::from(one.weight()) > 1_000, "{}", one.weight());
        for n in 0..200 {
            store.put(key(n), answer(100, Duration::from_secs(60)));
            assert!(store.bytes() <= bound, "{} bytes after {n}", store.bytes());
        }
        let kept = (0..200u8)
            .filter(|n| store.cache.contains_key(&key(*n)))
            .count() as u64;
        assert!(
            kept > 0 && kept <= bound / u64::from(one.weight()),
            "{kept}"
        );
        assert!(stats.evictions("size") > 0);
        assert_eq!(stats.bytes(), store.bytes());
    }

    #[tokio::test]
    async fn an_answer_lives_for_its_own_ttl() {
        let store = MemoryCache::new(1 << 20, CacheStats::default());
        store.put(key(1), answer(1, Duration::from_millis(50)));
        store.put(key(2), answer(1, Duration::from_secs(60)));
        assert!(store.get(&key(1)).await.is_some());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(store.get(&key(1)).await.is_none());
        assert!(store.get(&key(2)).await.is_some());
    }
}
