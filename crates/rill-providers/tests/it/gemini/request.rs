//! What the provider sends: the path, the headers (the key only in `x-goog-api-key`) and
//! the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rill_core::{ChatRequest, ErrorKind, Message, Provider, ToolCall};
use rill_providers::GeminiProvider;
use serde_json::json;

use super::{KEY, NAME, UPSTREAM_MODEL, refused};
use crate::upstream::{Seen, Upstream};

/// The checks every replayed fixture also runs on its request.
pub fn check(seen: &Seen) {
    assert_eq!(
        seen.path,
        format!("/v1beta/models/{UPSTREAM_MODEL}:streamGenerateContent")
    );
    assert_eq!(seen.query.as_deref(), Some("alt=sse"));
    assert_eq!(seen.header("x-goog-api-key"), Some(KEY));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert!(seen.header("authorization").is_none());
    // The key is in its header only, never in the URL (where logs would keep it).
    assert!(!seen.path.contains(KEY));
    let in_other_headers = seen
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "x-goog-api-key")
        .any(|(_, value)| value.to_str().unwrap_or_default().contains(KEY));
    assert!(!in_other_headers, "{:?}", seen.headers);
    assert_eq!(
        seen.body,
        json!({
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "generationConfig": {"maxOutputTokens": 64},
        })
    );
}

fn teapot() -> Response {
    StatusCode::IM_A_TEAPOT.into_response()
}

#[tokio::test]
async fn a_resource_name_is_used_as_the_path() {
    let mut upstream = Upstream::start(teapot).await;
    let provider = GeminiProvider::new(NAME, "tunedModels/my-model", &upstream.url, None).unwrap();
    refused(&provider).await;
    let seen = upstream.seen().await;
    assert_eq!(
        seen.path,
        "/v1beta/tunedModels/my-model:streamGenerateContent"
    );
}

#[tokio::test]
async fn a_tool_result_gemini_cannot_name_is_the_client_s_error_and_nothing_is_sent() {
    let mut upstream = Upstream::start(teapot).await;
    let request = ChatRequest {
        messages: vec![
            Message::User { text: "q".into() },
            Message::Assistant {
                text: None,
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }],
                reasoning: vec![],
            },
            Message::Tool {
                tool_call_id: "call_2".into(),
                text: "r".into(),
            },
        ],
        ..ChatRequest::default()
    };
    let Err(error) = super::provider(&upstream).start(request).await else {
        panic!("the provider streamed an unanswerable conversation");
    };
    assert_eq!(error.kind, ErrorKind::InvalidRequest, "{error:?}");
    assert!(error.message.contains("`call_2`"), "{error:?}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(upstream.try_seen().is_none());
}
