//! `POST /api/chat`: the Vercel AI SDK UI message stream, so `useChat` works unchanged.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use rill_core::terminated;
use rill_wire::vercel_ui::{self, STREAM_HEADER, StreamEncoder};

use super::body::{BodyError, JsonBody};
use super::common::{Streamed, new_id, stream_response};
use crate::access::Caller;
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

pub async fn chat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Response {
    match handle(state, &caller, &headers, body).await {
        Ok(response) => response,
        Err(error) => ApiError::new(Dialect::VercelUi, error).into_response(),
    }
}

async fn handle(
    state: AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Result<Response, rill_core::Error> {
    let JsonBody(body) = body?;
    let parsed = vercel_ui::parse_request(&body)?;
    let (name, provider) = caller.resolve(&state.models, &parsed.request.model)?;
    let mut admission = state.access.admit(caller)?;
    let mut request = parsed.request;
    request.model = name;
    admission.measure(&mut request);

    // Always a stream: the UI message stream has no other form.
    let stream = terminated(state.metrics.meter(provider.start(request).await?));
    let generation = admission.track(stream);
    let id = new_id("msg-");
    let (sid, continues) = (id.clone(), parsed.continues);
    let make = move || StreamEncoder::new(sid.clone(), continues.clone());
    let mut streamed = Streamed::new(id, Dialect::VercelUi, make);
    let (name, value) = STREAM_HEADER;
    streamed.headers.push((
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    ));
    Ok(stream_response(&state, headers, streamed, generation))
}
