//! Several rill instances as one service, through Redis (or Valkey): `[cluster]
//! redis_url`. Without it everything stays in the process.
//!
//! The instances share the session logs ([`SharedSessions`]: a stream resumes and
//! cancels on any instance, and an instance that dies ends its streams with an error
//! rather than a hang), the per-key limits ([`SharedLimits`]), and the response cache's
//! stored answers ([`RedisCache`](crate::cache::RedisCache)) and running generations
//! (`flights`: an identical request on another instance joins one).

mod codec;
mod flights;
mod limits;
mod sessions;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use codec::{decode_events, encode_events};
pub use flights::Claim;
pub use limits::{Limits, Refusal, SharedLimits, Ticket};
pub use sessions::{SharedSessions, Verdict};

use crate::config::{ClusterConfig, redacted};

/// How long rill waits for Redis to accept a connection, at start and on reconnects.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may take before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// The connection every instance shares state through.
#[derive(Clone)]
pub struct Cluster {
    /// For connections of their own (blocking reads, pub/sub).
    client: redis::Client,
    redis: ConnectionManager,
    prefix: String,
    lease: Duration,
}

impl Cluster {
    /// Connects to `config`'s Redis, if it names one, and checks that it answers. A Redis
    /// that cannot be reached is an error: an instance that started without it would not
    /// share what the others share.
    pub async fn connect(config: &ClusterConfig) -> Result<Option<Self>, ClusterError> {
        let Some(url) = &config.redis_url else {
            return Ok(None);
        };
        let shown = redacted(url);
        let unreachable = |error: redis::RedisError| ClusterError::Unreachable {
            url: shown.clone(),
            error: error.to_string().replace(url.as_str(), &shown),
        };
        let client = redis::Client::open(url.as_str()).map_err(unreachable)?;
        // A lost connection is made again in the background, backing off up to a second;
        // meanwhile commands fail at once rather than wait.
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_max_delay(Duration::from_secs(1))
            .set_number_of_retries(2);
        let connect = client.get_connection_manager_with_config(settings);
        let mut redis = match tokio::time::timeout(CONNECT_TIMEOUT * 2, connect).await {
            Ok(connected) => connected.map_err(unreachable)?,
            Err(_) => {
                return Err(ClusterError::Unreachable {
                    url: shown,
                    error: "no answer in time".to_owned(),
                });
            }
        };
        let pong: String = redis::cmd("PING")
            .query_async(&mut redis)
            .await
            .map_err(unreachable)?;
        tracing::info!(redis = %shown, reply = %pong, "sharing state through Redis");
        Ok(Some(Self {
            client,
            redis,
            prefix: config.key_prefix.clone(),
            lease: Duration::from_secs(config.lease_secs),
        }))
    }

    /// A connection to Redis (clones share one multiplexed connection).
    pub fn redis(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// A connection of its own, for commands that block it (`XREAD BLOCK`).
    pub async fn dedicated(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `cluster.lease_secs`.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The Redis key for `kind` and `id`: `<prefix>:<kind>:<id>`.
    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }
}

/// Whole milliseconds, as Redis takes them.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "cannot reach Redis at {url}: {error}\nhint: is redis-server running there? `redis-cli -u {url} ping` should say PONG; or remove `[cluster] redis_url` to run this instance on its own"
    )]
    Unreachable { url: String, error: String },
}
