use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{
    ChatRequest, ErrorKind, FinishReason, Message, Provider, Sampling, StreamEvent, collect,
};

use super::*;

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "scripted".into(),
        messages: vec![Message::User { text: text.into() }],
        ..ChatRequest::default()
    }
}

fn script(text: &str) -> ScriptConfig {
    ScriptConfig {
        text: Some(text.into()),
        ..ScriptConfig::default()
    }
}

async fn events(script: ScriptConfig, request: ChatRequest) -> Vec<StreamEvent> {
    let stream = ScriptedProvider::new("m", script)
        .start(request)
        .await
        .unwrap();
    stream.collect().await
}

#[tokio::test]
async fn echoes_the_last_user_message_by_default() {
    let c = collect(
        ScriptedProvider::new("m", ScriptConfig::default())
            .start(request("Hi there"))
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(c.text, "Hi there");
    assert_eq!(c.finish_reason, Some(FinishReason::Stop));
    let usage = c.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (2, 2));
}

#[tokio::test]
async fn plays_reasoning_text_and_tool_calls() {
    let s = ScriptConfig {
        text: Some("Let me check.".into()),
        reasoning: Some("The user wants weather.".into()),
        tool_calls: vec![
            ScriptedToolCall {
                name: "weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            },
            ScriptedToolCall {
                name: "time".into(),
                arguments: "{}".into(),
            },
        ],
        ..ScriptConfig::default()
    };
    let stream = ScriptedProvider::new("m", s)
        .start(request("q"))
        .await
        .unwrap();
    let c = collect(stream).await.unwrap();
    assert_eq!(c.reasoning, "The user wants weather.");
    assert_eq!(c.text, "Let me check.");
    assert_eq!(c.tool_calls.len(), 2);
    assert_eq!(c.tool_calls[0].name, "weather");
    assert_eq!(c.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
    assert!(c.tool_calls[0].id.starts_with("call_"));
    assert_eq!(c.tool_calls[1].arguments, "{}");
    assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(c.usage.unwrap().reasoning_tokens, Some(5));
}

#[tokio::test]
async fn tool_call_end_closes_each_call_before_the_next_starts() {
    let s = ScriptConfig {
        text: Some(String::new()),
        tool_calls: vec![
            ScriptedToolCall {
                name: "a".into(),
                arguments: "{}".into(),
            },
            ScriptedToolCall {
                name: "b".into(),
                arguments: "{}".into(),
            },
        ],
        ..ScriptConfig::default()
    };
    let kinds: Vec<String> = events(s, request("q"))
        .await
        .into_iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallStart { index, .. } => Some(format!("start{index}")),
            StreamEvent::ToolCallEnd { index } => Some(format!("end{index}")),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["start0", "end0", "start1", "end1"]);
}

#[tokio::test]
async fn max_tokens_finishes_with_length() {
    let mut req = request("q");
    req.sampling = Sampling {
        max_tokens: Some(2),
        ..Sampling::default()
    };
    let c = collect(
        ScriptedProvider::new("m", script("one two three four"))
            .start(req)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(c.text, "one two");
    assert_eq!(c.finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn stop_sequence_cuts_the_text() {
    let mut req = request("q");
    req.sampling.stop = vec!["END".into(), "three".into()];
    let c = collect(
        ScriptedProvider::new("m", script("one two three END"))
            .start(req)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(c.text, "one two ");
    assert_eq!(c.finish_reason, Some(FinishReason::StopSequence));
}

#[tokio::test]
async fn error_after_n_tokens() {
    let s = ScriptConfig {
        error_after: Some(2),
        ..script("a b c d")
    };
    let out = events(s, request("q")).await;
    let texts: Vec<_> = out
        .iter()
        .filter(|e| matches!(e, StreamEvent::TextDelta(_)))
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Upstream));
}

#[tokio::test]
async fn close_after_n_tokens_ends_without_a_terminal_event() {
    let s = ScriptConfig {
        close_after: Some(1),
        ..script("a b c")
    };
    let out = events(s, request("q")).await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(!out.iter().any(StreamEvent::is_terminal));
    // `terminated` makes the truncation explicit.
    let s = ScriptConfig {
        close_after: Some(1),
        ..script("a b c")
    };
    let stream = rill_core::terminated(
        ScriptedProvider::new("m", s)
            .start(request("q"))
            .await
            .unwrap(),
    );
    let err = collect(stream).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
}

#[tokio::test]
async fn fail_status_fails_before_the_first_token() {
    for (status, kind) in [
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Internal),
        (503, ErrorKind::Overloaded),
    ] {
        let s = ScriptConfig {
            fail_status: Some(status),
            ..ScriptConfig::default()
        };
        let Err(err) = ScriptedProvider::new("m", s).start(request("q")).await else {
            panic!("status {status} must fail");
        };
        assert_eq!(err.kind, kind);
        assert_eq!(err.retry_after.is_some(), status != 500);
    }
}

#[tokio::test(start_paused = true)]
async fn tokens_arrive_at_the_configured_rate_with_a_stall() {
    let s = ScriptConfig {
        tokens_per_second: Some(10.0),
        stall_ms: Some(1000),
        stall_after: 2,
        ..script("a b c d")
    };
    let mut stream = ScriptedProvider::new("m", s)
        .start(request("q"))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut arrivals = Vec::new();
    while let Some(event) = stream.next().await {
        if let StreamEvent::TextDelta(_) = event {
            arrivals.push(start.elapsed());
        }
    }
    let ms: Vec<u128> = arrivals.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![100, 200, 1300, 1400]);
}

#[tokio::test]
async fn a_signature_seals_the_reasoning_and_counts_as_no_token() {
    let s = ScriptConfig {
        text: Some("Yes.".into()),
        reasoning: Some("Think.".into()),
        reasoning_signature: Some("sig-1".into()),
        ..ScriptConfig::default()
    };
    let out = events(s.clone(), request("q")).await;
    let at = out
        .iter()
        .position(|e| *e == StreamEvent::ReasoningSignature("sig-1".into()))
        .expect("the signature is sent");
    assert!(matches!(&out[at - 1], StreamEvent::ReasoningDelta(_)));
    assert!(matches!(&out[at + 1], StreamEvent::TextDelta(_)));
    let c = collect(
        ScriptedProvider::new("m", s)
            .start(request("q"))
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        c.reasoning_blocks,
        vec![rill_core::Reasoning::signed("Think.", "sig-1")]
    );
    let usage = c.usage.unwrap();
    assert_eq!((usage.output_tokens, usage.reasoning_tokens), (4, Some(2)));
}
