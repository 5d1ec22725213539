//! Request parsing: the happy paths and every error case, with message and `param`.

use rill_core::{ChatRequest, ErrorKind, Message, Reasoning, Sampling, ToolCall};
use rill_wire::vercel_ui::{ParsedRequest, parse_request};
use serde_json::{Value, json};

fn parse(body: &Value) -> Result<ParsedRequest, rill_core::Error> {
    parse_request(body.to_string().as_bytes())
}

fn ok(body: &Value) -> ParsedRequest {
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
fn err_json(body: &Value, message: &str, param: Option<&str>) {
    err(body.to_string().as_bytes(), message, param);
}

fn user(text: &str) -> Value {
    json!({"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]})
}

/// A default `useChat` body with these messages.
fn body(messages: Value) -> Value {
    json!({"id": "chat-1", "messages": messages, "trigger": "submit-message"})
}

/// A body whose only message is an assistant's with these parts, then a user's.
fn assistant_parts(parts: Value) -> Value {
    body(json!([user("q"), {"id": "a1", "role": "assistant", "parts": parts}, user("next")]))
}

/// A valid body with top-level `field` set to `value`.
fn with(field: &str, value: Value) -> Value {
    let mut body = body(json!([user("x")]));
    body[field] = value;
    body
}

fn user_msg(text: &str) -> Message {
    Message::User { text: text.into() }
}

fn weather(id: &str, city: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\"city\":\"{city}\"}}"),
    }
}

#[test]
fn the_first_message_of_a_chat() {
    let parsed = ok(&json!({
        "id": "chat-1",
        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Hello"}]}],
        "trigger": "submit-message"
    }));
    assert_eq!(
        parsed,
        ParsedRequest {
            request: ChatRequest {
                model: String::new(),
                messages: vec![user_msg("Hello")],
                ..ChatRequest::default()
            },
            continues: None,
        }
    );
}

#[test]
fn body_options_are_read_and_unknown_fields_refused() {
    let parsed = ok(&json!({
        "id": "chat-1", "messageId": "m-9", "trigger": "regenerate-message",
        "messages": [user("x")],
        "model": "rill-small", "temperature": 0.5, "topP": 0.9, "topK": 40,
        "maxOutputTokens": 256, "stopSequences": ["END"], "seed": -1,
        "presencePenalty": 0.5, "frequencyPenalty": -0.5
    }));
    assert_eq!(parsed.request.model, "rill-small");
    assert_eq!(
        parsed.request.sampling,
        Sampling {
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            max_tokens: Some(256),
            stop: vec!["END".into()],
            seed: Some(u64::MAX),
            presence_penalty: Some(0.5),
            frequency_penalty: Some(-0.5),
        }
    );
    let parsed = ok(&with("max_tokens", json!(12)));
    assert_eq!(parsed.request.sampling.max_tokens, Some(12));
    let mut both = with("max_tokens", json!(12));
    both["maxOutputTokens"] = json!(12);
    assert_eq!(ok(&both).request.sampling.max_tokens, Some(12));
    // Absent is the default model; `null` is a mistake.
    assert_eq!(ok(&body(json!([user("x")]))).request.model, "");
    let error = parse(&with("model", Value::Null)).unwrap_err();
    assert_eq!(error.param.as_deref(), Some("model"), "{error:?}");
    // Options rill does not honour are refused, not ignored.
    for (field, value) in [
        ("n", json!(5)),
        ("stream", json!("yes")),
        ("base_url", json!("http://elsewhere")),
        ("webSearch", json!(true)),
    ] {
        let error = parse(&with(field, value)).unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.message.contains(field), "{field}: {}", error.message);
    }
}

