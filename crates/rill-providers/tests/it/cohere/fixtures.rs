//! Each Cohere fixture, replayed by the upstream in chunks of 1 to 13 bytes a
//! millisecond apart, folds to exactly the answer it carries. The expected values are
//! literals on purpose.

use std::time::Duration;

use rill_core::{Completion, Error, ErrorKind, FinishReason, ToolCall, Usage, collect};

use super::{UPSTREAM_MODEL, fixture, provider_at, start};
use crate::upstream::{Upstream, sse, trickle};

/// Replays `name` and folds what the provider streams. `suffix` is appended to the
/// upstream's root URL: fixtures use different spellings of the base URL.
async fn replay(name: &str, suffix: &str) -> Result<Completion, Error> {
    let bytes = fixture(name);
    let mut upstream =
        Upstream::start(move || sse(trickle(&bytes, Duration::from_millis(1)))).await;
    let provider = provider_at(&format!("{}{suffix}", upstream.url));
    let stream = start(&provider).await;
    super::request::check(&upstream.seen().await);
    tokio::time::timeout(Duration::from_secs(10), collect(stream))
        .await
        .expect("the stream did not end")
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
        replay("text_with_usage.sse", "").await.unwrap(),
        Completion {
            model: Some(UPSTREAM_MODEL.into()),
            text: "The sky is blue because of Rayleigh scattering — “short” waves scatter most."
                .into(),
            finish_reason: Some(FinishReason::Stop),
            usage: usage(210, 14),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn parallel_tool_calls() {
    let call = |id: &str, city: &str| ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\n    \"city\": \"{city}\",\n    \"unit\": \"celsius\"\n}}"),
    };
    assert_eq!(
        replay("parallel_tool_calls.sse", "/v2").await.unwrap(),
        Completion {
            model: Some(UPSTREAM_MODEL.into()),
            reasoning: "I will look up the weather in Paris and London.".into(),
            tool_calls: vec![
                call("get_weather_8xmn2s9kd4jd", "Paris"),
                call("get_weather_wq1g0mh5a7xv", "London"),
            ],
            finish_reason: Some(FinishReason::ToolCalls),
            usage: usage(1123, 61),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn max_tokens() {
    assert_eq!(
        replay("max_tokens.sse", "/").await.unwrap(),
        Completion {
            model: Some(UPSTREAM_MODEL.into()),
            text: "Once upon a time, in a kingdom by the sea, there lived".into(),
            finish_reason: Some(FinishReason::Length),
            usage: usage(207, 12),
            ..Completion::default()
        }
    );
}

#[tokio::test]
async fn an_error_finish_is_an_error() {
    assert_eq!(
        replay("error_finish.sse", "/v2/").await,
        Err(Error::new(
            ErrorKind::Upstream,
            "internal server error, please try again later"
        ))
    );
}
