//! The non-streaming Response object, and the error bodies.

use rill_core::{
    ChatRequest, Completion, Error, ErrorKind, FinishReason, ResponseFormat, Sampling, Tool,
    ToolCall, ToolChoice, Usage,
};
use rill_wire::openai_responses::{
    Echo, StreamEncoder, error_body, error_from_body, response_body,
};
use serde_json::{Value, json};

use super::support::snapshots;

const ID: &str = "resp_test123";
const MODEL: &str = "rill-test";
const CREATED: u64 = 1_700_000_000;

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

/// An echo of a request with every honoured setting.
fn echo() -> Echo {
    let request = ChatRequest {
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Current weather".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
        sampling: Sampling {
            temperature: Some(0.5),
            top_p: Some(0.25),
            max_tokens: Some(256),
            ..Sampling::default()
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object"}),
            strict: true,
        }),
        ..ChatRequest::default()
    };
    Echo::new(&request, Some("Be brief.".into()))
}

#[test]
fn response_body_with_reasoning_text_and_usage() {
    let completion = Completion {
        model: Some("upstream-model".into()),
        text: "It is sunny.".into(),
        reasoning: "Look it up.".into(),
        finish_reason: Some(FinishReason::Stop),
        usage: Some(Usage {
            input_tokens: 9,
            output_tokens: 4,
            reasoning_tokens: Some(1),
            cached_input_tokens: Some(2),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }),
        ..Completion::default()
    };
    let body = response_body(ID, MODEL, CREATED, &echo(), &completion);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_body", body));
}

#[test]
fn response_body_with_tool_calls_and_no_usage() {
    let completion = Completion {
        tool_calls: vec![
            call("call_a", "get_weather", "{\"city\":\"Paris\"}"),
            call("", "get_time", "{}"),
        ],
        finish_reason: Some(FinishReason::ToolCalls),
        ..Completion::default()
    };
    let body = response_body(ID, MODEL, CREATED, &Echo::default(), &completion);
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_body_tool_calls", body));
}

/// The body is the object the stream's terminal event carries, for the same answer.
#[test]
fn response_body_is_the_streams_last_response_object() {
    use rill_core::StreamEvent;
    let cases = [
        Completion {
            text: "Once upon a".into(),
            refusal: "No.".into(),
            finish_reason: Some(FinishReason::Length),
            usage: Some(Usage::default()),
            ..Completion::default()
        },
        Completion::default(),
        Completion {
            reasoning: "Hmm".into(),
            tool_calls: vec![call("call_x", "f", "{\"a\"")],
            finish_reason: Some(FinishReason::Length),
            ..Completion::default()
        },
    ];
    for completion in cases {
        let mut events = vec![
            StreamEvent::ReasoningDelta(completion.reasoning.clone()),
            StreamEvent::TextDelta(completion.text.clone()),
            StreamEvent::RefusalDelta(completion.refusal.clone()),
        ];
        for (index, call) in (0..).zip(&completion.tool_calls) {
            events.push(StreamEvent::ToolCallStart {
                index,
                id: call.id.clone(),
                name: call.name.clone(),
            });
            events.push(StreamEvent::ToolCallDelta {
                index,
                arguments: call.arguments.clone(),
            });
        }
        events.extend(completion.usage.map(StreamEvent::Usage));
        events.push(StreamEvent::Finish(
            completion.finish_reason.unwrap_or(FinishReason::Stop),
        ));
        let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), CREATED, echo());
        let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
        out.extend(encoder.finish());
        let last: Value = serde_json::from_str(&out.last().unwrap().data).unwrap();
        let body: Value =
            serde_json::from_str(&response_body(ID, MODEL, CREATED, &echo(), &completion)).unwrap();
        assert_eq!(last["response"], body, "{completion:?}");
    }
}

/// Each reasoning block is an item, its signature the item's `encrypted_content`;
/// redacted blocks have no place. For an answer whose reasoning came first, the body is
/// the stream's last Response object.
#[test]
fn reasoning_blocks_are_items_with_their_encrypted_content() {
    use rill_core::{Reasoning, StreamEvent, ToolCallAccumulator};
    let events = [
        StreamEvent::ReasoningDelta("Plan.".into()),
        StreamEvent::ReasoningSignature("enc-1".into()),
        StreamEvent::ReasoningSignature("enc-2".into()),
        StreamEvent::ReasoningRedacted("opaque".into()),
        StreamEvent::TextDelta("Checking.".into()),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{}".into(),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
    ];
    let mut completion = Completion::default();
    let mut tools = ToolCallAccumulator::default();
    for event in &events {
        completion.apply(event.clone(), &mut tools).unwrap();
    }
    completion.tool_calls = tools.into_calls();
    assert_eq!(
        completion.reasoning_blocks[..2],
        [
            Reasoning::signed("Plan.", "enc-1"),
            Reasoning::signed("", "enc-2")
        ]
    );
    let body = response_body(ID, MODEL, CREATED, &echo(), &completion);
    let value: Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&value["output"]).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_body_signatures", pretty));
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), CREATED, echo());
    let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    let last: Value = serde_json::from_str(&out.last().unwrap().data).unwrap();
    assert_eq!(last["response"], value);
}

/// The HTTP error body is Chat Completions' own.
#[test]
fn error_bodies() {
    let errors = [
        Error::invalid_request("`input` must contain at least one item").with_param("input"),
        Error::model_not_found("gpt-x"),
        Error::new(ErrorKind::Overloaded, "no capacity right now"),
    ];
    let bodies: Vec<String> = errors.iter().map(error_body).collect();
    for (error, body) in errors.iter().zip(&bodies) {
        assert_eq!(*body, rill_wire::openai_chat::error_body(error));
    }
    snapshots()
        .bind(|| insta::assert_snapshot!("openai_responses_error_bodies", bodies.join("\n")));
    let upstream = error_from_body(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
    );
    assert_eq!(upstream.kind, ErrorKind::RateLimited);
    assert_eq!(upstream.message, "Rate limit reached");
    assert_eq!(upstream.code.as_deref(), Some("rate_limit_exceeded"));
    let proxy = error_from_body(502, "<html>Bad Gateway</html>");
    assert_eq!(proxy.kind, ErrorKind::Upstream);
    assert_eq!(proxy.message, "the upstream answered with HTTP status 502");
}
