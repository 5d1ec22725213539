//! The response cache: complete answers stored as core event logs and served again, as
//! streams, to identical requests in any dialect; and identical requests that arrive
//! while the first is still generating sharing its generation (single-flight).
//!
//! A request's [`CacheKey`] hashes the core request (not the client's bytes), so an
//! answer first asked for through Anthropic Messages serves an OpenAI Chat, Responses or
//! `useChat` client too, streaming or not: every dialect encodes the same core events.
//! Only clean finishes are stored ([`Recorded::into_answer`]); a hit replays the events
//! exactly (reasoning, signatures, tool calls, usage), paced as `cache.pacing` says,
//! through a session like any other.
//!
//! The pipeline asks [`ResponseCache::plan`] whether a request may use the cache (the
//! model's policy, its sampling, `cache-control`), then [`ResponseCache::find`]: a hit, a
//! running identical generation to join, or a miss, which may lead a flight that later
//! identical requests join ([`Lead::launch`]).
//!
//! With `[cluster] redis_url` the stored answers live in Redis, and a flight is claimed
//! there too (`crate::cluster::Claim`): an identical request on another instance follows
//! the flight's log from Redis rather than generating the answer a second time.

mod key;
mod recorded;
mod redis_store;
mod store;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use rill_core::{ChatRequest, EventStream};
use tokio::sync::watch;
use tokio::time::Instant;

use key::CacheKey;
use recorded::Recorded;
use redis_store::RedisCache;
use store::{CacheStore, MemoryCache};

use crate::account::Stopped;
use crate::cluster::{Claim, Cluster, SharedSessions};
use crate::config::{CacheConfig, ModelCache, ModelConfig, Pacing};
use crate::metrics::CacheStats;
use crate::session::{Flight, Found as Session, Hub, Meta, lock, new_id};
use recorded::{Recorder, Replay};

/// The response header that says how the cache answered: `hit` (a stored answer, or an
/// identical running generation shared), `miss` (generated, and stored if it finishes
/// cleanly) or `bypass` (the cache was not asked).
pub const CACHE_HEADER: HeaderName = HeaderName::from_static("x-rill-cache");

pub struct ResponseCache {
    config: CacheConfig,
    /// Models that set their own policy.
    models: HashMap<String, ModelCache>,
    store: Arc<dyn CacheStore>,
    /// Generations identical requests may join, by key: each slot is filled once its
    /// leader's provider has started.
    flights: Mutex<HashMap<CacheKey, Slot>>,
    next_flight: AtomicU64,
    stats: CacheStats,
}

struct Slot {
    id: u64,
    flight: watch::Receiver<Option<Joinable>>,
    /// The flight's claim in Redis, given up when it lands: the sessions that hold it,
    /// and the flight's id.
    claim: Option<(Arc<SharedSessions>, String)>,
}

/// A running generation identical requests read.
#[derive(Clone)]
enum Joinable {
    /// Running here.
    Here(Flight),
    /// Running on another instance, under this id in Redis.
    There(String),
}

/// What a request may do with the cache.
pub enum Plan {
    /// Nothing: the model does not cache, or the request is sampled without a seed, or it
    /// said `no-cache, no-store`.
    Bypass,
    Use(Ask),
}

/// A request that uses the cache.
pub struct Ask {
    key: CacheKey,
    ttl: Duration,
    /// Look for a stored answer or a running generation (not with `no-cache`).
    lookup: bool,
    /// Store the answer (not with `no-store`).
    store: bool,
}

/// Where a request's answer comes from.
pub enum Found {
    /// A stored answer, replayed as a stream.
    Hit(EventStream),
    /// An identical request's running generation, read from its first event.
    Joined(EventStream),
    /// Generated for this request; `Some` when it leads a flight others may join.
    Miss(Option<Lead>),
    /// Generated for this request without looking (`no-cache`); stored unless
    /// `no-store`.
    Bypass,
}

impl Found {
    /// The value of [`CACHE_HEADER`].
    pub fn header(&self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Hit(_) | Self::Joined(_) => "hit",
            Self::Miss(_) => "miss",
            Self::Bypass => "bypass",
        })
    }
}

impl ResponseCache {
    /// A cache that no model uses.
    pub fn disabled(stats: CacheStats) -> Self {
        Self::new(&CacheConfig::default(), &[], None, stats)
    }

    /// The cache `config` describes, with `models`' own policies: its answers in
    /// `cluster`'s Redis, shared with the other instances, else in this process's memory.
    pub fn new(
        config: &CacheConfig,
        models: &[ModelConfig],
        cluster: Option<&Cluster>,
        stats: CacheStats,
    ) -> Self {
        let store: Arc<dyn CacheStore> = match cluster {
            Some(cluster) => Arc::new(RedisCache::new(cluster.clone(), stats.clone())),
            None => Arc::new(MemoryCache::new(config.max_bytes, stats.clone())),
        };
        Self::with_store(config, models, store, stats)
    }

