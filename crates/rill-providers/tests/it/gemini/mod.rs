//! `GeminiProvider` against a loopback upstream that speaks Gemini's
//! `streamGenerateContent?alt=sse`.

mod failures;
mod fixtures;
mod request;

use rill_core::{Error, ErrorKind, EventStream, StreamEvent, Usage};
use rill_providers::GeminiProvider;
use secrecy::SecretString;

use crate::common;
use crate::conformance::Kind;
use crate::upstream::{Upstream, sse};

/// rill's name for the model.
pub const NAME: &str = "gem";
/// The upstream's id for it, which must be what the URL names.
pub const UPSTREAM_MODEL: &str = "gemini-upstream-id";
pub const KEY: &str = "AIzaSyD-test-key_0123456789abcdefghijk";

pub fn provider(upstream: &Upstream) -> GeminiProvider {
    provider_at(&upstream.url)
}

pub fn provider_at(base_url: &str) -> GeminiProvider {
    GeminiProvider::new(
        NAME,
        UPSTREAM_MODEL,
        base_url,
        Some(SecretString::from(KEY)),
    )
    .unwrap()
}

/// Starts a generation; panics if the provider refused it.
pub async fn start(provider: &GeminiProvider) -> EventStream {
    common::start(provider, NAME).await
}

/// Starts a generation that must fail before the stream; returns the error.
pub async fn refused(provider: &GeminiProvider) -> rill_core::Error {
    common::refused(provider, NAME).await
}

pub use crate::common::all_events;

/// A Gemini stream from `rill-wire`'s `tests/fixtures/gemini/`.
pub fn fixture(name: &str) -> Vec<u8> {
    common::fixture("../rill-wire/tests/fixtures/gemini", name)
}

/// Gemini's `streamGenerateContent?alt=sse`, for the shared cases (`conformance`).
pub static KIND: Kind = Kind {
    name: NAME,
    key: KEY,
    provider: |url, key| {
        let key = key.map(SecretString::from);
        Box::new(GeminiProvider::new(NAME, UPSTREAM_MODEL, url, key).unwrap())
    },
    key_header: "x-goog-api-key",
    keyless: |seen| assert_eq!(seen.query.as_deref(), Some("alt=sse")),
    path: "/v1beta/models/gemini-upstream-id:streamGenerateContent?alt=sse",
    serve: |chunks| sse(chunks),
    error: |code, status, message| failures::error(code, status, message, serde_json::json!([])),
    rate_limit: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    refused_key: (
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials.",
        "Request had invalid authentication credentials.",
    ),
    statuses: &[
        (400, "INVALID_ARGUMENT", ErrorKind::InvalidRequest),
        (400, "FAILED_PRECONDITION", ErrorKind::Upstream),
        (403, "PERMISSION_DENIED", ErrorKind::Upstream),
        (404, "NOT_FOUND", ErrorKind::Upstream),
        (500, "INTERNAL", ErrorKind::Upstream),
        (503, "UNAVAILABLE", ErrorKind::Overloaded),
        (504, "DEADLINE_EXCEEDED", ErrorKind::Timeout),
    ],
    cut: failures::cut_text_with_usage,
    cut_text: failures::HEAD_TEXT,
    pause: b": pause\n",
    endless: (String::new, ENDLESS_TICK),
    mid_stream_error: Some(error_mid_stream),
    whole: None,
};

/// A text chunk, sent every 20 ms forever, CRLF-framed as Google frames it.
const ENDLESS_TICK: &str = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"tick \"}],\"role\":\"model\"},\"index\":0}],\"modelVersion\":\"gemini-x\",\"responseId\":\"r\"}\r\n\r\n";

/// The cut answer, then an error chunk.
fn error_mid_stream() -> (Vec<u8>, Vec<StreamEvent>) {
    let error = "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";
    let mut bytes = failures::cut_text_with_usage();
    bytes.extend_from_slice(error.as_bytes());
    let usage = |output| {
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: output,
            reasoning_tokens: Some(600),
            cached_input_tokens: None,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        })
    };
    let events = vec![
        StreamEvent::Start {
            model: "gemini-2.5-flash".into(),
        },
        StreamEvent::TextDelta("The sky looks blue because sunlight is scattered".into()),
        usage(609),
        StreamEvent::TextDelta(
            " by the air's molecules, and blue light scatters far more than red.".into(),
        ),
        usage(624),
        StreamEvent::Error(Error::new(
            ErrorKind::Overloaded,
            "The model is overloaded. Please try again later.",
        )),
    ];
    (bytes, events)
}
