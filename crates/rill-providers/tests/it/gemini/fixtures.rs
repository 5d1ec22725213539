//! (a) Each Gemini fixture, replayed by the upstream in chunks of 1 to 13 bytes a
//! millisecond apart, folds to exactly the answer it carries: the provider finishes when
//! the body ends after the finish reason. The expected values are literals on purpose.

use std::time::Duration;

use rill_core::{Completion, FinishReason, Reasoning, ToolCall, Usage, collect};

use super::{fixture, provider_at, start};
use crate::upstream::{Upstream, sse, trickle};

/// Replays `name` and folds what the provider streams. `suffix` is appended to the
/// upstream's root URL: fixtures use different spellings of the base URL.
async fn replay(name: &str, suffix: &str) -> Completion {
    let bytes = fixture(name);
    let mut upstream =
        Upstream::start(move || sse(trickle(&bytes, Duration::from_millis(1)))).await;
    let provider = provider_at(&format!("{}{suffix}", upstream.url));
    let stream = start(&provider).await;
    super::request::check(&upstream.seen().await);
    tokio::time::timeout(Duration::from_secs(10), collect(stream))
        .await
        .expect("the stream did not end")
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn usage(input: u64, output: u64, reasoning: Option<u64>, cached: Option<u64>) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: reasoning,
        cached_input_tokens: cached,
        cache_write_tokens: None,
        cost_usd: None,
        estimated: false,
    })
}

#[tokio::test]
async fn text_with_usage() {
    assert_eq!(
        replay("text_with_usage.sse", "").await,
        Completion {
            model: Some("gemini-2.5-flash".into()),
            text: "The sky looks blue because sunlight is scattered by the air's molecules, and blue light scatters far more than red. This is called Rayleigh scattering.".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(7, 631, Some(600), None),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn text_crlf() {
    assert_eq!(
        replay("text_crlf.sse", "/").await,
        Completion {
            model: Some("gemini-2.0-flash".into()),
            text: "Hello! How can I help you today? 😊\n".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(5, 12, None, None),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn parallel_function_calls() {
    let call = |n: u32, city: &str| ToolCall {
        id: format!("call_kP2MaOOdLp-z1dkPx_TZyAc_{n}"),
        name: "get_weather".into(),
        arguments: format!(r#"{{"city":"{city}","unit":"celsius"}}"#),
    };
    assert_eq!(
        replay("parallel_function_calls.sse", "/v1beta").await,
        Completion {
            model: Some("gemini-2.5-flash".into()),
            text: "Checking the weather in Paris and London.".into(),
            // The first call's signature, for the next request to give back.
            reasoning_blocks: vec![Reasoning::signed(
                "",
                "CiwBVKhc7vK0b5bV2cW1m9ZPq0j7Yx0t4uXn9w3d1oGqSgm0bL6eYk1rO7k="
            )],
            tool_calls: vec![call(0, "Paris"), call(1, "London")],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(71, 118, Some(73), None),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn thoughts() {
    let reasoning = "**Adding the numbers**\n\nThe user wants 17 + 25. The tens make 30 and the ones make 12, so 42.\n\n**Double-checking**\n\n25 + 17: 25 + 10 is 35, plus 7 is 42.";
    assert_eq!(
        replay("thoughts.sse", "/v1beta/").await,
        Completion {
            model: Some("gemini-2.5-pro".into()),
            text: "17 + 25 = **42**.".into(),
            reasoning: reasoning.into(),
            // The signature of the answer's last part seals the thoughts before it.
            reasoning_blocks: vec![Reasoning::signed(
                reasoning,
                "Cp8CAdHtim9hYl4Zq1sN0cX2kq7D3n9bQm5oV8yT1eWcR4uJ0pLk"
            )],
            finish_reason: Some(FinishReason::Stop),
            usage: usage(2061, 198, Some(189), Some(2048)),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn max_tokens() {
    assert_eq!(
        replay("max_tokens.sse", "").await,
        Completion {
            model: Some("gemini-2.0-flash-lite".into()),
            text: "Once upon a time, in a kingdom by the sea, there lived a lighthouse keeper"
                .into(),
            finish_reason: Some(FinishReason::Length),
            usage: usage(6, 16, None, None),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn safety() {
    assert_eq!(
        replay("safety.sse", "").await,
        Completion {
            model: Some("gemini-2.0-flash".into()),
            text: "Sure. The first step is to".into(),
            finish_reason: Some(FinishReason::ContentFilter),
            usage: usage(14, 7, None, None),
            ..Completion::default()
        }
    );
}
