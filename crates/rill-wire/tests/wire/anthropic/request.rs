//! Request parsing: the happy paths and every error case, with message and `param`.

use rill_core::{
    ChatRequest, ErrorKind, Message, Reasoning, ResponseFormat, Sampling, Tool, ToolCall,
    ToolChoice,
};
use rill_wire::anthropic::{ParsedRequest, parse_request};
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
    let mut body =
        json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]});
    body[field] = value;
    body
}

/// A valid body whose only message has this content.
fn user_content(content: serde_json::Value) -> serde_json::Value {
    with("messages", json!([{"role": "user", "content": content}]))
}

#[test]
fn minimal_request() {
    let parsed = ok(&with("model", json!("claude-x")));
    assert_eq!(
        parsed,
        ParsedRequest {
            request: ChatRequest {
                model: "claude-x".into(),
                messages: vec![Message::User { text: "x".into() }],
                sampling: Sampling {
                    max_tokens: Some(10),
                    ..Sampling::default()
                },
                ..ChatRequest::default()
            },
            stream: false,
            thinking: false,
        }
    );
}

#[test]
fn full_request_maps_every_honoured_field() {
    let parsed = ok(&json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be kind."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris"}, {"type": "text", "text": "and Rome?"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two calls.", "signature": "abc"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "thinking", "thinking": "Unsigned.", "signature": ""},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "rain"}, {"type": "text", "text": "wind"}], "is_error": false},
                {"type": "text", "text": "Thanks!"}
            ]},
            {"role": "assistant", "content": "Paris is"}
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
            {"type": "custom", "name": "noop", "input_schema": {}}
        ],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
        "stop_sequences": ["END", "STOP"],
        "temperature": 0.5, "top_p": 1, "top_k": 40,
        "stream": true,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}},
        "metadata": {"user_id": "u-1"}, "service_tier": "auto", "cache_control": {"type": "ephemeral"},
        "inference_geo": "us", "container": null
    }));
    assert!(parsed.stream);
    assert!(parsed.thinking);
    let r = parsed.request;
    assert_eq!(r.model, "claude-sonnet-4-5");
    let weather = |id: &str, city: &str| ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\"city\":\"{city}\"}}"),
    };
    assert_eq!(
        r.messages,
        vec![
            Message::System {
                text: "Be brief.\n\nBe kind.".into()
            },
            Message::User {
                text: "Weather in Paris\n\nand Rome?".into()
            },
            Message::Assistant {
                text: Some("Checking.".into()),
                tool_calls: vec![weather("toolu_1", "Paris"), weather("toolu_2", "Rome")],
                reasoning: vec![
                    Reasoning::signed("Two calls.", "abc"),
                    Reasoning::Redacted {
                        data: "opaque".into()
                    },
                    Reasoning::unsigned("Unsigned."),
                ],
            },
            Message::Tool {
                tool_call_id: "toolu_1".into(),
                text: "sunny".into()
            },
            Message::Tool {
                tool_call_id: "toolu_2".into(),
                text: "rain\n\nwind".into()
            },
            Message::User {
                text: "Thanks!".into()
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
            top_k: Some(40),
            max_tokens: Some(1024),
            stop: vec!["END".into(), "STOP".into()],
            ..Sampling::default()
        }
    );
    assert_eq!(
        r.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "output".into(),
            schema: json!({"type": "object"}),
            strict: true
        })
    );
}

