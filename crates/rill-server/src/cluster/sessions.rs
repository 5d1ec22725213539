//! Session logs in Redis, so that every instance can serve every stream.
//!
//! The instance running a generation keeps its log in memory, as without Redis: its own
//! readers never wait on Redis. Its events are also appended to a Redis Stream, one entry
//! per batch: a writer task per instance gathers what every log gained over a couple of
//! milliseconds and sends it in one pipeline, never a round trip per token. An entry holds
//! its events in the cluster codec's form and whether the log is complete; a hash beside
//! it holds what a reader needs to encode them (dialect, owner, answer, request body) and
//! the number of events logged. Another instance asked for the stream replays the entries
//! into a log of its own and follows the Stream (`XREAD BLOCK`), so its readers get the
//! same events in the same order, hence the same frame numbers.
//!
//! - **Cancel anywhere**: a cancel sets a flag in the hash and is published; the owner
//!   stops the generation when the message arrives, or at its next write, which returns
//!   the flag (should the message be lost).
//! - **Leases and fencing**: each instance holds a lease (a key with a time to live,
//!   renewed four times a lease from a thread of its own, so that a busy instance is
//!   not taken for a dead one) under its epoch, a fresh random id at every start. The
//!   hash names the epoch of the instance writing the log, and a write from any other
//!   epoch is refused (fenced). A reader that finds the owner's lease gone ends the log
//!   itself, with an error saying the instance stopped, and takes the epoch away: should
//!   the owner still be alive (it lost Redis for a while), its next write learns that it
//!   was fenced, and it stops the generation.
//! - **Readers elsewhere keep a generation going**: while a reader on another instance
//!   follows a stream it refreshes a key saying so, and the owner does not stop the
//!   generation for want of readers while that key lives.
//! - **Redis trouble**: once the lease may have lapsed (no renewal answered for three
//!   quarters of a lease), new generations are refused (503); running ones keep serving
//!   their own readers, and the writer sends what it could not send once Redis answers
//!   again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamReadOptions, StreamReadReply};
use rill_core::{Error, ErrorKind, StreamEvent};
use rill_wire::{
    Answer, AnthropicMessages, ClientDialect, Dialect, OpenAiChat, OpenAiResponses, VercelUi,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Cluster, decode_events, encode_events, millis};
use crate::session::{
    EncoderFactory, Found, Meta, SessionLog, Status, detached, encoder_factory, lock, new_id,
};

/// How long the writer gathers events before it sends them: a few milliseconds of delay
/// for a remote reader, a round trip for dozens of tokens and streams.
const COALESCE: Duration = Duration::from_millis(2);
/// How long the writer waits for a pipeline's replies before it sends it again on a new
/// connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed write, the writer tries again this much later.
const RETRY: Duration = Duration::from_millis(250);
/// How long a remote reader blocks on the Stream before it checks the owner's lease.
const POLL: Duration = Duration::from_millis(200);
/// A running log's keys live this long past its last write (the owner renews them at
/// every write; a log whose owner died is ended by its readers, or expires).
const RUNNING_TTL: Duration = Duration::from_secs(3600);
/// How long a finished stream's id is remembered after its replay window, to answer 410
/// rather than 404.
const GONE_TTL: Duration = Duration::from_secs(3600);

/// How long a renewal keeps the lease: three quarters of `cluster.lease_secs`, so that
/// a reader polling every `POLL` notices a dead owner within the lease.
fn lease_ttl(lease: Duration) -> Duration {
    lease * 3 / 4
}

/// Runs `task` on a thread of its own, on a runtime of its own (timers, sockets and
/// all), and returns a handle on the main runtime that ends with it. For the work that
/// must keep its pace when the main runtime's queues are long.
fn own_thread(
    name: &str,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let (ended, end) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(task),
                Err(error) => {
                    tracing::error!(%error, "cannot start a runtime for a background task")
                }
            }
            let _ = ended.send(());
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start a thread for a background task");
    }
    tokio::spawn(async move {
        let _ = end.await;
    })
}

