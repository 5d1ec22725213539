//! Thought signatures back to Gemini: `request_body` puts a model turn's signature on
//! the part Gemini put it on (the first `functionCall` of a step, or the text of a step
//! without calls), and a two-turn tool conversation through each client dialect that can
//! carry a signature (Anthropic, Responses, `useChat`) gives Gemini its signature back
//! where it was, so that Gemini 3 takes the next request.

use std::path::PathBuf;

use rill_core::{ChatRequest, Message, Reasoning, StreamEvent, ToolCall};
use rill_wire::{anthropic, gemini, openai_responses, vercel_ui};
use serde_json::{Value, json};

use super::support::{decode_sse, snapshots};
use crate::clients::{anthropic_content, anthropic_stream, responses_output, vercel_parts};

const CALL_SIGNATURE: &str = "CiQBcsjafPJ2bW5v0rQ7x1kZ3m9Hn2Ls8dWq4eTg6yUo0pVi7aESeAFyyNp8xK3qLm9Vb2Ts5nHw0dRz7jQk4cY1uPi6oE3gXaB8fN2hM9sL0vT5qW7yU1iO3pA=";
const TEXT_SIGNATURE: &str = "CiIBcsjafNq8tW3y0vX5zB1nM4kL7hJ2gF9dS6aP3oI0uY8tR5eW2qQ1mN4bV7cX0zL3kJ6hG9fD2sA5pO8iU1yT4rE7wQ0=";

fn fixture(name: &str) -> Vec<StreamEvent> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gemini"
    ))
    .join(name);
    decode_sse(&std::fs::read(&path).unwrap())
}

fn call(id: &str, city: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!(r#"{{"city":"{city}"}}"#),
    }
}

/// The `contents` of the body for `messages`.
fn contents(messages: Vec<Message>) -> Value {
    let request = ChatRequest {
        messages,
        ..ChatRequest::default()
    };
    let body: Value = serde_json::from_str(&gemini::request_body(&request).unwrap()).unwrap();
    body["contents"].clone()
}

#[test]
fn a_turns_signature_goes_on_its_first_call_or_else_on_its_text() {
    let user = Message::User { text: "q".into() };
    let contents = contents(vec![
        user.clone(),
        // The step's signature is its last: one that sealed thought text comes before.
        Message::Assistant {
            text: Some("Checking.".into()),
            tool_calls: vec![call("a", "Paris"), call("b", "Rome")],
            reasoning: vec![
                Reasoning::signed("Thought text is not sent.", "sig-thought"),
                Reasoning::signed("", "sig-call"),
                Reasoning::unsigned("Neither is this."),
            ],
        },
        Message::Tool {
            tool_call_id: "a".into(),
            text: "sunny".into(),
        },
        Message::Tool {
            tool_call_id: "b".into(),
            text: "rain".into(),
        },
        Message::Assistant {
            text: Some("Sunny and rainy.".into()),
            tool_calls: vec![],
            reasoning: vec![Reasoning::signed("", "sig-text")],
        },
        user.clone(),
        // Nothing to put a signature on, and nothing Gemini reads: left out.
        Message::Assistant {
            text: None,
            tool_calls: vec![],
            reasoning: vec![Reasoning::signed("", "sig-alone")],
        },
        Message::Assistant {
            text: Some("Redacted blocks are Anthropic's.".into()),
            tool_calls: vec![],
            reasoning: vec![Reasoning::Redacted { data: "x".into() }],
        },
    ]);
    assert_eq!(
        contents,
        json!([
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sig-call"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
                {"functionResponse": {"name": "get_weather", "response": {"result": "rain"}}}
            ]},
            {"role": "model", "parts": [{"text": "Sunny and rainy.", "thoughtSignature": "sig-text"}]},
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [{"text": "Redacted blocks are Anthropic's."}]}
        ])
    );
}