    /// As [`ResponseCache::new`], with answers kept in `store`.
    fn with_store(
        config: &CacheConfig,
        models: &[ModelConfig],
        store: Arc<dyn CacheStore>,
        stats: CacheStats,
    ) -> Self {
        let models = models
            .iter()
            .filter_map(|m| Some((m.name.clone(), m.cache.clone()?)))
            .collect();
        Self {
            config: config.clone(),
            models,
            store,
            flights: Mutex::default(),
            next_flight: AtomicU64::new(0),
            stats,
        }
    }

    pub fn pacing(&self) -> Pacing {
        self.config.pacing
    }

    /// What `request` (resolved to rill's model name), asked by the key named `key`
    /// with these `headers`, may do with the cache.
    pub fn plan(&self, request: &ChatRequest, key: Option<&str>, headers: &HeaderMap) -> Plan {
        let own = self.models.get(&request.model);
        let enabled = own.and_then(|m| m.enabled).unwrap_or(self.config.enabled);
        let sampled = own.is_some_and(|m| m.sampled);
        let sampling = &request.sampling;
        // The provider's default temperature is above 0 for almost every model.
        let hot = sampling.temperature.is_none_or(|t| t > 0.0) && sampling.seed.is_none();
        if !enabled {
            return Plan::Bypass;
        }
        let (no_cache, no_store) = cache_control(headers);
        if (hot && !sampled) || (no_cache && no_store) {
            self.stats.lookup("bypass");
            return Plan::Bypass;
        }
        let scope = if self.config.shared_across_keys {
            None
        } else {
            key
        };
        let ttl = own.and_then(|m| m.ttl_secs).unwrap_or(self.config.ttl_secs);
        Plan::Use(Ask {
            key: CacheKey::of(request, scope),
            ttl: Duration::from_secs(ttl),
            lookup: !no_cache,
            store: !no_store,
        })
    }

    /// A stored answer for `ask`, else an identical running generation to join, else a
    /// miss (which leads a new flight when the answer may be stored).
    pub async fn find(self: &Arc<Self>, ask: &Ask, hub: &Arc<Hub>) -> Found {
        if !ask.lookup {
            self.stats.lookup("bypass");
            return Found::Bypass;
        }
        if let Some(answer) = self.store.get(&ask.key).await {
            self.stats.lookup("hit");
            return Found::Hit(Box::pin(Replay::new(answer, self.config.pacing)));
        }
        let (waiting, mut lead) = {
            let mut flights = lock(&self.flights);
            match flights.get(&ask.key) {
                Some(slot) => (Some(slot.flight.clone()), None),
                None if ask.store => (None, Some(self.lead(&mut flights, ask.key))),
                None => (None, None),
            }
        };
        let joined = match (waiting, hub.shared()) {
            // The leader's provider is starting: wait for it (or for it to fail, when
            // this request goes its own way).
            (Some(waiting), _) => join(waiting, hub).await,
            // Nothing here; perhaps on another instance.
            (None, Some(shared)) => self.join_elsewhere(ask, hub, shared, lead.as_mut()).await,
            (None, None) => None,
        };
        if let Some(stream) = joined {
            self.stats.lookup("joined");
            return Found::Joined(stream);
        }
        self.stats.lookup("miss");
        Found::Miss(lead)
    }

    /// A new flight under `key`, led by the request that gets the [`Lead`].
    fn lead(self: &Arc<Self>, flights: &mut HashMap<CacheKey, Slot>, key: CacheKey) -> Lead {
        let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        let slot = Slot {
            id,
            flight: rx,
            claim: None,
        };
        flights.insert(key, slot);
        Lead {
            cache: Arc::clone(self),
            key,
            id,
            flight: new_id("flight_"),
            claimed: false,
            tx: Some(tx),
        }
    }

