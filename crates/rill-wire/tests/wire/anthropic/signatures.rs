//! Thinking signatures through the Anthropic dialect. The streams in
//! `tests/fixtures/anthropic/` (written from Anthropic's documented stream) decode to
//! their signatures and redacted blocks, rill gives them to a client in its stream and
//! its body, and the next request of a two-turn tool conversation, whichever dialect the
//! client speaks, gives them back to the upstream first in the assistant's content, as
//! Anthropic wants.

use std::path::PathBuf;

use rill_core::{ChatRequest, FinishReason, Reasoning, StreamEvent, Usage};
use rill_wire::{anthropic, openai_responses, vercel_ui};
use serde_json::{Value, json};

use super::support::{decode_chunks, decode_sse, fold, snapshots, wire};
use crate::clients::{anthropic_content, anthropic_stream, responses_output, vercel_parts};

const SIGNATURE: &str = "EqQBCkYIBRgCKkDYtGkq8w0rlF3vO9pZk2m5hJx1Tq7cN4bW6eR0sU8yA3dL2fG5hK9jM1nP4qS7tV0wX3zB6cE9fH2iL5oQ8rEgz6T1YxcBm2NdVjKfGhoMaBcDeFgHiJkLmNoPqIjA=";
const THINKING: &str =
    "The user wants the weather in Paris. I should call get_weather with the city.";
const CALL_ID: &str = "toolu_01WeatherParis";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/anthropic"
    ))
    .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The events of a fixture, after checking that every way of chunking it agrees.
fn decode(name: &str) -> Vec<StreamEvent> {
    let bytes = fixture(name);
    let (whole, decoder) = decode_sse(&bytes);
    assert!(decoder.is_done(), "{name}: `message_stop` not seen");
    for split in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(split);
        assert_eq!(
            decode_chunks([head, tail]).0,
            whole,
            "{name} split at {split}"
        );
    }
    assert_eq!(decode_chunks(bytes.chunks(1)).0, whole, "{name} bytewise");
    whole
}

fn start(model: &str) -> StreamEvent {
    StreamEvent::Start {
        model: model.into(),
    }
}

#[test]
fn thinking_tool_use_fixture() {
    assert_eq!(
        decode("thinking_tool_use.sse"),
        vec![
            start("claude-sonnet-4-5-20250929"),
            StreamEvent::Usage(Usage {
                input_tokens: 412,
                output_tokens: 4,
                reasoning_tokens: None,
                cached_input_tokens: Some(0),
                cache_write_tokens: Some(0),
                cost_usd: None,
                estimated: false,
            }),
            StreamEvent::ReasoningDelta("The user wants the weather in Paris.".into()),
            StreamEvent::ReasoningDelta(" I should call get_weather with the city.".into()),
            StreamEvent::ReasoningSignature(SIGNATURE.into()),
            StreamEvent::TextDelta("I'll check the weather in Paris.".into()),
            StreamEvent::ToolCallStart {
                index: 0,
                id: CALL_ID.into(),
                name: "get_weather".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"city\": ".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "\"Paris\"}".into(),
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::Usage(Usage {
                input_tokens: 412,
                output_tokens: 121,
                reasoning_tokens: None,
                cached_input_tokens: Some(0),
                cache_write_tokens: Some(0),
                cost_usd: None,
                estimated: false,
            }),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn redacted_thinking_fixture() {
    let events = decode("redacted_thinking.sse");
    let completion = fold(&events);
    assert_eq!(
        completion.reasoning_blocks,
        [
            Reasoning::Redacted {
                data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQGqKq4J8bWrTq9yHd0sXkLcM3uVa".into()
            },
            Reasoning::signed(
                "Some of my reasoning was redacted; the answer is short.",
                "ErUBCkYIBRgCIkB3Jq9sVb2wXk0pL4mN8rT1yF6hD3gC5aZ7eU0iO2jQ9nS4vR6tW1xY8bK3mP5oL7qH0fJ2gE4dA6cB9zEgxsT7rUoPqLmNkJiHgFeDcBaGgw="
            ),
        ]
    );
    assert_eq!(completion.text, "The answer is 42.");
    assert_eq!(completion.finish_reason, Some(FinishReason::Stop));
    // Neither a signature nor a redacted block is a first token.
    let first = events.iter().position(StreamEvent::is_content).unwrap();
    assert!(matches!(&events[first], StreamEvent::ReasoningDelta(_)));
}

/// rill's stream says what Anthropic's says: the signature in a `signature_delta` just
/// before its thinking block stops, a redacted block whole at its start.
#[test]
fn the_stream_gives_the_client_each_signature_before_its_block_stops() {
    let mut events = decode("redacted_thinking.sse");
    events.truncate(events.len() - 1);
    events.extend(decode("thinking_tool_use.sse").into_iter().skip(2));
    let out = wire(&anthropic_stream(&events, true));
    snapshots().bind(|| insta::assert_snapshot!("anthropic_thinking_signature_stream", out));
}

/// A client that did not ask for thinking gets no reasoning text, but still the
/// signature, in an empty thinking block: the upstream needs it back.
#[test]
fn without_thinking_asked_for_a_signature_comes_in_an_empty_thinking_block() {
    let content = anthropic_content(&anthropic_stream(&decode("thinking_tool_use.sse"), false));
    assert_eq!(
        content,
        [
            json!({"type": "thinking", "thinking": "", "signature": SIGNATURE}),
            json!({"type": "text", "text": "I'll check the weather in Paris."}),
            json!({"type": "tool_use", "id": CALL_ID, "name": "get_weather", "input": {"city": "Paris"}}),
        ]
    );
}

#[test]
fn the_body_carries_signatures_and_redacted_blocks() {
    let completion = fold(&decode("redacted_thinking.sse"));
    let body = anthropic::message_body("msg_1", "claude-x", &completion, true);
    let pretty: Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&pretty).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("anthropic_message_body_signatures", pretty));
    // Unasked, the text goes but the signatures stay.
    let body: Value =
        serde_json::from_str(&anthropic::message_body("msg_1", "c", &completion, false)).unwrap();
    let kinds: Vec<_> = body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["type"].clone(), b["thinking"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("redacted_thinking"), Value::Null),
            (json!("thinking"), json!("")),
            (json!("text"), Value::Null),
        ]
    );
}

