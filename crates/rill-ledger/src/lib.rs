//! rill's usage ledger: one [`Record`] per generation, however it ended, written by one
//! writer task in batches to SQLite (embedded, the default) or PostgreSQL, off the hot
//! path: a generation hands its record over ([`Ledger::record`]) and never waits for the
//! database. Knows nothing of HTTP or of the dialects.

mod prices;
mod read;
mod record;
mod store;
mod time;
mod writer;

pub use prices::{PricedProvider, bundled_price};
pub use read::{Filter, Group, GroupBy};
pub use record::{CacheUse, Outcome, Price, Record, Tokens};
pub use store::{Target, TargetError};
pub use time::{Period, day, format_time, now_ms, parse_time};
pub use writer::{Ledger, OpenError, Options, Reader, Stats};
