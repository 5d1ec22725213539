//! Reading the ledger back: records, usage summed by key, model or day, and a key's spend.

use serde::{Deserialize, Serialize};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row, Type,
};

use crate::record::{CacheUse, Outcome, Record, Tokens};
use crate::store::{Kind, Store};

/// Which records: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub key: Option<String>,
    pub model: Option<String>,
    /// Started at or after, in ms since the epoch.
    pub since_ms: Option<i64>,
    /// Started before, in ms since the epoch.
    pub until_ms: Option<i64>,
}

/// What usage is summed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Key,
    /// The model asked for.
    Model,
    /// The UTC day the generation started.
    Day,
}

impl GroupBy {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "key" => Some(Self::Key),
            "model" => Some(Self::Model),
            "day" => Some(Self::Day),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Model => "model",
            Self::Day => "day",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Key => "key_name",
            Self::Model => "model_requested",
            Self::Day => "day",
        }
    }
}

/// The usage of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The key's name, the model or the day (`null`: generations without a key).
    pub group: Option<String>,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    /// Of the requests, how many have estimated counts.
    pub estimated: u64,
    pub cost_usd: f64,
    /// Of the requests, how many were answered from the response cache (stored, or
    /// shared with an identical running request).
    pub cache_hits: u64,
    /// What those would have cost.
    pub saved_usd: f64,
}

impl Group {
    /// Adds `other`'s counts to these (for a total; the group name stays).
    pub fn add(&mut self, other: &Group) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.estimated += other.estimated;
        self.cost_usd += other.cost_usd;
        self.cache_hits += other.cache_hits;
        self.saved_usd += other.saved_usd;
    }
}

impl Store {
    pub(crate) async fn records(
        &self,
        filter: &Filter,
        limit: u32,
    ) -> Result<Vec<Record>, sqlx::Error> {
        self.ready().await?;
        match &self.pool {
            Kind::Sqlite(pool) => records(pool, filter, limit).await,
            Kind::Postgres(pool) => records(pool, filter, limit).await,
        }
    }

    pub(crate) async fn usage(
        &self,
        filter: &Filter,
        by: GroupBy,
    ) -> Result<Vec<Group>, sqlx::Error> {
        self.ready().await?;
        match &self.pool {
            Kind::Sqlite(pool) => usage(pool, filter, by).await,
            Kind::Postgres(pool) => usage(pool, filter, by).await,
        }
    }
}

/// Appends ` WHERE ...` for `filter`.
fn push_filter<DB>(query: &mut QueryBuilder<DB>, filter: &Filter)
where
    DB: Database,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    query.push(" WHERE 1 = 1");
    if let Some(key) = &filter.key {
        query.push(" AND key_name = ").push_bind(key.clone());
    }
    if let Some(model) = &filter.model {
        query
            .push(" AND model_requested = ")
            .push_bind(model.clone());
    }
    if let Some(since) = filter.since_ms {
        query.push(" AND started_at_ms >= ").push_bind(since);
    }
    if let Some(until) = filter.until_ms {
        query.push(" AND started_at_ms < ").push_bind(until);
    }
}

async fn records<DB>(
    pool: &Pool<DB>,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<Record>, sqlx::Error>
where
    DB: Database,
    DB::Arguments: Default + IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> f64: Decode<'q, DB> + Type<DB>,
    for<'q> bool: Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> Option<f64>: Decode<'q, DB>,
    for<'q> Option<String>: Decode<'q, DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    let mut query = QueryBuilder::<DB>::new(
        "SELECT id, started_at_ms, key_name, dialect, model_requested, model_served, provider, \
         attempts, ttft_ms, duration_ms, input_tokens, output_tokens, cached_input_tokens, \
         cache_write_tokens, reasoning_tokens, input_estimated, output_estimated, cost_usd, \
         price, outcome, error_kind, cache, saved_usd FROM generations",
    );
    push_filter(&mut query, filter);
    query
        .push(" ORDER BY started_at_ms DESC, id LIMIT ")
        .push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(record).collect()
}

fn record<R: Row>(row: &R) -> Result<Record, sqlx::Error>
where
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> f64: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> bool: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> Option<f64>: Decode<'q, R::Database>,
    for<'q> Option<String>: Decode<'q, R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    let count = |column: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
    };
    let outcome: String = row.try_get("outcome")?;
    let price: Option<String> = row.try_get("price")?;
    Ok(Record {
        id: row.try_get("id")?,
        started_at_ms: row.try_get("started_at_ms")?,
        key: row.try_get("key_name")?,
        dialect: row.try_get("dialect")?,
        model_requested: row.try_get("model_requested")?,
        model_served: row.try_get("model_served")?,
        provider: row.try_get("provider")?,
        attempts: u32::try_from(count("attempts")?).unwrap_or(u32::MAX),
        ttft_ms: row.try_get("ttft_ms")?,
        duration_ms: row.try_get("duration_ms")?,
        tokens: Tokens {
            input: count("input_tokens")?,
            output: count("output_tokens")?,
            cached_input: count("cached_input_tokens")?,
            cache_write: count("cache_write_tokens")?,
            reasoning: count("reasoning_tokens")?,
            input_estimated: row.try_get("input_estimated")?,
            output_estimated: row.try_get("output_estimated")?,
        },
        cost_usd: row.try_get("cost_usd")?,
        price: price.and_then(|p| serde_json::from_str(&p).ok()),
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown outcome `{outcome}`").into()))?,
        error_kind: row.try_get("error_kind")?,
        cache: row
            .try_get::<Option<String>, _>("cache")?
            .as_deref()
            .and_then(CacheUse::parse),
        saved_usd: row.try_get("saved_usd")?,
    })
}

async fn usage<DB>(pool: &Pool<DB>, filter: &Filter, by: GroupBy) -> Result<Vec<Group>, sqlx::Error>
where
    DB: Database,
    DB::Arguments: Default + IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> f64: Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Decode<'q, DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    // Sums are cast back to BIGINT: PostgreSQL sums BIGINTs as NUMERIC.
    let sum = |column: &str| format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT) AS {column}");
    let columns = [
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ]
    .map(sum)
    .join(", ");
    let group = by.column();
    let mut query = QueryBuilder::<DB>::new(format!(
        "SELECT {group} AS grp, CAST(COUNT(*) AS BIGINT) AS requests, {columns}, \
         CAST(SUM(CASE WHEN input_estimated OR output_estimated THEN 1 ELSE 0 END) AS BIGINT) AS estimated, \
         CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost_usd, \
         CAST(SUM(CASE WHEN cache IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS cache_hits, \
         CAST(COALESCE(SUM(saved_usd), 0) AS DOUBLE PRECISION) AS saved_usd FROM generations"
    ));
    push_filter(&mut query, filter);
    // NULL (no key) last on both databases.
    query.push(format!(
        " GROUP BY {group} ORDER BY {group} IS NULL, {group}"
    ));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            let count = |column: &str| -> Result<u64, sqlx::Error> {
                Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
            };
            Ok(Group {
                group: row.try_get("grp")?,
                requests: count("requests")?,
                input_tokens: count("input_tokens")?,
                output_tokens: count("output_tokens")?,
                cached_input_tokens: count("cached_input_tokens")?,
                cache_write_tokens: count("cache_write_tokens")?,
                reasoning_tokens: count("reasoning_tokens")?,
                estimated: count("estimated")?,
                cost_usd: row.try_get("cost_usd")?,
                cache_hits: count("cache_hits")?,
                saved_usd: row.try_get("saved_usd")?,
            })
        })
        .collect()
}
