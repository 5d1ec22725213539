use std::path::PathBuf;
use std::time::Duration;

use rill_ledger::{
    CacheUse, Filter, GroupBy, Ledger, Options, Outcome, Price, Reader, Record, Stats, Target,
    Tokens,
};
use sqlx::Connection;
use tokio::sync::{RwLock, RwLockReadGuard};

/// Tests on PostgreSQL hold this to read; the one that stops the server holds it to write.
static SERVER: RwLock<()> = RwLock::const_new(());

/// A SQLite ledger file in a directory of its own, under the target directory.
fn sqlite() -> Target {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "ledger-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    Target::Sqlite(dir.join("ledger.sqlite"))
}

/// The server's URL; the tests need it (`scripts/test` starts PostgreSQL and sets it).
fn postgres_url() -> String {
    std::env::var("RILL_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "RILL_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL, or point it at a server (postgres://user@127.0.0.1:PORT/postgres)"
        )
    })
}

/// A fresh, empty database on the test server, and the server, held running.
async fn postgres() -> (Target, RwLockReadGuard<'static, ()>) {
    let running = SERVER.read().await;
    (fresh_database().await, running)
}

async fn fresh_database() -> Target {
    let url = postgres_url();
    let name = format!("ledger_{}", fastrand::u64(..));
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    Target::Postgres(format!("{base}/{name}"))
}

fn record(id: &str, started_at_ms: i64) -> Record {
    Record {
        id: id.into(),
        started_at_ms,
        key: Some("ops".into()),
        dialect: "openai-chat".into(),
        model_requested: "gpt-4o-mini".into(),
        model_served: Some("gpt-4o-mini".into()),
        provider: Some("openai".into()),
        attempts: 1,
        ttft_ms: Some(120.5),
        duration_ms: 2_000.25,
        tokens: Tokens {
            input: 1_000,
            output: 200,
            cached_input: 600,
            cache_write: 0,
            reasoning: 50,
            input_estimated: false,
            output_estimated: false,
        },
        cost_usd: Some(0.000_1),
        price: Some(Price {
            input_per_mtok: 0.15,
            output_per_mtok: 0.6,
            cached_input_per_mtok: Some(0.075),
            ..Price::default()
        }),
        outcome: Outcome::Stop,
        error_kind: None,
        cache: None,
        saved_usd: None,
    }
}

fn options() -> Options {
    Options {
        flush_interval: Duration::from_millis(20),
        ..Options::default()
    }
}

/// Runs a case on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                super::$case(super::sqlite()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let (target, _running) = super::postgres().await;
                super::$case(target).await;
            }
        }
    )*};
}

on_both!(
    records_are_written_and_read_back,
    usage_is_summed_by_key_model_and_day,
    closing_writes_every_record,
    a_record_written_twice_is_kept_once,
);

async fn records_are_written_and_read_back(target: Target) {
    let stats = Stats::default();
    let ledger = Ledger::open(&target, options(), stats.clone()).unwrap();
    let full = record("chatcmpl-a", 1_000);
    let sparse = Record {
        key: None,
        model_served: None,
        provider: None,
        attempts: 3,
        ttft_ms: None,
        cost_usd: None,
        price: None,
        outcome: Outcome::Timeout,
        error_kind: Some("timeout".into()),
        tokens: Tokens {
            output_estimated: true,
            input_estimated: true,
            ..full.tokens
        },
        ..record("msg_b", 2_000)
    };
    let hit = Record {
        cost_usd: Some(0.0),
        cache: Some(CacheUse::Hit),
        saved_usd: Some(0.000_1),
        ..record("resp_c", 1_500)
    };
    ledger.record(full.clone());
    ledger.record(sparse.clone());
    ledger.record(hit.clone());
    ledger.flush().await;
    assert_eq!(stats.written.get(), 3);
    assert_eq!(stats.pending.get(), 0);
    let read = ledger.reader().unwrap();
    let records = read.records(&Filter::default(), 10).await.unwrap();
    assert_eq!(records, vec![sparse, hit.clone(), full.clone()]);
    let only = Filter {
        key: Some("ops".into()),
        ..Filter::default()
    };
    assert_eq!(read.records(&only, 10).await.unwrap(), vec![hit, full]);
}

