//! Per-key limits held across every instance: generations in flight, requests and tokens
//! per sliding minute, and budgets, counted in Redis by atomic scripts, so that N
//! instances never allow N times a limit. Each instance still checks its own counts first
//! (they never exceed the shared ones); `server.max_concurrent_generations` stays per
//! instance.
//!
//! - A generation in flight is a member of a sorted set scored by when it lapses; its
//!   instance pushes that back four times a lease while the generation runs, and removes
//!   it when it ends. The generations of an instance that died lapse within a lease.
//! - Requests are members of a sorted set scored by when they came (Redis's clock, the
//!   same for every instance); tokens are counted per second in a hash; both are summed
//!   over the last minute. Spend is a float per key and budget period.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::AsyncCommands;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Cluster, millis};
use crate::session::lock;

/// Admits a generation. KEYS: in flight, requests, tokens, spend. ARGV: the generation's
/// member, the lease in ms, max in flight, requests per minute, tokens per minute, budget
/// (0 for none of each). Returns `{limit, wait in ms}`; limit `ok` when admitted.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max, rpm, tpm = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return {'concurrency', 1000} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
if rpm > 0 and redis.call('ZCARD', KEYS[2]) >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'requests', tonumber(oldest[2]) + 60000 - now}
end
if tpm > 0 then
  local second, sum, first = math.floor(now / 1000), 0, nil
  local counts = redis.call('HGETALL', KEYS[3])
  for i = 1, #counts, 2 do
    local s = tonumber(counts[i])
    if s <= second - 60 then
      redis.call('HDEL', KEYS[3], counts[i])
    else
      sum = sum + tonumber(counts[i + 1])
      if not first or s < first then first = s end
    end
  end
  if sum >= tpm then return {'tokens', (first + 61) * 1000 - now} end
end
if budget > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= budget then
  return {'budget', 0}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], 120000)
redis.call('PEXPIRE', KEYS[2], 120000)
return {'ok', 0}
";

/// Charges tokens. KEYS: tokens. ARGV: the tokens.
const CHARGE: &str = r"
local t = redis.call('TIME')
redis.call('HINCRBY', KEYS[1], t[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 120)
return 1
";

/// A key's limits, 0 for none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_concurrent: u32,
    pub requests_per_minute: u32,
    pub tokens_per_minute: u64,
    pub budget_usd: f64,
    /// The start of the budget's period (ms since the epoch) and its end.
    pub period: (i64, i64),
}

/// Why the shared counts refused a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Concurrency,
    Requests,
    Tokens,
    Budget,
}

/// The shared counts.
pub struct SharedLimits {
    cluster: Cluster,
    admit: redis::Script,
    charge: redis::Script,
    /// The generations running here, by member, with their key's in-flight set.
    held: Mutex<HashMap<String, String>>,
    next: AtomicU64,
    epoch: String,
    stop: CancellationToken,
    renewer: Mutex<Option<JoinHandle<()>>>,
}

impl SharedLimits {
    pub fn new(cluster: Cluster) -> Arc<Self> {
        let epoch = crate::session::new_id("");
        let limits = Arc::new(Self {
            cluster,
            admit: redis::Script::new(ADMIT),
            charge: redis::Script::new(CHARGE),
            held: Mutex::default(),
            next: AtomicU64::new(0),
            epoch,
            stop: CancellationToken::new(),
            renewer: Mutex::new(None),
        });
        let renewer = tokio::spawn(Self::renew(Arc::downgrade(&limits), limits.stop.clone()));
        *lock(&limits.renewer) = Some(renewer);
        limits
    }

    fn key(&self, kind: &str, key: &str) -> String {
        self.cluster.key(kind, key)
    }

