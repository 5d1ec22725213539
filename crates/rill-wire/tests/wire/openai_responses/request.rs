//! Request parsing: the happy paths and every error case, with message and `param`.

use rill_core::{
    ChatRequest, ErrorKind, Message, Reasoning, ResponseFormat, Sampling, Tool, ToolCall,
    ToolChoice,
};
use rill_wire::openai_responses::{Echo, ParsedRequest, parse_request};
use serde_json::json;

fn parse(body: &serde_json::Value) -> Result<ParsedRequest, rill_core::Error> {
    parse_request(body.to_string().as_bytes())
}

fn ok(body: &serde_json::Value) -> ParsedRequest {
    parse(body).unwrap_or_else(|e| panic!("expected Ok, got {e:?}"))
}

/// Asserts a 400 with exactly this message and param.
#[track_caller]
fn err(body: &[u8], message: &str, param: Option<&str>) {
    let e = parse_request(body).expect_err("expected an error");
    assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e:?}");
    assert_eq!(e.status_code(), 400);
    assert_eq!(e.message, message);
    assert_eq!(e.param.as_deref(), param);
}

#[track_caller]
fn err_json(body: &serde_json::Value, message: &str, param: Option<&str>) {
    err(body.to_string().as_bytes(), message, param);
}

/// A valid body with `field` set to `value`.
fn with(field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut body = json!({"model": "m", "input": "x"});
    body[field] = value;
    body
}

/// A valid body whose input is these items.
fn items(items: serde_json::Value) -> serde_json::Value {
    with("input", items)
}

fn user(text: &str) -> Message {
    Message::User { text: text.into() }
}

#[test]
fn minimal_request() {
    let parsed = ok(&with("model", json!("gpt-x")));
    let request = ChatRequest {
        model: "gpt-x".into(),
        messages: vec![user("x")],
        ..ChatRequest::default()
    };
    assert_eq!(
        parsed,
        ParsedRequest {
            echo: Echo::new(&request, None),
            request,
            stream: false,
        }
    );
}

#[test]
fn full_request_maps_every_honoured_field() {
    let parsed = ok(&json!({
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Use metric units."},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Weather in Paris"},
                {"type": "input_text", "text": " and Rome?"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Two calls."}], "encrypted_content": "gAAA"},
            {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [
                {"type": "output_text", "text": "Checking.", "annotations": []},
                {"type": "refusal", "refusal": "ignored"}
            ]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
            {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "rain"}]},
            {"role": "assistant", "content": "Paris is"}
        ],
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true},
            {"type": "function", "name": "noop", "parameters": null}
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "max_output_tokens": 1024,
        "temperature": 0.5, "top_p": 1,
        "stream": true,
        "text": {"format": {"type": "json_schema", "name": "weather", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"},
        "reasoning": {"effort": "high", "summary": "auto"},
        "store": true, "metadata": {"k": "v"}, "user": "u-1", "parallel_tool_calls": false,
        "truncation": "auto", "service_tier": "auto", "max_tool_calls": 3,
        "safety_identifier": "s", "prompt_cache_key": "p", "prompt_cache_retention": "24h",
        "include": ["reasoning.encrypted_content"], "stream_options": {"include_obfuscation": false},
        "previous_response_id": null, "conversation": null, "background": false, "top_logprobs": 0
    }));
    assert!(parsed.stream);
    let r = &parsed.request;
    assert_eq!(r.model, "gpt-5");
    let weather = |id: &str, city: &str| ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\"city\":\"{city}\"}}"),
    };
    assert_eq!(
        r.messages,
        vec![
            Message::System {
                text: "Be brief.".into()
            },
            Message::System {
                text: "Use metric units.".into()
            },
            user("Weather in Paris and Rome?"),
            Message::Assistant {
                text: Some("Checking.".into()),
                tool_calls: vec![weather("call_1", "Paris"), weather("call_2", "Rome")],
                reasoning: vec![Reasoning::signed("Two calls.", "gAAA")],
            },
            Message::Tool {
                tool_call_id: "call_1".into(),
                text: "sunny".into()
            },
            Message::Tool {
                tool_call_id: "call_2".into(),
                text: "rain".into()
            },
            Message::Assistant {
                text: Some("Paris is".into()),
                tool_calls: vec![],
                reasoning: Vec::new(),
            },
        ]
    );
    assert_eq!(
        r.tools,
        vec![
            Tool {
                name: "get_weather".into(),
                description: Some("Weather".into()),
                parameters: json!({"type": "object"})
            },
            Tool {
                name: "noop".into(),
                description: None,
                parameters: json!({})
            },
        ]
    );
    assert_eq!(r.tool_choice, Some(ToolChoice::Tool("get_weather".into())));
    assert_eq!(
        r.sampling,
        Sampling {
            temperature: Some(0.5),
            top_p: Some(1.0),
            max_tokens: Some(1024),
            ..Sampling::default()
        }
    );
    assert_eq!(
        r.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object"}),
            strict: true
        })
    );
    assert_eq!(parsed.echo, Echo::new(r, Some("Be brief.".into())));
}

