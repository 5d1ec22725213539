//! rill-wire's integration tests: one binary, one module per dialect.
//!
//! Modules are `#[cfg(test)]` so that clippy treats their helpers as test code too.

#[cfg(test)]
mod anthropic;
#[cfg(test)]
mod cohere;
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
