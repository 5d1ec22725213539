//! The databases the ledger writes to: SQLite (embedded, a file in rill's data directory)
//! or PostgreSQL, one table, each with its own migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, QueryBuilder, Type};

use crate::record::Record;
use crate::time::day;

/// Where the ledger lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file, created (with its directory) on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user@host/db`).
    Postgres(String),
}

impl Target {
    /// `url` when one is configured (`postgres://...`, `sqlite://PATH`), else the SQLite
    /// file `ledger.sqlite` in `data_dir`.
    pub fn new(url: Option<&str>, data_dir: &Path) -> Result<Self, TargetError> {
        let Some(url) = url else {
            return Ok(Self::Sqlite(data_dir.join("ledger.sqlite")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        match url.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            _ => Err(TargetError(redact(url))),
        }
    }

    /// For logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("SQLite {}", path.display()),
            Self::Postgres(url) => format!("PostgreSQL {}", redact(url)),
        }
    }
}

/// A ledger URL of no known kind.
#[derive(Debug, thiserror::Error)]
#[error(
    "`ledger.url` is `{0}`, which is neither `postgres://...` nor `sqlite://PATH`\nhint: leave it out for SQLite in rill's data directory"
)]
pub struct TargetError(String);

/// `url` without the password of its user part, if it has one.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((user, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match user.split_once(':') {
        Some((name, _)) => format!("{scheme}://{name}:REDACTED@{host}"),
        None => url.to_owned(),
    }
}

pub(crate) struct Store {
    pub(crate) pool: Kind,
    /// Set once the table exists in its current shape.
    migrated: tokio::sync::OnceCell<()>,
}

pub(crate) enum Kind {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How long a write waits for a connection before the batch counts as failed (it stays
/// queued and is tried again).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Store {
    /// A pool that connects when first used: an unreachable database delays the ledger's
    /// writes, never the server's start.
    pub(crate) fn lazy(target: &Target) -> Result<Self, sqlx::Error> {
        let pool = match target {
            Target::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    // Readers never block the writer, and a commit is one fsync of the log.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5));
                Kind::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
            Target::Postgres(url) => Kind::Postgres(
                PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy(url)?,
            ),
        };
        Ok(Self {
            pool,
            migrated: tokio::sync::OnceCell::new(),
        })
    }

    /// Creates or updates the table, once per process (tried again after a failure).
    pub(crate) async fn ready(&self) -> Result<(), sqlx::migrate::MigrateError> {
        self.migrated
            .get_or_try_init(|| async {
                match &self.pool {
                    Kind::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
                    Kind::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
                }
            })
            .await
            .map(|_| ())
    }

    /// Writes `records` in one statement (one transaction). A record whose id is already
    /// there is skipped, so a batch written twice (its commit succeeded but the answer was
    /// lost) is not counted twice.
    pub(crate) async fn insert(&self, records: &[Record]) -> Result<(), sqlx::Error> {
        self.ready().await?;
        match &self.pool {
            Kind::Sqlite(pool) => insert(pool, records).await,
            Kind::Postgres(pool) => insert(pool, records).await,
        }
    }

    pub(crate) async fn close(&self) {
        match &self.pool {
            Kind::Sqlite(pool) => pool.close().await,
            Kind::Postgres(pool) => pool.close().await,
        }
    }
}

/// The columns, in the order [`bind`] binds them.
const COLUMNS: &str = "id, started_at_ms, day, key_name, dialect, model_requested, \
    model_served, provider, attempts, ttft_ms, duration_ms, input_tokens, output_tokens, \
    cached_input_tokens, cache_write_tokens, reasoning_tokens, input_estimated, \
    output_estimated, cost_usd, price, outcome, error_kind, cache, saved_usd";

/// Rows per statement: 24 parameters each stays under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
pub(crate) const MAX_ROWS: usize = 1000;

async fn insert<DB>(pool: &Pool<DB>, records: &[Record]) -> Result<(), sqlx::Error>
where
    DB: Database,
    DB::Arguments: Default + IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
{
    for rows in records.chunks(MAX_ROWS) {
        let mut query = QueryBuilder::<DB>::new(format!("INSERT INTO generations ({COLUMNS}) "));
        query.push_values(rows, bind);
        query.push(" ON CONFLICT (id) DO NOTHING");
        query.build().execute(pool).await?;
    }
    Ok(())
}

fn bind<DB>(mut row: Separated<'_, DB, &'static str>, record: &Record)
where
    DB: Database,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
{
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let tokens = &record.tokens;
    let price = record
        .price
        .as_ref()
        .and_then(|price| serde_json::to_string(price).ok());
    row.push_bind(record.id.clone())
        .push_bind(record.started_at_ms)
        .push_bind(day(record.started_at_ms))
        .push_bind(record.key.clone())
        .push_bind(record.dialect.clone())
        .push_bind(record.model_requested.clone())
        .push_bind(record.model_served.clone())
        .push_bind(record.provider.clone())
        .push_bind(i64::from(record.attempts))
        .push_bind(record.ttft_ms)
        .push_bind(record.duration_ms)
        .push_bind(count(tokens.input))
        .push_bind(count(tokens.output))
        .push_bind(count(tokens.cached_input))
        .push_bind(count(tokens.cache_write))
        .push_bind(count(tokens.reasoning))
        .push_bind(tokens.input_estimated)
        .push_bind(tokens.output_estimated)
        .push_bind(record.cost_usd)
        .push_bind(price)
        .push_bind(record.outcome.as_str().to_owned())
        .push_bind(record.error_kind.clone())
        .push_bind(record.cache.map(|use_| use_.as_str().to_owned()))
        .push_bind(record.saved_usd);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_the_url_or_the_data_directory() {
        let dir = Path::new("/var/lib/rill");
        assert_eq!(
            Target::new(None, dir).unwrap(),
            Target::Sqlite(dir.join("ledger.sqlite"))
        );
        assert_eq!(
            Target::new(Some("sqlite:///tmp/l.db"), dir).unwrap(),
            Target::Sqlite("/tmp/l.db".into())
        );
        assert!(matches!(
            Target::new(Some("postgres://rill@127.0.0.1/rill"), dir).unwrap(),
            Target::Postgres(_)
        ));
        let error = Target::new(Some("mysql://u:secret@h/db"), dir).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn passwords_never_reach_a_log() {
        let target = Target::Postgres("postgres://rill:hunter2@db:5432/rill".into());
        assert_eq!(
            target.describe(),
            "PostgreSQL postgres://rill:REDACTED@db:5432/rill"
        );
    }
}
