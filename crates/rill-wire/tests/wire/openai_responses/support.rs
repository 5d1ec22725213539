//! Helpers shared by the OpenAI Responses tests.

use rill_core::{Completion, StreamEvent, ToolCallAccumulator};
use rill_sse::Frame;
use rill_wire::openai_responses::{EventDecoder, SseEvent};

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The SSE bytes a client receives for these events, framed as the server frames them.
/// Also checks what clients rely on: every event name is its data's `type`, and the
/// `sequence_number`s count 0, 1, 2, ... without a gap.
pub fn wire(events: &[SseEvent]) -> String {
    let mut out = String::new();
    for (n, event) in events.iter().enumerate() {
        let data: serde_json::Value = serde_json::from_str(&event.data)
            .unwrap_or_else(|e| panic!("not JSON: {e}: {}", event.data));
        assert_eq!(data["type"], event.event, "{}", event.data);
        assert_eq!(data["sequence_number"], n, "{}", event.data);
        Frame::data(&event.data)
            .event(event.event)
            .encode_into(&mut out);
    }
    out
}

/// The event names, in order.
pub fn names(events: &[SseEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event).collect()
}

/// Feeds `chunks` to a fresh SSE decoder and the SSE events to a fresh
/// [`EventDecoder`]; returns the core events and the decoder.
pub fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<StreamEvent>, EventDecoder) {
    let mut sse = rill_sse::Decoder::new();
    let mut decoder = EventDecoder::new();
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

/// Decodes whole SSE bytes.
pub fn decode_sse(bytes: &[u8]) -> (Vec<StreamEvent>, EventDecoder) {
    decode_chunks([bytes])
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
