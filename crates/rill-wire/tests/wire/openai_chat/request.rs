//! Request parsing: the happy paths and every error case, with message and `param`.

use rill_core::{
    ChatRequest, ErrorKind, Message, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice,
};
use rill_wire::openai_chat::{ParsedRequest, parse_request};
use serde_json::json;

fn parse(body: serde_json::Value) -> Result<ParsedRequest, rill_core::Error> {
    parse_request(body.to_string().as_bytes())
}

fn ok(body: serde_json::Value) -> ParsedRequest {
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
fn err_json(body: serde_json::Value, message: &str, param: Option<&str>) {
    err(body.to_string().as_bytes(), message, param);
}

fn user(text: &str) -> serde_json::Value {
    json!([{"role": "user", "content": text}])
}

#[test]
fn minimal_request() {
    let parsed = ok(json!({"model": "m", "messages": user("hi")}));
    assert_eq!(
        parsed,
        ParsedRequest {
            request: ChatRequest {
                model: "m".into(),
                messages: vec![Message::User { text: "hi".into() }],
                ..ChatRequest::default()
            },
            stream: false,
            include_usage: false,
        }
    );
}

#[test]
fn full_request_maps_every_honoured_field() {
    let parsed = ok(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "be brief", "name": "ops"},
            {"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": [{"type": "text", "text": "weather?"}], "name": "ann"},
            {"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "assistant", "content": [{"type": "text", "text": "It is "}, {"type": "refusal", "refusal": "x"}, {"type": "text", "text": "sunny."}]}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true}},
            {"type": "function", "function": {"name": "noop"}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 0.5, "top_p": 1, "max_completion_tokens": 100, "max_tokens": 100,
        "stop": "END", "seed": -1, "frequency_penalty": -2, "presence_penalty": 2,
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}},
        "stream": true, "stream_options": {"include_usage": true, "include_obfuscation": false},
        "n": 1, "logprobs": false, "top_logprobs": 0, "logit_bias": {}, "modalities": ["text"],
        "user": "u", "metadata": {"k": "v"}, "store": false, "service_tier": "auto",
        "parallel_tool_calls": true, "prediction": {"type": "content", "content": "x"},
        "reasoning_effort": "low", "verbosity": "low", "safety_identifier": "s",
        "prompt_cache_key": "k", "audio": null, "web_search_options": null
    }));
    assert!(parsed.stream);
    assert!(parsed.include_usage);
    let r = parsed.request;
    assert_eq!(r.model, "gpt-4o");
    assert_eq!(
        r.messages,
        vec![
            Message::System {
                text: "be brief".into()
            },
            Message::System { text: "ab".into() },
            Message::User {
                text: "weather?".into()
            },
            Message::Assistant {
                text: None,
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into()
                }],
                reasoning: Vec::new(),
            },
            Message::Tool {
                tool_call_id: "call_1".into(),
                text: "sunny".into()
            },
            Message::Assistant {
                text: Some("It is sunny.".into()),
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
            top_k: None,
            max_tokens: Some(100),
            stop: vec!["END".into()],
            seed: Some(u64::MAX),
            frequency_penalty: Some(-2.0),
            presence_penalty: Some(2.0),
        }
    );
    assert_eq!(
        r.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "w".into(),
            schema: json!({"type": "object"}),
            strict: true
        })
    );
}

#[test]
fn small_mappings() {
    let r = ok(
        json!({"messages": user("x"), "tool_choice": "none", "stop": ["a", "b"], "max_tokens": 7,
        "response_format": {"type": "json_object"}, "stream_options": {"include_usage": true}}),
    );
    assert_eq!(r.request.model, "", "no model: the server's default");
    assert!(!r.include_usage, "include_usage only counts for streams");
    assert_eq!(r.request.tool_choice, Some(ToolChoice::None));
    assert_eq!(
        r.request.sampling.stop,
        vec!["a".to_owned(), "b".to_owned()]
    );
    assert_eq!(r.request.sampling.max_tokens, Some(7));
    assert_eq!(r.request.response_format, Some(ResponseFormat::JsonObject));

    let r = ok(
        json!({"messages": user("x"), "response_format": {"type": "text"}, "tools": [
        {"type": "function", "function": {"name": "f"}}], "tool_choice": "required"}),
    );
    assert_eq!(r.request.response_format, Some(ResponseFormat::Text));
    assert_eq!(r.request.tool_choice, Some(ToolChoice::Required));

    // Nulls everywhere mean "not given"; a UTF-8 BOM is tolerated.
    let r = parse_request(b"\xEF\xBB\xBF{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":null,\"tools\":null,\"stop\":null,\"n\":null}").unwrap();
    assert_eq!(r.request.sampling, Sampling::default());

    // The deprecated `functions` / `function_call` / `function` role.
    let r = ok(json!({"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "42"}
    ], "functions": [{"name": "f", "parameters": {}}], "function_call": {"name": "f"}}));
    assert_eq!(r.request.tool_choice, Some(ToolChoice::Tool("f".into())));
    assert_eq!(r.request.tools.len(), 1);
    assert_eq!(
        r.request.messages[2],
        Message::Tool {
            tool_call_id: "f".into(),
            text: "42".into()
        }
    );
}

