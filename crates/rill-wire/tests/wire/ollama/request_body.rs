//! `request_body`: core requests as Ollama `/api/chat` bodies.

use rill_core::{ChatRequest, Message, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice};
use rill_wire::ollama::request_body;
use serde_json::{Value, json};

use super::support::snapshots;

fn user(text: &str) -> Message {
    Message::User { text: text.into() }
}

fn system(text: &str) -> Message {
    Message::System { text: text.into() }
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
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
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        }),
    }
}

fn now_tool() -> Tool {
    Tool {
        name: "now".into(),
        description: None,
        parameters: json!({}),
    }
}

/// A conversation that uses every mapping at once.
fn request() -> ChatRequest {
    ChatRequest {
        tally: Default::default(),
        model: "client-name".into(),
        messages: vec![
            system("be brief"),
            user("weather in \"Paris\" and Rome?"),
            assistant(
                Some("Checking."),
                vec![
                    call("call_1", "get_weather", "{\"city\": \"Paris\"}"),
                    call("call_2", "get_weather", "{\"city\":\"Ro"),
                ],
            ),
            tool("call_1", "sunny"),
            tool("call_2", ""),
            user("and tomorrow?"),
            assistant(None, vec![]),
            user("thanks"),
        ],
        tools: vec![weather_tool(), now_tool()],
        tool_choice: Some(ToolChoice::Auto),
        sampling: Sampling {
            temperature: Some(0.7),
            top_p: Some(0.9),
            top_k: Some(40),
            max_tokens: Some(256),
            stop: vec!["END".into()],
            seed: Some(42),
            frequency_penalty: Some(0.5),
            presence_penalty: Some(0.25),
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object", "properties": {"sky": {"type": "string"}}}),
            strict: true,
        }),
    }
}

fn body(request: &ChatRequest) -> Value {
    let body = request_body(request, "llama3.2").unwrap_or_else(|e| panic!("refused: {e:?}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON: {e}: {body}"))
}

fn messages(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        messages,
        ..ChatRequest::default()
    }
}

#[test]
fn streaming_body_snapshot() {
    let body = serde_json::to_string_pretty(&body(&request())).unwrap();
    snapshots().bind(|| insta::assert_snapshot!("ollama_request_body", body));
}

#[test]
fn a_minimal_body_is_the_model_the_messages_and_stream() {
    assert_eq!(
        request_body(&messages(vec![user("hi")]), "qwen3:8b").unwrap(),
        r#"{"model":"qwen3:8b","messages":[{"role":"user","content":"hi"}],"stream":true}"#
    );
}

#[test]
fn tool_results_are_named_after_the_latest_earlier_call_with_their_id() {
    let request = messages(vec![
        user("q"),
        tool("call_0", "orphan"),
        assistant(None, vec![call("call_0", "first", "{}")]),
        tool("call_0", "1"),
        assistant(None, vec![call("call_0", "second", "")]),
        tool("call_0", "2"),
    ]);
    assert_eq!(
        body(&request)["messages"],
        json!([
            {"role": "user", "content": "q"},
            // No earlier call: sent without a name.
            {"role": "tool", "content": "orphan"},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "first", "arguments": {}}}]},
            {"role": "tool", "content": "1", "tool_name": "first"},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "second", "arguments": {}}}]},
            {"role": "tool", "content": "2", "tool_name": "second"},
        ])
    );
}

#[test]
fn arguments_that_are_not_a_json_object_are_sent_as_an_empty_object() {
    for arguments in ["", "{\"a\":", "[1]", "\"s\"", "null", "3"] {
        let request = messages(vec![assistant(None, vec![call("t", "f", arguments)])]);
        assert_eq!(
            body(&request)["messages"][0]["tool_calls"],
            json!([{"function": {"name": "f", "arguments": {}}}]),
            "{arguments:?}"
        );
    }
    let nested = messages(vec![assistant(
        None,
        vec![call("t", "f", r#" { "b": [1, {"c": null}], "a": "x" } "#)],
    )]);
    assert_eq!(
        body(&nested)["messages"][0]["tool_calls"][0]["function"]["arguments"],
        json!({"b": [1, {"c": null}], "a": "x"})
    );
}

#[test]
fn tool_choice_selects_which_tools_are_sent() {
    let names = |choice: Option<ToolChoice>| -> Vec<String> {
        let mut request = messages(vec![user("x")]);
        request.tools = vec![weather_tool(), now_tool()];
        request.tool_choice = choice;
        let body = body(&request);
        assert!(body.get("tool_choice").is_none());
        body.get("tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let both = vec!["get_weather".to_owned(), "now".to_owned()];
    assert_eq!(names(None), both);
    assert_eq!(names(Some(ToolChoice::Auto)), both);
    assert_eq!(names(Some(ToolChoice::Required)), both);
    assert_eq!(names(Some(ToolChoice::None)), Vec::<String>::new());
    assert_eq!(names(Some(ToolChoice::Tool("now".into()))), ["now"]);
}

#[test]
fn each_sampling_field_has_its_options_key() {
    let sampling = |edit: fn(&mut Sampling)| {
        let mut s = Sampling::default();
        edit(&mut s);
        s
    };
    let cases: [(Sampling, Value); 9] = [
        (
            sampling(|s| s.temperature = Some(0.5)),
            json!({"temperature": 0.5}),
        ),
        (sampling(|s| s.top_p = Some(0.25)), json!({"top_p": 0.25})),
        (sampling(|s| s.top_k = Some(3)), json!({"top_k": 3})),
        (
            sampling(|s| s.max_tokens = Some(9)),
            json!({"num_predict": 9}),
        ),
        (
            sampling(|s| s.stop = vec!["a".into(), "b".into()]),
            json!({"stop": ["a", "b"]}),
        ),
        (sampling(|s| s.seed = Some(7)), json!({"seed": 7})),
        // Ollama's seed is an int64: the low 63 bits.
        (
            sampling(|s| s.seed = Some((1 << 63) | 7)),
            json!({"seed": 7}),
        ),
        (
            sampling(|s| s.presence_penalty = Some(-0.5)),
            json!({"presence_penalty": -0.5}),
        ),
        (
            sampling(|s| s.frequency_penalty = Some(1.5)),
            json!({"frequency_penalty": 1.5}),
        ),
    ];
    for (sampling, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.sampling = sampling.clone();
        assert_eq!(body(&request)["options"], expected, "{sampling:?}");
    }
    assert!(body(&messages(vec![user("x")])).get("options").is_none());
}

#[test]
fn response_formats_are_json_or_the_untouched_schema() {
    let schema = json!({"type": "object", "additionalProperties": false});
    let cases = [
        (ResponseFormat::Text, None),
        (ResponseFormat::JsonObject, Some(json!("json"))),
        (
            ResponseFormat::JsonSchema {
                name: "n".into(),
                schema: schema.clone(),
                strict: false,
            },
            Some(schema.clone()),
        ),
    ];
    for (format, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.response_format = Some(format.clone());
        assert_eq!(
            body(&request).get("format").cloned(),
            expected,
            "{format:?}"
        );
    }
}

#[test]
fn think_is_never_sent() {
    assert!(body(&request()).get("think").is_none());
}