#[test]
fn roles_and_text_parts() {
    let parsed = ok(&body(json!([
        {"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]},
        {"id": "u", "role": "user", "metadata": {"createdAt": 1}, "parts": [
            {"type": "text", "text": "Hi", "state": "done"},
            {"type": "data-weather", "id": "d1", "data": {"x": 1}},
            {"type": "text", "text": " there"}
        ]},
        {"id": "a", "role": "assistant", "parts": [
            {"type": "step-start"},
            {"type": "reasoning", "text": "Greet back.", "providerMetadata": {"x": {}}},
            {"type": "text", "text": "Hello"},
            {"type": "source-url", "sourceId": "s1", "url": "https://example.com"},
            {"type": "text", "text": "!"}
        ]},
        {"id": "u2", "role": "user", "parts": []}
    ])));
    assert_eq!(
        parsed.request.messages,
        vec![
            Message::System {
                text: "Be brief.".into()
            },
            user_msg("Hi there"),
            Message::Assistant {
                text: Some("Hello!".into()),
                tool_calls: vec![],
                // Other providers' metadata is not read: unsigned.
                reasoning: vec![Reasoning::unsigned("Greet back.")],
            },
            user_msg(""),
        ]
    );
    assert_eq!(parsed.continues, None);
}

/// The shape `useChat` sends after `addToolResult` and `sendAutomaticallyWhen`: the
/// conversation ends with the assistant message that holds the results.
#[test]
fn multi_turn_with_tool_outputs_and_steps() {
    let parsed = ok(&body(json!([
        user("Weather in Paris and Rome?"),
        {"id": "msg-tools", "role": "assistant", "parts": [
            {"type": "step-start"},
            {"type": "text", "text": "Let me check both.", "state": "done"},
            {"type": "tool-get_weather", "toolCallId": "call_paris", "state": "output-available",
             "input": {"city": "Paris"}, "output": {"temperature": 21, "sky": "sunny"}},
            {"type": "tool-get_weather", "toolCallId": "call_rome", "state": "output-available",
             "input": {"city": "Rome"}, "output": "rain"},
            {"type": "step-start"},
            {"type": "text", "text": "Paris is sunny, Rome is rainy."},
            {"type": "dynamic-tool", "toolName": "lookup", "toolCallId": "call_x", "state": "output-error",
             "input": {"q": 1}, "errorText": "not found"},
            {"type": "step-start"},
            {"type": "tool-get_weather", "toolCallId": "call_late", "state": "input-available", "input": {"city": "Oslo"}}
        ]}
    ])));
    assert_eq!(
        parsed.request.messages,
        vec![
            user_msg("Weather in Paris and Rome?"),
            Message::Assistant {
                text: Some("Let me check both.".into()),
                tool_calls: vec![weather("call_paris", "Paris"), weather("call_rome", "Rome")],
                reasoning: Vec::new(),
            },
            Message::Tool {
                tool_call_id: "call_paris".into(),
                text: r#"{"temperature":21,"sky":"sunny"}"#.into()
            },
            Message::Tool {
                tool_call_id: "call_rome".into(),
                text: "rain".into()
            },
            Message::Assistant {
                text: Some("Paris is sunny, Rome is rainy.".into()),
                tool_calls: vec![ToolCall {
                    id: "call_x".into(),
                    name: "lookup".into(),
                    arguments: r#"{"q":1}"#.into()
                }],
                reasoning: Vec::new(),
            },
            Message::Tool {
                tool_call_id: "call_x".into(),
                text: "error: not found".into()
            },
            // The last step only has a call still waiting for its output: left out.
        ]
    );
    assert_eq!(parsed.continues.as_deref(), Some("msg-tools"));
}

#[test]
fn tool_part_details() {
    let parsed = ok(&assistant_parts(json!([
        // No output at all is `null`; no input is `{}`.
        {"type": "tool-ping", "toolCallId": "a", "state": "output-available"},
        // A failed input keeps its raw text, as the SDK sends it.
        {"type": "tool-f", "toolCallId": "b", "state": "output-error", "rawInput": "{\"x\":", "errorText": ""},
        {"type": "tool-f", "toolCallId": "c", "state": "output-error", "input": {"x": 1}, "rawInput": "{\"x\":1}", "errorText": "bad"},
        // Still streaming: left out, like a preliminary output.
        {"type": "tool-f", "toolCallId": "d", "state": "input-streaming", "input": {"x": 1}},
        {"type": "tool-f", "toolCallId": "e", "state": "output-available", "preliminary": true, "output": 1},
        {"type": "tool-f", "toolCallId": "f", "state": "output-available", "input": [1], "output": [true, null],
         "providerExecuted": false, "callProviderMetadata": {"p": {}}}
    ])));
    let call = |id: &str, name: &str, arguments: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    };
    let tool = |id: &str, text: &str| Message::Tool {
        tool_call_id: id.into(),
        text: text.into(),
    };
    assert_eq!(
        parsed.request.messages[1..],
        [
            Message::Assistant {
                text: None,
                tool_calls: vec![
                    call("a", "ping", "{}"),
                    call("b", "f", "{\"x\":"),
                    call("c", "f", "{\"x\":1}"),
                    call("f", "f", "[1]"),
                ],
                reasoning: Vec::new(),
            },
            tool("a", "null"),
            tool("b", "error"),
            tool("c", "error: bad"),
            tool("f", "[true,null]"),
            user_msg("next"),
        ]
    );
}

