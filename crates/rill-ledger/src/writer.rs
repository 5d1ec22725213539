//! The ledger's one writer task and the handle generations hand their records to.
//!
//! [`Ledger::record`] never waits: it queues the record for the writer, which writes in
//! batches (every [`Options::flush_interval`], or as soon as [`Options::batch`] records
//! wait). When the database cannot be written, records stay queued (at most
//! [`Options::max_pending`]; more are dropped and counted) and the writer tries again with
//! a growing pause; it says so once per outage, and once when the database is back.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use crate::read::{Filter, Group, GroupBy};
use crate::record::Record;
use crate::store::{Store, Target};

/// How the writer batches and how much it holds while the database is away.
#[derive(Debug, Clone)]
pub struct Options {
    /// The longest a record waits before the writer writes what it has.
    pub flush_interval: Duration,
    /// Write at once when this many records wait.
    pub batch: usize,
    /// The most records held while the database cannot be written; more are dropped.
    pub max_pending: usize,
    /// At shutdown, how long the writer keeps trying an unreachable database before it
    /// drops what it still holds.
    pub close_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_millis(500),
            batch: 512,
            max_pending: 100_000,
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// The ledger's counters, registered by whoever serves `/metrics`.
#[derive(Clone, Default)]
pub struct Stats {
    /// Records written.
    pub written: Counter,
    /// Records dropped: the queue was full, or shutdown came while the database was away.
    pub dropped: Counter,
    /// Records waiting to be written.
    pub pending: Gauge,
}

/// The ledger's database could not be set up (a SQLite directory that cannot be created,
/// a PostgreSQL URL that does not parse).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the usage ledger ({target}): {source}")]
pub struct OpenError {
    target: String,
    source: sqlx::Error,
}

/// Where generations send their records. Cheap to clone; a disabled ledger drops
/// everything silently.
#[derive(Clone, Default)]
pub struct Ledger(Option<Arc<Inner>>);

struct Inner {
    commands: mpsc::UnboundedSender<Command>,
    reader: Reader,
    /// Work that ends in a record (counting a stream's tokens off the async workers):
    /// closing waits for it.
    tasks: TaskTracker,
    target: String,
}

enum Command {
    Record(Box<Record>),
    /// Answered once everything sent before is written, or could not be for now.
    Flush(oneshot::Sender<()>),
    /// Write everything, then stop; answered when done.
    Close(oneshot::Sender<()>),
}

impl Ledger {
    /// A ledger that keeps nothing.
    pub fn disabled() -> Self {
        Self(None)
    }

    /// Starts the writer for `target` on the current tokio runtime. The database is
    /// connected (and its table created or migrated) on the first write, so an
    /// unreachable one does not stop the server from starting.
    pub fn open(target: &Target, options: Options, stats: Stats) -> Result<Self, OpenError> {
        let store = Store::lazy(target).map_err(|source| OpenError {
            target: target.describe(),
            source,
        })?;
        let store = Arc::new(store);
        let (commands, queue) = mpsc::unbounded_channel();
        let writer = Writer {
            store: Arc::clone(&store),
            options,
            stats,
            pending: VecDeque::new(),
            outage: None,
            dropping: false,
        };
        let described = target.describe();
        tracing::info!(ledger = %described, "usage ledger");
        tokio::spawn(writer.run(queue, described.clone()));
        Ok(Self(Some(Arc::new(Inner {
            commands,
            reader: Reader(store),
            tasks: TaskTracker::new(),
            target: described,
        }))))
    }

    /// Whether records are kept.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The database, for logs (no password).
    pub fn target(&self) -> Option<&str> {
        self.0.as_deref().map(|inner| inner.target.as_str())
    }

    /// Reads what the writer wrote.
    pub fn reader(&self) -> Option<&Reader> {
        self.0.as_deref().map(|inner| &inner.reader)
    }

    /// Queues `record` for the writer; never waits.
    pub fn record(&self, record: Record) {
        if let Some(inner) = &self.0 {
            // Fails only once the writer has stopped, after close: nothing to keep it for.
            let _ = inner.commands.send(Command::Record(Box::new(record)));
        }
    }

    /// Runs `work` (blocking work that ends in a record) on tokio's blocking pool,
    /// tracked so that [`Ledger::close`] waits for it. Without a runtime it runs here.
    pub fn spawn_blocking(&self, work: impl FnOnce() + Send + 'static) {
        match (&self.0, tokio::runtime::Handle::try_current()) {
            (Some(inner), Ok(runtime)) => {
                drop(inner.tasks.spawn_blocking_on(work, &runtime));
            }
            (None, Ok(runtime)) => drop(runtime.spawn_blocking(work)),
            (_, Err(_)) => work(),
        }
    }

