//! `request_body`: the body rill sends a Gemini upstream, each mapping and
//! normalisation.

use rill_core::{
    ChatRequest, ErrorKind, Message, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice,
};
use rill_wire::gemini::request_body;
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

fn system(text: &str) -> Message {
    Message::System { text: text.into() }
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
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"$ref": "#/$defs/unit"}},
            "required": ["city"],
            "additionalProperties": false,
            "$defs": {"unit": {"enum": ["celsius", "fahrenheit"]}},
        }),
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
            assistant(Some("Also sunny."), vec![]),
            system("answer in English"),
            user("thanks"),
        ],
        tools: vec![
            weather_tool(),
            Tool {
                name: "now".into(),
                description: None,
                parameters: json!({}),
            },
        ],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
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
    let body = request_body(request).unwrap_or_else(|e| panic!("refused: {e:?}"));
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
    snapshots().bind(|| insta::assert_snapshot!("gemini_request_body", body));
}

#[test]
fn a_minimal_body_is_only_contents() {
    assert_eq!(
        request_body(&messages(vec![user("hi")])).unwrap(),
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#
    );
}

#[test]
fn system_messages_go_to_the_system_instruction_joined_and_empty_ones_are_left_out() {
    let request = messages(vec![system("a"), user("hi"), system(""), system("b")]);
    let body = body(&request);
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "a\n\nb"}]})
    );
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": "hi"}]}])
    );
    let only_empty = messages(vec![system(""), user("x")]);
    assert!(self::body(&only_empty).get("systemInstruction").is_none());
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
        body(&request)["contents"],
        json!([
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [
                {"text": "c"},
                {"functionCall": {"name": "f", "args": {}}},
                {"text": "d"},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "f", "response": {"result": "r"}}},
                {"text": "e"},
            ]},
        ])
    );
}

#[test]
fn a_tool_result_is_named_after_the_latest_earlier_call_with_its_id() {
    // Ids repeat across answers when an upstream numbers calls per answer.
    let request = messages(vec![
        user("q"),
        assistant(None, vec![call("call_0", "first", "{}")]),
        tool("call_0", "1"),
        assistant(None, vec![call("call_0", "second", "{}")]),
        tool("call_0", "2"),
    ]);
    let contents = body(&request)["contents"].clone();
    assert_eq!(contents[2]["parts"][0]["functionResponse"]["name"], "first");
    assert_eq!(
        contents[4]["parts"][0]["functionResponse"]["name"],
        "second"
    );
}

#[test]
fn a_tool_result_without_an_earlier_call_is_refused() {
    for history in [
        vec![user("q"), tool("call_9", "r")],
        // A later call does not count.
        vec![
            user("q"),
            tool("call_9", "r"),
            assistant(None, vec![call("call_9", "f", "{}")]),
        ],
    ] {
        let error = request_body(&messages(history)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidRequest);
        assert!(error.message.contains("`call_9`"), "{error:?}");
    }
}

