//! The non-streaming Message body and the error bodies, both ways.

use rill_core::{Completion, Error, ErrorKind, FinishReason, ToolCall, Usage};
use rill_wire::anthropic::{error_body, error_from_body, message_body};

use super::support::snapshots;

const ID: &str = "msg_test123";
const MODEL: &str = "rill-test";

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[test]
fn message_body_with_thinking_and_text() {
    let completion = Completion {
        model: Some("upstream-model".into()),
        text: "It is sunny.".into(),
        reasoning: "Look it up.".into(),
        finish_reason: Some(FinishReason::Stop),
        usage: Some(Usage {
            input_tokens: 9,
            output_tokens: 4,
            reasoning_tokens: Some(1),
            cached_input_tokens: Some(2),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }),
        ..Completion::default()
    };
    let body = message_body(ID, MODEL, &completion, true);
    snapshots().bind(|| insta::assert_snapshot!("anthropic_message_body", body));
    // Without thinking asked for, the reasoning is left out.
    let body = message_body(ID, MODEL, &completion, false);
    assert!(!body.contains("thinking"), "{body}");
}

#[test]
fn message_body_with_tool_calls_and_no_usage() {
    let completion = Completion {
        text: "Checking.".into(),
        tool_calls: vec![
            call(
                "toolu_a",
                "get_weather",
                "{\"city\":\"Paris\",\"days\":[1,2]}",
            ),
            // Cut off by `max_tokens`: not an object, so `{}`.
            call("toolu_b", "get_time", "{\"tz\":\"U"),
        ],
        finish_reason: Some(FinishReason::ToolCalls),
        ..Completion::default()
    };
    let body = message_body(ID, MODEL, &completion, false);
    snapshots().bind(|| insta::assert_snapshot!("anthropic_message_body_tool_calls", body));
}

#[test]
fn message_body_edge_cases() {
    let empty = message_body(ID, MODEL, &Completion::default(), true);
    assert_eq!(
        empty,
        r#"{"id":"msg_test123","type":"message","role":"assistant","model":"rill-test","content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}"#
    );
    let refusal = Completion {
        refusal: "No.".into(),
        ..Completion::default()
    };
    let body = message_body(ID, MODEL, &refusal, false);
    assert!(
        body.contains(r#""content":[{"type":"text","text":"No."}],"stop_reason":"refusal""#),
        "{body}"
    );
}

#[test]
fn error_bodies() {
    let errors = [
        Error::invalid_request("missing required field `max_tokens`").with_param("max_tokens"),
        Error::new(ErrorKind::Authentication, "invalid api key"),
        Error::new(ErrorKind::Permission, "this key may not use `claude-x`"),
        Error::model_not_found("claude-x"),
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
    let bodies: Vec<String> = errors
        .iter()
        .map(|e| format!("{} {}", e.status_code(), error_body(e)))
        .collect();
    snapshots().bind(|| insta::assert_snapshot!("anthropic_error_bodies", bodies.join("\n")));
}

#[test]
fn http_error_bodies_from_an_upstream() {
    let e = error_from_body(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CS"}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Overloaded, "Overloaded")
    );
    // The status decides the kind, the body the message.
    let e = error_from_body(
        404,
        r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NotFound, "model: claude-x")
    );
    let e = error_from_body(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::RateLimited, "Rate limit reached")
    );
    for (status, body) in [
        (502, "<html>Bad Gateway</html>"),
        (
            502,
            r#"{"type":"error","error":{"type":"api_error","message":""}}"#,
        ),
        (502, r#"{"error":"a string"}"#),
    ] {
        let e = error_from_body(status, body);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::Upstream,
                "the upstream answered with HTTP status 502"
            ),
            "{body}"
        );
    }
    assert_eq!(error_from_body(401, "").kind, ErrorKind::Authentication);
}
