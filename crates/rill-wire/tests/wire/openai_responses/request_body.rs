//! `request_body`: the body rill sends a Responses upstream, and that
//! `parse_request(request_body(r))` is `r` up to the normalisations `request_body`
//! documents, for any request the parser would accept (`normalised` spells them out,
//! independently of the code under test).

use proptest::prelude::*;
use rill_core::{
    ChatRequest, Message, Reasoning, ResponseFormat, Sampling, Tool, ToolCall, ToolChoice,
};
use rill_wire::openai_responses::{parse_request, request_body};
use serde_json::json;

use super::support::snapshots;

const MODEL: &str = "gpt-rt";

fn weather_call() -> ToolCall {
    ToolCall {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: "{\"city\":\"Paris\"}".into(),
    }
}

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
                text: Some("Checking.".into()),
                tool_calls: vec![weather_call()],
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
        tool_choice: Some(ToolChoice::Auto),
        sampling: Sampling {
            temperature: Some(0.5),
            top_p: Some(0.75),
            top_k: Some(40),
            max_tokens: Some(100),
            stop: vec!["END".into()],
            seed: Some(7),
            frequency_penalty: Some(0.5),
            presence_penalty: Some(0.25),
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: "weather".into(),
            schema: json!({"type": "object"}),
            strict: true,
        }),
    }
}

#[test]
fn request_body_stream() {
    let body = request_body(&request(), MODEL, true);
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&body).unwrap())
            .unwrap();
    snapshots().bind(|| insta::assert_snapshot!("openai_responses_request_body_stream", pretty));
    let parsed = parse_request(body.as_bytes()).unwrap();
    assert!(parsed.stream);
    assert_eq!(parsed.request, normalised(&request()));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => "[a-zA-Z0-9 \"\\\\\n{}:,é🦀\u{0}]{1,10}",
    ]
}

fn tool_call() -> impl Strategy<Value = ToolCall> {
    (
        "call_[a-z0-9]{1,6}",
        "[a-z_]{1,8}",
        "[\\[\\]{}\"a-z0-9:, ]{0,12}",
    )
        .prop_map(|(id, name, arguments)| ToolCall {
            id,
            name,
            arguments,
        })
}

/// Signed blocks (what goes upstream), unsigned and redacted ones (what does not).
fn reasoning() -> impl Strategy<Value = Vec<Reasoning>> {
    let block = prop_oneof![
        3 => (text(), "[A-Za-z0-9+/=_-]{1,12}").prop_map(|(text, sig)| Reasoning::signed(text, sig)),
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
        2 => ("call_[a-z0-9]{1,6}", text())
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
        prop::option::of(unit()),
    )
        .prop_map(
            |((temperature, top_p), top_k, max_tokens, stop, seed, penalty)| Sampling {
                temperature: temperature.map(|t| t * 2.0),
                top_p,
                top_k,
                max_tokens,
                stop,
                seed,
                frequency_penalty: penalty,
                presence_penalty: penalty,
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

fn chat_request() -> impl Strategy<Value = ChatRequest> {
    let messages = prop::collection::vec(message(), 1..10);
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

/// The request `parse_request(request_body(r))` gives, from `request_body`'s docs.
fn normalised(request: &ChatRequest) -> ChatRequest {
    let mut messages: Vec<Message> = Vec::new();
    for message in &request.messages {
        let Message::Assistant {
            text,
            tool_calls,
            reasoning,
        } = message
        else {
            messages.push(message.clone());
            continue;
        };
        // Only signed reasoning is sent, as items before the text and calls.
        let reasoning: Vec<Reasoning> = reasoning
            .iter()
            .filter(|block| block.signature().is_some())
            .cloned()
            .collect();
        match (text, messages.last_mut()) {
            // An assistant without text sends only its reasoning and calls: they join
            // the assistant message before them, if there is one.
            (
                None,
                Some(Message::Assistant {
                    tool_calls: last,
                    reasoning: before,
                    ..
                }),
            ) if !tool_calls.is_empty() => {
                last.extend(tool_calls.iter().cloned());
                before.extend(reasoning);
            }
            _ => messages.push(Message::Assistant {
                // Without text or calls, the message is sent as `""`.
                text: text
                    .clone()
                    .or_else(|| tool_calls.is_empty().then(String::new)),
                tool_calls: tool_calls.clone(),
                reasoning,
            }),
        }
    }
    ChatRequest {
        model: MODEL.into(),
        messages,
        sampling: Sampling {
            temperature: request.sampling.temperature,
            top_p: request.sampling.top_p,
            max_tokens: request.sampling.max_tokens,
            ..Sampling::default()
        },
        ..request.clone()
    }
}

proptest! {
    #[test]
    fn body_parses_back_to_the_normalised_request(request in chat_request(), stream in any::<bool>()) {
        let body = request_body(&request, MODEL, stream);
        let parsed = parse_request(body.as_bytes())
            .unwrap_or_else(|e| panic!("{e:?}\n{body}"));
        prop_assert_eq!(parsed.stream, stream);
        prop_assert_eq!(parsed.request, normalised(&request), "{}", body);
    }

    #[test]
    fn normalised_requests_round_trip_exactly(request in chat_request()) {
        let once = normalised(&request);
        let body = request_body(&once, MODEL, true);
        let parsed = parse_request(body.as_bytes()).unwrap();
        prop_assert_eq!(parsed.request, once);
    }
}