    /// The identical generation running on another instance, read from Redis; else, if
    /// this request has a `lead`, its claim on the question. Waits while the other
    /// instance's provider starts (its log is not in Redis yet).
    async fn join_elsewhere(
        &self,
        ask: &Ask,
        hub: &Arc<Hub>,
        shared: &Arc<SharedSessions>,
        mut lead: Option<&mut Lead>,
    ) -> Option<EventStream> {
        let key = ask.key.hex();
        let mut pause = Duration::from_millis(2);
        loop {
            let mine = lead.as_ref().map(|lead| lead.flight.as_str());
            let id = match shared.claim_flight(&key, mine).await {
                Claim::Join(id) => id,
                Claim::Lead => {
                    if let Some(lead) = lead.as_mut() {
                        lead.claimed = true;
                        self.claimed(&ask.key, lead.id, shared, &lead.flight);
                    }
                    return None;
                }
                Claim::None => return None,
            };
            if let Session::Live(log) = shared.find(&id).await {
                if let Some(lead) = lead {
                    // Requests waiting here read it too.
                    lead.forward(id);
                }
                return Some(hub.joined(log));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Flight `id` under `key` holds a claim in Redis, given up when it lands.
    fn claimed(&self, key: &CacheKey, id: u64, shared: &Arc<SharedSessions>, flight: &str) {
        if let Some(slot) = lock(&self.flights).get_mut(key)
            && slot.id == id
        {
            slot.claim = Some((Arc::clone(shared), flight.to_owned()));
        }
    }

    /// Wraps a generated request's tracked `stream` so that its answer is stored when it
    /// finishes cleanly, unless `ask` says `no-store`.
    pub fn record(self: &Arc<Self>, ask: &Ask, stream: EventStream) -> EventStream {
        if !ask.store {
            return stream;
        }
        Box::pin(self.recorder(ask.key, ask.ttl, stream, None))
    }

    fn recorder(
        self: &Arc<Self>,
        key: CacheKey,
        ttl: Duration,
        stream: EventStream,
        flight: Option<u64>,
    ) -> Recorder {
        Recorder {
            inner: stream,
            recorded: Some(Recorded::new(self.config.max_bytes)),
            started: Instant::now(),
            cache: Arc::clone(self),
            key,
            ttl,
            flight,
        }
    }

    fn store(&self, key: CacheKey, answer: Arc<Recorded>) {
        self.stats.stored();
        self.store.put(key, answer);
    }

    /// Flight `id` under `key` ended (or never started): identical requests no longer
    /// join it.
    fn landed(&self, key: &CacheKey, id: u64) {
        let slot = {
            let mut flights = lock(&self.flights);
            if flights.get(key).is_none_or(|slot| slot.id != id) {
                return;
            }
            flights.remove(key)
        };
        if let Some((shared, flight)) = slot.and_then(|slot| slot.claim) {
            shared.flight_landed(&key.hex(), &flight);
        }
    }
}

/// A missed request that leads a flight: identical requests arriving from now on wait
/// for its provider to start, then join its generation.
pub struct Lead {
    cache: Arc<ResponseCache>,
    key: CacheKey,
    id: u64,
    /// The flight's log's id (in Redis, where other instances read it).
    flight: String,
    /// Whether the flight holds the question's claim in Redis.
    claimed: bool,
    /// Until the flight is launched; dropped unlaunched (the provider failed to start,
    /// or the request went away), waiting requests go their own way.
    tx: Option<watch::Sender<Option<Joinable>>>,
}

impl Lead {
    /// The leader's provider started with the tracked `stream`: it becomes the flight
    /// (recorded and stored if it finishes cleanly, for `ask`'s time to live). Returns
    /// the leader's own reader of it.
    pub fn launch(
        mut self,
        ask: &Ask,
        hub: &Arc<Hub>,
        meta: Meta,
        stream: EventStream,
        stopped: Stopped,
    ) -> EventStream {
        let recorder = self
            .cache
            .recorder(self.key, ask.ttl, stream, Some(self.id));
        let meta = Meta {
            id: self.flight.clone(),
            ..meta
        };
        let (flight, first) = hub.flight(meta, Box::pin(recorder), stopped);
        if let Some(tx) = self.tx.take() {
            // Nobody waiting is fine: later requests find the flight in its slot.
            let _ = tx.send(Some(Joinable::Here(flight)));
        }
        if let (true, Some(shared)) = (self.claimed, hub.shared()) {
            shared.flight_started(&self.key.hex(), &self.flight);
        }
        first
    }

    /// The question is answered by flight `id` on another instance: requests waiting
    /// here read it too, and later ones look for it in Redis themselves.
    fn forward(&mut self, id: String) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Some(Joinable::There(id)));
            self.cache.landed(&self.key, self.id);
        }
    }
}

/// A reader of the flight `waiting` is told of, once it runs; `None` if it never did (or
/// has ended, or cannot be read).
async fn join(
    mut waiting: watch::Receiver<Option<Joinable>>,
    hub: &Arc<Hub>,
) -> Option<EventStream> {
    let flight = waiting.wait_for(Option::is_some).await.ok()?.clone()?;
    match flight {
        Joinable::Here(flight) => flight.join(hub),
        Joinable::There(id) => match hub.shared()?.find(&id).await {
            Session::Live(log) => Some(hub.joined(log)),
            _ => None,
        },
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.cache.landed(&self.key, self.id);
        }
    }
}

/// `no-cache` and `no-store` among the request's `Cache-Control` directives.
fn cache_control(headers: &HeaderMap) -> (bool, bool) {
    let directives = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let (mut no_cache, mut no_store) = (false, false);
    for directive in directives {
        no_cache |= directive.eq_ignore_ascii_case("no-cache");
        no_store |= directive.eq_ignore_ascii_case("no-store");
    }
    (no_cache, no_store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_directives_are_found_in_any_case_and_list() {
        let mut headers = HeaderMap::new();
        assert_eq!(cache_control(&headers), (false, false));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("No-Cache"));
        assert_eq!(cache_control(&headers), (true, false));
        headers.append(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=0, no-store"),
        );
        assert_eq!(cache_control(&headers), (true, true));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cachex"));
        assert_eq!(cache_control(&headers), (false, false));
    }
}
