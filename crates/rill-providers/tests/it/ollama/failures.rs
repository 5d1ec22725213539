//! What only Ollama's stream has: a body cut inside its `done` line. The failures every
//! kind shares are in `conformance`.

use std::time::Duration;

use rill_core::ErrorKind;

use super::{all_events, fixture, provider, start};
use crate::conformance::ends_in_an_error;
use crate::upstream::{Upstream, ndjson, trickle};

/// The text of `text_with_usage.ndjson`.
pub const HEAD_TEXT: &str =
    "The sky is blue because of Rayleigh scattering — “short” waves scatter most.";

/// `text_with_usage.ndjson` without its `done: true` line.
pub fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.ndjson");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap() + 1;
    bytes[..cut].to_vec()
}

#[tokio::test]
async fn a_body_cut_inside_the_done_line_ends_in_an_error() {
    let bytes = fixture("text_with_usage.ndjson");
    let head = bytes[..bytes.len() - 20].to_vec();
    let upstream = Upstream::start(move || ndjson(trickle(&head, Duration::from_millis(1)))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events, HEAD_TEXT);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
    assert!(error.message.contains("not valid JSON"), "{error:?}");
}
