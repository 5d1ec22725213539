//! (a) Each recorded Anthropic stream, replayed by the upstream in chunks of 1 to 13
//! bytes a millisecond apart, folds to exactly the answer it carries. The expected
//! values were read off the recordings by hand; they are literals on purpose.

use std::time::Duration;

use rill_core::{Completion, FinishReason, ToolCall, Usage, collect};

use super::{fixture, provider_at, start};
use crate::upstream::{Upstream, sse, trickle};

/// Replays `name` and folds what the provider streams. `suffix` is appended to the
/// upstream's root URL: each fixture uses another spelling of the base URL.
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

/// `cached` and `written`: the fixture's cache read and cache creation counts, where it
/// reports them.
fn usage(input: u64, output: u64, cached: Option<u64>, written: Option<u64>) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        reasoning_tokens: None,
        cached_input_tokens: cached,
        cache_write_tokens: written,
        cost_usd: None,
        estimated: false,
    })
}

#[tokio::test]
async fn basic_response() {
    assert_eq!(
        replay("basic_response.sse", "").await,
        Completion {
            model: Some("claude-3-opus-latest".into()),
            text: "Hello there!".into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(11, 6, None, None),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn tool_use_response() {
    assert_eq!(
        replay("tool_use_response.sse", "/").await,
        Completion {
            model: Some("claude-sonnet-4-20250514".into()),
            text: "I'll check the current weather in Paris for you.".into(),
            tool_calls: vec![ToolCall {
                id: "toolu_01NRLabsLyVHZPKxbKvkfSMn".into(),
                name: "get_weather".into(),
                arguments: "{\"location\": \"Paris\"}".into(),
            }],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(377, 65, Some(0), Some(0)),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn incomplete_partial_json_response() {
    assert_eq!(
        replay("incomplete_partial_json_response.sse", "/v1").await,
        Completion {
            model: Some("claude-3-7-sonnet-20250219".into()),
            text: "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now.".into(),
            tool_calls: vec![ToolCall {
                id: "toolu_01EKqbqmZrGRXy18eN7m9kvY".into(),
                name: "make_file".into(),
                arguments: "{\"filename\": \"taxes.txt\", \"lines_of_text\": [\n\"# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s\",\n\"\",\n\"## INTRODUCTION\",\n\"\",\n\"Filing taxes".into(),
            }],
            finish_reason: Some(FinishReason::Length),
            usage: usage(450, 124, Some(0), Some(0)),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn refusal_response() {
    assert_eq!(
        replay("refusal_response.sse", "/v1/").await,
        Completion {
            model: Some("claude-opus-4-7".into()),
            finish_reason: Some(FinishReason::ContentFilter),
            usage: usage(20, 0, None, None),
            ..Completion::default()
        }
    );
}
