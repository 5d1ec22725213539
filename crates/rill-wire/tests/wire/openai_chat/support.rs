//! Helpers shared by the OpenAI Chat tests.

use rill_core::{Completion, StreamEvent, ToolCallAccumulator};
use rill_wire::openai_chat::ChunkDecoder;

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The `data:` payloads of a data-only SSE stream whose events are `data: <x>\n\n`.
/// Good enough for the recorded fixtures; `rill-sse` is the real parser.
pub fn payloads(sse: &str) -> Vec<String> {
    let mut decoder = rill_sse::Decoder::new();
    let events = decoder
        .feed(sse.as_bytes())
        .expect("fixture decodes as SSE");
    events.into_iter().map(|event| event.data).collect()
}

/// One collected answer per choice index.
#[derive(Debug, Default)]
pub struct Collected {
    pub choices: std::collections::BTreeMap<u32, (Completion, ToolCallAccumulator)>,
}

impl Collected {
    pub fn apply(&mut self, choice: u32, event: StreamEvent) {
        let (completion, tools) = self.choices.entry(choice).or_default();
        completion
            .apply(event, tools)
            .expect("no error events expected");
    }

    /// The completion of `choice`, with its tool calls assembled.
    pub fn completion(&self, choice: u32) -> Completion {
        let (completion, tools) = &self.choices[&choice];
        let mut completion = completion.clone();
        completion.tool_calls = tools.clone().into_calls();
        completion
    }
}

/// Decodes every payload, collecting per choice.
pub fn decode_all(payloads: &[String]) -> (Collected, ChunkDecoder) {
    let mut decoder = ChunkDecoder::new();
    let mut collected = Collected::default();
    for payload in payloads {
        for (choice, event) in decoder.decode(payload).expect("payload decodes") {
            collected.apply(choice, event);
        }
    }
    (collected, decoder)
}
