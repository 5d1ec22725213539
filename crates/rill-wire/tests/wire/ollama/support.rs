//! Helpers shared by the Ollama tests.

use rill_core::{Completion, StreamEvent, ToolCallAccumulator, Usage};
use rill_wire::ollama::ChunkDecoder;

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Splits `chunks` into lines as a provider does (a line ends at `\n`, a `\r` before it
/// goes, the last line counts without one), feeds each to a fresh [`ChunkDecoder`] and
/// returns every core event.
pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut decoder = ChunkDecoder::new();
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut decode_line = |line: &mut Vec<u8>, out: &mut Vec<StreamEvent>| {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text = String::from_utf8(std::mem::take(line)).expect("UTF-8 lines");
        out.extend(
            decoder
                .decode(&text)
                .unwrap_or_else(|e| panic!("{e}: {text}")),
        );
    };
    for chunk in chunks {
        for &byte in chunk {
            if byte == b'\n' {
                decode_line(&mut line, &mut out);
            } else {
                line.push(byte);
            }
        }
    }
    decode_line(&mut line, &mut out);
    out
}

/// Decodes whole NDJSON bytes.
pub fn decode_ndjson(bytes: &[u8]) -> Vec<StreamEvent> {
    decode_chunks([bytes])
}

/// Decodes lines (no framing).
pub fn decode_lines(lines: &[&str]) -> Vec<StreamEvent> {
    let mut decoder = ChunkDecoder::new();
    lines
        .iter()
        .flat_map(|line| {
            decoder
                .decode(line)
                .unwrap_or_else(|e| panic!("{e}: {line}"))
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

/// Core usage as Ollama reports it: input and output only.
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
