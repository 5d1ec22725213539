//! The upstream decoder on hand-written payloads: the tolerances other servers need.

use rill_core::{ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::openai_chat::ChunkDecoder;

fn decode(payloads: &[&str]) -> Vec<(u32, StreamEvent)> {
    let mut decoder = ChunkDecoder::new();
    payloads
        .iter()
        .flat_map(|p| decoder.decode(p).unwrap())
        .collect()
}

fn events(payloads: &[&str]) -> Vec<StreamEvent> {
    decode(payloads).into_iter().map(|(_, e)| e).collect()
}

fn start(model: &str) -> StreamEvent {
    StreamEvent::Start {
        model: model.into(),
    }
}

#[test]
fn deepseek_reasoning_and_usage_on_the_finish_chunk() {
    let got = events(&[
        r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Hmm"},"finish_reason":null}]}"#,
        r#"{"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
        r#"{"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":5},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":10}}"#,
        "[DONE]",
    ]);
    assert_eq!(
        got,
        vec![
            start("deepseek-reasoner"),
            StreamEvent::ReasoningDelta("Hmm".into()),
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 20,
                reasoning_tokens: Some(5),
                cached_input_tokens: Some(0),
                cache_write_tokens: None,
                cost_usd: None,
                estimated: false,
            }),
        ]
    );
}

#[test]
fn vllm_reasoning_field_counts_once_when_both_are_sent() {
    let got = events(&[
        r#"{"model":"m","choices":[{"index":0,"delta":{"reasoning":"a"}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{"reasoning":"b","reasoning_content":"b"}}]}"#,
    ]);
    assert_eq!(
        got,
        vec![
            start("m"),
            StreamEvent::ReasoningDelta("a".into()),
            StreamEvent::ReasoningDelta("b".into())
        ]
    );
}

#[test]
fn tolerates_missing_choices_missing_fields_and_unknown_fields() {
    let got = events(&[
        r#"{"id":"x","future_field":{"a":[1,2]}}"#,
        r#"{"choices":null,"usage":null}"#,
        r#"{"choices":[{"delta":{"content":"a","audio":null},"extra":1}]}"#,
        r#"{"choices":[{"index":0}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":3}}"#,
    ]);
    assert_eq!(
        got,
        vec![
            start(""),
            StreamEvent::TextDelta("a".into()),
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                ..Usage::default()
            }),
        ]
    );
}

#[test]
fn arguments_in_the_first_fragment_and_calls_without_index() {
    let got = events(&[
        r#"{"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","type":"function","function":{"name":"g","arguments":"{"}}]}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}"#,
    ]);
    assert_eq!(
        got,
        vec![
            start("m"),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "a".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"x\":1}".into()
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "b".into(),
                name: "g".into()
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "{".into()
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "}".into()
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn repeated_ids_do_not_restart_a_call() {
    let got = events(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"arguments":"{}"}}]}}]}"#,
    ]);
    assert_eq!(
        got,
        vec![
            start(""),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "a".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{}".into()
            },
        ]
    );
}

