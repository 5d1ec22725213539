//! `POST /v1/responses`: the OpenAI Responses dialect (stateless: the whole conversation
//! comes in `input`).

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rill_core::{collect, terminated};
use rill_wire::openai_responses::{self, StreamEncoder};

use super::body::{BodyError, JsonBody};
use super::common::{Streamed, new_id, run_to_completion, stream_response, unix_now};
use crate::access::Caller;
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Response {
    match handle(state, &caller, &headers, body).await {
        Ok(response) => response,
        Err(error) => ApiError::new(Dialect::OpenAiResponses, error).into_response(),
    }
}

async fn handle(
    state: AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Result<Response, rill_core::Error> {
    let JsonBody(body) = body?;
    let parsed = openai_responses::parse_request(&body)?;
    let (model, provider) = caller.resolve(&state.models, &parsed.request.model)?;
    let mut admission = state.access.admit(caller)?;
    let mut request = parsed.request;
    request.model = model.clone();
    admission.measure(&mut request);
    let abort = state.shutdown.abort_token().clone();
    let id = new_id("resp_");
    let created = unix_now();

    let stream = terminated(state.metrics.meter(provider.start(request).await?));
    let generation = admission.track(stream);
    if parsed.stream {
        let (sid, echo) = (id.clone(), parsed.echo);
        let make = move || StreamEncoder::new(sid.clone(), model.clone(), created, echo.clone());
        let streamed = Streamed::new(id, Dialect::OpenAiResponses, make);
        return Ok(stream_response(&state, headers, streamed, generation));
    }
    let completion = run_to_completion(collect(generation.stream), &abort).await?;
    let body = openai_responses::response_body(&id, &model, created, &parsed.echo, &completion);
    let response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    Ok(super::common::served_by(response, &completion))
}
