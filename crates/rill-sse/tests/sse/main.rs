//! Integration tests of rill-sse: WHATWG conformance table, recorded provider streams,
//! size limits, and properties (chunking invariance, encoder round trip, and agreement
//! with a naive reference decoder).

mod conformance;
mod fixtures;
mod limits;
mod properties;
mod reference;
mod support;