#[test]
fn body_errors() {
    err(b"", "the request body is empty", None);
    err(b" \n\t", "the request body is empty", None);
    let e = parse_request(b"{\"model\":").unwrap_err();
    assert!(
        e.message
            .starts_with("the request body is not valid JSON: "),
        "{}",
        e.message
    );
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let e = parse_request(b"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} x").unwrap_err();
    assert!(
        e.message
            .starts_with("the request body is not valid JSON: trailing characters"),
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
}

#[test]
fn structural_errors() {
    err_json(
        json!({"model": "m"}),
        "missing required field `messages`",
        Some("messages"),
    );
    err_json(
        json!({"messages": []}),
        "`messages` must contain at least one message",
        Some("messages"),
    );
    err_json(
        json!({"messages": user("x"), "foo": 1}),
        "unrecognized request argument supplied: `foo`",
        Some("foo"),
    );
    err(
        br#"{"messages":[{"role":"user","content":"x"}],"n":1,"n":1}"#,
        "duplicate field `n`",
        Some("n"),
    );
    err(
        br#"{"messages":[{"role":"user","content":"x","role":"user"}]}"#,
        "duplicate field `messages[0].role`",
        Some("messages[0].role"),
    );
    err_json(
        json!({"messages": "hi"}),
        "invalid type for `messages`: expected an array, got a string",
        Some("messages"),
    );
    err_json(
        json!({"messages": user("x"), "temperature": "hot"}),
        "invalid type for `temperature`: expected a number, got a string",
        Some("temperature"),
    );
    err_json(
        json!({"messages": user("x"), "max_tokens": -1}),
        "invalid value for `max_tokens`: expected an integer from 0 to 4294967295, got -1",
        Some("max_tokens"),
    );
    err_json(
        json!({"messages": user("x"), "stream": "yes"}),
        "invalid type for `stream`: expected a boolean, got a string",
        Some("stream"),
    );
}

#[test]
fn message_errors() {
    err_json(
        json!({"messages": [{"role": "user", "content": "x"}, {"role": "wizard", "content": "x"}]}),
        "invalid value `wizard` for `messages[1].role`: expected one of `system`, `developer`, `user`, `assistant`, `tool`, `function`",
        Some("messages[1].role"),
    );
    err_json(
        json!({"messages": [{"content": "x"}]}),
        "missing required field `messages[0].role`",
        Some("messages[0].role"),
    );
    err_json(
        json!({"messages": [{"role": "user"}]}),
        "missing required field `messages[0].content`",
        Some("messages[0].content"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": null}]}),
        "missing required field `messages[0].content`",
        Some("messages[0].content"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "42"}]}),
        "missing required field `messages[1].tool_call_id`",
        Some("messages[1].tool_call_id"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
        "rill does not support `image_url` content yet",
        Some("messages[0].content[1].type"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}),
        "rill does not support `input_audio` content yet",
        Some("messages[0].content[0].type"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": [{"type": "hologram"}]}]}),
        "unknown content part type `hologram`; expected `text`",
        Some("messages[0].content[0].type"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": [{"type": "text"}]}]}),
        "missing required field `messages[0].content[0].text`",
        Some("messages[0].content[0].text"),
    );
    err_json(
        json!({"messages": [{"role": "user", "content": 5}]}),
        "invalid type for `messages[0].content`: expected a string or an array of content parts, got an integer",
        Some("messages[0].content"),
    );
    err_json(
        json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]}),
        "invalid type for `messages[0].tool_calls[0].function.arguments`: expected a string, got an object",
        Some("messages[0].tool_calls[0].function.arguments"),
    );
    err_json(
        json!({"messages": [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]}]}),
        "missing required field `messages[0].tool_calls[0].id`",
        Some("messages[0].tool_calls[0].id"),
    );
}

#[test]
fn sampling_errors() {
    let with = |field: &str, value: serde_json::Value| {
        let mut body = json!({"messages": user("x")});
        body[field] = value;
        body
    };
    err_json(
        with("temperature", json!(2.5)),
        "`temperature` must be between 0 and 2, got 2.5",
        Some("temperature"),
    );
    err_json(
        with("temperature", json!(-0.5)),
        "`temperature` must be between 0 and 2, got -0.5",
        Some("temperature"),
    );
    err_json(
        with("top_p", json!(1.5)),
        "`top_p` must be between 0 and 1, got 1.5",
        Some("top_p"),
    );
    err_json(
        with("presence_penalty", json!(3)),
        "`presence_penalty` must be between -2 and 2, got 3",
        Some("presence_penalty"),
    );
    err_json(
        with("max_tokens", json!(0)),
        "`max_tokens` must be at least 1",
        Some("max_tokens"),
    );
    err_json(
        with("max_completion_tokens", json!(0)),
        "`max_completion_tokens` must be at least 1",
        Some("max_completion_tokens"),
    );
    let mut both = with("max_tokens", json!(10));
    both["max_completion_tokens"] = json!(20);
    err_json(
        both,
        "`max_tokens` (10) and `max_completion_tokens` (20) disagree; set only one",
        Some("max_completion_tokens"),
    );
    err_json(
        with("stop", json!(["a", "b", "c", "d", "e"])),
        "`stop` may contain at most 4 sequences, got 5",
        Some("stop"),
    );
    err_json(
        with("stop", json!(5)),
        "invalid type for `stop`: expected a string or an array of strings, got an integer",
        Some("stop"),
    );
}

