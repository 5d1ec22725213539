//! What the provider sends: the path, the headers and a streaming body for the upstream's
//! model id.

use serde_json::json;

use super::{KEY, UPSTREAM_MODEL};
use crate::upstream::Seen;

/// The checks every replayed fixture also runs on its request.
pub fn check(seen: &Seen) {
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert!(seen.header("authorization").is_none());
    assert_eq!(
        seen.body,
        json!({
            "model": UPSTREAM_MODEL,
            "max_tokens": 64,
            "system": "be brief",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
        })
    );
}
