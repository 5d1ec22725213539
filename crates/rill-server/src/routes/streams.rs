//! Streams after their request: `GET /v1/streams/{id}` (resume, in the dialect of the
//! request that started it), `POST /v1/streams/{id}/cancel`, and the Responses
//! dialect's own resume form, `GET /v1/responses/{id}?stream=true&starting_after=N`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rill_core::{Error, ErrorKind};
use rill_wire::{ClientDialect, Dialect, OpenAiChat};

use super::params::{self, Query};
use crate::access::Caller;
use crate::error::ApiError;
use crate::session::{Found, SessionLog, Status, not_found};
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
    let log = match find(&state, &caller, &id).await {
        Ok(log) => log,
        // An expired stream's 410 speaks the dialect the stream spoke.
        Err(refused) => return ApiError::new(refused.0, refused.1).into_response(),
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
    let dialect = log.meta().dialect;
    let admitted = after.and_then(|after| state.access.admit_replay(&caller).map(|()| after));
    match admitted {
        Ok(after) => sse::response(state.sessions.subscribe(log, after)),
        Err(error) => ApiError::new(dialect, error).into_response(),
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
    let id = match params::path(id) {
        Ok(id) => id,
        Err(error) => return ApiError::openai(error).into_response(),
    };
    let log = match find(&state, &caller, &id).await {
        Ok(log) => log,
        Err(refused) => return ApiError::openai(refused.1).into_response(),
    };
    let status = match state.sessions.cancel(log.as_ref()).await {
        Status::Running => "cancelled",
        Status::Done => "done",
    };
    let body = serde_json::json!({"id": id, "object": "stream", "status": status});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A dialect's own resume route (`D::RESUME`), such as Responses'
/// `GET /v1/responses/{id}?stream=true&starting_after=N`: the frames after the one the
/// query names, of a stream of that dialect.
pub async fn resume_in<D: ClientDialect>(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    match resume_stream::<D>(&state, &caller, id, query.as_deref()).await {
        Ok(response) => response,
        Err(error) => ApiError::new(D::DIALECT, error).into_response(),
    }
}

async fn resume_stream<D: ClientDialect>(
    state: &AppState,
    caller: &Caller,
    id: Result<Path<String>, PathRejection>,
    query: Option<&str>,
) -> Result<Response, Error> {
    let id = params::path(id)?;
    let resume = D::RESUME.ok_or_else(|| Error::internal("the dialect has no resume form"))?;
    let after = (resume.after)(query)?;
    let log = find(state, caller, &id)
        .await
        .map_err(|refused| refused.1)?;
    if log.meta().dialect != D::DIALECT {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("there is no stream `{id}`"),
        ));
    }
    state.access.admit_replay(caller)?;
    Ok(sse::response(state.sessions.subscribe(log, after)))
}

/// The stream `id`, if `caller` started it. Another key's stream, expired or not, gets
/// the answer an unknown id gets: a key cannot even learn that another's stream exists.
async fn find(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Arc<dyn SessionLog>, Box<(Dialect, Error)>> {
    match state.sessions.find(id).await {
        Found::Live(log) if caller.owns(log.meta().owner.as_deref()) => Ok(log),
        Found::Gone { dialect, owner } if caller.owns(owner.as_deref()) => {
            let message = format!(
                "the stream `{id}` has expired: streams can be resumed for {} s after they end",
                state.sessions.config().ttl_secs
            );
            Err(Box::new((dialect, Error::new(ErrorKind::Gone, message))))
        }
        Found::Unknown => Err(Box::new((OpenAiChat::DIALECT, not_found(id)))),
        Found::Live(_) | Found::Gone { .. } => {
            tracing::info!(
                id,
                key = caller.name().unwrap_or_default(),
                "refused another key's stream"
            );
            Err(Box::new((OpenAiChat::DIALECT, not_found(id))))
        }
    }
}
