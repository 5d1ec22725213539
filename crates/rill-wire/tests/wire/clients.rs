//! What a client keeps of rill's answer and sends back as the assistant's turn of its
//! next request, rebuilt from rill's output the way each dialect's client does it: the
//! Anthropic SDKs' stream accumulation, the Responses object's `output`, and the parts
//! `useChat` assembles from a UI message stream. The tests of reasoning signatures use
//! them to check that what an upstream signed comes back to it.

use rill_core::StreamEvent;
use rill_wire::{anthropic, openai_responses, vercel_ui};
use serde_json::{Value, json};

/// The `content` blocks of the Message an Anthropic SDK assembles from `events` (its
/// `MessageStream` accumulation): block starts as they come, text, thinking and
/// signature deltas into their block, and a `tool_use`'s `input_json_delta`s parsed at
/// its stop.
pub fn anthropic_content(events: &[anthropic::SseEvent]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut json_parts: Vec<String> = Vec::new();
    for event in events {
        let data: Value = serde_json::from_str(&event.data).expect("JSON");
        let index = data["index"].as_u64().unwrap_or_default() as usize;
        match event.event {
            "content_block_start" => {
                assert_eq!(index, blocks.len(), "blocks start in order");
                blocks.push(data["content_block"].clone());
                json_parts.push(String::new());
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                let block = &mut blocks[index];
                let append = |block: &mut Value, key: &str, piece: &Value| {
                    let text = format!(
                        "{}{}",
                        block[key].as_str().unwrap(),
                        piece.as_str().unwrap()
                    );
                    block[key] = Value::String(text);
                };
                match delta["type"].as_str().unwrap() {
                    "text_delta" => append(block, "text", &delta["text"]),
                    "thinking_delta" => append(block, "thinking", &delta["thinking"]),
                    "signature_delta" => block["signature"] = delta["signature"].clone(),
                    "input_json_delta" => {
                        json_parts[index].push_str(delta["partial_json"].as_str().unwrap());
                    }
                    other => panic!("unexpected delta `{other}`"),
                }
            }
            "content_block_stop" if blocks[index]["type"] == "tool_use" => {
                let partial = &json_parts[index];
                if !partial.is_empty() {
                    blocks[index]["input"] = serde_json::from_str(partial).expect("whole input");
                }
            }
            _ => {}
        }
    }
    blocks
}

/// Runs an Anthropic stream encoder over `events` (`finish` included).
pub fn anthropic_stream(events: &[StreamEvent], thinking: bool) -> Vec<anthropic::SseEvent> {
    let mut encoder =
        anthropic::StreamEncoder::new("msg_rill".into(), "rill-model".into(), thinking);
    let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    out
}

/// The `output` items of the Response object a Responses stream ends with: what an
/// SDK user appends to the next request's `input` (items are sent back as they came).
pub fn responses_output(events: &[StreamEvent]) -> Vec<Value> {
    let echo = openai_responses::Echo::default();
    let mut encoder =
        openai_responses::StreamEncoder::new("resp_rill".into(), "rill-model".into(), 0, echo);
    let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    let last = out.last().expect("a terminal event");
    assert_eq!(last.event, "response.completed");
    let data: Value = serde_json::from_str(&last.data).unwrap();
    data["response"]["output"].as_array().unwrap().clone()
}

/// The parts of the assistant message `useChat` builds from rill's UI message stream for
/// `events` (as `processUIMessageStream` does: a `step-start` per step, a part per text or
/// reasoning block with the `providerMetadata` its chunks carried, a tool part per call),
/// every call then answered by `output` (`addToolResult`).
pub fn vercel_parts(events: &[StreamEvent], output: impl Fn(&Value) -> Value) -> Vec<Value> {
    let mut encoder = vercel_ui::StreamEncoder::new("msg-rill".into(), None);
    let mut payloads: Vec<String> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    payloads.extend(encoder.finish());
    let mut parts: Vec<Value> = Vec::new();
    for payload in payloads.iter().filter(|p| *p != vercel_ui::DONE) {
        let chunk: Value = serde_json::from_str(payload).unwrap();
        let by_id = |parts: &mut Vec<Value>, key: &str| -> usize {
            parts
                .iter()
                .rposition(|p| p.get(key) == chunk.get(key))
                .expect("a part for this chunk")
        };
        match chunk["type"].as_str().unwrap() {
            "start-step" => parts.push(json!({"type": "step-start"})),
            kind @ ("text-start" | "reasoning-start") => {
                let kind = kind.trim_end_matches("-start");
                let mut part = json!({"type": kind, "text": "", "id": chunk["id"]});
                if let Some(metadata) = chunk.get("providerMetadata") {
                    part["providerMetadata"] = metadata.clone();
                }
                parts.push(part);
            }
            "text-delta" | "reasoning-delta" => {
                let at = by_id(&mut parts, "id");
                let text = format!(
                    "{}{}",
                    parts[at]["text"].as_str().unwrap(),
                    chunk["delta"].as_str().unwrap()
                );
                parts[at]["text"] = Value::String(text);
            }
            "text-end" | "reasoning-end" => {
                let at = by_id(&mut parts, "id");
                if let Some(metadata) = chunk.get("providerMetadata") {
                    parts[at]["providerMetadata"] = metadata.clone();
                }
                parts[at]["state"] = json!("done");
                parts[at].as_object_mut().unwrap().remove("id");
            }
            "tool-input-start" => parts.push(json!({
                "type": format!("tool-{}", chunk["toolName"].as_str().unwrap()),
                "toolCallId": chunk["toolCallId"],
                "state": "input-streaming",
            })),
            "tool-input-available" => {
                let at = by_id(&mut parts, "toolCallId");
                parts[at]["state"] = json!("output-available");
                parts[at]["input"] = chunk["input"].clone();
                parts[at]["output"] = output(&chunk["input"]);
            }
            _ => {}
        }
    }
    parts
}
