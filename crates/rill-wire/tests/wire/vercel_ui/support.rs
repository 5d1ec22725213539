//! Helpers shared by the UI message stream tests.

use rill_core::StreamEvent;
use rill_sse::Frame;
use rill_wire::vercel_ui::{DONE, StreamEncoder};
use serde_json::Value;

/// insta settings that keep every snapshot under `crates/rill-wire/tests/snapshots/`.
pub fn snapshots() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Every payload for `events`, `finish()` included; checks each against the strict
/// schema and that the stream ends in exactly one `[DONE]`.
pub fn encode(mut encoder: StreamEncoder, events: &[StreamEvent]) -> Vec<String> {
    let mut out: Vec<String> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty(), "finish() only once");
    let (last, chunks) = out.split_last().expect("at least [DONE]");
    assert_eq!(last, DONE);
    for chunk in chunks {
        assert_strict(chunk);
    }
    out
}

/// The SSE bytes a client receives for these payloads: data-only events.
pub fn wire(payloads: &[String]) -> String {
    let mut out = String::new();
    for payload in payloads {
        Frame::data(payload).encode_into(&mut out);
    }
    out
}

/// The JSON chunks (without `[DONE]`).
pub fn chunks(payloads: &[String]) -> Vec<Value> {
    payloads
        .iter()
        .filter(|p| *p != DONE)
        .map(|p| serde_json::from_str(p).expect("a JSON chunk"))
        .collect()
}

/// The `type` of every chunk.
pub fn types(payloads: &[String]) -> Vec<String> {
    chunks(payloads)
        .iter()
        .map(|c| c["type"].as_str().expect("a type").to_owned())
        .collect()
}

/// The keys `ai@5.0.0`'s `uiMessageChunkSchema` allows for each chunk type rill sends
/// (`z.strictObject`: no other key may appear), required ones first, copied from
/// `node_modules/ai/dist/index.mjs`. `finishReason` is 5.0.92's addition, opt-in.
const STRICT: &[(&str, &[&str], &[&str])] = &[
    ("start", &[], &["messageId", "messageMetadata"]),
    ("start-step", &[], &[]),
    ("text-start", &["id"], &[]),
    ("text-delta", &["id", "delta"], &[]),
    ("text-end", &["id"], &[]),
    ("reasoning-start", &["id"], &["providerMetadata"]),
    ("reasoning-delta", &["id", "delta"], &["providerMetadata"]),
    ("reasoning-end", &["id"], &["providerMetadata"]),
    ("tool-input-start", &["toolCallId", "toolName"], &[]),
    ("tool-input-delta", &["toolCallId", "inputTextDelta"], &[]),
    (
        "tool-input-available",
        &["toolCallId", "toolName", "input"],
        &[],
    ),
    ("tool-output-error", &["toolCallId", "errorText"], &[]),
    ("finish-step", &[], &[]),
    ("finish", &[], &["messageMetadata", "finishReason"]),
    ("error", &["errorText"], &[]),
    ("abort", &[], &[]),
];

/// Panics unless `payload` is one chunk of a known type with only allowed keys, every
/// required key present, and string-typed ids and texts.
#[track_caller]
pub fn assert_strict(payload: &str) {
    let chunk: Value = serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {payload}"));
    let object = chunk
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {payload}"));
    let kind = object["type"]
        .as_str()
        .unwrap_or_else(|| panic!("no type: {payload}"));
    let (_, required, optional) = STRICT
        .iter()
        .find(|(name, _, _)| *name == kind)
        .unwrap_or_else(|| panic!("unknown chunk type `{kind}`: {payload}"));
    for key in object.keys().filter(|k| *k != "type") {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "`{key}` is not allowed on `{kind}`: {payload}"
        );
    }
    for key in *required {
        assert!(
            object.contains_key(*key),
            "`{kind}` needs `{key}`: {payload}"
        );
        if *key != "input" {
            assert!(
                object[*key].is_string(),
                "`{key}` must be a string: {payload}"
            );
        }
    }
    // `providerMetadataSchema`: `{provider: {key: JSON}}`.
    if let Some(metadata) = object.get("providerMetadata") {
        let providers = metadata
            .as_object()
            .unwrap_or_else(|| panic!("`providerMetadata` must be an object: {payload}"));
        for (provider, values) in providers {
            assert!(
                values.is_object(),
                "`providerMetadata.{provider}` must be an object: {payload}"
            );
        }
    }
    if let Some(reason) = object.get("finishReason") {
        let allowed = [
            "stop",
            "length",
            "content-filter",
            "tool-calls",
            "error",
            "other",
            "unknown",
        ];
        assert!(allowed.iter().any(|a| reason == a), "{payload}");
    }
}
