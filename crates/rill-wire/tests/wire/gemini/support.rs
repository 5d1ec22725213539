//! Helpers shared by the Gemini tests.

use rill_core::{Completion, StreamEvent, ToolCallAccumulator, Usage};
use rill_wire::gemini::EventDecoder;

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Feeds `chunks` to a fresh SSE decoder and each event's data to a fresh
/// [`EventDecoder`], then ends the body ([`EventDecoder::end`]) as the provider does when
/// the connection closes. Returns every core event, the end's included.
pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut sse = rill_sse::Decoder::new();
    let mut decoder = EventDecoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        for event in sse.feed(chunk).expect("valid SSE") {
            assert_eq!(event.event, "message", "Gemini's stream is data-only");
            out.extend(
                decoder
                    .decode(&event.data)
                    .unwrap_or_else(|e| panic!("{e}: {event:?}")),
            );
        }
    }
    out.extend(decoder.end());
    assert!(decoder.is_done());
    out
}

/// Decodes whole SSE bytes, then ends the body.
pub fn decode_sse(bytes: &[u8]) -> Vec<StreamEvent> {
    decode_chunks([bytes])
}

/// Decodes `data` payloads (no SSE framing), then ends the body.
pub fn decode_data(payloads: &[&str]) -> Vec<StreamEvent> {
    let mut decoder = EventDecoder::new();
    let mut out: Vec<StreamEvent> = payloads
        .iter()
        .flat_map(|data| {
            decoder
                .decode(data)
                .unwrap_or_else(|e| panic!("{e}: {data}"))
        })
        .collect();
    out.extend(decoder.end());
    out
}

/// Folds events into a completion, tool calls assembled. Panics on an error event.
pub fn fold(events: &[StreamEvent]) -> Completion {
    let mut completion = Completion::default();
    let mut tools = ToolCallAccumulator::default();
    for event in events {
        completion
            .apply(event.clone(), &mut tools)
            .expect("no error events expected");
    }
    completion.tool_calls = tools.into_calls();
    completion
}

/// Core usage: input, output (reasoning included), reasoning, cached input.
pub fn usage(input: u64, output: u64, reasoning: Option<u64>, cached: Option<u64>) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: reasoning,
        cached_input_tokens: cached,
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    }
}
