//! Providers: where generations come from, apart from the embedded engine.
//!
//! - [`scripted`]: plays a configured answer at a configured token rate and injects
//!   faults (stalls, abrupt closes, errors, failures before the first token). It is a
//!   product feature for testing error handling, and the server's test double.
//!
//! Every provider implements [`rill_core::Provider`]; the returned stream is cancelled by
//! dropping it, which must stop the work behind it at once.

pub mod scripted;

pub use scripted::{ScriptConfig, ScriptedProvider, ScriptedToolCall};