    /// Admits one generation of `key` under `limits` across every instance; the ticket
    /// gives its place back when dropped. A Redis that fails refuses (503): limits that
    /// cannot be counted are not held.
    pub async fn admit(
        self: &Arc<Self>,
        key: &str,
        limits: Limits,
    ) -> Result<Result<Ticket, (Refusal, Duration)>, redis::RedisError> {
        let member = format!(
            "{}:{}",
            self.epoch,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let in_flight = self.key("inflight", key);
        let spend = self.key("spend", &format!("{key}:{}", limits.period.0));
        let mut call = self.admit.key(&in_flight);
        call.key(self.key("requests", key))
            .key(self.key("tokens", key))
            .key(spend)
            .arg(&member)
            .arg(millis(self.cluster.lease()))
            .arg(limits.max_concurrent)
            .arg(limits.requests_per_minute)
            .arg(limits.tokens_per_minute)
            .arg(limits.budget_usd);
        let mut redis = self.cluster.redis();
        let (verdict, wait): (String, i64) = call.invoke_async(&mut redis).await?;
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        let refusal = match verdict.as_str() {
            "ok" => {
                lock(&self.held).insert(member.clone(), in_flight.clone());
                return Ok(Ok(Ticket {
                    limits: Arc::downgrade(self),
                    member,
                    in_flight,
                }));
            }
            "concurrency" => Refusal::Concurrency,
            "requests" => Refusal::Requests,
            "tokens" => Refusal::Tokens,
            _ => Refusal::Budget,
        };
        Ok(Err((refusal, wait)))
    }

    /// Charges `tokens` to `key`'s tokens per minute, in the background.
    pub fn charge(&self, key: &str, tokens: u64) {
        let mut redis = self.cluster.redis();
        let counts = self.key("tokens", key);
        let this = self.charge.clone();
        tokio::spawn(async move {
            let mut call = this.key(counts);
            call.arg(tokens);
            if let Err(error) = call.invoke_async::<i64>(&mut redis).await {
                tracing::warn!(%error, "cannot charge tokens in Redis");
            }
        });
    }

    /// Adds `usd` to `key`'s spend in the period starting at `period.0`, in the
    /// background; `seed` sets a spend not counted yet (read from the ledger at start).
    pub fn spend(&self, key: &str, period: (i64, i64), usd: f64, seed: bool) {
        let mut redis = self.cluster.redis();
        let name = self.key("spend", &format!("{key}:{}", period.0));
        let expire_ms = (period.1 - rill_ledger::now_ms()).max(1000) + 3_600_000;
        tokio::spawn(async move {
            let mut pipe = redis::pipe();
            if seed {
                pipe.set_nx(&name, usd).ignore();
            } else {
                pipe.incr(&name, usd).ignore();
            }
            pipe.pexpire(&name, expire_ms).ignore();
            if let Err(error) = pipe.query_async::<()>(&mut redis).await {
                tracing::warn!(%error, "cannot add spend in Redis");
            }
        });
    }

    /// Pushes back the lapse of every generation running here, four times a lease.
    async fn renew(this: Weak<Self>, stop: CancellationToken) {
        loop {
            let Some(limits) = this.upgrade() else { return };
            let lease = limits.cluster.lease();
            let held: Vec<(String, String)> = lock(&limits.held)
                .iter()
                .map(|(member, set)| (member.clone(), set.clone()))
                .collect();
            if !held.is_empty() {
                let mut redis = limits.cluster.redis();
                let mut pipe = redis::pipe();
                let time: Result<(u64, u64), _> = redis::cmd("TIME").query_async(&mut redis).await;
                if let Ok((secs, micros)) = time {
                    let until = secs * 1000 + micros / 1000 + millis(lease);
                    for (member, set) in &held {
                        pipe.zadd(set, member, until).arg("XX").ignore();
                    }
                    if let Err(error) = pipe.query_async::<()>(&mut redis).await {
                        tracing::warn!(%error, "cannot renew generations in flight in Redis");
                    }
                }
            }
            drop(limits);
            tokio::select! {
                () = tokio::time::sleep(lease / 4) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}

impl Drop for SharedLimits {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A generation's place among its key's generations in flight, everywhere.
pub struct Ticket {
    limits: Weak<SharedLimits>,
    member: String,
    in_flight: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(limits) = self.limits.upgrade() else {
            return;
        };
        lock(&limits.held).remove(&self.member);
        let mut redis = limits.cluster.redis();
        let (set, member) = (self.in_flight.clone(), std::mem::take(&mut self.member));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = redis.zrem::<_, _, ()>(&set, &member).await {
                    tracing::warn!(%error, "cannot give a generation's place back in Redis; it lapses within a lease");
                }
            });
        }
    }
}
