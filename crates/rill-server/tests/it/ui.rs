//! The embedded chat page and its files, and `GET /metrics`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::support::*;

async fn get(path: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router(state(Vec::new()))
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn header(response: &axum::response::Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no `{name}` header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy() {
    let response = get("/", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let policy = header(&response, header::CONTENT_SECURITY_POLICY);
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(header(&response, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(&response, header::X_FRAME_OPTIONS), "DENY");
    let html = body(response).await;
    assert!(html.contains("<html"), "{html}");
    // No inline script: everything the page runs comes from its own files.
    assert!(!html.contains("<script>"), "{html}");
}

#[tokio::test]
async fn the_js_client_is_an_es_module_of_its_own() {
    let response = get("/rill-client.js", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    let source = body(response).await;
    assert!(source.contains("export "), "not an ES module");
    assert!(
        !source.contains("import "),
        "the client must not depend on other files"
    );
}

#[tokio::test]
async fn unchanged_files_answer_304() {
    let first = get("/rill-client.js", &[]).await;
    let etag = header(&first, header::ETAG).to_owned();
    let again = get("/rill-client.js", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body(again).await.is_empty());
    let other = get(
        "/rill-client.js",
        &[("if-none-match", "\"something-else\"")],
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_files_and_escapes_are_json_404s() {
    for path in [
        "/assets/missing.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/",
    ] {
        let response = get(path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let error = json(&body(response).await);
        assert_eq!(error["error"]["type"], "not_found_error", "{path}");
    }
}

/// A running stream counts as active until its client goes away; its events are counted.
#[tokio::test]
async fn metrics_follow_a_stream_and_its_cancellation() {
    let server = spawn(state(vec![scripted(
        "slow",
        text(&"word ".repeat(200), 50.0),
    )]))
    .await;
    let before = metrics(&server.url).await;
    assert_eq!(metric(&before, "rill_streams_active"), 0.0);
    let response = post_chat(
        &server.url,
        serde_json::json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let mut body = response.bytes_stream();
    futures_util::StreamExt::next(&mut body)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = metrics(&server.url).await;
    assert_eq!(metric(&during, "rill_streams_active"), 1.0);
    assert_eq!(metric(&during, "rill_streams_total"), 1.0);
    assert!(
        metric(&during, "rill_stream_events_total") >= 5.0,
        "{during}"
    );

    drop(body);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let after = metrics(&server.url).await;
        if metric(&after, "rill_streams_active") == 0.0 {
            let events = metric(&after, "rill_stream_events_total");
            tokio::time::sleep(Duration::from_millis(200)).await;
            let later = metrics(&server.url).await;
            assert_eq!(metric(&later, "rill_stream_events_total"), events);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still active:\n{after}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