#[test]
fn unsupported_features() {
    let with = |field: &str, value: serde_json::Value| {
        let mut body = json!({"messages": user("x")});
        body[field] = value;
        body
    };
    err_json(with("n", json!(2)), "`n` > 1 is not supported", Some("n"));
    err_json(with("n", json!(0)), "`n` must be at least 1", Some("n"));
    err_json(
        with("logprobs", json!(true)),
        "`logprobs` is not supported",
        Some("logprobs"),
    );
    err_json(
        with("top_logprobs", json!(3)),
        "`top_logprobs` is not supported",
        Some("top_logprobs"),
    );
    err_json(
        with("logit_bias", json!({"50256": -100})),
        "`logit_bias` is not supported",
        Some("logit_bias"),
    );
    err_json(
        with("modalities", json!(["text", "audio"])),
        "rill only produces `text`, not `audio`",
        Some("modalities[1]"),
    );
    err_json(
        with("audio", json!({"voice": "alloy", "format": "wav"})),
        "audio output (`audio`) is not supported",
        Some("audio"),
    );
    err_json(
        with("web_search_options", json!({})),
        "`web_search_options` is not supported",
        Some("web_search_options"),
    );
}

#[test]
fn tool_errors() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    err_json(
        json!({"messages": user("x"), "tools": [{"type": "custom", "custom": {"name": "g"}}]}),
        "only `function` tools are supported, got `custom`",
        Some("tools[0].type"),
    );
    err_json(
        json!({"messages": user("x"), "tools": [{"type": "function", "function": {"description": "d"}}]}),
        "missing required field `tools[0].function.name`",
        Some("tools[0].function.name"),
    );
    err_json(
        json!({"messages": user("x"), "tools": [{"type": "function"}]}),
        "missing required field `tools[0].function`",
        Some("tools[0].function"),
    );
    err_json(
        json!({"messages": user("x"), "tools": tools, "tool_choice": {"type": "function", "function": {"name": "g"}}}),
        "`tool_choice` names the tool `g`, which is not in `tools`",
        Some("tool_choice.function.name"),
    );
    err_json(
        json!({"messages": user("x"), "tools": tools, "tool_choice": "sometimes"}),
        "invalid value `sometimes` for `tool_choice`: expected `auto`, `none`, `required` or an object",
        Some("tool_choice"),
    );
    err_json(
        json!({"messages": user("x"), "tool_choice": "required"}),
        "`tool_choice` is `required` but no `tools` were given",
        Some("tool_choice"),
    );
    err_json(
        json!({"messages": user("x"), "tools": tools, "tool_choice": {"type": "allowed_tools", "allowed_tools": {}}}),
        "`tool_choice` of type `allowed_tools` is not supported",
        Some("tool_choice.type"),
    );
    err_json(
        json!({"messages": user("x"), "tools": tools, "functions": [{"name": "f"}]}),
        "`functions` is deprecated and cannot be combined with `tools`",
        Some("functions"),
    );
}

#[test]
fn response_format_errors() {
    err_json(
        json!({"messages": user("x"), "response_format": {"type": "json_schema"}}),
        "missing required field `response_format.json_schema`",
        Some("response_format.json_schema"),
    );
    err_json(
        json!({"messages": user("x"), "response_format": {"type": "xml"}}),
        "invalid value `xml` for `response_format.type`: expected one of `text`, `json_object`, `json_schema`",
        Some("response_format.type"),
    );
}

#[test]
fn tool_parameters_must_be_a_schema_object_and_model_not_null() {
    let tool = |parameters: serde_json::Value| {
        json!({"model": "m", "messages": user("x"), "tools": [
            {"type": "function", "function": {"name": "f", "parameters": parameters}}
        ]})
    };
    err_json(
        tool(json!("notaschema")),
        "`tools[0].function.parameters` must be a JSON Schema object, got a string",
        Some("tools[0].function.parameters"),
    );
    err_json(
        json!({"model": "m", "messages": user("x"), "functions": [{"name": "f", "parameters": [1]}]}),
        "`functions[0].parameters` must be a JSON Schema object, got an array",
        Some("functions[0].parameters"),
    );
    assert_eq!(
        ok(tool(json!({"type": "object"}))).request.tools[0].parameters,
        json!({"type": "object"})
    );
    let error = parse(json!({"model": null, "messages": user("x")})).unwrap_err();
    assert_eq!(
        (error.status_code(), error.param.as_deref()),
        (400, Some("model")),
        "{error:?}"
    );
    assert_eq!(ok(json!({"messages": user("x")})).request.model, "");
}
