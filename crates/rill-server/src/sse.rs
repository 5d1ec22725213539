//! Streaming responses: a session's frames, each chunk written and flushed as soon as it
//! exists.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

use crate::session::Subscription;

/// The header that names a stream's id, for `GET /v1/streams/{id}` and its cancel.
pub const STREAM_ID_HEADER: HeaderName = HeaderName::from_static("x-rill-stream-id");

/// The SSE response of `subscription`: its frames as they come, the stream's id in
/// `x-rill-stream-id`, and the stream's own headers.
pub fn response(subscription: Subscription) -> Response {
    let meta_headers = subscription.log().meta().headers;
    let id = HeaderValue::from_str(&subscription.log().meta().id);
    let mut response = Response::new(Body::from_stream(subscription));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Ok(id) = id {
        headers.insert(STREAM_ID_HEADER, id);
    }
    for &(name, value) in meta_headers {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
