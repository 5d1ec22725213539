//! Streams after their request: `GET /v1/streams/{id}` (resume, in the dialect of the
//! request that started it), `POST /v1/streams/{id}/cancel`, and the Responses
//! dialect's own resume form, `GET /v1/responses/{id}?stream=true&starting_after=N`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rill_core::Error;

use super::params::{self, Query};
use crate::access::Caller;
use crate::error::{ApiError, Dialect};
use crate::session::{Session, Status};
use crate::sse;
use crate::state::AppState;

/// Replays the stream from the frame after `Last-Event-ID` (or `?after=N`; without
/// either, from the start), then follows it live. A replay counts against the key's
/// requests per minute like a new request: it costs the server as much to send.
pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let id = match params::path(id) {
        Ok(id) => id,
        Err(error) => return ApiError::openai(error).into_response(),
    };
    let session = match session(&state, &caller, &id) {
        Ok(session) => session,
        // An expired stream's 410 speaks the dialect the stream spoke.
        Err((dialect, error)) => return ApiError::new(dialect, error).into_response(),
    };
    let after = Query::parse(query.as_deref(), &["after"]).and_then(|query| {
        match headers.get("last-event-id") {
            Some(value) => {
                let value = value.to_str().unwrap_or("\u{0}");
                params::frame_number(value, "Last-Event-ID").map(Some)
            }
            None => query.frame("after"),
        }
    });
    let admitted = after.and_then(|after| state.access.admit_replay(&caller).map(|()| after));
    match admitted {
        Ok(after) => sse::response(state.sessions.subscribe(&session, after)),
        Err(error) => ApiError::new(session.dialect(), error).into_response(),
    }
}

/// Stops the generation at once. Idempotent: cancelling a stream that already ended
/// changes nothing and says so. Never limited: a key over its limits must still be able
/// to stop what it started.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let found = params::path(id).and_then(|id| {
        session(&state, &caller, &id)
            .map(|session| (id, session))
            .map_err(|(_, e)| e)
    });
    let (id, session) = match found {
        Ok(found) => found,
        Err(error) => return ApiError::openai(error).into_response(),
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

/// `GET /v1/responses/{id}?stream=true&starting_after=N`: the events after sequence
/// number `N` of a Responses stream (its sequence numbers are rill's frame ids).
pub async fn resume_response(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    match response_stream(&state, &caller, id, query.as_deref()) {
        Ok(response) => response,
        Err(error) => ApiError::new(Dialect::OpenAiResponses, error).into_response(),
    }
}

fn response_stream(
    state: &AppState,
    caller: &Caller,
    id: Result<Path<String>, PathRejection>,
    query: Option<&str>,
) -> Result<Response, Error> {
    let id = params::path(id)?;
    let query = Query::parse(query, &["stream", "starting_after"])?;
    if query.boolean("stream")? != Some(true) {
        return Err(Error::invalid_request(
            "rill keeps no responses: only `stream=true` resumes a response's stream",
        )
        .with_param("stream"));
    }
    let after = query.frame("starting_after")?;
    let session = session(state, caller, &id).map_err(|(_, error)| error)?;
    if session.dialect() != Dialect::OpenAiResponses {
        return Err(Error::new(
            rill_core::ErrorKind::NotFound,
            format!("there is no response `{id}`"),
        ));
    }
    state.access.admit_replay(caller)?;
    Ok(sse::response(state.sessions.subscribe(&session, after)))
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