#[test]
fn small_mappings() {
    let tools = json!([{"type": "function", "name": "f"}]);
    for (choice, expected) in [
        (json!("auto"), ToolChoice::Auto),
        (json!("none"), ToolChoice::None),
        (json!("required"), ToolChoice::Required),
    ] {
        let mut body = with("tools", tools.clone());
        body["tool_choice"] = choice;
        assert_eq!(ok(&body).request.tool_choice, Some(expected));
    }
    for (format, expected) in [
        (json!({"type": "text"}), ResponseFormat::Text),
        (json!({"type": "json_object"}), ResponseFormat::JsonObject),
    ] {
        let body = with("text", json!({ "format": format }));
        assert_eq!(ok(&body).request.response_format, Some(expected));
    }
    // No model: the server's default. Empty instructions are no system message.
    let mut body = with("instructions", json!(""));
    body.as_object_mut().unwrap().remove("model");
    let r = ok(&body).request;
    assert_eq!(r.model, "");
    assert_eq!(r.messages, vec![user("x")]);
    // An empty string is still a (blank) user turn, as the client sent one.
    assert_eq!(
        ok(&with("input", json!(""))).request.messages,
        vec![user("")]
    );
    // A call without a message before it is an assistant message of its own.
    let r = ok(&items(json!([
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": ""}
    ])))
    .request;
    assert_eq!(
        r.messages[1],
        Message::Assistant {
            text: None,
            tool_calls: vec![ToolCall {
                id: "c".into(),
                name: "f".into(),
                arguments: "".into()
            }],
            reasoning: Vec::new(),
        }
    );
    // Nulls mean "not given"; a UTF-8 BOM is tolerated.
    let r = parse_request(b"\xEF\xBB\xBF{\"input\":\"x\",\"temperature\":null,\"tools\":null,\"text\":null,\"instructions\":null}").unwrap();
    assert_eq!(r.request.sampling.temperature, None);
    assert_eq!(r.request.messages, vec![user("x")]);
}

#[test]
fn body_errors() {
    err(b"", "the request body is empty", None);
    err(b"  \n", "the request body is empty", None);
    let e = parse_request(b"{\"input\":").unwrap_err();
    assert!(
        e.message
            .starts_with("the request body is not valid JSON: "),
        "{}",
        e.message
    );
    err(
        b"[]",
        "the request body must be a JSON object, got an array",
        None,
    );
    err(
        b"\"hi\"",
        "the request body must be a JSON object, got a string",
        None,
    );
    err(
        b"null",
        "the request body must be a JSON object, got null",
        None,
    );
}

#[test]
fn structural_errors() {
    err_json(
        &json!({"model": "m"}),
        "missing required field `input`",
        Some("input"),
    );
    err_json(
        &with("input", json!(null)),
        "missing required field `input`",
        Some("input"),
    );
    err_json(
        &with("input", json!([])),
        "`input` must contain at least one item",
        Some("input"),
    );
    err_json(
        &items(json!([{"type": "reasoning", "summary": []}])),
        "`input` must contain at least one message, function call or output",
        Some("input"),
    );
    err_json(
        &with("input", json!(5)),
        "invalid type for `input`: expected a string or an array of input items, got an integer",
        Some("input"),
    );
    err_json(
        &with("messages", json!([])),
        "unrecognized request argument supplied: `messages`",
        Some("messages"),
    );
    err_json(
        &with("max_tokens", json!(5)),
        "unrecognized request argument supplied: `max_tokens`",
        Some("max_tokens"),
    );
    err(
        br#"{"input":"x","input":"y"}"#,
        "duplicate field `input`",
        Some("input"),
    );
    err_json(
        &with("stream", json!("yes")),
        "invalid type for `stream`: expected a boolean, got a string",
        Some("stream"),
    );
    err_json(
        &with("instructions", json!(["a"])),
        "invalid type for `instructions`: expected a string, got an array",
        Some("instructions"),
    );
    err_json(
        &with("max_output_tokens", json!("10")),
        "invalid type for `max_output_tokens`: expected an integer from 0 to 4294967295, got a string",
        Some("max_output_tokens"),
    );
    err_json(
        &with("max_output_tokens", json!(0)),
        "`max_output_tokens` must be at least 1",
        Some("max_output_tokens"),
    );
    err_json(
        &with("max_output_tokens", json!(-1)),
        "invalid value for `max_output_tokens`: expected an integer from 0 to 4294967295, got -1",
        Some("max_output_tokens"),
    );
    err_json(
        &with("temperature", json!(2.5)),
        "`temperature` must be between 0 and 2, got 2.5",
        Some("temperature"),
    );
    err_json(
        &with("top_p", json!(-0.5)),
        "`top_p` must be between 0 and 1, got -0.5",
        Some("top_p"),
    );
    // Ignored fields still have their type checked.
    err_json(
        &with("store", json!("no")),
        "invalid type for `store`: expected a boolean, got a string",
        Some("store"),
    );
}

