//! Helpers shared by the Cohere tests.

use rill_core::{Completion, StreamEvent, ToolCallAccumulator, Usage};
use rill_wire::cohere::EventDecoder;

/// The model the decoders are made with (Cohere's stream does not name one).
pub const MODEL: &str = "command-a-03-2025";

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Feeds `chunks` to a fresh SSE decoder and the SSE events to a fresh
/// [`EventDecoder`]; returns the core events and the decoder.
pub fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<StreamEvent>, EventDecoder) {
    let mut sse = rill_sse::Decoder::new();
    let mut decoder = EventDecoder::new(MODEL);
    let mut out = Vec::new();
    for chunk in chunks {
        for event in sse.feed(chunk).expect("valid SSE") {
            out.extend(
                decoder
                    .decode(&event.event, &event.data)
                    .unwrap_or_else(|e| panic!("{e}: {event:?}")),
            );
        }
    }
    (out, decoder)
}

/// Decodes (event name, data) pairs, no framing.
pub fn decode_events(events: &[(&str, &str)]) -> Vec<StreamEvent> {
    let mut decoder = EventDecoder::new(MODEL);
    events
        .iter()
        .flat_map(|(event, data)| {
            decoder
                .decode(event, data)
                .unwrap_or_else(|e| panic!("{e}: {event} {data}"))
        })
        .collect()
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

/// Core usage as Cohere reports it: input and output only.
pub fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: None,
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    }
}

pub fn start() -> StreamEvent {
    StreamEvent::Start {
        model: MODEL.into(),
    }
}