/// What rill's stream put in `providerMetadata.rill` comes back as the step's reasoning.
#[test]
fn reasoning_parts_bring_back_their_signatures() {
    let parsed = ok(&assistant_parts(json!([
        {"type": "step-start"},
        {"type": "reasoning", "text": "Think.", "state": "done",
         "providerMetadata": {"rill": {"signature": "sig-1"}, "other": {"x": 1}}},
        {"type": "reasoning", "text": "", "providerMetadata": {"rill": {"redactedData": "opaque"}}},
        {"type": "text", "text": "Checking."},
        {"type": "reasoning", "text": "", "providerMetadata": {"rill": {"signature": "sig-2"}}},
        {"type": "tool-get_weather", "toolCallId": "c1", "state": "output-available",
         "input": {"city": "Paris"}, "output": "sunny"},
        {"type": "step-start"},
        {"type": "reasoning", "text": "", "providerMetadata": {"rill": {"signature": ""}}},
        {"type": "text", "text": "Sunny."}
    ])));
    assert_eq!(
        parsed.request.messages,
        vec![
            user_msg("q"),
            Message::Assistant {
                text: Some("Checking.".into()),
                tool_calls: vec![weather("c1", "Paris")],
                reasoning: vec![
                    Reasoning::signed("Think.", "sig-1"),
                    Reasoning::Redacted {
                        data: "opaque".into()
                    },
                    Reasoning::signed("", "sig-2"),
                ],
            },
            Message::Tool {
                tool_call_id: "c1".into(),
                text: "sunny".into(),
            },
            Message::Assistant {
                text: Some("Sunny.".into()),
                tool_calls: vec![],
                reasoning: vec![],
            },
            user_msg("next"),
        ]
    );
    err_json(
        &assistant_parts(json!([
            {"type": "reasoning", "text": "", "providerMetadata": {"rill": {"signature": 5}}}
        ])),
        "invalid type for `messages[1].parts[0].providerMetadata.rill.signature`: expected a string, got an integer",
        Some("messages[1].parts[0].providerMetadata.rill.signature"),
    );
}

#[test]
fn assistant_messages_with_nothing_for_the_model_are_left_out() {
    let parsed = ok(&assistant_parts(json!([
        {"type": "step-start"},
        {"type": "reasoning", "text": "hmm"},
        {"type": "text", "text": ""},
        {"type": "step-start"}
    ])));
    assert_eq!(
        parsed.request.messages,
        vec![user_msg("q"), user_msg("next")]
    );
}

#[test]
fn continues_only_a_trailing_assistant_message_with_an_id() {
    let tail = |message: Value| ok(&body(json!([user("q"), message]))).continues;
    let text = json!([{"type": "text", "text": "a"}]);
    assert_eq!(
        tail(json!({"id": "a1", "role": "assistant", "parts": text})).as_deref(),
        Some("a1")
    );
    assert_eq!(
        tail(json!({"id": "", "role": "assistant", "parts": text})),
        None
    );
    assert_eq!(tail(json!({"role": "assistant", "parts": text})), None);
    assert_eq!(
        tail(json!({"id": "u2", "role": "user", "parts": text})),
        None
    );
}

#[test]
fn body_level_errors() {
    err(b"", "the request body is empty", None);
    err(
        b"[]",
        "the request body must be a JSON object, got an array",
        None,
    );
    err(
        b"{\"messages\":",
        "the request body is not valid JSON: EOF while parsing a value at line 1 column 12",
        None,
    );
    err(b"{}", "missing required field `messages`", Some("messages"));
    err_json(
        &body(json!([])),
        "`messages` must contain at least one message",
        Some("messages"),
    );
    err_json(
        &body(json!({"role": "user"})),
        "invalid type for `messages`: expected an array, got an object",
        Some("messages"),
    );
    err_json(
        &with("model", json!(7)),
        "invalid type for `model`: expected a string, got an integer",
        Some("model"),
    );
    err_json(
        &with("temperature", json!(3)),
        "`temperature` must be between 0 and 2, got 3",
        Some("temperature"),
    );
    err_json(
        &with("topP", json!(1.5)),
        "`topP` must be between 0 and 1, got 1.5",
        Some("topP"),
    );
    err_json(
        &with("maxOutputTokens", json!(0)),
        "`maxOutputTokens` must be at least 1",
        Some("maxOutputTokens"),
    );
    err_json(
        &with("maxOutputTokens", json!(-5)),
        "invalid value for `maxOutputTokens`: expected an integer from 0 to 4294967295, got -5",
        Some("maxOutputTokens"),
    );
    let mut both = with("maxOutputTokens", json!(10));
    both["max_tokens"] = json!(20);
    err_json(
        &both,
        "`maxOutputTokens` (10) and `max_tokens` (20) disagree; set only one",
        Some("max_tokens"),
    );
    err_json(
        &with("stopSequences", json!("END")),
        "invalid type for `stopSequences`: expected an array, got a string",
        Some("stopSequences"),
    );
}

