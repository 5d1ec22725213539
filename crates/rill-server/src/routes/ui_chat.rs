//! `POST /api/chat`: the Vercel AI SDK UI message stream, so `useChat` works unchanged.

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rill_core::terminated;
use rill_wire::vercel_ui::{self, STREAM_HEADER, StreamEncoder};

use super::common::{body_or_error, new_id};
use crate::error::{ApiError, Dialect};
use crate::sse::{self, Framed};
use crate::state::AppState;

pub async fn chat(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    match handle(state, body).await {
        Ok(response) => response,
        Err(error) => ApiError::new(Dialect::VercelUi, error).into_response(),
    }
}

async fn handle(
    state: AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, rill_core::Error> {
    let body = body_or_error(body, state.server.max_body_bytes)?;
    let parsed = vercel_ui::parse_request(&body)?;
    let (name, provider) = state.models.resolve(&parsed.request.model)?;
    let mut request = parsed.request;
    request.model = name;
    let abort = state.shutdown.abort_token().clone();

    // Always a stream: the UI message stream has no other form.
    let stream = terminated(state.metrics.meter(provider.start(request).await?));
    let encoder = Framed(StreamEncoder::new(new_id("msg-"), parsed.continues));
    let mut response = sse::response(stream, encoder, abort);
    let (name, value) = STREAM_HEADER;
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    Ok(response)
}
