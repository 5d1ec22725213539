//! `request_body`: the body rill sends an Anthropic upstream, each mapping and
//! normalisation, and that the body parses back to the request.

use rill_core::{ChatRequest, Message, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice};
use rill_wire::anthropic::{DEFAULT_MAX_TOKENS, parse_request, request_body};
use serde_json::{Value, json};

use super::support::snapshots;

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

fn user(text: &str) -> Message {
    Message::User { text: text.into() }
}

fn assistant(text: Option<&str>, tool_calls: Vec<ToolCall>) -> Message {
    Message::Assistant {
        text: text.map(Into::into),
        tool_calls,
        reasoning: Vec::new(),
    }
}

fn tool(id: &str, text: &str) -> Message {
    Message::Tool {
        tool_call_id: id.into(),
        text: text.into(),
    }
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    }
}

/// A conversation that uses every mapping at once.
fn request() -> ChatRequest {
    ChatRequest {
        tally: Default::default(),
        model: "client-name".into(),
        messages: vec![
            Message::System {
                text: "be brief".into(),
            },
            user("weather in \"Paris\" and Rome?"),
            assistant(
                Some("Checking."),
                vec![
                    call("toolu_1", "get_weather", "{\"city\": \"Paris\"}"),
                    call("toolu_2", "get_weather", "{\"city\":\"Ro"),
                ],
            ),
            tool("toolu_1", "sunny"),
            tool("toolu_2", ""),
            user("and tomorrow?"),
            assistant(Some("Also sunny."), vec![]),
            user("thanks"),
        ],
        tools: vec![weather_tool()],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
        sampling: Sampling {
            temperature: Some(0.7),
            top_p: Some(0.9),
            top_k: Some(40),
            max_tokens: Some(256),
            stop: vec!["END".into()],
            seed: Some(42),
            frequency_penalty: Some(0.5),
            presence_penalty: Some(0.1),
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object"}),
            strict: false,
        }),
    }
}

fn body(request: &ChatRequest) -> Value {
    let body = request_body(request, "claude-up", true);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON: {e}: {body}"))
}

/// A request of these messages and nothing else.
fn messages(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        messages,
        ..ChatRequest::default()
    }
}

#[test]
fn streaming_body_snapshot() {
    let body = serde_json::to_string_pretty(&body(&request())).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("anthropic_request_body_stream", body));
}

#[test]
fn minimal_body_has_the_default_max_tokens() {
    assert_eq!(DEFAULT_MAX_TOKENS, 4096);
    assert_eq!(
        request_body(&messages(vec![user("hi")]), "m", false),
        r#"{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],"stream":false}"#
    );
}

#[test]
fn system_messages_go_to_the_top_joined_and_empty_ones_are_left_out() {
    let request = messages(vec![
        Message::System { text: "a".into() },
        user("hi"),
        Message::System {
            text: String::new(),
        },
        Message::System { text: "b".into() },
    ]);
    let body = body(&request);
    assert_eq!(body["system"], "a\n\nb");
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    let only_empty = messages(vec![
        Message::System {
            text: String::new(),
        },
        user("x"),
    ]);
    assert!(self::body(&only_empty).get("system").is_none());
}

#[test]
fn consecutive_messages_of_one_side_become_one_turn() {
    let request = messages(vec![
        user("a"),
        user("b"),
        assistant(Some("c"), vec![call("t1", "f", "{}")]),
        assistant(Some("d"), vec![]),
        tool("t1", "r"),
        user("e"),
    ]);
    assert_eq!(
        body(&request)["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "text", "text": "a"},
                {"type": "text", "text": "b"},
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "c"},
                {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
                {"type": "text", "text": "d"},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "r"},
                {"type": "text", "text": "e"},
            ]},
        ])
    );
}

#[test]
fn arguments_that_are_not_a_json_object_are_sent_as_an_empty_object() {
    for arguments in ["", "{\"a\":", "[1]", "\"s\"", "null", "3"] {
        let request = messages(vec![assistant(None, vec![call("t", "f", arguments)])]);
        assert_eq!(
            body(&request)["messages"][0]["content"],
            json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
            "{arguments:?}"
        );
    }
    let nested = messages(vec![assistant(
        None,
        vec![call("t", "f", r#" { "b": [1, {"c": null}], "a": "x" } "#)],
    )]);
    assert_eq!(
        body(&nested)["messages"][0]["content"][0]["input"],
        json!({"b": [1, {"c": null}], "a": "x"})
    );
}

#[test]
fn empty_texts_are_only_sent_when_they_are_the_whole_turn() {
    let cases = [
        (
            vec![assistant(Some(""), vec![call("t", "f", "{}")])],
            json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
        ),
        (vec![user(""), user("x")], json!("x")),
        (vec![user(""), user("")], json!("")),
        (vec![assistant(Some(""), vec![])], json!("")),
        (vec![assistant(None, vec![])], json!([])),
        (
            vec![tool("t", "")],
            json!([{"type": "tool_result", "tool_use_id": "t"}]),
        ),
    ];
    for (history, content) in cases {
        let request = messages(history.clone());
        assert_eq!(
            body(&request)["messages"][0]["content"],
            content,
            "{history:?}"
        );
    }
}

#[test]
fn tool_choice_maps_and_is_only_sent_with_tools() {
    let cases = [
        (ToolChoice::Auto, json!({"type": "auto"})),
        (ToolChoice::None, json!({"type": "none"})),
        (ToolChoice::Required, json!({"type": "any"})),
        (
            ToolChoice::Tool("get_weather".into()),
            json!({"type": "tool", "name": "get_weather"}),
        ),
    ];
    for (choice, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.tool_choice = Some(choice.clone());
        assert!(body(&request).get("tool_choice").is_none(), "{choice:?}");
        request.tools = vec![weather_tool()];
        assert_eq!(body(&request)["tool_choice"], expected, "{choice:?}");
    }
}

#[test]
fn formats_without_an_anthropic_equivalent_and_openai_only_sampling_are_not_sent() {
    for format in [ResponseFormat::Text, ResponseFormat::JsonObject] {
        let mut request = messages(vec![user("x")]);
        request.response_format = Some(format);
        request.sampling = Sampling {
            seed: Some(1),
            frequency_penalty: Some(0.5),
            presence_penalty: Some(0.5),
            ..Sampling::default()
        };
        assert_eq!(
            body(&request),
            json!({
                "model": "claude-up",
                "max_tokens": 4096,
                "messages": [{"role": "user", "content": "x"}],
                "stream": true,
            })
        );
    }
}

#[test]
fn body_parses_back_to_the_request_but_for_the_documented_normalisations() {
    let parsed = parse_request(request_body(&request(), "claude-up", true).as_bytes()).unwrap();
    assert!(parsed.stream);
    assert!(!parsed.thinking);
    let mut expected = request();
    expected.model = "claude-up".into();
    // Compact JSON; a call cut off mid-way keeps the object as far as it went.
    expected.messages[2] = assistant(
        Some("Checking."),
        vec![
            call("toolu_1", "get_weather", "{\"city\":\"Paris\"}"),
            call("toolu_2", "get_weather", "{\"city\":\"Ro\"}"),
        ],
    );
    expected.sampling.seed = None;
    expected.sampling.frequency_penalty = None;
    expected.sampling.presence_penalty = None;
    expected.response_format = Some(ResponseFormat::JsonSchema {
        name: "output".into(),
        schema: json!({"type": "object"}),
        strict: true,
    });
    assert_eq!(parsed.request, expected);

    let parsed = parse_request(request_body(&request(), "m", false).as_bytes()).unwrap();
    assert!(!parsed.stream);
}
