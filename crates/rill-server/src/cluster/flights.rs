//! Single-flight across instances: identical requests arriving at different instances
//! share one generation.
//!
//! The instance that leads a flight claims its cache key in Redis
//! (`<prefix>:flight:<key>`, naming its epoch and the flight's id) and mirrors the
//! flight's log under that id like any stream's. Another instance asked the same question
//! finds the claim and follows the flight's log from its first event, as a resume would;
//! its reading keeps the flight going. A claim counts only while its instance's lease
//! lives and its flight has not ended: a dead leader's claim, or an ended flight's, is
//! taken over by the next request.

use std::sync::LazyLock;
use std::time::Duration;

use super::millis;
use super::sessions::SharedSessions;

/// How long a claim lives before its flight starts (the leader's provider is starting);
/// a claim whose release was lost lapses after this.
const STARTING_TTL: Duration = Duration::from_secs(60);
/// How long a claim lives once its flight runs (renewed when it starts).
const RUNNING_TTL: Duration = Duration::from_secs(3600);

/// Finds a flight to join, or claims the key. KEYS: the claim. ARGV: the claim to make
/// (`epoch:id`, or empty to only look), its TTL, and the key prefixes of leases, session
/// hashes and logs. Returns `join:<id>`, `lead` or `none`.
///
/// The flight's keys are made in the script from the claim it reads, which a Redis
/// Cluster would refuse (keys must be declared); one Redis (or Valkey) with replicas is
/// what rill supports.
static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local held = redis.call('GET', KEYS[1])
if held then
  local epoch, id = string.match(held, '^([^:]+):(.+)$')
  if epoch and redis.call('EXISTS', ARGV[3] .. epoch) == 1
     and redis.call('HGET', ARGV[4] .. id, 'done') ~= '1' then
    return 'join:' .. id
  end
end
if ARGV[1] == '' then return 'none' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'lead'
",
    )
});

/// Renews a claim (ARGV[2] ms) if it is still ARGV[1]'s, or drops it (ARGV[2] = 0).
static RENEW: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
",
    )
});

/// What Redis says of a question asked here.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Flight `id`, on another instance (or this one), answers it: follow its log.
    Join(String),
    /// This request leads: its flight goes under the id it claimed with.
    Lead,
    /// Nobody answers it and this request does not lead (it only looked, or Redis
    /// failed).
    None,
}

impl SharedSessions {
    fn claim_key(&self, key: &str) -> String {
        self.cluster.key("flight", key)
    }

    /// Looks for a flight answering the cache key `key` (hex); claims it for flight
    /// `lead` from this instance when there is none and `lead` is given.
    pub async fn claim_flight(&self, key: &str, lead: Option<&str>) -> Claim {
        let mut redis = self.cluster.redis();
        let mine = lead.map_or_else(String::new, |id| format!("{}:{id}", self.epoch));
        let mut call = CLAIM.key(self.claim_key(key));
        call.arg(mine)
            .arg(millis(STARTING_TTL))
            .arg(self.cluster.key("instance", ""))
            .arg(self.cluster.key("session", ""))
            .arg(self.cluster.key("log", ""));
        match call.invoke_async::<String>(&mut redis).await {
            Ok(reply) => match reply.strip_prefix("join:") {
                Some(id) => Claim::Join(id.to_owned()),
                None if reply == "lead" => Claim::Lead,
                None => Claim::None,
            },
            Err(error) => {
                tracing::warn!(%error, "response cache: cannot look for a running identical generation in Redis");
                Claim::None
            }
        }
    }

    /// Flight `id` started: its claim on `key` lasts while it runs. In the background.
    pub fn flight_started(&self, key: &str, id: &str) {
        self.renew_claim(key, id, RUNNING_TTL);
    }

    /// Flight `id` ended, or never started: its claim on `key` goes. In the background.
    pub fn flight_landed(&self, key: &str, id: &str) {
        self.renew_claim(key, id, Duration::ZERO);
    }

    fn renew_claim(&self, key: &str, id: &str, ttl: Duration) {
        let mut redis = self.cluster.redis();
        let mut call = RENEW.key(self.claim_key(key));
        call.arg(format!("{}:{id}", self.epoch)).arg(millis(ttl));
        tokio::spawn(async move {
            if let Err(error) = call.invoke_async::<i64>(&mut redis).await {
                tracing::warn!(%error, "response cache: cannot update a generation's claim in Redis");
            }
        });
    }
}