async fn usage_is_summed_by_key_model_and_day(target: Target) {
    // 2026-12-07T00:00Z and the day after.
    let (day1, day2) = (1_796_601_600_000, 1_796_688_000_000);
    let with = |id: &str, at: i64, key: Option<&str>, model: &str, cost: Option<f64>| Record {
        key: key.map(str::to_owned),
        model_requested: model.into(),
        cost_usd: cost,
        ..record(id, at)
    };
    let mut estimated = with("b", day2 + 5, Some("ops"), "m2", Some(0.25));
    estimated.tokens.output_estimated = true;
    let mut joined = with("d", day2 + 7, Some("ops"), "m2", Some(0.0));
    joined.cache = Some(CacheUse::Joined);
    joined.saved_usd = Some(0.25);
    let ledger = Ledger::open(&target, options(), Stats::default()).unwrap();
    ledger.record(with("a", day1 + 5, Some("ops"), "m1", Some(0.5)));
    ledger.record(estimated);
    ledger.record(with("c", day2 + 9, None, "m1", None));
    ledger.record(joined);
    ledger.flush().await;
    let read = ledger.reader().unwrap();
    let sums = |filter: Filter, by: GroupBy| {
        let read = read.clone();
        async move {
            read.usage(&filter, by)
                .await
                .unwrap()
                .into_iter()
                .map(|g| (g.group, g.requests, g.input_tokens, g.estimated, g.cost_usd))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sums(Filter::default(), GroupBy::Key).await,
        vec![
            (Some("ops".into()), 3, 3_000, 1, 0.75),
            // No key: last, whatever the database's order of NULLs.
            (None, 1, 1_000, 0, 0.0),
        ]
    );
    assert_eq!(
        sums(Filter::default(), GroupBy::Model).await,
        vec![
            (Some("m1".into()), 2, 2_000, 0, 0.5),
            (Some("m2".into()), 2, 2_000, 1, 0.25),
        ]
    );
    assert_eq!(
        sums(Filter::default(), GroupBy::Day).await,
        vec![
            (Some("2026-12-07".into()), 1, 1_000, 0, 0.5),
            (Some("2026-12-08".into()), 3, 3_000, 1, 0.25),
        ]
    );
    let ops_on_day2 = Filter {
        key: Some("ops".into()),
        since_ms: Some(day2),
        ..Filter::default()
    };
    assert_eq!(
        sums(ops_on_day2, GroupBy::Model).await,
        vec![(Some("m2".into()), 2, 2_000, 1, 0.25)]
    );
    let before_day2 = Filter {
        until_ms: Some(day2),
        model: Some("m1".into()),
        ..Filter::default()
    };
    assert_eq!(
        sums(before_day2, GroupBy::Key).await,
        vec![(Some("ops".into()), 1, 1_000, 0, 0.5)]
    );
    let cached: Vec<_> = read
        .usage(&Filter::default(), GroupBy::Model)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.cache_hits, g.saved_usd))
        .collect();
    assert_eq!(cached, vec![(0, 0.0), (1, 0.25)]);
}

async fn closing_writes_every_record(target: Target) {
    let stats = Stats::default();
    // Nothing would be written for an hour but for the close.
    let lazy = Options {
        flush_interval: Duration::from_secs(3600),
        batch: 10_000,
        ..Options::default()
    };
    let ledger = Ledger::open(&target, lazy, stats.clone()).unwrap();
    for i in 0..25 {
        ledger.record(record(&format!("r{i}"), i));
    }
    ledger.close().await;
    assert_eq!(stats.written.get(), 25);
    let read = Reader::open(&target).await.unwrap();
    assert_eq!(
        read.records(&Filter::default(), 100).await.unwrap().len(),
        25
    );
}

async fn a_record_written_twice_is_kept_once(target: Target) {
    let ledger = Ledger::open(&target, options(), Stats::default()).unwrap();
    ledger.record(record("same", 1));
    ledger.flush().await;
    ledger.record(record("same", 1));
    ledger.flush().await;
    let read = ledger.reader().unwrap();
    assert_eq!(read.records(&Filter::default(), 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_what_it_cannot_hold() {
    // Nothing listens on port 1 of loopback: every write fails at once.
    let target = Target::Postgres("postgres://rill@127.0.0.1:1/rill".into());
    let stats = Stats::default();
    let small = Options {
        max_pending: 5,
        ..options()
    };
    let ledger = Ledger::open(&target, small, stats.clone()).unwrap();
    for i in 0..8 {
        ledger.record(record(&format!("r{i}"), i));
    }
    ledger.flush().await;
    assert_eq!(stats.written.get(), 0);
    assert_eq!(stats.pending.get(), 5);
    assert_eq!(stats.dropped.get(), 3);
}

/// `scripts/test`'s control script for its PostgreSQL server (`pg_ctl` as the server's
/// own user).
fn server(action: &str) {
    let ctl = std::env::var("RILL_TEST_POSTGRES_CTL")
        .expect("RILL_TEST_POSTGRES_CTL (set by scripts/test) stops and starts the server");
    let status = std::process::Command::new(ctl)
        .arg(action)
        .status()
        .unwrap();
    assert!(status.success(), "{action}: {status}");
}

#[tokio::test]
async fn postgres_stopped_mid_run_and_started_again_loses_nothing() {
    let _alone = SERVER.write().await;
    let target = fresh_database().await;
    let stats = Stats::default();
    let ledger = Ledger::open(&target, options(), stats.clone()).unwrap();
    ledger.record(record("before", 1));
    ledger.flush().await;
    assert_eq!(stats.written.get(), 1);

    server("stop");
    for i in 0..5 {
        ledger.record(record(&format!("during-{i}"), 10 + i));
    }
    // Answers once a write was tried and failed: the records wait.
    ledger.flush().await;
    assert_eq!((stats.written.get(), stats.pending.get()), (1, 5));
    server("start");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while stats.written.get() < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not written after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stats.dropped.get(), 0);
    let read = ledger.reader().unwrap();
    assert_eq!(read.records(&Filter::default(), 10).await.unwrap().len(), 6);
}