    /// Waits until every record queued before is written, or the database failed the
    /// attempt (the records stay queued).
    pub async fn flush(&self) {
        let Some(inner) = &self.0 else { return };
        let (done, wait) = oneshot::channel();
        if inner.commands.send(Command::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Waits for the work that ends in records, then writes every record (trying an
    /// unreachable database for [`Options::close_timeout`]) and stops the writer.
    pub async fn close(&self) {
        let Some(inner) = &self.0 else { return };
        inner.tasks.close();
        inner.tasks.wait().await;
        let (done, wait) = oneshot::channel();
        if inner.commands.send(Command::Close(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

struct Writer {
    store: Arc<Store>,
    options: Options,
    stats: Stats,
    pending: VecDeque<Record>,
    /// Since when writes fail, and the pause before the next try.
    outage: Option<Outage>,
    /// Whether records are being dropped (said once until the queue has room again).
    dropping: bool,
}

struct Outage {
    since: Instant,
    retry_at: Instant,
    pause: Duration,
}

const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(10);

impl Writer {
    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<Command>, target: String) {
        let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
        // When the oldest waiting record must be written.
        let mut due: Option<Instant> = None;
        let closed = loop {
            let wake = match (&self.outage, due) {
                (Some(outage), _) => Some(outage.retry_at),
                (None, due) => due,
            };
            let command = tokio::select! {
                command = queue.recv() => match command {
                    Some(command) => Some(command),
                    // Every handle is gone: write what is left and stop.
                    None => break None,
                },
                () = sleep_until(wake) => None,
            };
            let mut close = None;
            let mut handle = |command: Command, this: &mut Self| match command {
                Command::Record(record) => this.push(*record),
                Command::Flush(done) => flushes.push(done),
                Command::Close(done) => close = Some(done),
            };
            if let Some(command) = command {
                handle(command, &mut self);
            }
            while let Ok(command) = queue.try_recv() {
                handle(command, &mut self);
            }
            if close.is_some() {
                break close;
            }
            if due.is_none() && !self.pending.is_empty() {
                due = Some(Instant::now() + self.options.flush_interval);
            }
            let now = Instant::now();
            let write = !self.pending.is_empty()
                && (self.pending.len() >= self.options.batch
                    || !flushes.is_empty()
                    || due.is_some_and(|due| now >= due))
                && self.outage.as_ref().is_none_or(|o| now >= o.retry_at);
            if write {
                self.write_pending(&target).await;
                due = None;
            }
            if !flushes.is_empty() && (self.pending.is_empty() || self.outage.is_some()) {
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
            }
        };
        // Closing: everything queued is in `pending`; try for a while, then give up.
        let deadline = Instant::now() + self.options.close_timeout;
        while !self.pending.is_empty() {
            let retry_at = self.outage.as_ref().map(|o| o.retry_at);
            if let Some(at) = retry_at {
                if at >= deadline {
                    break;
                }
                tokio::time::sleep_until(at).await;
            }
            self.write_pending(&target).await;
        }
        if !self.pending.is_empty() {
            let lost = self.pending.len();
            self.stats.dropped.inc_by(lost as u64);
            self.stats.pending.set(0);
            tracing::error!(
                ledger = %target,
                records = lost,
                "shutting down with usage records the database did not take; they are lost"
            );
        }
        self.store.close().await;
        for done in flushes.into_iter().chain(closed) {
            let _ = done.send(());
        }
    }

    fn push(&mut self, record: Record) {
        if self.pending.len() >= self.options.max_pending {
            self.stats.dropped.inc();
            if !self.dropping {
                self.dropping = true;
                tracing::error!(
                    max_pending = self.options.max_pending,
                    "the usage ledger's queue is full; dropping records until the database takes them (counted in rill_ledger_dropped_total)"
                );
            }
            return;
        }
        self.pending.push_back(record);
        self.stats.pending.set(self.pending.len() as i64);
    }

    /// Writes every waiting record, a batch at a time, until done or a write fails.
    async fn write_pending(&mut self, target: &str) {
        while !self.pending.is_empty() {
            if let Err(error) = self.write_batch().await {
                let now = Instant::now();
                match &mut self.outage {
                    Some(outage) => {
                        outage.pause = (outage.pause * 2).min(MAX_PAUSE);
                        outage.retry_at = now + outage.pause;
                    }
                    None => {
                        tracing::warn!(
                            ledger = %target,
                            %error,
                            pending = self.pending.len(),
                            "cannot write usage records; they wait in memory and are written when the database is back"
                        );
                        self.outage = Some(Outage {
                            since: now,
                            retry_at: now + FIRST_PAUSE,
                            pause: FIRST_PAUSE,
                        });
                    }
                }
                return;
            }
        }
        if let Some(outage) = self.outage.take() {
            tracing::info!(
                ledger = %target,
                after_secs = outage.since.elapsed().as_secs(),
                "the usage ledger's database is back; the waiting records are written"
            );
        }
        self.dropping = false;
    }

    async fn write_batch(&mut self) -> Result<(), String> {
        let n = self.pending.len().min(self.options.batch.max(1));
        let batch = self.pending.make_contiguous();
        self.store
            .insert(&batch[..n])
            .await
            .map_err(|e| e.to_string())?;
        self.pending.drain(..n);
        self.stats.written.inc_by(n as u64);
        self.stats.pending.set(self.pending.len() as i64);
        Ok(())
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Reads a ledger: the one a running [`Ledger`] writes, or a database opened apart
/// ([`Reader::open`], for `rill usage` on a SQLite file).
#[derive(Clone)]
pub struct Reader(Arc<Store>);

impl Reader {
    /// Opens `target` to read; its table is created or migrated first.
    pub async fn open(target: &Target) -> Result<Self, sqlx::Error> {
        let store = Store::lazy(target)?;
        store.ready().await?;
        Ok(Self(Arc::new(store)))
    }

    /// The newest `limit` records that match `filter`, newest first.
    pub async fn records(&self, filter: &Filter, limit: u32) -> Result<Vec<Record>, sqlx::Error> {
        self.0.records(filter, limit).await
    }

    /// Usage of the records that match `filter`, summed `by` key, model or day.
    pub async fn usage(&self, filter: &Filter, by: GroupBy) -> Result<Vec<Group>, sqlx::Error> {
        self.0.usage(filter, by).await
    }
}