#[test]
fn state_rill_does_not_keep_is_refused() {
    err_json(
        &with("previous_response_id", json!("resp_123")),
        "`previous_response_id` is not supported: rill keeps no responses to continue from; hint: send the whole conversation in `input`",
        Some("previous_response_id"),
    );
    err_json(
        &with("conversation", json!("conv_123")),
        "`conversation` is not supported: rill keeps no conversations; hint: send the whole conversation in `input`",
        Some("conversation"),
    );
    err_json(
        &with("background", json!(true)),
        "`background` mode is not supported",
        Some("background"),
    );
    err_json(
        &with("prompt", json!({"id": "pmpt_1"})),
        "`prompt` (a stored prompt template) is not supported",
        Some("prompt"),
    );
    err_json(
        &items(json!([{"type": "item_reference", "id": "msg_1"}])),
        "`item_reference` items are not supported: rill keeps no stored items; send the item itself",
        Some("input[0].type"),
    );
    err_json(
        &with("top_logprobs", json!(3)),
        "`top_logprobs` is not supported",
        Some("top_logprobs"),
    );
    err_json(
        &with(
            "include",
            json!([
                "reasoning.encrypted_content",
                "message.output_text.logprobs"
            ]),
        ),
        "`include` of `message.output_text.logprobs` is not supported",
        Some("include[1]"),
    );
}

#[test]
fn item_errors() {
    err_json(
        &items(json!([{"content": "x"}])),
        "missing required field `input[0].role`",
        Some("input[0].role"),
    );
    err_json(
        &items(json!([{"role": "wizard", "content": "x"}])),
        "invalid value `wizard` for `input[0].role`: expected one of `user`, `assistant`, `system`, `developer`",
        Some("input[0].role"),
    );
    err_json(
        &items(json!([{"role": "user"}])),
        "missing required field `input[0].content`",
        Some("input[0].content"),
    );
    err_json(
        &items(json!(["hi"])),
        "invalid type for `input[0]`: expected an input item object, got a string",
        Some("input[0]"),
    );
    err_json(
        &items(json!([{"role": "user", "content": 5}])),
        "invalid type for `input[0].content`: expected a string or an array of content parts, got an integer",
        Some("input[0].content"),
    );
    err_json(
        &items(json!([{"role": "user", "content": [{"type": "input_text"}]}])),
        "missing required field `input[0].content[0].text`",
        Some("input[0].content[0].text"),
    );
    err_json(
        &items(json!([{"role": "user", "content": [{"text": "x"}]}])),
        "missing required field `input[0].content[0].type`",
        Some("input[0].content[0].type"),
    );
    err_json(
        &items(json!([{"role": "user", "content": [{"type": "hologram"}]}])),
        "unknown content part type `hologram`; expected `input_text` or `output_text`",
        Some("input[0].content[0].type"),
    );
    err_json(
        &items(json!([{"type": "function_call", "name": "f", "arguments": "{}"}])),
        "missing required field `input[0].call_id`",
        Some("input[0].call_id"),
    );
    err_json(
        &items(
            json!([{"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": 1}}]),
        ),
        "invalid type for `input[0].arguments`: expected a string, got an object",
        Some("input[0].arguments"),
    );
    err_json(
        &items(json!([{"type": "function_call_output", "call_id": "c"}])),
        "missing required field `input[0].output`",
        Some("input[0].output"),
    );
    err_json(
        &items(json!([{"type": "web_search_call", "id": "ws_1"}])),
        "rill only runs `function` tools, so `web_search_call` items are not supported",
        Some("input[0].type"),
    );
    err_json(
        &items(json!([{"type": "mcp_list_tools"}])),
        "rill only runs `function` tools, so `mcp_list_tools` items are not supported",
        Some("input[0].type"),
    );
    err_json(
        &items(json!([{"type": "banana"}])),
        "unknown input item type `banana`; expected `message`, `function_call`, `function_call_output` or `reasoning`",
        Some("input[0].type"),
    );
}

