//! Whatever core events come, in whatever order, the encoder's output is a stream the
//! client accepts: the rules `processUIMessageStream` relies on (a delta only for an
//! open block or a streaming call, ids never reused, nothing after the end), checked
//! by a small model of the client, and no text is lost on the way.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::vercel_ui::{DONE, StreamEncoder};
use serde_json::Value;

use super::support::assert_strict;

fn event() -> impl Strategy<Value = StreamEvent> {
    let piece = prop_oneof![
        Just(""),
        Just("a"),
        Just("{\"k\":"),
        Just("1}"),
        Just("é🦀")
    ];
    // Terminal events are rare, so that streams get long before they end.
    prop_oneof![
        2 => Just(StreamEvent::Start { model: "m".into() }),
        6 => piece.clone().prop_map(|s| StreamEvent::TextDelta(s.into())),
        4 => piece.clone().prop_map(|s| StreamEvent::ReasoningDelta(s.into())),
        2 => prop_oneof![Just(""), Just("sig")]
            .prop_map(|s| StreamEvent::ReasoningSignature(s.into())),
        1 => Just(StreamEvent::ReasoningRedacted("data".into())),
        2 => piece.clone().prop_map(|s| StreamEvent::RefusalDelta(s.into())),
        4 => (
            0u32..3,
            prop_oneof![Just(""), Just("c")],
            prop_oneof![Just(""), Just("f")]
        )
            .prop_map(|(index, id, name)| StreamEvent::ToolCallStart {
                index,
                id: if id.is_empty() {
                    String::new()
                } else {
                    format!("{id}{index}")
                },
                name: name.into(),
            }),
        6 => (0u32..3, piece).prop_map(|(index, s)| StreamEvent::ToolCallDelta {
            index,
            arguments: s.into()
        }),
        4 => (0u32..3).prop_map(|index| StreamEvent::ToolCallEnd { index }),
        2 => any::<u64>().prop_map(|n| StreamEvent::Usage(Usage {
            input_tokens: n,
            output_tokens: n,
            ..Usage::default()
        })),
        1 => Just(StreamEvent::Finish(FinishReason::Stop)),
        1 => Just(StreamEvent::Finish(FinishReason::ToolCalls)),
        1 => Just(StreamEvent::Error(Error::internal("boom"))),
        1 => Just(StreamEvent::Error(Error::new(ErrorKind::Cancelled, "stop"))),
    ]
}

/// What the client tracks while it reads, and the text it has shown.
#[derive(Default)]
struct Client {
    started: bool,
    ended: bool,
    open: BTreeMap<String, &'static str>,
    seen_blocks: BTreeSet<String>,
    streaming_calls: BTreeSet<String>,
    seen_calls: BTreeSet<String>,
    text: String,
    reasoning: String,
    /// `providerMetadata.rill` of every reasoning part that ended with one.
    sealed: Vec<Value>,
}

impl Client {
    fn read(&mut self, chunk: &Value) -> Result<(), String> {
        let kind = chunk["type"].as_str().unwrap_or_default();
        let id = |key: &str| chunk[key].as_str().unwrap_or_default().to_owned();
        if self.ended {
            return Err(format!("`{kind}` after the end"));
        }
        if !self.started && !matches!(kind, "start" | "error" | "abort") {
            return Err(format!("`{kind}` before `start`"));
        }
        match kind {
            "start" if self.started => return Err("a second `start`".into()),
            "start" => self.started = true,
            "text-start" | "reasoning-start" => {
                if !self.seen_blocks.insert(id("id")) {
                    return Err(format!("block id {} reused", id("id")));
                }
                let block = if kind == "text-start" {
                    "text"
                } else {
                    "reasoning"
                };
                self.open.insert(id("id"), block);
            }
            "text-delta" | "reasoning-delta" | "text-end" | "reasoning-end" => {
                let block = if kind.starts_with("text") {
                    "text"
                } else {
                    "reasoning"
                };
                if self.open.get(&id("id")) != Some(&block) {
                    return Err(format!("`{kind}` for a block that is not open: {chunk}"));
                }
                let delta = chunk["delta"].as_str().unwrap_or_default();
                match (kind.ends_with("-end"), block) {
                    (true, _) => {
                        self.open.remove(&id("id"));
                        if let Some(rill) = chunk.pointer("/providerMetadata/rill") {
                            self.sealed.push(rill.clone());
                        }
                    }
                    (false, "text") => self.text.push_str(delta),
                    (false, _) => self.reasoning.push_str(delta),
                }
            }
            "tool-input-start" => {
                if !self.seen_calls.insert(id("toolCallId")) {
                    return Err(format!("call id {} reused", id("toolCallId")));
                }
                self.streaming_calls.insert(id("toolCallId"));
            }
            "tool-input-delta" | "tool-input-available" | "tool-output-error" => {
                let streaming = self.streaming_calls.contains(&id("toolCallId"));
                if !streaming {
                    return Err(format!(
                        "`{kind}` for a call that is not streaming: {chunk}"
                    ));
                }
                if kind != "tool-input-delta" {
                    self.streaming_calls.remove(&id("toolCallId"));
                }
            }
            "start-step" | "finish-step" => {}
            "finish" | "error" | "abort" => self.ended = true,
            other => return Err(format!("unexpected `{other}`")),
        }
        Ok(())
    }
}

proptest! {
    #[test]
    fn any_event_sequence_gives_a_stream_the_client_accepts(
        events in prop::collection::vec(event(), 0..40),
        finish_reason in any::<bool>(),
    ) {
        let mut encoder = StreamEncoder::new("m".into(), None);
        if finish_reason {
            encoder = encoder.with_finish_reason();
        }
        let mut out: Vec<String> = events.iter().flat_map(|e| encoder.encode(e)).collect();
        out.extend(encoder.finish());
        prop_assert!(encoder.is_done());
        prop_assert_eq!(out.iter().filter(|p| *p == DONE).count(), 1);
        prop_assert_eq!(out.last().map(String::as_str), Some(DONE));

        let mut client = Client::default();
        for payload in &out[..out.len() - 1] {
            assert_strict(payload);
            let chunk: Value = serde_json::from_str(payload).unwrap();
            if let Err(problem) = client.read(&chunk) {
                prop_assert!(false, "{}\nstream: {:#?}", problem, out);
            }
        }
        prop_assert!(client.ended, "the stream must end in finish, error or abort");

        // The text, reasoning, signatures and redacted blocks before the first terminal
        // event all arrive, in order.
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut sealed = Vec::new();
        for event in &events {
            match event {
                StreamEvent::TextDelta(t) | StreamEvent::RefusalDelta(t) => text.push_str(t),
                StreamEvent::ReasoningDelta(t) => reasoning.push_str(t),
                StreamEvent::ReasoningSignature(s) if !s.is_empty() => {
                    sealed.push(serde_json::json!({"signature": s}));
                }
                StreamEvent::ReasoningRedacted(d) => {
                    sealed.push(serde_json::json!({"redactedData": d}));
                }
                e if e.is_terminal() => break,
                _ => {}
            }
        }
        prop_assert_eq!(client.text, text);
        prop_assert_eq!(client.reasoning, reasoning);
        prop_assert_eq!(client.sealed, sealed);
    }
}