/// The model turn Gemini 3 must get back: the signature on the first call only.
fn expected_turn() -> Value {
    json!({"role": "model", "parts": [
        {"text": "I'll check both cities."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": CALL_SIGNATURE},
        {"functionCall": {"name": "get_weather", "args": {"city": "London"}}}
    ]})
}

fn call_id(n: u32) -> String {
    format!("call_Zq3nZ8v0Ko2u1dkPqbOYuQk_{n}")
}

fn output(input: &Value) -> Value {
    match input["city"].as_str() {
        Some("Paris") => json!("sunny"),
        _ => json!("rain"),
    }
}

/// The Gemini body for the client's next request, and its model turn.
fn upstream(request: &ChatRequest) -> (String, Value) {
    let body = gemini::request_body(request).unwrap();
    let value: Value = serde_json::from_str(&body).unwrap();
    let turn = value["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == "model")
        .unwrap()
        .clone();
    (body, turn)
}

fn anthropic_next(content: Vec<Value>, results: Vec<Value>) -> ChatRequest {
    let mut messages = vec![
        json!({"role": "user", "content": "Weather in Paris and London?"}),
        json!({"role": "assistant", "content": content}),
    ];
    if !results.is_empty() {
        messages.push(json!({"role": "user", "content": results}));
    }
    let body = json!({"model": "gemini", "max_tokens": 512, "messages": messages});
    anthropic::parse_request(body.to_string().as_bytes())
        .unwrap()
        .request
}

#[test]
fn the_next_request_gives_gemini_its_signature_back_on_the_first_call() {
    let events = fixture("thought_signature_function_call.sse");
    let results = vec![
        json!({"type": "tool_result", "tool_use_id": call_id(0), "content": "sunny"}),
        json!({"type": "tool_result", "tool_use_id": call_id(1), "content": "rain"}),
    ];

    // An Anthropic client that did not ask for thinking: the signature comes in an empty
    // thinking block before the first `tool_use`, and goes back as it came.
    let content = anthropic_content(&anthropic_stream(&events, false));
    assert_eq!(
        content[1],
        json!({"type": "thinking", "thinking": "", "signature": CALL_SIGNATURE})
    );
    let (body, turn) = upstream(&anthropic_next(content, results));
    assert_eq!(turn, expected_turn());
    let pretty: Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&pretty).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("gemini_request_body_signature_back", pretty));

    // A Responses client: a summary-less reasoning item carries it as `encrypted_content`.
    let mut input = vec![json!({"role": "user", "content": "Weather in Paris and London?"})];
    input.extend(responses_output(&events));
    for (n, result) in ["sunny", "rain"].into_iter().enumerate() {
        let id = call_id(n as u32);
        input.push(json!({"type": "function_call_output", "call_id": id, "output": result}));
    }
    let body = json!({"model": "gemini", "input": input});
    let parsed = openai_responses::parse_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(upstream(&parsed.request).1, expected_turn());

    // `useChat`: an empty reasoning part whose `providerMetadata` holds it.
    let parts = vercel_parts(&events, output);
    let body = json!({"messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather in Paris and London?"}]},
        {"id": "msg-rill", "role": "assistant", "parts": parts}
    ]});
    let parsed = vercel_ui::parse_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(upstream(&parsed.request).1, expected_turn());
}

/// A step without calls: the signature Gemini put on its text goes back on it, and the
/// text a client got is one piece (the signature came after it, not in its middle).
#[test]
fn a_text_answers_signature_goes_back_on_its_text() {
    let events = fixture("thought_signature_text.sse");
    let content = anthropic_content(&anthropic_stream(&events, false));
    assert_eq!(
        content,
        [
            json!({"type": "text", "text": "The capital of France is Paris."}),
            json!({"type": "thinking", "thinking": "", "signature": TEXT_SIGNATURE}),
        ]
    );
    let mut request = anthropic_next(content, Vec::new());
    request.messages.push(Message::User {
        text: "And of Italy?".into(),
    });
    assert_eq!(
        upstream(&request).1,
        json!({"role": "model", "parts": [
            {"text": "The capital of France is Paris.", "thoughtSignature": TEXT_SIGNATURE}
        ]})
    );
}
