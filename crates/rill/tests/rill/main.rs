//! The `rill` binary, run as operators run it.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod key;
#[cfg(test)]
mod nginx;
#[cfg(test)]
mod serve;
