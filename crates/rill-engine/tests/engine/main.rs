//! rill-engine's integration tests: one binary, one module per part of the engine.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod generation;
#[cfg(test)]
mod model;
#[cfg(test)]
mod support;
#[cfg(test)]
mod tokenizer;