/// Appends a batch to a log. KEYS: the hash, the Stream. ARGV: epoch, the number of the
/// batch's first event, how many events it holds, the events, done (0/1), the running
/// TTL, the finished log's TTL, the finished hash's TTL, then the hash's fields when the
/// log is opened. Returns `ok`, `cancelled`, `fenced`, or `at:N` when the log already
/// holds N events (a batch sent again after a lost reply).
const APPEND: &str = r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if #ARGV > 8 then
  if epoch and epoch ~= ARGV[1] then return 'fenced' end
  if not epoch then
    redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'n', 0, unpack(ARGV, 9))
  end
elseif epoch ~= ARGV[1] then
  return 'fenced'
end
if n ~= tonumber(ARGV[2]) then return 'at:' .. n end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[4], 'd', ARGV[5])
redis.call('HSET', KEYS[1], 'n', n + tonumber(ARGV[3]))
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'done', '1')
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
if redis.call('HEXISTS', KEYS[1], 'cancel') == 1 then return 'cancelled' end
return 'ok'
";

/// Ends a log whose owner died. KEYS: the hash, the Stream. ARGV: the owner's epoch, the
/// error event, the finished log's TTL, the finished hash's TTL. Returns 1 if it ended it.
const LOST: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'done') == '1' then return 0 end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
redis.call('HSET', KEYS[1], 'epoch', 'lost', 'done', '1', 'n', n + 1)
redis.call('XADD', KEYS[2], '*', 'e', ARGV[2], 'd', '1')
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
";

/// Cancels a log wherever it runs. KEYS: the hash. ARGV: the channel, the id. Returns
/// `unknown`, `done` or `running`.
const CANCEL: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
if redis.call('HGET', KEYS[1], 'done') == '1' then return 'done' end
redis.call('HSET', KEYS[1], 'cancel', '1')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 'running'
";

/// What the owner learns from a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A cancel came from another instance.
    Cancelled,
    /// Another instance took this one for dead and ended the log.
    Fenced,
}

/// Session logs shared through Redis.
pub struct SharedSessions {
    pub(super) cluster: Cluster,
    /// This process's epoch: its lease, and the writer of its logs.
    pub(super) epoch: String,
    /// The replay window (`sessions.ttl_secs`).
    ttl: Duration,
    /// When the lease was last renewed, in milliseconds since `started`: new generations
    /// are refused once that is too long ago.
    renewed: AtomicU64,
    started: Instant,
    /// Logs with events not yet sent.
    dirty: Mutex<Vec<Arc<Mirror>>>,
    wake: Notify,
    /// Ends the background tasks, once no generation runs here any more.
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    append: redis::Script,
    lost: redis::Script,
    cancel: redis::Script,
}

impl SharedSessions {
    pub fn new(cluster: Cluster, ttl: Duration) -> Self {
        let epoch = new_id("");
        Self {
            cluster,
            epoch,
            ttl,
            renewed: AtomicU64::new(0),
            started: Instant::now(),
            dirty: Mutex::default(),
            wake: Notify::new(),
            stop: CancellationToken::new(),
            tasks: Mutex::default(),
            append: redis::Script::new(APPEND),
            lost: redis::Script::new(LOST),
            cancel: redis::Script::new(CANCEL),
        }
    }

    /// Starts the writer, the lease and the cancel listener; `verdict` is told of each
    /// generation here that must stop. Call within a tokio runtime.
    pub fn launch(self: &Arc<Self>, verdict: impl Fn(&str, Verdict) + Send + Sync + 'static) {
        let verdict = Arc::new(verdict);
        let writer = tokio::spawn(Arc::clone(self).write(Arc::clone(&verdict)));
        let lease = own_thread("rill-lease", Arc::clone(self).renew());
        let listener = tokio::spawn(Arc::clone(self).listen(verdict));
        lock(&self.tasks).extend([writer, lease, listener]);
    }

