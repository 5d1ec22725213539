//! rill-server integration tests: the real router, on a real socket where timing,
//! disconnects or shutdown matter, in-process otherwise.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod cache;
#[cfg(test)]
mod chat;
#[cfg(test)]
mod cluster;
#[cfg(test)]
mod connections;
#[cfg(test)]
mod cross_site;
#[cfg(test)]
mod errors;
#[cfg(test)]
mod faults;
#[cfg(test)]
mod gateway;
#[cfg(test)]
mod keys;
#[cfg(test)]
mod ledger;
#[cfg(test)]
mod lifecycle;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod load;
#[cfg(test)]
mod messages;
#[cfg(test)]
mod metering;
#[cfg(test)]
mod resilience;
#[cfg(test)]
mod streams;
#[cfg(test)]
mod support;
#[cfg(test)]
mod ui;
#[cfg(test)]
mod ui_chat;