#[test]
fn message_level_errors() {
    err_json(
        &body(json!([{"id": "x", "role": "tool", "parts": []}])),
        "invalid value `tool` for `messages[0].role`: expected `system`, `user` or `assistant`",
        Some("messages[0].role"),
    );
    err_json(
        &body(json!([{"id": "x", "parts": []}])),
        "missing required field `messages[0].role`",
        Some("messages[0].role"),
    );
    err_json(
        &body(json!([user("a"), {"id": "x", "role": "user"}])),
        "missing required field `messages[1].parts`",
        Some("messages[1].parts"),
    );
    err_json(
        &body(json!([{"id": "x", "role": "user", "content": "hi"}])),
        "missing required field `messages[0].parts`; hint: this is an AI SDK 4 message (`content`); rill reads the UI messages of `ai` 5 and later",
        Some("messages[0].parts"),
    );
    err_json(
        &body(json!(["hi"])),
        "invalid type for `messages[0]`: expected a UI message object, got a string",
        Some("messages[0]"),
    );
    err_json(
        &body(json!([{"id": 5, "role": "user", "parts": []}])),
        "invalid type for `messages[0].id`: expected a string, got an integer",
        Some("messages[0].id"),
    );
}

#[test]
fn part_level_errors() {
    let user_parts = |parts: Value| body(json!([{"id": "u", "role": "user", "parts": parts}]));
    err_json(
        &user_parts(
            json!([{"type": "file", "mediaType": "image/png", "url": "data:image/png;base64,AA=="}]),
        ),
        "rill does not support `file` parts (attachments) yet",
        Some("messages[0].parts[0].type"),
    );
    err_json(
        &assistant_parts(
            json!([{"type": "text", "text": "a"}, {"type": "file", "mediaType": "image/png", "url": "x"}]),
        ),
        "rill does not support `file` parts (attachments) yet",
        Some("messages[1].parts[1].type"),
    );
    err_json(
        &user_parts(json!([{"type": "text", "text": "a"}, {"type": "image", "image": "x"}])),
        "unknown part type `image`; expected `text`, `reasoning`, `tool-<name>`, `dynamic-tool`, `step-start`, `source-url`, `source-document`, `file` or `data-<name>`",
        Some("messages[0].parts[1].type"),
    );
    err_json(
        &assistant_parts(json!([{"type": "tool_call"}])),
        "unknown part type `tool_call`; expected `text`, `reasoning`, `tool-<name>`, `dynamic-tool`, `step-start`, `source-url`, `source-document`, `file` or `data-<name>`",
        Some("messages[1].parts[0].type"),
    );
    err_json(
        &user_parts(json!([{"type": "tool-f", "toolCallId": "a", "state": "output-available"}])),
        "`tool-f` parts belong in `assistant` messages, not in `user` messages",
        Some("messages[0].parts[0].type"),
    );
    err_json(
        &body(
            json!([{"id": "s", "role": "system", "parts": [{"type": "reasoning", "text": "x"}]}]),
        ),
        "`reasoning` parts belong in `assistant` messages, not in `system` messages",
        Some("messages[0].parts[0].type"),
    );
    err_json(
        &user_parts(json!([{"type": "text"}])),
        "missing required field `messages[0].parts[0].text`",
        Some("messages[0].parts[0].text"),
    );
    err_json(
        &user_parts(json!([{"text": "a"}])),
        "missing required field `messages[0].parts[0].type`",
        Some("messages[0].parts[0].type"),
    );
    err_json(
        &user_parts(json!([{"type": "text", "text": 5}])),
        "invalid type for `messages[0].parts[0].text`: expected a string, got an integer",
        Some("messages[0].parts[0].text"),
    );
    err_json(
        &user_parts(json!([null])),
        "invalid type for `messages[0].parts[0]`: expected a message part object, got null",
        Some("messages[0].parts[0]"),
    );
    err_json(
        &assistant_parts(json!([{"type": "tool-f", "state": "output-available"}])),
        "missing required field `messages[1].parts[0].toolCallId`",
        Some("messages[1].parts[0].toolCallId"),
    );
    err_json(
        &assistant_parts(json!([{"type": "tool-f", "toolCallId": "a"}])),
        "missing required field `messages[1].parts[0].state`",
        Some("messages[1].parts[0].state"),
    );
    err_json(
        &assistant_parts(
            json!([{"type": "dynamic-tool", "toolCallId": "a", "state": "output-available"}]),
        ),
        "missing required field `messages[1].parts[0].toolName`",
        Some("messages[1].parts[0].toolName"),
    );
    err_json(
        &assistant_parts(
            json!([{"type": "tool-f", "toolCallId": "a", "state": "approval-requested"}]),
        ),
        "invalid value `approval-requested` for `messages[1].parts[0].state`: expected `input-streaming`, `input-available`, `output-available` or `output-error`",
        Some("messages[1].parts[0].state"),
    );
    err_json(
        &assistant_parts(
            json!([{"type": "tool-f", "toolCallId": "a", "state": "output-error", "errorText": 1}]),
        ),
        "invalid type for `messages[1].parts[0].errorText`: expected a string, got an integer",
        Some("messages[1].parts[0].errorText"),
    );
}
