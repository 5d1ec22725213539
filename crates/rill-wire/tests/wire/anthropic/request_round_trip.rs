//! `parse_request(request_body(r))` is `r` up to the normalisations `request_body`
//! documents, for any request the parser would accept: `normalised` below spells them
//! out, independently of the code under test.

use proptest::prelude::*;
use rill_core::{
    ChatRequest, Message, Reasoning, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice,
};
use rill_wire::anthropic::{DEFAULT_MAX_TOKENS, parse_request, request_body};
use serde_json::{Value, json};

const MODEL: &str = "claude-rt";

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => "[a-zA-Z0-9 \"\\\\\n{}:,é🦀\u{0}]{1,10}",
    ]
}

/// Tool arguments: JSON objects (with spacing that does not survive), and text that is
/// not one.
fn arguments() -> impl Strategy<Value = String> {
    let object = prop::collection::vec(("[a-z]{1,4}", "[a-z 0-9]{0,4}", any::<bool>()), 0..4)
        .prop_map(|fields| {
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(k, v, number)| {
                    if number {
                        format!("\"{k}\" : {}", v.len())
                    } else {
                        format!("\"{k}\": \"{v}\"")
                    }
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        });
    prop_oneof![
        4 => object,
        1 => Just(String::new()),
        1 => "[\\[\\]{}\"a-z0-9:,]{1,8}",
    ]
}

fn tool_call() -> impl Strategy<Value = ToolCall> {
    ("toolu_[a-z0-9]{1,6}", "[a-z_]{1,8}", arguments()).prop_map(|(id, name, arguments)| ToolCall {
        id,
        name,
        arguments,
    })
}

/// Signed and redacted blocks (what goes upstream) and unsigned ones (what does not).
fn reasoning() -> impl Strategy<Value = Vec<Reasoning>> {
    let block = prop_oneof![
        3 => (text(), "[A-Za-z0-9+/=]{1,12}").prop_map(|(text, sig)| Reasoning::signed(text, sig)),
        1 => text().prop_map(Reasoning::unsigned),
        1 => "[A-Za-z0-9+/=]{1,12}".prop_map(|data| Reasoning::Redacted { data }),
    ];
    prop::collection::vec(block, 0..3)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        1 => text().prop_map(|text| Message::System { text }),
        4 => text().prop_map(|text| Message::User { text }),
        4 => (prop::option::of(text()), prop::collection::vec(tool_call(), 0..3), reasoning())
            .prop_map(|(text, tool_calls, reasoning)| Message::Assistant {
                text,
                tool_calls,
                reasoning,
            }),
        2 => ("toolu_[a-z0-9]{1,6}", text())
            .prop_map(|(tool_call_id, text)| Message::Tool { tool_call_id, text }),
    ]
}

fn tools() -> impl Strategy<Value = Vec<Tool>> {
    prop::collection::vec(
        ("[a-z_]{1,8}", prop::option::of("[a-z ]{0,8}")).prop_map(|(name, description)| Tool {
            name,
            description,
            parameters: json!({"type": "object"}),
        }),
        0..3,
    )
}

/// A tool choice the parser accepts for these tools.
fn tool_choice(tools: &[Tool]) -> BoxedStrategy<Option<ToolChoice>> {
    let mut choices = vec![
        Just(None).boxed(),
        Just(Some(ToolChoice::Auto)).boxed(),
        Just(Some(ToolChoice::None)).boxed(),
    ];
    if !tools.is_empty() {
        choices.push(Just(Some(ToolChoice::Required)).boxed());
        let names: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
        choices.push(
            prop::sample::select(names)
                .prop_map(|name| Some(ToolChoice::Tool(name)))
                .boxed(),
        );
    }
    prop::strategy::Union::new(choices).boxed()
}

fn unit() -> impl Strategy<Value = f32> {
    (0..=100u8).prop_map(|n| f32::from(n) / 100.0)
}

fn sampling() -> impl Strategy<Value = Sampling> {
    (
        (prop::option::of(unit()), prop::option::of(unit())),
        prop::option::of(0..500u32),
        prop::option::of(1..100_000u32),
        prop::collection::vec("[A-Z]{1,4}", 0..3),
        prop::option::of(any::<u64>()),
        (prop::option::of(unit()), prop::option::of(unit())),
    )
        .prop_map(
            |((temperature, top_p), top_k, max_tokens, stop, seed, (frequency, presence))| {
                Sampling {
                    temperature,
                    top_p,
                    top_k,
                    max_tokens,
                    stop,
                    seed,
                    frequency_penalty: frequency,
                    presence_penalty: presence,
                }
            },
        )
}

fn response_format() -> impl Strategy<Value = Option<ResponseFormat>> {
    prop_oneof![
        Just(None),
        Just(Some(ResponseFormat::Text)),
        Just(Some(ResponseFormat::JsonObject)),
        ("[a-z]{1,6}", any::<bool>()).prop_map(|(name, strict)| Some(ResponseFormat::JsonSchema {
            name,
            schema: json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            strict,
        })),
    ]
}