#[test]
fn media_is_refused_with_the_path() {
    err_json(
        &items(json!([{"role": "user", "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
        ]}])),
        "rill does not support `input_image` content yet",
        Some("input[0].content[1].type"),
    );
    err_json(
        &items(json!([{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}])),
        "rill does not support `input_file` content yet",
        Some("input[0].content[0].type"),
    );
    err_json(
        &items(json!([
            {"role": "user", "content": "x"},
            {"type": "function_call_output", "call_id": "c", "output": [
                {"type": "input_text", "text": "chart:"},
                {"type": "input_image", "image_url": "https://x/y.png"}
            ]}
        ])),
        "rill does not support `input_image` content yet",
        Some("input[1].output[1].type"),
    );
}

#[test]
fn tool_errors() {
    err_json(
        &with("tools", json!([{"type": "web_search_preview"}])),
        "only `function` tools are supported, got `web_search_preview`",
        Some("tools[0].type"),
    );
    err_json(
        &with("tools", json!([{"type": "function"}])),
        "missing required field `tools[0].name`",
        Some("tools[0].name"),
    );
    err_json(
        &with("tools", json!([{"type": "function", "name": ""}])),
        "`tools[0].name` must not be empty",
        Some("tools[0].name"),
    );
    err_json(
        &with(
            "tools",
            json!([{"type": "function", "function": {"name": "f"}}]),
        ),
        "`tools[0]` has the Chat Completions shape; hint: a Responses tool has `name`, `description` and `parameters` beside `type`, not inside `function`",
        Some("tools[0].function"),
    );
    err_json(
        &with("tools", json!({"type": "function", "name": "f"})),
        "invalid type for `tools`: expected an array, got an object",
        Some("tools"),
    );
    let mut body = with("tools", json!([{"type": "function", "name": "f"}]));
    body["tool_choice"] = json!({"type": "function", "name": "g"});
    err_json(
        &body,
        "`tool_choice` names the tool `g`, which is not in `tools`",
        Some("tool_choice.name"),
    );
    body["tool_choice"] = json!({"type": "function"});
    err_json(
        &body,
        "missing required field `tool_choice.name`",
        Some("tool_choice.name"),
    );
    body["tool_choice"] = json!({"type": "allowed_tools", "mode": "auto", "tools": []});
    err_json(
        &body,
        "`tool_choice` of type `allowed_tools` is not supported",
        Some("tool_choice.type"),
    );
    body["tool_choice"] = json!("any");
    err_json(
        &body,
        "invalid value `any` for `tool_choice`: expected `auto`, `none`, `required` or an object",
        Some("tool_choice"),
    );
    body["tool_choice"] = json!(1);
    err_json(
        &body,
        "invalid type for `tool_choice`: expected a string or an object, got an integer",
        Some("tool_choice"),
    );
    err_json(
        &with("tool_choice", json!("required")),
        "`tool_choice` is `required` but no `tools` were given",
        Some("tool_choice"),
    );
}

#[test]
fn option_errors() {
    err_json(
        &with(
            "text",
            json!({"format": {"type": "json_schema", "schema": {}}}),
        ),
        "missing required field `text.format.name`",
        Some("text.format.name"),
    );
    err_json(
        &with(
            "text",
            json!({"format": {"type": "json_schema", "name": "n"}}),
        ),
        "missing required field `text.format.schema`",
        Some("text.format.schema"),
    );
    err_json(
        &with("text", json!({"format": {"type": "xml"}})),
        "invalid value `xml` for `text.format.type`: expected one of `text`, `json_object`, `json_schema`",
        Some("text.format.type"),
    );
    err_json(
        &with("text", json!("json")),
        "invalid type for `text`: expected a text options object, got a string",
        Some("text"),
    );
    err_json(
        &with("reasoning", json!({"effort": 3})),
        "invalid type for `reasoning.effort`: expected a string, got an integer",
        Some("reasoning.effort"),
    );
}

