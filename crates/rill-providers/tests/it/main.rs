//! rill-providers' integration tests: one binary, one module per provider, each against
//! an in-process loopback upstream.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod anthropic;
#[cfg(test)]
mod cohere;
#[cfg(test)]
mod common;
#[cfg(test)]
mod gemini;
#[cfg(test)]
mod ollama;
#[cfg(test)]
mod openai_responses;
#[cfg(test)]
mod resilient;
#[cfg(test)]
mod upstream;