/// The assistant's turn as it should reach Anthropic in the next request: its thinking
/// block first, signature intact, then its text and call.
fn expected_turn() -> Value {
    json!({
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
            {"type": "text", "text": "I'll check the weather in Paris."},
            {"type": "tool_use", "id": CALL_ID, "name": "get_weather", "input": {"city": "Paris"}},
        ]
    })
}

/// The upstream body for the client's next request, and its assistant turn.
fn upstream(request: &ChatRequest) -> (String, Value) {
    let body = anthropic::request_body(request, "claude-sonnet-4-5", true);
    let value: Value = serde_json::from_str(&body).unwrap();
    let turn = value["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .unwrap()
        .clone();
    (body, turn)
}

/// An Anthropic client's next request: the assistant's content as its SDK assembled it,
/// then the tool's result.
fn anthropic_next(content: Vec<Value>) -> ChatRequest {
    let body = json!({
        "model": "rill-model", "max_tokens": 1024,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": CALL_ID, "content": "sunny"}]}
        ]
    });
    anthropic::parse_request(body.to_string().as_bytes())
        .unwrap()
        .request
}

#[test]
fn the_next_request_gives_anthropic_its_thinking_back_first() {
    let events = decode("thinking_tool_use.sse");

    // An Anthropic client, streaming.
    let (body, turn) = upstream(&anthropic_next(anthropic_content(&anthropic_stream(
        &events, true,
    ))));
    assert_eq!(turn, expected_turn());
    let pretty: Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&pretty).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("anthropic_request_body_thinking_back", pretty));

    // An Anthropic client, not streaming.
    let message: Value = serde_json::from_str(&anthropic::message_body(
        "msg_1",
        "rill-model",
        &fold(&events),
        true,
    ))
    .unwrap();
    let content = message["content"].as_array().unwrap().clone();
    assert_eq!(upstream(&anthropic_next(content)).1, expected_turn());

    // A Responses client: the output items go back as they came (`encrypted_content`).
    let mut input = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    input.extend(responses_output(&events));
    input.push(json!({"type": "function_call_output", "call_id": CALL_ID, "output": "sunny"}));
    let body = json!({"model": "rill-model", "input": input});
    let parsed = openai_responses::parse_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(upstream(&parsed.request).1, expected_turn());

    // `useChat`: the reasoning part's `providerMetadata`.
    let parts = vercel_parts(&events, |_| json!("sunny"));
    let body = json!({"messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather in Paris?"}]},
        {"id": "msg-rill", "role": "assistant", "parts": parts}
    ]});
    let parsed = vercel_ui::parse_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(upstream(&parsed.request).1, expected_turn());
}

/// Unsigned reasoning (rill's own `signature: ""` of old, or another provider's text)
/// does not go to Anthropic, which refuses thinking it did not sign.
#[test]
fn unsigned_thinking_is_not_sent_upstream() {
    let request = anthropic_next(vec![
        json!({"type": "thinking", "thinking": "Unsigned.", "signature": ""}),
        json!({"type": "redacted_thinking", "data": "opaque"}),
        json!({"type": "tool_use", "id": CALL_ID, "name": "get_weather", "input": {}}),
    ]);
    assert_eq!(
        upstream(&request).1["content"],
        json!([
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": CALL_ID, "name": "get_weather", "input": {}}
        ])
    );
}
