//! Every recorded OpenAI stream in `tests/fixtures/openai-chat/` decodes to the exact
//! text, refusal, tool calls, finish reason and usage it carries. The expected values
//! were read off the recordings by hand; they are literals on purpose.

use std::path::PathBuf;

use rill_core::{Completion, FinishReason, StreamEvent, ToolCall, Usage};

use super::support::{Collected, decode_all, payloads};

fn fixture(name: &str) -> Vec<String> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures"));
    let path = dir.join("openai-chat").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    payloads(&text)
}

fn decode(name: &str) -> Collected {
    let (collected, decoder) = decode_all(&fixture(name));
    assert!(decoder.is_done(), "{name}: `[DONE]` not seen");
    collected
}

fn usage(input: u64, output: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: Some(0),
        cached_input_tokens: None,
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    })
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[test]
fn text_with_usage() {
    let c = decode("text_with_usage.sse");
    assert_eq!(c.choices.len(), 1);
    assert_eq!(
        c.completion(0),
        Completion {
            model: Some("gpt-4o-2024-08-06".into()),
            text: "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app.".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(14, 30),
            ..Completion::default()
        }
    );
}

#[test]
fn n3_interleaved() {
    let c = decode("n3_interleaved.sse");
    assert_eq!(c.choices.len(), 3);
    let expected = [
        "{\"city\":\"San Francisco\",\"temperature\":65,\"units\":\"f\"}",
        "{\"city\":\"San Francisco\",\"temperature\":61,\"units\":\"f\"}",
        "{\"city\":\"San Francisco\",\"temperature\":59,\"units\":\"f\"}",
    ];
    for (i, text) in (0..).zip(expected) {
        let completion = c.completion(i);
        assert_eq!(completion.text, text, "choice {i}");
        assert_eq!(
            completion.finish_reason,
            Some(FinishReason::Stop),
            "choice {i}"
        );
        assert!(completion.tool_calls.is_empty() && completion.refusal.is_empty());
    }
    // Start and the one usage report belong to choice 0.
    assert_eq!(c.completion(0).model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(c.completion(0).usage, usage(79, 42));
    assert_eq!(c.completion(1).usage, None);
}

#[test]
fn finish_length() {
    let c = decode("finish_length.sse");
    let completion = c.completion(0);
    assert_eq!(completion.text, "{\"");
    assert_eq!(completion.finish_reason, Some(FinishReason::Length));
    assert_eq!(completion.usage, usage(79, 1));
}

#[test]
fn single_tool_call() {
    let c = decode("single_tool_call.sse");
    let completion = c.completion(0);
    assert_eq!(completion.text, "");
    assert_eq!(
        completion.tool_calls,
        vec![call(
            "call_c91SqDXlYFuETYv8mUHzz6pp",
            "GetWeatherArgs",
            "{\"city\":\"Edinburgh\",\"country\":\"UK\",\"units\":\"c\"}"
        )]
    );
    assert_eq!(completion.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(completion.usage, usage(76, 24));
}

#[test]
fn parallel_tool_calls() {
    let c = decode("parallel_tool_calls.sse");
    let completion = c.completion(0);
    assert_eq!(
        completion.tool_calls,
        vec![
            call(
                "call_JMW1whyEaYG438VE1OIflxA2",
                "GetWeatherArgs",
                "{\"city\": \"Edinburgh\", \"country\": \"GB\", \"units\": \"c\"}"
            ),
            call(
                "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                "get_stock_price",
                "{\"ticker\": \"AAPL\", \"exchange\": \"NASDAQ\"}"
            ),
        ]
    );
    assert_eq!(completion.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(completion.usage, usage(149, 60));
}

#[test]
fn refusal() {
    let c = decode("refusal.sse");
    let completion = c.completion(0);
    assert_eq!(
        completion.refusal,
        "I'm sorry, I can't assist with that request."
    );
    assert_eq!(completion.text, "");
    assert_eq!(completion.finish_reason, Some(FinishReason::Stop));
    assert_eq!(completion.usage, usage(79, 11));
}

/// The event sequence itself, not just its fold: start first, both calls ended before
/// `Finish`, usage last.
#[test]
fn parallel_tool_calls_event_order() {
    let mut decoder = rill_wire::openai_chat::ChunkDecoder::new();
    let mut events = Vec::new();
    for payload in fixture("parallel_tool_calls.sse") {
        events.extend(decoder.decode(&payload).unwrap());
    }
    let kinds: Vec<String> = events
        .iter()
        .filter(|(_, e)| !matches!(e, StreamEvent::ToolCallDelta { .. }))
        .map(|(choice, e)| format!("{choice}:{e:?}"))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "0:Start { model: \"gpt-4o-2024-08-06\" }",
            "0:ToolCallStart { index: 0, id: \"call_JMW1whyEaYG438VE1OIflxA2\", name: \"GetWeatherArgs\" }",
            "0:ToolCallStart { index: 1, id: \"call_DNYTawLBoN8fj3KN6qU9N1Ou\", name: \"get_stock_price\" }",
            "0:ToolCallEnd { index: 0 }",
            "0:ToolCallEnd { index: 1 }",
            "0:Finish(ToolCalls)",
            "0:Usage(Usage { input_tokens: 149, output_tokens: 60, reasoning_tokens: Some(0), cached_input_tokens: None, cache_write_tokens: None, cost_usd: None, estimated: false })",
        ]
    );
}