/// Bodies the official `openai` Python SDK (3.54.0) sends, captured as they left it.
#[test]
fn official_sdk_bodies_parse() {
    let bodies = [
        r#"{"model": "m", "stream": true, "input": "hi", "instructions": "be brief"}"#,
        r#"{"model": "m", "input": [{"role": "user", "content": "hi"}], "text": {"format": {"type": "json_schema", "strict": true, "name": "Weather", "schema": {"properties": {"city": {"title": "City", "type": "string"}, "temp": {"title": "Temp", "type": "number"}}, "required": ["city", "temp"], "title": "Weather", "type": "object", "additionalProperties": false}}}}"#,
        r#"{"model": "m", "input": [{"type": "function_call_output", "call_id": "c", "output": "ok"}], "max_output_tokens": 16, "reasoning": {"effort": "low", "summary": "auto"}, "tool_choice": {"type": "function", "name": "f"}, "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}]}"#,
    ];
    let parsed: Vec<ParsedRequest> = bodies
        .iter()
        .map(|body| parse_request(body.as_bytes()).unwrap_or_else(|e| panic!("{e:?}: {body}")))
        .collect();
    assert!(parsed[0].stream);
    assert_eq!(
        parsed[0].request.messages,
        vec![
            Message::System {
                text: "be brief".into()
            },
            user("hi")
        ]
    );
    assert_eq!(parsed[0].echo.instructions.as_deref(), Some("be brief"));
    assert!(matches!(
        &parsed[1].request.response_format,
        Some(ResponseFormat::JsonSchema { name, strict: true, .. }) if name == "Weather"
    ));
    assert_eq!(
        parsed[2].request.messages,
        vec![Message::Tool {
            tool_call_id: "c".into(),
            text: "ok".into()
        }]
    );
    assert_eq!(parsed[2].request.sampling.max_tokens, Some(16));
}

/// A reasoning item belongs to the assistant message or call after it, or, when what
/// follows is not the assistant's, to the assistant message before it.
#[test]
fn reasoning_items_join_the_assistant_turn_they_belong_to() {
    let input = json!([
        {"role": "user", "content": "Weather?"},
        {"type": "reasoning", "id": "rs_1", "summary": [
            {"type": "summary_text", "text": "First."},
            {"type": "summary_text", "text": "Second."}
        ], "encrypted_content": "enc-1"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        {"type": "message", "role": "assistant", "content": "Done."},
        {"type": "reasoning", "summary": [], "encrypted_content": "enc-2"},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "raw"}]},
        {"type": "reasoning", "summary": []},
        {"role": "user", "content": "Thanks"},
        {"type": "reasoning", "summary": [], "encrypted_content": "enc-3"}
    ]);
    let parsed = ok(&json!({"model": "m", "input": input}));
    let call = ToolCall {
        id: "c1".into(),
        name: "f".into(),
        arguments: "{}".into(),
    };
    assert_eq!(
        parsed.request.messages,
        vec![
            user("Weather?"),
            Message::Assistant {
                text: None,
                tool_calls: vec![call],
                reasoning: vec![Reasoning::signed("First.\n\nSecond.", "enc-1")],
            },
            Message::Tool {
                tool_call_id: "c1".into(),
                text: "ok".into(),
            },
            Message::Assistant {
                text: Some("Done.".into()),
                tool_calls: vec![],
                reasoning: vec![Reasoning::signed("", "enc-2"), Reasoning::unsigned("raw")],
            },
            user("Thanks"),
            Message::Assistant {
                text: None,
                tool_calls: vec![],
                reasoning: vec![Reasoning::signed("", "enc-3")],
            },
        ]
    );
    err_json(
        &json!({"model": "m", "input": [{"type": "reasoning", "summary": [], "encrypted_content": "e"}]}),
        "`input` must contain at least one message, function call or output",
        Some("input"),
    );
}

#[test]
fn tool_parameters_must_be_a_schema_object_and_model_not_null() {
    err_json(
        &with(
            "tools",
            json!([{"type": "function", "name": "f", "parameters": 7}]),
        ),
        "`tools[0].parameters` must be a JSON Schema object, got a number",
        Some("tools[0].parameters"),
    );
    let error = parse(&with("model", serde_json::Value::Null)).unwrap_err();
    assert_eq!(
        (error.status_code(), error.param.as_deref()),
        (400, Some("model")),
        "{error:?}"
    );
}
