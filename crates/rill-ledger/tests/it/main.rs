//! The ledger on SQLite (a file in a fresh directory) and on a real PostgreSQL (a fresh
//! database on the server `scripts/test` starts, `RILL_TEST_POSTGRES_URL`): records
//! written and read back, usage summed, shutdown flushing, the queue's bound, and the
//! database stopped mid-run and started again.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod ledger;