/// Requests the parser accepts once sent: at least one user or assistant message.
fn request() -> impl Strategy<Value = ChatRequest> {
    let messages = prop::collection::vec(message(), 1..10).prop_filter(
        "a request needs a message that is not a system message",
        |messages| {
            messages
                .iter()
                .any(|m| !matches!(m, Message::System { .. }))
        },
    );
    (messages, tools(), sampling(), response_format())
        .prop_flat_map(|(messages, tools, sampling, response_format)| {
            let choice = tool_choice(&tools);
            (
                Just(messages),
                Just(tools),
                choice,
                Just(sampling),
                Just(response_format),
            )
        })
        .prop_map(
            |(messages, tools, tool_choice, sampling, response_format)| ChatRequest {
                tally: Default::default(),
                model: "client-name".into(),
                messages,
                tools,
                tool_choice,
                sampling,
                response_format,
            },
        )
}

/// One side's run of consecutive messages.
enum Turn {
    User(Vec<Message>),
    Assistant(Vec<Message>),
}

/// The request `parse_request(request_body(r))` gives, from `request_body`'s docs.
fn normalised(request: &ChatRequest) -> ChatRequest {
    let systems: Vec<&str> = request
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::System { text } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut messages = Vec::new();
    if !systems.is_empty() {
        messages.push(Message::System {
            text: systems.join("\n\n"),
        });
    }
    for turn in turns(&request.messages) {
        match turn {
            Turn::User(run) => user_turn(run, &mut messages),
            Turn::Assistant(run) => messages.push(assistant_turn(run)),
        }
    }
    let format = match &request.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => Some(ResponseFormat::JsonSchema {
            name: "output".into(),
            schema: schema.clone(),
            strict: true,
        }),
        _ => None,
    };
    ChatRequest {
        tally: Default::default(),
        model: MODEL.into(),
        messages,
        tools: request.tools.clone(),
        tool_choice: request
            .tool_choice
            .clone()
            .filter(|_| !request.tools.is_empty()),
        sampling: Sampling {
            max_tokens: Some(request.sampling.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
            seed: None,
            frequency_penalty: None,
            presence_penalty: None,
            ..request.sampling.clone()
        },
        response_format: format,
    }
}

fn turns(messages: &[Message]) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for m in messages {
        match (m, turns.last_mut()) {
            (Message::System { .. }, _) => {}
            (Message::Assistant { .. }, Some(Turn::Assistant(run)))
            | (Message::User { .. } | Message::Tool { .. }, Some(Turn::User(run))) => {
                run.push(m.clone());
            }
            (Message::Assistant { .. }, _) => turns.push(Turn::Assistant(vec![m.clone()])),
            _ => turns.push(Turn::User(vec![m.clone()])),
        }
    }
    turns
}

/// Empty texts drop out unless the turn is nothing else; texts between tool results are
/// joined into one user message.
fn user_turn(run: Vec<Message>, out: &mut Vec<Message>) {
    let all_empty = run
        .iter()
        .all(|m| matches!(m, Message::User { text } if text.is_empty()));
    if all_empty {
        out.push(Message::User {
            text: String::new(),
        });
        return;
    }
    let mut texts: Vec<String> = Vec::new();
    for m in run {
        match m {
            Message::User { text } if text.is_empty() => {}
            Message::User { text } => texts.push(text),
            tool => {
                flush(&mut texts, out);
                out.push(tool);
            }
        }
    }
    flush(&mut texts, out);
}

fn flush(texts: &mut Vec<String>, out: &mut Vec<Message>) {
    if !texts.is_empty() {
        out.push(Message::User {
            text: texts.join("\n\n"),
        });
        texts.clear();
    }
}

/// Non-empty texts joined, calls in order with arguments as compact JSON objects, the
/// signed and redacted reasoning in order.
fn assistant_turn(run: Vec<Message>) -> Message {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    let mut blocks = Vec::new();
    let mut had_text = false;
    for m in run {
        if let Message::Assistant {
            text,
            tool_calls,
            reasoning,
        } = m
        {
            blocks.extend(reasoning.into_iter().filter(|block| {
                matches!(block, Reasoning::Redacted { .. }) || block.signature().is_some()
            }));
            had_text |= text.is_some();
            texts.extend(text.filter(|t| !t.is_empty()));
            calls.extend(tool_calls.into_iter().map(|call| ToolCall {
                arguments: match serde_json::from_str::<Value>(&call.arguments) {
                    Ok(object @ Value::Object(_)) => object.to_string(),
                    _ => "{}".into(),
                },
                ..call
            }));
        }
    }
    let text = if texts.is_empty() {
        // Only empty texts, no call and no reasoning: the turn is sent as `""`.
        (had_text && calls.is_empty() && blocks.is_empty()).then(String::new)
    } else {
        Some(texts.join("\n\n"))
    };
    Message::Assistant {
        text,
        tool_calls: calls,
        reasoning: blocks,
    }
}

proptest! {
    #[test]
    fn body_parses_back_to_the_normalised_request(request in request(), stream in any::<bool>()) {
        let body = request_body(&request, MODEL, stream);
        let parsed = parse_request(body.as_bytes())
            .unwrap_or_else(|e| panic!("{e:?}\n{body}"));
        prop_assert_eq!(parsed.stream, stream);
        prop_assert!(!parsed.thinking);
        prop_assert_eq!(parsed.request, normalised(&request), "{}", body);
    }

    #[test]
    fn normalised_requests_round_trip_exactly(request in request()) {
        let once = normalised(&request);
        let body = request_body(&once, MODEL, true);
        let parsed = parse_request(body.as_bytes()).unwrap();
        prop_assert_eq!(parsed.request, once);
    }
}
