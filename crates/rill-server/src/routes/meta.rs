//! Health, metrics and model listing.

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rill_core::Error;
use rill_wire::openai_models;

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn health() -> Response {
    json(r#"{"status":"ok"}"#.to_owned())
}

/// The models the caller's key may use (all of them without keys).
pub async fn list_models(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let models: Vec<openai_models::Model<'_>> = state
        .models
        .entries()
        .iter()
        .filter(|entry| caller.may_use(&entry.name))
        .map(|entry| openai_models::Model {
            id: &entry.name,
            owned_by: entry.owned_by,
        })
        .collect();
    json(openai_models::list_body(&models))
}

pub async fn get_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match super::params::path(id) {
        Ok(id) => id,
        Err(error) => return ApiError::openai(error).into_response(),
    };
    let entries = state.models.entries().iter();
    match entries
        .filter(|entry| caller.may_use(&entry.name))
        .find(|entry| entry.name == id)
    {
        Some(entry) => json(openai_models::model_body(&openai_models::Model {
            id: &entry.name,
            owned_by: entry.owned_by,
        })),
        None => ApiError::openai(Error::model_not_found(&id)).into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