    /// Sends what is left, gives the lease up and ends the background tasks.
    pub async fn close(&self) {
        self.stop.cancel();
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Whether a new generation may start: not once the lease may have expired (no
    /// renewal sent within the last `lease_ttl` was answered: Redis is out of reach, or
    /// paused that long), since its stream could not be shared nor its limits held, and
    /// the other instances take this one for dead. A renewal that fails now and then is no
    /// reason.
    pub fn available(&self) -> Result<(), Error> {
        if self.since_renewal() < lease_ttl(self.cluster.lease()) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Overloaded,
                "this server cannot reach its shared state store (Redis); new generations are refused until it is back; retry shortly",
            ))
        }
    }

    fn since_renewal(&self) -> Duration {
        let renewed = Duration::from_millis(self.renewed.load(Ordering::SeqCst));
        self.started.elapsed().saturating_sub(renewed)
    }

    fn meta_key(&self, id: &str) -> String {
        self.cluster.key("session", id)
    }

    fn log_key(&self, id: &str) -> String {
        self.cluster.key("log", id)
    }

    fn lease_key(&self, epoch: &str) -> String {
        self.cluster.key("instance", epoch)
    }

    fn followed_key(&self, id: &str) -> String {
        self.cluster.key("followed", id)
    }

    fn channel(&self) -> String {
        self.cluster.key("cancel", "all")
    }

    /// `log`, running here, written to Redis as well.
    pub fn mirror(self: &Arc<Self>, log: Arc<dyn SessionLog>) -> Arc<dyn SessionLog> {
        let Some(origin) = log.meta().origin.clone() else {
            return log;
        };
        let meta = log.meta();
        let mut fields: Vec<(&'static str, Vec<u8>)> = vec![
            ("dialect", meta.dialect.name.as_bytes().to_vec()),
            ("model", origin.model.into_bytes()),
            ("created", origin.created.to_string().into_bytes()),
            ("body", origin.body.to_vec()),
        ];
        if let Some(owner) = &meta.owner {
            fields.push(("owner", owner.as_bytes().to_vec()));
        }
        Arc::new(Mirrored(Arc::new(Mirror {
            log,
            dirty: AtomicBool::new(false),
            sent: Mutex::new(Sent {
                events: 0,
                done: false,
                open: Some(fields),
            }),
            shared: Arc::downgrade(self),
        })))
    }

    /// Marks `mirror` as having something to send.
    fn touched(&self, mirror: &Arc<Mirror>) {
        if !mirror.dirty.swap(true, Ordering::SeqCst) {
            let first = {
                let mut dirty = lock(&self.dirty);
                dirty.push(Arc::clone(mirror));
                dirty.len() == 1
            };
            if first {
                self.wake.notify_one();
            }
        }
    }

    /// The writer: every few milliseconds, one pipeline with what every log gained.
    async fn write(self: Arc<Self>, verdict: Arc<impl Fn(&str, Verdict) + Send + Sync>) {
        // A connection of its own: a large pipeline neither waits behind the requests'
        // commands nor holds them up, and may take longer than they may.
        let mut connection = None;
        // Whether Redis has the append script: loaded with the first pipeline and again
        // after a failed one (a Redis that restarted has forgotten it).
        let mut loaded = false;
        loop {
            let stopping = tokio::select! {
                () = self.wake.notified() => false,
                () = self.stop.cancelled() => true,
            };
            if !stopping {
                tokio::time::sleep(COALESCE).await;
            }
            let batch = std::mem::take(&mut *lock(&self.dirty));
            if batch.is_empty() {
                if stopping {
                    return;
                }
                continue;
            }
            let mut pipe = redis::pipe();
            if !loaded {
                pipe.load_script(&self.append).ignore();
            }
            let mut sending = Vec::with_capacity(batch.len());
            for mirror in batch {
                mirror.dirty.store(false, Ordering::SeqCst);
                if let Some(write) = self.batch(&mirror) {
                    let mut call = self.append.key(self.meta_key(mirror.id()));
                    call.key(self.log_key(mirror.id()));
                    call.arg(&self.epoch)
                        .arg(write.from)
                        .arg(write.count)
                        .arg(write.events.as_slice())
                        .arg(u8::from(write.done))
                        .arg(millis(RUNNING_TTL))
                        .arg(millis(self.ttl))
                        .arg(millis(self.ttl + GONE_TTL));
                    if let Some(fields) = &write.open {
                        for (name, value) in fields {
                            call.arg(*name).arg(value.as_slice());
                        }
                    }
                    pipe.invoke_script(&call);
                    sending.push((mirror, write));
                }
            }
            if sending.is_empty() {
                continue;
            }
            let sent = self
                .query::<Vec<String>>(&mut connection, &pipe, WRITE_TIMEOUT)
                .await;
            match sent {
                Ok(replies) => {
                    loaded = true;
                    for ((mirror, write), reply) in sending.into_iter().zip(replies) {
                        self.sent(&mirror, write, &reply, verdict.as_ref());
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot write session logs to Redis; trying again");
                    loaded = false;
                    for (mirror, _) in sending {
                        self.touched(&mirror);
                    }
                    if stopping {
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(RETRY) => {}
                        () = self.stop.cancelled() => {}
                    }
                }
            }
        }
    }

    /// What `mirror`'s log gained since its last write, if anything.
    fn batch(&self, mirror: &Mirror) -> Option<Write> {
        let sent = lock(&mirror.sent);
        if sent.done {
            return None;
        }
        let mut events = Vec::new();
        let (_, status) =
            mirror
                .log
                .read(sent.events, &mut |event| events.push(event.clone()), None);
        let done = status == Status::Done;
        if events.is_empty() && !done {
            return None;
        }
        Some(Write {
            from: sent.events,
            count: events.len(),
            events: encode_events(events.iter().map(|event| (Duration::ZERO, event))),
            done,
            open: sent.open.clone(),
        })
    }

    /// `write` went through with `reply`.
    fn sent(
        &self,
        mirror: &Arc<Mirror>,
        write: Write,
        reply: &str,
        verdict: &dyn Fn(&str, Verdict),
    ) {
        let mut sent = lock(&mirror.sent);
        match reply {
            "ok" | "cancelled" => {
                sent.events = write.from + write.count;
                sent.done = write.done;
                sent.open = None;
                drop(sent);
                if reply == "cancelled" && !write.done {
                    verdict(mirror.id(), Verdict::Cancelled);
                }
            }
            "fenced" => {
                sent.done = true;
                drop(sent);
                tracing::warn!(
                    id = mirror.id(),
                    "another instance took this one for dead and ended the stream; stopping it"
                );
                verdict(mirror.id(), Verdict::Fenced);
            }
            at => {
                // A batch sent again after its reply was lost: Redis has its first events.
                if let Some(n) = at.strip_prefix("at:").and_then(|n| n.parse().ok()) {
                    sent.events = n;
                    sent.open = None;
                }
                drop(sent);
                self.touched(mirror);
            }
        }
    }

    /// Renews this instance's lease four times a lease; gives it up at the end. Runs on a
    /// thread of its own (`own_thread`), with a connection of its own: however many
    /// requests the main runtime has queued, a renewal waits behind none of them, so a busy
    /// instance is never taken for a dead one.
    async fn renew(self: Arc<Self>) {
        let lease = self.cluster.lease();
        let key = self.lease_key(&self.epoch);
        let mut renewal = redis::pipe();
        renewal.pset_ex(&key, 1, millis(lease_ttl(lease))).ignore();
        // Until the next renewal is due to answer: a busy Redis that answers late still
        // keeps the lease.
        let mut connection = None;
        let mut failing = false;
        loop {
            let sent = self.started.elapsed();
            // The next renewal is due a quarter lease after this one was sent, however long
            // this one took: a slow round trip does not stretch the time between renewals.
            let due = Instant::now() + lease / 4;
            match self.query::<()>(&mut connection, &renewal, lease / 4).await {
                Ok(()) => {
                    let took = self.started.elapsed().saturating_sub(sent);
                    if took > lease / 8 {
                        tracing::warn!(
                            took_ms = took.as_millis(),
                            "a lease renewal took long: Redis is slow to answer"
                        );
                    }
                    // The lease runs from when the renewal was sent.
                    let sent = u64::try_from(sent.as_millis()).unwrap_or(u64::MAX);
                    self.renewed.fetch_max(sent, Ordering::SeqCst);
                    if std::mem::take(&mut failing) {
                        tracing::info!("Redis is back: new generations are accepted");
                    }
                }
                Err(error) if !failing => {
                    failing = true;
                    tracing::error!(%error, "cannot renew this instance's lease in Redis: once it lapses, new generations are refused until it is renewed");
                }
                Err(_) => {}
            }
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = self.stop.cancelled() => break,
            }
        }
        let mut release = redis::pipe();
        release.del(&key).ignore();
        let _ = self.query::<()>(&mut connection, &release, lease / 4).await;
    }

    /// Sends `pipe` on `connection` (made first if there is none) and waits `limit` for
    /// its replies; a failure drops the connection, so the next query makes a new one.
    async fn query<T: redis::FromRedisValue>(
        &self,
        connection: &mut Option<MultiplexedConnection>,
        pipe: &redis::Pipeline,
        limit: Duration,
    ) -> redis::RedisResult<T> {
        let sent = async {
            let redis = match connection {
                Some(redis) => redis,
                None => connection.insert(self.cluster.dedicated().await?),
            };
            pipe.query_async::<T>(redis).await
        };
        let result = match tokio::time::timeout(limit, sent).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
        };
        if result.is_err() {
            *connection = None;
        }
        result
    }

    /// Listens for cancels of generations running here; comes back after Redis does.
    async fn listen(self: Arc<Self>, verdict: Arc<impl Fn(&str, Verdict) + Send + Sync>) {
        let channel = self.channel();
        loop {
            let subscribed = async {
                let mut pubsub = self.cluster.client().get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let pubsub = tokio::select! {
                pubsub = subscribed => pubsub,
                () = self.stop.cancelled() => return,
            };
            match pubsub {
                Ok(pubsub) => {
                    let mut messages = pubsub.into_on_message();
                    loop {
                        let message = tokio::select! {
                            message = messages.next() => message,
                            () = self.stop.cancelled() => return,
                        };
                        let Some(message) = message else { break };
                        if let Ok(id) = message.get_payload::<String>() {
                            verdict(&id, Verdict::Cancelled);
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot listen for cancels in Redis"),
            }
            tokio::select! {
                () = tokio::time::sleep(RETRY * 2) => {}
                () = self.stop.cancelled() => return,
            }
        }
    }

    /// Stream `id` as Redis knows it: a copy of its log that follows it, or gone.
    pub async fn find(self: &Arc<Self>, id: &str) -> Found {
        let mut redis = self.cluster.redis();
        let mut pipe = redis::pipe();
        pipe.hmget(
            self.meta_key(id),
            &[
                "dialect", "owner", "model", "created", "body", "epoch", "done",
            ],
        )
        .exists(self.log_key(id));
        type Fields = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<u64>,
            Option<Vec<u8>>,
            Option<String>,
            Option<String>,
        );
        let (fields, log_exists) = match pipe.query_async::<(Fields, bool)>(&mut redis).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, id, "cannot look a stream up in Redis");
                return Found::Unknown;
            }
        };
        let (Some(dialect), owner, Some(model), Some(created), Some(body), Some(epoch), done) =
            fields
        else {
            return Found::Unknown;
        };
        let answer = Answer {
            id: id.to_owned(),
            model,
            created,
        };
        let Some((dialect, encoder, headers)) = rebuild(&dialect, answer, &body) else {
            tracing::warn!(id, dialect, "a stream in Redis is of no dialect known here");
            return Found::Unknown;
        };
        if done.as_deref() == Some("1") && !log_exists {
            return Found::Gone { dialect, owner };
        }
        let log = detached(Meta {
            id: id.to_owned(),
            dialect,
            owner,
            encoder,
            headers,
            origin: None,
        });
        let follow = Arc::clone(self).follow(Arc::downgrade(&log), epoch);
        tokio::spawn(follow);
        Found::Live(log)
    }

    /// Copies stream `id`'s entries into `log` as they come, while anyone reads it.
    async fn follow(self: Arc<Self>, log: Weak<dyn SessionLog>, epoch: String) {
        let Some(id) = log.upgrade().map(|log| log.meta().id.clone()) else {
            return;
        };
        let (meta_key, log_key) = (self.meta_key(&id), self.log_key(&id));
        let (lease_key, followed_key) = (self.lease_key(&epoch), self.followed_key(&id));
        let lease = self.cluster.lease();
        let mut last = "0-0".to_owned();
        let mut failing_since: Option<Instant> = None;
        let mut connection = None;
        let mut marked = Instant::now() - lease;
        let options = StreamReadOptions::default()
            .count(1024)
            .block(usize::try_from(POLL.as_millis()).unwrap_or(200));
        loop {
            let Some(log) = log.upgrade() else { return };
            if log.status() == Status::Done {
                return;
            }
            let result = async {
                let redis = match &mut connection {
                    Some(redis) => redis,
                    None => connection.insert(self.cluster.dedicated().await?),
                };
                if marked.elapsed() >= lease / 4 {
                    redis
                        .pset_ex::<_, _, ()>(&followed_key, 1, millis(lease * 2))
                        .await?;
                    marked = Instant::now();
                }
                let read: Option<StreamReadReply> =
                    redis.xread_options(&[&log_key], &[&last], &options).await?;
                Ok::<_, redis::RedisError>(read)
            }
            .await;
            let entries = match result {
                Ok(read) => {
                    failing_since = None;
                    read.map(|reply| reply.keys)
                        .unwrap_or_default()
                        .into_iter()
                        .flat_map(|key| key.ids)
                        .collect::<Vec<_>>()
                }
                Err(error) => {
                    connection = None;
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > lease * 2 {
                        tracing::warn!(%error, id, "lost Redis while following a stream");
                        log.finish(Some(Error::new(
                            ErrorKind::Upstream,
                            "this server lost its shared state store (Redis) while following the stream; resume it later",
                        )));
                        return;
                    }
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            if entries.is_empty() {
                self.check_owner(&meta_key, &log_key, &lease_key, &epoch, &log)
                    .await;
                continue;
            }
            for entry in entries {
                let events = entry
                    .get::<Vec<u8>>("e")
                    .and_then(|bytes| decode_events(&bytes));
                let Some(events) = events else {
                    log.finish(Some(Error::internal(
                        "a stream's entry in Redis could not be read",
                    )));
                    return;
                };
                events.into_iter().for_each(|(_, event)| log.append(event));
                if entry.get::<String>("d").as_deref() == Some("1") {
                    log.finish(None);
                    return;
                }
                last = entry.id;
            }
        }
    }

    /// Ends stream `id`'s log if its owner's lease is gone (it died).
    async fn check_owner(
        &self,
        meta_key: &str,
        log_key: &str,
        lease_key: &str,
        epoch: &str,
        log: &Arc<dyn SessionLog>,
    ) {
        let mut redis = self.cluster.redis();
        match redis.exists::<_, bool>(lease_key).await {
            Ok(true) | Err(_) => return,
            Ok(false) => {}
        }
        let error = Error::new(
            ErrorKind::Upstream,
            "the server generating this stream stopped; the answer is incomplete: ask again",
        );
        let event = StreamEvent::Error(error);
        let bytes = encode_events(std::iter::once((Duration::ZERO, &event)));
        let mut call = self.lost.key(meta_key);
        call.key(log_key)
            .arg(epoch)
            .arg(bytes)
            .arg(millis(self.ttl))
            .arg(millis(self.ttl + GONE_TTL));
        match call.invoke_async::<i64>(&mut redis).await {
            Ok(1) => tracing::warn!(
                id = log.meta().id,
                "the server generating a stream stopped renewing its lease; its readers got an error"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot end a stream whose server stopped"),
        }
    }

    /// Cancels stream `id` on whichever instance runs it; returns its status from before.
    pub async fn cancel(&self, id: &str) -> Status {
        let mut redis = self.cluster.redis();
        let mut call = self.cancel.key(self.meta_key(id));
        call.arg(self.channel()).arg(id);
        match call.invoke_async::<String>(&mut redis).await {
            Ok(status) if status == "running" => Status::Running,
            Ok(_) => Status::Done,
            Err(error) => {
                tracing::warn!(%error, id, "cannot cancel a stream through Redis");
                Status::Done
            }
        }
    }

    /// Whether a reader on another instance follows stream `id`.
    pub async fn followed(&self, id: &str) -> bool {
        let mut redis = self.cluster.redis();
        redis
            .exists::<_, bool>(self.followed_key(id))
            .await
            .unwrap_or(false)
    }

    /// How often the owner of a stream with no reader of its own checks for readers
    /// elsewhere.
    pub fn recheck(&self) -> Duration {
        self.cluster.lease() / 2
    }
}

/// A log running here and its progress in Redis.
struct Mirror {
    log: Arc<dyn SessionLog>,
    dirty: AtomicBool,
    sent: Mutex<Sent>,
    /// The [`SharedSessions`] it belongs to (weak: they hold the mirrors with news).
    shared: Weak<SharedSessions>,
}

struct Sent {
    /// How many events Redis has.
    events: usize,
    /// Redis has the whole log (or another instance ended it).
    done: bool,
    /// The hash's fields, until the first write went through.
    open: Option<Vec<(&'static str, Vec<u8>)>>,
}

struct Write {
    from: usize,
    count: usize,
    events: Vec<u8>,
    done: bool,
    open: Option<Vec<(&'static str, Vec<u8>)>>,
}

impl Mirror {
    fn id(&self) -> &str {
        &self.log.meta().id
    }
}

/// The log a generation running here writes: its own, and Redis's after it.
struct Mirrored(Arc<Mirror>);

impl Mirrored {
    fn touched(&self) {
        if let Some(shared) = self.0.shared.upgrade() {
            shared.touched(&self.0);
        }
    }
}

impl SessionLog for Mirrored {
    fn meta(&self) -> &Meta {
        self.0.log.meta()
    }

    fn append(&self, event: StreamEvent) {
        self.0.log.append(event);
        self.touched();
    }

    fn read(
        &self,
        from: usize,
        each: &mut dyn FnMut(&StreamEvent),
        follow: Option<&std::task::Waker>,
    ) -> (usize, Status) {
        self.0.log.read(from, each, follow)
    }

    fn finish(&self, outcome: Option<Error>) -> bool {
        let finished = self.0.log.finish(outcome);
        if finished {
            self.touched();
        }
        finished
    }

    fn status(&self) -> Status {
        self.0.log.status()
    }

    fn cancel(&self) -> bool {
        self.0.log.cancel()
    }

    fn is_cancelled(&self) -> bool {
        self.0.log.is_cancelled()
    }
}

/// A stream's dialect, the encoder of its answer, and its headers.
type Parts = (
    Dialect,
    EncoderFactory,
    &'static [(&'static str, &'static str)],
);

/// The dialect named `name`, and the encoder of its stream of `answer` for the request
/// `body`.
fn rebuild(name: &str, answer: Answer, body: &[u8]) -> Option<Parts> {
    fn parts<D: ClientDialect>(answer: Answer, body: &[u8]) -> Option<Parts> {
        let (_, options) = D::parse(body).ok()?;
        Some((
            D::DIALECT,
            encoder_factory::<D>(answer, options),
            D::STREAM_HEADERS,
        ))
    }
    match name {
        _ if name == OpenAiChat::DIALECT.name => parts::<OpenAiChat>(answer, body),
        _ if name == AnthropicMessages::DIALECT.name => parts::<AnthropicMessages>(answer, body),
        _ if name == OpenAiResponses::DIALECT.name => parts::<OpenAiResponses>(answer, body),
        _ if name == VercelUi::DIALECT.name => parts::<VercelUi>(answer, body),
        _ => None,
    }
}