#[test]
fn arguments_that_are_not_a_json_object_are_sent_as_an_empty_object() {
    for arguments in ["", "{\"a\":", "[1]", "\"s\"", "null", "3"] {
        let request = messages(vec![assistant(None, vec![call("t", "f", arguments)])]);
        assert_eq!(
            body(&request)["contents"][0]["parts"],
            json!([{"functionCall": {"name": "f", "args": {}}}]),
            "{arguments:?}"
        );
    }
    let nested = messages(vec![assistant(
        None,
        vec![call("t", "f", r#" { "b": [1, {"c": null}], "a": "x" } "#)],
    )]);
    assert_eq!(
        body(&nested)["contents"][0]["parts"][0]["functionCall"]["args"],
        json!({"b": [1, {"c": null}], "a": "x"})
    );
}

#[test]
fn empty_texts_and_messages_left_without_parts_are_left_out() {
    let cases = [
        (
            vec![assistant(Some(""), vec![call("t", "f", "{}")])],
            json!([{"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]}]),
        ),
        (
            vec![user(""), user("x")],
            json!([{"role": "user", "parts": [{"text": "x"}]}]),
        ),
        // The empty answer between two questions goes, and the questions become one turn.
        (
            vec![user("a"), assistant(Some(""), vec![]), user("b")],
            json!([{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]),
        ),
        (vec![assistant(None, vec![]), user("")], json!([])),
    ];
    for (history, contents) in cases {
        let request = messages(history.clone());
        assert_eq!(body(&request)["contents"], contents, "{history:?}");
    }
    // A tool's empty text is still its answer.
    let request = messages(vec![
        assistant(None, vec![call("t", "f", "{}")]),
        tool("t", ""),
    ]);
    assert_eq!(
        body(&request)["contents"][1]["parts"],
        json!([{"functionResponse": {"name": "f", "response": {"result": ""}}}])
    );
}

#[test]
fn tool_schemas_pass_untouched_and_tools_without_parameters_have_none() {
    let mut request = messages(vec![user("x")]);
    request.tools = vec![
        weather_tool(),
        Tool {
            name: "empty".into(),
            description: None,
            parameters: json!({}),
        },
        Tool {
            name: "null".into(),
            description: Some(String::new()),
            parameters: Value::Null,
        },
        Tool {
            name: "no_properties".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {}}),
        },
    ];
    assert_eq!(
        body(&request)["tools"],
        json!([{"functionDeclarations": [
            {
                "name": "get_weather",
                "description": "Current weather",
                "parametersJsonSchema": weather_tool().parameters,
            },
            {"name": "empty"},
            {"name": "null", "description": ""},
            {"name": "no_properties", "parametersJsonSchema": {"type": "object", "properties": {}}},
        ]}])
    );
}

#[test]
fn tool_choice_maps_and_is_only_sent_with_tools() {
    let cases = [
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Required, json!({"mode": "ANY"})),
        (
            ToolChoice::Tool("get_weather".into()),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        ),
    ];
    for (choice, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.tool_choice = Some(choice.clone());
        assert!(body(&request).get("toolConfig").is_none(), "{choice:?}");
        request.tools = vec![weather_tool()];
        assert_eq!(
            body(&request)["toolConfig"],
            json!({"functionCallingConfig": expected}),
            "{choice:?}"
        );
    }
}

#[test]
fn each_sampling_field_has_its_generation_config_key() {
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
        (sampling(|s| s.top_p = Some(0.25)), json!({"topP": 0.25})),
        (sampling(|s| s.top_k = Some(3)), json!({"topK": 3})),
        (
            sampling(|s| s.max_tokens = Some(9)),
            json!({"maxOutputTokens": 9}),
        ),
        (
            sampling(|s| s.stop = vec!["a".into(), "b".into()]),
            json!({"stopSequences": ["a", "b"]}),
        ),
        (sampling(|s| s.seed = Some(7)), json!({"seed": 7})),
        // Gemini's seed is an int32: the low 31 bits.
        (
            sampling(|s| s.seed = Some((1 << 40) | 7)),
            json!({"seed": 7}),
        ),
        (
            sampling(|s| s.presence_penalty = Some(-0.5)),
            json!({"presencePenalty": -0.5}),
        ),
        (
            sampling(|s| s.frequency_penalty = Some(1.5)),
            json!({"frequencyPenalty": 1.5}),
        ),
    ];
    for (sampling, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.sampling = sampling.clone();
        assert_eq!(body(&request)["generationConfig"], expected, "{sampling:?}");
    }
}

#[test]
fn response_formats_map_to_the_mime_type_and_an_untouched_schema() {
    let schema = json!({"type": "object", "additionalProperties": false});
    let cases = [
        (ResponseFormat::Text, None),
        (
            ResponseFormat::JsonObject,
            Some(json!({"responseMimeType": "application/json"})),
        ),
        (
            ResponseFormat::JsonSchema {
                name: "n".into(),
                schema: schema.clone(),
                strict: false,
            },
            Some(json!({"responseMimeType": "application/json", "responseJsonSchema": schema})),
        ),
    ];
    for (format, expected) in cases {
        let mut request = messages(vec![user("x")]);
        request.response_format = Some(format.clone());
        assert_eq!(
            body(&request).get("generationConfig").cloned(),
            expected,
            "{format:?}"
        );
    }
}
