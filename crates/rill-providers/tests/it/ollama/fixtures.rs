//! Each Ollama fixture, replayed by the upstream in chunks of 1 to 13 bytes a
//! millisecond apart, folds to exactly the answer it carries. The expected values are
//! literals on purpose.

use std::time::Duration;

use rill_core::{Completion, FinishReason, ToolCall, Usage, collect};

use super::{fixture, provider_at, start};
use crate::upstream::{Upstream, ndjson, trickle};

/// Replays `name` and folds what the provider streams. `suffix` is appended to the
/// upstream's root URL: fixtures use different spellings of the base URL.
async fn replay(name: &str, suffix: &str) -> Completion {
    let bytes = fixture(name);
    let mut upstream =
        Upstream::start(move || ndjson(trickle(&bytes, Duration::from_millis(1)))).await;
    let provider = provider_at(&format!("{}{suffix}", upstream.url));
    let stream = start(&provider).await;
    super::request::check(&upstream.seen().await);
    tokio::time::timeout(Duration::from_secs(10), collect(stream))
        .await
        .expect("the stream did not end")
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn usage(input: u64, output: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: None,
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    })
}

#[tokio::test]
async fn text_with_usage() {
    assert_eq!(
        replay("text_with_usage.ndjson", "").await,
        Completion {
            model: Some("llama3.2".into()),
            text: "The sky is blue because of Rayleigh scattering — “short” waves scatter most."
                .into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(26, 14),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn parallel_tool_calls() {
    let call = |n: u32, city: &str| ToolCall {
        id: format!("call_20250903170244552190411_{n}"),
        name: "get_weather".into(),
        arguments: format!(r#"{{"city":"{city}","unit":"celsius"}}"#),
    };
    assert_eq!(
        replay("parallel_tool_calls.ndjson", "/api").await,
        Completion {
            model: Some("qwen3:8b".into()),
            text: "I'll check both cities.".into(),
            tool_calls: vec![call(0, "Paris"), call(1, "London")],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(213, 61),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn max_tokens() {
    assert_eq!(
        replay("max_tokens.ndjson", "/").await,
        Completion {
            model: Some("mistral:7b".into()),
            text: "Once upon a time, in a kingdom by the sea, there lived".into(),
            finish_reason: Some(FinishReason::Length),
            usage: usage(11, 12),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn thinking() {
    assert_eq!(
        replay("thinking.ndjson", "/api/").await,
        Completion {
            model: Some("deepseek-r1:8b".into()),
            text: "17 + 25 = **42**.".into(),
            reasoning: "17 + 25: the tens make 30, the ones 12, so 42.".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(12, 38),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn crlf_and_a_last_line_without_a_line_end() {
    assert_eq!(
        replay("crlf_no_final_newline.ndjson", "").await,
        Completion {
            model: Some("gemma3:4b".into()),
            text: "Hi! 😊\n".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(9, 4),
            ..Completion::default()
        }
    );
}
