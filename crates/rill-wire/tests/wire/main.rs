//! rill-wire's integration tests: one binary, one module per dialect (and `clients`,
//! what each dialect's client keeps of an answer, for the tests that cross dialects).
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod anthropic;
/// What each dialect's client makes of rill's answer, for tests across dialects.
#[cfg(test)]
mod clients;
#[cfg(test)]
mod cohere;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod gemini;
#[cfg(test)]
mod ollama;
#[cfg(test)]
mod openai_chat;
#[cfg(test)]
mod openai_responses;
#[cfg(test)]
mod vercel_ui;
