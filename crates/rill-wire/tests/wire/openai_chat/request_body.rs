//! `request_body`: the body rill sends upstream, and that it parses back to the same request.

use rill_core::{ChatRequest, Message, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice};
use rill_wire::openai_chat::{parse_request, request_body};
use serde_json::json;

use super::support::snapshots;

fn request() -> ChatRequest {
    ChatRequest {
        tally: Default::default(),
        model: "client-name".into(),
        messages: vec![
            Message::System {
                text: "be brief".into(),
            },
            Message::User {
                text: "weather in \"Paris\"?".into(),
            },
            Message::Assistant {
                text: None,
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                }],
                reasoning: Vec::new(),
            },
            Message::Tool {
                tool_call_id: "call_1".into(),
                text: "sunny".into(),
            },
            Message::Assistant {
                text: Some("Sunny.".into()),
                tool_calls: vec![],
                reasoning: Vec::new(),
            },
        ],
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Current weather".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
        sampling: Sampling {
            temperature: Some(0.7),
            top_p: Some(0.9),
            top_k: None,
            max_tokens: Some(256),
            stop: vec!["END".into()],
            seed: Some(42),
            frequency_penalty: Some(0.5),
            presence_penalty: None,
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object"}),
            strict: true,
        }),
    }
}

#[test]
fn streaming_body_snapshot() {
    let body = request_body(&request(), "gpt-4o-mini", true);
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_request_body_stream", body));
}

#[test]
fn minimal_non_streaming_body() {
    let request = ChatRequest {
        messages: vec![Message::User { text: "hi".into() }],
        ..ChatRequest::default()
    };
    assert_eq!(
        request_body(&request, "m", false),
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false}"#
    );
}

#[test]
fn body_parses_back_to_the_same_request() {
    let original = request();
    let parsed = parse_request(request_body(&original, "client-name", true).as_bytes()).unwrap();
    assert!(parsed.stream && parsed.include_usage);
    assert_eq!(parsed.request, original);

    let mut other = request();
    other.tool_choice = Some(ToolChoice::Required);
    other.response_format = Some(ResponseFormat::JsonObject);
    other.sampling.seed = Some(u64::MAX);
    let parsed = parse_request(request_body(&other, "client-name", false).as_bytes()).unwrap();
    assert!(!parsed.stream);
    assert_eq!(parsed.request, other);
}

#[test]
fn top_k_is_not_sent() {
    let mut r = request();
    r.sampling.top_k = Some(40);
    assert!(!request_body(&r, "m", false).contains("top_k"));
}
