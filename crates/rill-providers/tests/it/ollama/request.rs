//! What the provider sends: the path, the headers (the key only as a Bearer token) and
//! the body.

use serde_json::json;

use super::{KEY, UPSTREAM_MODEL};
use crate::upstream::Seen;

/// The checks every replayed fixture also runs on its request.
pub fn check(seen: &Seen) {
    assert_eq!(seen.path, "/api/chat");
    assert_eq!(seen.query, None);
    let bearer = format!("Bearer {KEY}");
    assert_eq!(seen.header("authorization"), Some(bearer.as_str()));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("application/x-ndjson"));
    let in_other_headers = seen
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "authorization")
        .any(|(_, value)| value.to_str().unwrap_or_default().contains(KEY));
    assert!(!in_other_headers, "{:?}", seen.headers);
    assert_eq!(
        seen.body,
        json!({
            "model": UPSTREAM_MODEL,
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
            ],
            "options": {"num_predict": 64},
            "stream": true,
        })
    );
}
