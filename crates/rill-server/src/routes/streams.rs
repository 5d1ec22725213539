//! Streams after their request: `GET /v1/streams/{id}` (resume, in the dialect of the
//! request that started it), `POST /v1/streams/{id}/cancel`, and the Responses
//! dialect's own resume form, `GET /v1/responses/{id}?stream=true&starting_after=N`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rill_core::Error;
use serde::Deserialize;

use crate::access::Caller;
use crate::error::{ApiError, Dialect};
use crate::session::{Session, Status};
use crate::sse;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ResumeQuery {
    /// The last frame id the client has; the frames after it follow.
    after: Option<String>,
}

/// Replays the stream from the frame after `Last-Event-ID` (or `?after=N`; without
/// either, from the start), then follows it live.
pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(query): Query<ResumeQuery>,
    headers: HeaderMap,
) -> Response {
    let session = match session(&state, &caller, &id) {
        Ok(session) => session,
        Err((dialect, error)) => return ApiError::new(dialect, error).into_response(),
    };
    let last = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned())
        .or(query.after);
    match last.as_deref().map(frame_number).transpose() {
        Ok(after) => sse::response(state.sessions.subscribe(&session, after)),
        Err(error) => ApiError::new(session.dialect(), error).into_response(),
    }
}

/// Stops the generation at once. Idempotent: cancelling a stream that already ended
/// changes nothing and says so.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let session = match session(&state, &caller, &id) {
        Ok(session) => session,
        Err((dialect, error)) => return ApiError::new(dialect, error).into_response(),
    };
    let status = match session.status() {
        Status::Running => "cancelled",
        Status::Done => "done",
    };
    session.cancel();
    let body = serde_json::json!({"id": id, "object": "stream", "status": status});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct ResponsesQuery {
    stream: Option<bool>,
    starting_after: Option<u64>,
}

/// `GET /v1/responses/{id}?stream=true&starting_after=N`: the events after sequence
/// number `N` of a Responses stream (its sequence numbers are rill's frame ids).
pub async fn resume_response(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(query): Query<ResponsesQuery>,
) -> Response {
    let refuse = |error| ApiError::new(Dialect::OpenAiResponses, error).into_response();
    if query.stream != Some(true) {
        return refuse(Error::invalid_request(
            "rill keeps no responses: only `stream=true` resumes a response's stream",
        ));
    }
    match session(&state, &caller, &id) {
        Ok(session) if session.dialect() == Dialect::OpenAiResponses => {
            sse::response(state.sessions.subscribe(&session, query.starting_after))
        }
        Ok(_) => refuse(Error::new(
            rill_core::ErrorKind::NotFound,
            format!("there is no response `{id}`"),
        )),
        Err((_, error)) => refuse(error),
    }
}

/// The stream `id`, if `caller` started it. Another key's stream gets the answer an
/// unknown id gets: a key cannot even learn that another's stream exists.
fn session(state: &AppState, caller: &Caller, id: &str) -> Result<Arc<Session>, (Dialect, Error)> {
    let session = state.sessions.get(id)?;
    if caller.owns(session.owner()) {
        return Ok(session);
    }
    tracing::info!(
        id,
        key = caller.name().unwrap_or_default(),
        "refused another key's stream"
    );
    let message = format!("there is no stream `{id}`");
    Err((
        Dialect::OpenAiChat,
        Error::new(rill_core::ErrorKind::NotFound, message),
    ))
}

fn frame_number(id: &str) -> Result<u64, Error> {
    id.trim().parse().map_err(|_| {
        Error::invalid_request(format!(
            "`{}` is not a frame id of this stream: ids are the numbers in its `id:` lines",
            id.escape_default()
        ))
        .with_param("Last-Event-ID")
    })
}