#[test]
fn finish_reasons() {
    for (reason, expected) in [
        ("stop", FinishReason::Stop),
        ("length", FinishReason::Length),
        ("tool_calls", FinishReason::ToolCalls),
        ("content_filter", FinishReason::ContentFilter),
        ("function_call", FinishReason::ToolCalls),
        ("something_new", FinishReason::Stop),
    ] {
        let payload =
            format!(r#"{{"choices":[{{"index":0,"delta":{{}},"finish_reason":"{reason}"}}]}}"#);
        let got = events(&[&payload]);
        assert_eq!(got.last(), Some(&StreamEvent::Finish(expected)), "{reason}");
    }
}

#[test]
fn a_duplicate_finish_is_reported_once() {
    let fin = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    let got = events(&[fin, fin]);
    assert_eq!(
        got,
        vec![start(""), StreamEvent::Finish(FinishReason::Stop)]
    );
}

fn error_of(payload: &str) -> rill_core::Error {
    match events(&[payload]).as_slice() {
        [StreamEvent::Error(e)] => e.clone(),
        other => panic!("expected one error event, got {other:?}"),
    }
}

#[test]
fn error_payloads_become_error_events() {
    let e = error_of(
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.message, "You exceeded your current quota");
    assert_eq!(e.code.as_deref(), Some("insufficient_quota"));

    let e = error_of(
        r#"{"error":{"message":"That model is currently overloaded with other requests.","type":"server_error","param":null,"code":null}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Internal);

    let e = error_of(
        r#"{"error":{"message":"m","type":"invalid_request_error","param":"messages","code":null}}"#,
    );
    assert_eq!(
        (e.kind, e.param.as_deref()),
        (ErrorKind::InvalidRequest, Some("messages"))
    );

    // Numeric codes (the HTTP status) and a bare string.
    let e = error_of(r#"{"error":{"message":"busy","code":503}}"#);
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Overloaded, Some("503"))
    );
    let e = error_of(r#"{"error":"something broke"}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Upstream, "something broke")
    );

    // vLLM's bare error object.
    let e = error_of(
        r#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::InvalidRequest, "bad")
    );

    let e = error_of(r#"{"error":{}}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Upstream, "the upstream reported an error")
    );
}

#[test]
fn every_error_type_maps_back_to_its_kind() {
    for (kind, code, expected) in [
        ("invalid_request_error", None, ErrorKind::InvalidRequest),
        (
            "invalid_request_error",
            Some("method_not_allowed"),
            ErrorKind::MethodNotAllowed,
        ),
        (
            "invalid_request_error",
            Some("request_too_large"),
            ErrorKind::RequestTooLarge,
        ),
        ("authentication_error", None, ErrorKind::Authentication),
        (
            "invalid_request_error",
            Some("invalid_api_key"),
            ErrorKind::Authentication,
        ),
        ("permission_error", None, ErrorKind::Permission),
        ("not_found_error", None, ErrorKind::NotFound),
        (
            "invalid_request_error",
            Some("model_not_found"),
            ErrorKind::NotFound,
        ),
        ("rate_limit_error", None, ErrorKind::RateLimited),
        (
            "requests",
            Some("rate_limit_exceeded"),
            ErrorKind::RateLimited,
        ),
        ("tokens", None, ErrorKind::RateLimited),
        ("server_error", Some("overloaded"), ErrorKind::Overloaded),
        ("overloaded_error", None, ErrorKind::Overloaded),
        ("upstream_error", None, ErrorKind::Upstream),
        ("timeout_error", None, ErrorKind::Timeout),
        ("cancelled", None, ErrorKind::Cancelled),
        ("server_error", None, ErrorKind::Internal),
        ("api_error", None, ErrorKind::Internal),
        ("brand_new_error", None, ErrorKind::Upstream),
    ] {
        let code = code.map_or("null".to_owned(), |c| format!("\"{c}\""));
        let payload = format!(r#"{{"error":{{"message":"m","type":"{kind}","code":{code}}}}}"#);
        assert_eq!(error_of(&payload).kind, expected, "{payload}");
    }
}

#[test]
fn malformed_json_is_an_upstream_error() {
    let mut decoder = ChunkDecoder::new();
    let err = decoder.decode("{\"choices\":[").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message
            .starts_with("the upstream sent a chunk that is not valid JSON"),
        "{}",
        err.message
    );
    let err = decoder.decode(r#"{"choices":"nope"}"#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message
            .starts_with("the upstream sent an invalid chunk"),
        "{}",
        err.message
    );
}

#[test]
fn done_is_remembered_and_ends_decoding() {
    let mut decoder = ChunkDecoder::default();
    assert!(!decoder.is_done());
    assert!(decoder.decode("").unwrap().is_empty());
    assert!(decoder.decode(" [DONE] ").unwrap().is_empty());
    assert!(decoder.is_done());
    assert!(
        decoder
            .decode(r#"{"choices":[{"delta":{"content":"late"}}]}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn http_error_bodies() {
    use rill_wire::openai_chat::error_from_body;
    let e = error_from_body(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.message, "Rate limit reached");
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));

    // The status decides the kind, the body the details.
    let e = error_from_body(
        404,
        r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#,
    );
    assert_eq!(
        (e.kind, e.param.as_deref()),
        (ErrorKind::NotFound, Some("model"))
    );
    let e = error_from_body(
        503,
        r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Overloaded);

    let e = error_from_body(
        400,
        r#"{"object":"error","message":"bad","type":"BadRequestError","code":400}"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::InvalidRequest, "bad")
    );

    let e = error_from_body(502, "<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::Upstream,
            "the upstream answered with HTTP status 502"
        )
    );
    let e = error_from_body(401, "");
    assert_eq!(e.kind, ErrorKind::Authentication);
}
