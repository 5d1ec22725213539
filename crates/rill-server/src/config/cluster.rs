//! `[cluster]`: several rill instances sharing state through Redis (or Valkey).

use serde::{Deserialize, Serialize};

/// `[cluster]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// `redis://[user:password@]host[:port][/db]` or `unix:///path/to/redis.sock`.
    /// Absent: everything stays in this process. With it, every instance using the same
    /// Redis and `key_prefix` shares the session logs (resume and cancel on any instance)
    /// and the response cache's stored answers.
    pub redis_url: Option<String>,
    /// Every key rill writes in Redis starts with this and a colon.
    pub key_prefix: String,
    /// An instance that stops renewing its lease this long is taken for dead: readers of
    /// its streams on other instances get an error saying so, and whatever it still
    /// writes to them is refused. An instance whose renewals go unanswered for three
    /// quarters of this (Redis lost, or paused that long) refuses new generations.
    pub lease_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            key_prefix: "rill".to_owned(),
            lease_secs: 3,
        }
    }
}

/// `url` with its password (if any) replaced, for messages and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            redacted("redis://:s3cret@cache.internal:6380/2"),
            "redis://***@cache.internal:6380/2"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redacted("unix:///run/redis.sock"), "unix:///run/redis.sock");
    }
}
