//! What only Cohere's stream has: a body cut inside its `message-end`. The failures
//! every kind shares are in `conformance`.

use std::time::Duration;

use rill_core::ErrorKind;

use super::{all_events, fixture, provider, start};
use crate::conformance::ends_in_an_error;
use crate::upstream::{Upstream, sse, trickle};

/// The text of `text_with_usage.sse`.
pub const HEAD_TEXT: &str =
    "The sky is blue because of Rayleigh scattering — “short” waves scatter most.";

/// `text_with_usage.sse` up to (not including) its `message-end`.
pub fn cut_text_with_usage() -> Vec<u8> {
    let bytes = fixture("text_with_usage.sse");
    let text = std::str::from_utf8(&bytes).unwrap();
    let cut = text.find("event: message-end").unwrap();
    bytes[..cut].to_vec()
}

#[tokio::test]
async fn a_body_cut_inside_message_end_ends_in_an_error() {
    let bytes = fixture("text_with_usage.sse");
    let head = bytes[..bytes.len() - 20].to_vec();
    let upstream = Upstream::start(move || sse(trickle(&head, Duration::from_millis(1)))).await;
    let events = all_events(start(&provider(&upstream)).await).await;
    let error = ends_in_an_error(&events, HEAD_TEXT);
    assert_eq!(error.kind, ErrorKind::Upstream, "{error:?}");
}
