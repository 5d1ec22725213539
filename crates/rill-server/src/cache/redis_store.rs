//! Stored answers in Redis, shared by every instance using it (`[cluster] redis_url`).
//!
//! An answer is one string value, `<prefix>:cache:<key in hex>`, the events as
//! [`encode_events`] writes them, expiring with its time to live (`PX`). Redis bounds the
//! memory (its `maxmemory` and eviction policy), not rill. The cache is an optimization:
//! when Redis fails or is slow, a lookup is a miss and an answer is not stored, and the
//! request is served all the same.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;

use super::key::CacheKey;
use super::recorded::Recorded;
use super::store::{CacheStore, Lookup};
use crate::cluster::{Cluster, decode_events, encode_events};
use crate::metrics::CacheStats;

/// A lookup that takes longer than this is a miss: a hit must come fast or not at all.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(100);

pub struct RedisCache {
    cluster: Cluster,
    stats: CacheStats,
}

impl RedisCache {
    pub fn new(cluster: Cluster, stats: CacheStats) -> Self {
        Self { cluster, stats }
    }

    fn key(&self, key: &CacheKey) -> String {
        self.cluster.key("cache", &key.hex())
    }
}

impl CacheStore for RedisCache {
    fn get(&self, key: &CacheKey) -> Lookup<'_> {
        let mut redis = self.cluster.redis();
        let key = self.key(key);
        Box::pin(async move {
            // The answer and what is left of its time to live, in one round trip.
            let mut pipe = redis::pipe();
            pipe.get(&key).pttl(&key);
            let get = pipe.query_async::<(Option<Vec<u8>>, i64)>(&mut redis);
            let (bytes, ttl_ms) = match tokio::time::timeout(LOOKUP_TIMEOUT, get).await {
                Ok(Ok((bytes, ttl_ms))) => (bytes?, ttl_ms),
                Ok(Err(error)) => {
                    self.stats.store_failed();
                    tracing::warn!(%error, "response cache: lookup in Redis failed; answering afresh");
                    return None;
                }
                Err(_) => {
                    self.stats.store_failed();
                    tracing::warn!(
                        "response cache: Redis did not answer a lookup in time; answering afresh"
                    );
                    return None;
                }
            };
            let Some(events) = decode_events(&bytes) else {
                tracing::warn!(%key, "response cache: an entry in Redis is not a stored answer; ignored");
                return None;
            };
            let ttl = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0));
            Some(Arc::new(Recorded::from_timed(events, ttl)))
        })
    }

    fn put(&self, key: CacheKey, answer: Arc<Recorded>) {
        let mut redis = self.cluster.redis();
        let key = self.key(&key);
        let stats = self.stats.clone();
        let ttl_ms = u64::try_from(answer.ttl.as_millis()).unwrap_or(u64::MAX);
        // Encoding and writing happen off the stream's path.
        tokio::spawn(async move {
            let bytes = encode_events(answer.timed());
            if let Err(error) = redis.pset_ex::<_, _, ()>(&key, bytes, ttl_ms).await {
                stats.store_failed();
                tracing::warn!(%error, "response cache: storing an answer in Redis failed");
            }
        });
    }
}
