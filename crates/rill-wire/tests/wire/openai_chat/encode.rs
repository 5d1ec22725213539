//! The stream encoder, the non-streaming body and the error bodies, as snapshots of the
//! exact bytes a client receives (one SSE `data:` payload per line).

use rill_core::{Completion, Error, ErrorKind, FinishReason, StreamEvent, ToolCall, Usage};
use rill_wire::openai_chat::{StreamEncoder, completion_body, error_body};

use super::support::snapshots;

const ID: &str = "chatcmpl-test123";
const MODEL: &str = "rill-test";
const CREATED: u64 = 1_700_000_000;

fn encode(include_usage: bool, events: &[StreamEvent]) -> Vec<String> {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), CREATED, include_usage);
    let mut out: Vec<String> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    out
}

fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        model: "upstream-model".into(),
    }
}

#[test]
fn text_stream_with_usage() {
    let out = encode(
        true,
        &[
            start(),
            StreamEvent::ReasoningDelta("Greet.".into()),
            text("Hello"),
            text(", \"world\"\n"),
            StreamEvent::Usage(Usage {
                input_tokens: 12,
                output_tokens: 5,
                reasoning_tokens: Some(2),
                cached_input_tokens: Some(8),
                cache_write_tokens: None,
                cost_usd: None,
                estimated: false,
            }),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    );
    snapshots()
        .bind(|| insta::assert_snapshot!("openai_chat_text_stream_with_usage", out.join("\n")));
}

#[test]
fn tool_call_stream_with_two_parallel_calls() {
    let out = encode(
        false,
        &[
            start(),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_a".into(),
                name: "get_weather".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"city\":".into(),
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "call_b".into(),
                name: "get_time".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "{\"tz\":\"UTC\"}".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "\"Paris\"}".into(),
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ],
    );
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_tool_call_stream", out.join("\n")));
}

#[test]
fn error_mid_stream() {
    let out = encode(
        true,
        &[
            start(),
            text("Partial"),
            StreamEvent::Error(Error::new(ErrorKind::Timeout, "the model stalled for 30 s")),
            text("never sent"),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    );
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_error_mid_stream", out.join("\n")));
    assert_eq!(out.last().map(String::as_str), Some("[DONE]"));
}

#[test]
fn refusal_and_content_before_start() {
    // No `Start`: the role chunk still comes first. No usage known: no usage chunk.
    let out = encode(
        true,
        &[
            StreamEvent::RefusalDelta("No.".into()),
            StreamEvent::Finish(FinishReason::ContentFilter),
        ],
    );
    snapshots()
        .bind(|| insta::assert_snapshot!("openai_chat_refusal_without_start", out.join("\n")));
}

#[test]
fn without_include_usage_there_is_no_usage_key_and_no_usage_chunk() {
    let out = encode(
        false,
        &[
            start(),
            text("a"),
            StreamEvent::Finish(FinishReason::Length),
            StreamEvent::Usage(Usage::default()),
        ],
    );
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|p| !p.contains("usage")), "{out:?}");
    assert!(out[2].contains(r#""finish_reason":"length""#));
}

#[test]
fn late_usage_after_finish_is_reported() {
    let usage = Usage {
        input_tokens: 1,
        output_tokens: 2,
        ..Usage::default()
    };
    let out = encode(
        true,
        &[
            start(),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::Usage(usage),
        ],
    );
    assert_eq!(
        out[2],
        r#"{"id":"chatcmpl-test123","object":"chat.completion.chunk","created":1700000000,"model":"rill-test","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#
    );
}

#[test]
fn nothing_after_done() {
    let mut encoder = StreamEncoder::new(ID.into(), MODEL.into(), CREATED, false);
    assert_eq!(encoder.encode(&start()).len(), 1);
    assert_eq!(encoder.encode(&start()).len(), 0, "one role chunk only");
    assert_eq!(
        encoder.encode(&text("")).len(),
        0,
        "empty deltas are skipped"
    );
    assert_eq!(encoder.finish(), vec!["[DONE]".to_owned()]);
    assert!(encoder.is_done());
    assert!(encoder.finish().is_empty());
    assert!(encoder.encode(&text("late")).is_empty());
    assert!(
        encoder
            .encode(&StreamEvent::Error(Error::internal("late")))
            .is_empty()
    );
}

#[test]
fn non_streaming_body() {
    let completion = Completion {
        model: Some("upstream-model".into()),
        text: "It is sunny.".into(),
        reasoning: "Look it up.".into(),
        reasoning_blocks: vec![],
        refusal: String::new(),
        tool_calls: vec![],
        finish_reason: Some(FinishReason::Stop),
        usage: Some(Usage {
            input_tokens: 9,
            output_tokens: 4,
            reasoning_tokens: None,
            cached_input_tokens: None,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }),
    };
    let body = completion_body(ID, MODEL, CREATED, &completion);
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_completion_body", body));
}

#[test]
fn non_streaming_body_with_tool_calls_and_no_usage() {
    let completion = Completion {
        tool_calls: vec![ToolCall {
            id: "call_a".into(),
            name: "f".into(),
            arguments: "{\"x\":1}".into(),
        }],
        finish_reason: Some(FinishReason::ToolCalls),
        ..Completion::default()
    };
    let body = completion_body(ID, MODEL, CREATED, &completion);
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_completion_body_tool_calls", body));
}

#[test]
fn error_bodies() {
    let errors = [
        Error::invalid_request("missing required field `messages`").with_param("messages"),
        Error::new(ErrorKind::Authentication, "invalid api key"),
        Error::new(ErrorKind::Permission, "this key may not use `gpt-x`"),
        Error::model_not_found("gpt-x"),
        Error::new(ErrorKind::MethodNotAllowed, "use `POST`"),
        Error::new(
            ErrorKind::RequestTooLarge,
            "the request body is larger than 1 MiB",
        ),
        Error::new(ErrorKind::RateLimited, "slow down"),
        Error::new(ErrorKind::Overloaded, "no capacity right now"),
        Error::upstream("the upstream closed the connection"),
        Error::new(ErrorKind::Timeout, "the upstream did not answer in 60 s"),
        Error::new(ErrorKind::Cancelled, "the generation was cancelled"),
        Error::internal("something went wrong"),
    ];
    let bodies: Vec<String> = errors.iter().map(error_body).collect();
    snapshots().bind(|| insta::assert_snapshot!("openai_chat_error_bodies", bodies.join("\n")));
}