#[test]
fn small_mappings() {
    let tools = json!([{"name": "f", "input_schema": {}}]);
    for (choice, expected) in [
        (json!({"type": "auto"}), ToolChoice::Auto),
        (json!({"type": "any"}), ToolChoice::Required),
        (json!({"type": "none"}), ToolChoice::None),
    ] {
        let mut body = with("tools", tools.clone());
        body["tool_choice"] = choice;
        assert_eq!(ok(&body).request.tool_choice, Some(expected));
    }
    for (thinking, expected) in [
        (json!({"type": "disabled"}), false),
        (json!({"type": "adaptive"}), true),
        (json!({"type": "enabled"}), true),
        (json!(null), false),
    ] {
        assert_eq!(ok(&with("thinking", thinking)).thinking, expected);
    }
    // No model: the server's default. An empty system prompt is no system message.
    let mut body = with("system", json!(""));
    body.as_object_mut().unwrap().remove("model");
    let r = ok(&body).request;
    assert_eq!(r.model, "");
    assert_eq!(r.messages, vec![Message::User { text: "x".into() }]);
    // A tool result without content, one that failed, an empty user turn.
    let r = ok(&user_content(json!([
        {"type": "tool_result", "tool_use_id": "a"},
        {"type": "tool_result", "tool_use_id": "b", "content": "no such city", "is_error": true},
        {"type": "tool_result", "tool_use_id": "c", "is_error": true}
    ])))
    .request;
    let tool = |id: &str, text: &str| Message::Tool {
        tool_call_id: id.into(),
        text: text.into(),
    };
    assert_eq!(
        r.messages,
        vec![
            tool("a", ""),
            tool("b", "error: no such city"),
            tool("c", "error")
        ]
    );
    let r = ok(&user_content(json!([]))).request;
    assert_eq!(r.messages, vec![Message::User { text: "".into() }]);
    // An assistant turn of only a tool call has no text; one without `input` gets `{}`.
    let r = ok(&with(
        "messages",
        json!([{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f"}]}]),
    ))
    .request;
    assert_eq!(
        r.messages,
        vec![Message::Assistant {
            text: None,
            tool_calls: vec![ToolCall {
                id: "t".into(),
                name: "f".into(),
                arguments: "{}".into()
            }],
            reasoning: Vec::new(),
        }]
    );
    // Nulls mean "not given"; a UTF-8 BOM is tolerated.
    let r = parse_request(b"\xEF\xBB\xBF{\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":null,\"tools\":null,\"stop_sequences\":null,\"system\":null}").unwrap();
    assert_eq!(r.request.sampling.max_tokens, Some(5));
    assert_eq!(r.request.sampling.temperature, None);
}

#[test]
fn body_errors() {
    err(b"", "the request body is empty", None);
    let e = parse_request(b"{\"model\":").unwrap_err();
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
        b"42",
        "the request body must be a JSON object, got a number",
        None,
    );
}

#[test]
fn structural_errors() {
    let mut no_max = with("model", json!("m"));
    no_max.as_object_mut().unwrap().remove("max_tokens");
    err_json(
        &no_max,
        "missing required field `max_tokens`",
        Some("max_tokens"),
    );
    err_json(
        &with("max_tokens", json!(null)),
        "missing required field `max_tokens`",
        Some("max_tokens"),
    );
    err_json(
        &json!({"model": "m", "max_tokens": 1}),
        "missing required field `messages`",
        Some("messages"),
    );
    err_json(
        &with("messages", json!([])),
        "`messages` must contain at least one message",
        Some("messages"),
    );
    err_json(
        &with("foo", json!(1)),
        "unrecognized request argument supplied: `foo`",
        Some("foo"),
    );
    err_json(
        &with("mcp_servers", json!([])),
        "unrecognized request argument supplied: `mcp_servers`",
        Some("mcp_servers"),
    );
    err_json(
        &with("container", json!("c-1")),
        "`container` (code execution) is not supported",
        Some("container"),
    );
    err_json(
        &with("max_tokens", json!("10")),
        "invalid type for `max_tokens`: expected an integer from 0 to 4294967295, got a string",
        Some("max_tokens"),
    );
    err_json(
        &with("max_tokens", json!(0)),
        "`max_tokens` must be at least 1",
        Some("max_tokens"),
    );
    err(
        br#"{"max_tokens":10,"messages":[{"role":"user","content":"x"}],"max_tokens":5}"#,
        "duplicate field `max_tokens`",
        Some("max_tokens"),
    );
    err_json(
        &with("stream", json!("yes")),
        "invalid type for `stream`: expected a boolean, got a string",
        Some("stream"),
    );
    err_json(
        &with("system", json!(5)),
        "invalid type for `system`: expected a string or an array of content blocks, got an integer",
        Some("system"),
    );
    err_json(
        &with("system", json!([{"type": "image"}])),
        "`system` may only contain `text` blocks, got `image`",
        Some("system[0].type"),
    );
    err_json(
        &with("stop_sequences", json!("END")),
        "invalid type for `stop_sequences`: expected an array, got a string",
        Some("stop_sequences"),
    );
}

#[test]
fn huge_and_out_of_range_numbers() {
    err_json(
        &with("max_tokens", json!(4_294_967_296_u64)),
        "invalid value for `max_tokens`: expected an integer from 0 to 4294967295, got 4294967296",
        Some("max_tokens"),
    );
    err_json(
        &with("max_tokens", json!(-1)),
        "invalid value for `max_tokens`: expected an integer from 0 to 4294967295, got -1",
        Some("max_tokens"),
    );
    err_json(
        &with("max_tokens", json!(1e30)),
        "invalid type for `max_tokens`: expected an integer from 0 to 4294967295, got a number",
        Some("max_tokens"),
    );
    let e = parse_request(
        br#"{"max_tokens":99999999999999999999999,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("max_tokens"), "{e:?}");
    err_json(
        &with("temperature", json!(1.5)),
        "`temperature` must be between 0 and 1, got 1.5",
        Some("temperature"),
    );
    err_json(
        &with("top_p", json!(-0.5)),
        "`top_p` must be between 0 and 1, got -0.5",
        Some("top_p"),
    );
    err_json(
        &with("temperature", json!(1e300)),
        "`temperature` must be between 0 and 1, got inf",
        Some("temperature"),
    );
    err_json(
        &with("top_k", json!(-3)),
        "invalid value for `top_k`: expected an integer from 0 to 4294967295, got -3",
        Some("top_k"),
    );
}

#[test]
fn message_errors() {
    err_json(
        &with("messages", json!([{"role": "system", "content": "x"}])),
        "invalid value `system` for `messages[0].role`: expected `user` or `assistant`; the system prompt goes in the top-level `system` field",
        Some("messages[0].role"),
    );
    err_json(
        &with("messages", json!([{"role": "wizard", "content": "x"}])),
        "invalid value `wizard` for `messages[0].role`: expected `user` or `assistant`",
        Some("messages[0].role"),
    );
    err_json(
        &with("messages", json!([{"content": "x"}])),
        "missing required field `messages[0].role`",
        Some("messages[0].role"),
    );
    err_json(
        &with("messages", json!([{"role": "user", "content": null}])),
        "missing required field `messages[0].content`",
        Some("messages[0].content"),
    );
    err_json(
        &with("messages", json!(["hi"])),
        "invalid type for `messages[0]`: expected a message object, got a string",
        Some("messages[0]"),
    );
    err_json(
        &user_content(json!(5)),
        "invalid type for `messages[0].content`: expected a string or an array of content blocks, got an integer",
        Some("messages[0].content"),
    );
    err_json(
        &user_content(json!([{"type": "text"}])),
        "missing required field `messages[0].content[0].text`",
        Some("messages[0].content[0].text"),
    );
    err_json(
        &user_content(json!([{"text": "x"}])),
        "missing required field `messages[0].content[0].type`",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &user_content(json!([{"type": "text", "text": 5}])),
        "invalid type for `messages[0].content[0].text`: expected a string, got an integer",
        Some("messages[0].content[0].text"),
    );
    err_json(
        &user_content(json!([{"type": "tool_use", "id": "a", "name": "f", "input": {}}])),
        "`tool_use` blocks belong in `assistant` messages",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &user_content(json!([{"type": "thinking", "thinking": "t", "signature": "s"}])),
        "`thinking` blocks belong in `assistant` messages",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &user_content(json!([{"type": "tool_result", "content": "x"}])),
        "missing required field `messages[0].content[0].tool_use_id`",
        Some("messages[0].content[0].tool_use_id"),
    );
    err_json(
        &with(
            "messages",
            json!([{"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "a"}]}]),
        ),
        "`tool_result` blocks belong in `user` messages",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &with(
            "messages",
            json!([{"role": "assistant", "content": [{"type": "tool_use", "name": "f"}]}]),
        ),
        "missing required field `messages[0].content[0].id`",
        Some("messages[0].content[0].id"),
    );
    err_json(
        &user_content(json!([{"type": "hologram"}])),
        "unknown content block type `hologram`; expected `text`, `tool_use`, `tool_result` or `thinking`",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &with(
            "messages",
            json!([{"role": "assistant", "content": [{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]}]),
        ),
        "rill does not run server tools, so `server_tool_use` blocks are not supported",
        Some("messages[0].content[0].type"),
    );
}

#[test]
fn media_is_refused_with_the_path() {
    err_json(
        &user_content(json!([
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
        ])),
        "rill does not support `image` content yet",
        Some("messages[0].content[1].type"),
    );
    err_json(
        &user_content(
            json!([{"type": "document", "source": {"type": "url", "url": "https://x/y.pdf"}}]),
        ),
        "rill does not support `document` content yet",
        Some("messages[0].content[0].type"),
    );
    err_json(
        &user_content(
            json!([{"type": "tool_result", "tool_use_id": "a", "content": [
                {"type": "text", "text": "chart:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}
            ]}]),
        ),
        "rill does not support `image` content yet",
        Some("messages[0].content[0].content[1].type"),
    );
    err_json(
        &user_content(
            json!([{"type": "tool_result", "tool_use_id": "a", "content": [{"type": "blob"}]}]),
        ),
        "unknown tool result block type `blob`; expected `text`",
        Some("messages[0].content[0].content[0].type"),
    );
}

#[test]
fn tool_errors() {
    let tools = json!([{"name": "f", "input_schema": {"type": "object"}}]);
    err_json(
        &with(
            "tools",
            json!([{"type": "web_search_20250305", "name": "web_search"}]),
        ),
        "only custom tools are supported, got `web_search_20250305`",
        Some("tools[0].type"),
    );
    err_json(
        &with("tools", json!([{"input_schema": {}}])),
        "missing required field `tools[0].name`",
        Some("tools[0].name"),
    );
    err_json(
        &with("tools", json!([{"name": "", "input_schema": {}}])),
        "`tools[0].name` must not be empty",
        Some("tools[0].name"),
    );
    err_json(
        &with("tools", json!([{"name": "f"}])),
        "missing required field `tools[0].input_schema`",
        Some("tools[0].input_schema"),
    );
    let mut body = with("tools", tools.clone());
    body["tool_choice"] = json!({"type": "tool", "name": "g"});
    err_json(
        &body,
        "`tool_choice` names the tool `g`, which is not in `tools`",
        Some("tool_choice.name"),
    );
    body["tool_choice"] = json!({"type": "tool"});
    err_json(
        &body,
        "missing required field `tool_choice.name`",
        Some("tool_choice.name"),
    );
    body["tool_choice"] = json!({"type": "required"});
    err_json(
        &body,
        "invalid value `required` for `tool_choice.type`: expected one of `auto`, `any`, `tool`, `none`",
        Some("tool_choice.type"),
    );
    body["tool_choice"] = json!("auto");
    err_json(
        &body,
        "invalid type for `tool_choice`: expected a tool choice object, got a string",
        Some("tool_choice"),
    );
    err_json(
        &with("tool_choice", json!({"type": "any"})),
        "`tool_choice` is `any` but no `tools` were given",
        Some("tool_choice.type"),
    );
}

#[test]
fn option_errors() {
    err_json(
        &with("thinking", json!({"type": "sometimes"})),
        "invalid value `sometimes` for `thinking.type`: expected one of `enabled`, `disabled`, `adaptive`",
        Some("thinking.type"),
    );
    err_json(
        &with(
            "thinking",
            json!({"type": "enabled", "budget_tokens": "lots"}),
        ),
        "invalid type for `thinking.budget_tokens`: expected an integer from 0 to 4294967295, got a string",
        Some("thinking.budget_tokens"),
    );
    err_json(
        &with("output_config", json!({"format": {"type": "json_schema"}})),
        "missing required field `output_config.format.schema`",
        Some("output_config.format.schema"),
    );
    err_json(
        &with("output_config", json!({"format": {"type": "xml"}})),
        "invalid value `xml` for `output_config.format.type`: expected `json_schema`",
        Some("output_config.format.type"),
    );
}

#[test]
fn input_schema_must_be_an_object_and_model_not_null() {
    err_json(
        &with(
            "tools",
            json!([{"name": "f", "input_schema": "notaschema"}]),
        ),
        "`tools[0].input_schema` must be a JSON Schema object, got a string",
        Some("tools[0].input_schema"),
    );
    let error = parse(&with("model", serde_json::Value::Null)).unwrap_err();
    assert_eq!(
        (error.status_code(), error.param.as_deref()),
        (400, Some("model")),
        "{error:?}"
    );
}
