//! `GET /v1/usage`: the ledger summed by key, model or day, for admin keys.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rill_core::{Error, ErrorKind};
use rill_ledger::{Filter, Group, GroupBy};
use serde::Serialize;

use super::params::Query;
use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
struct Usage<'a> {
    object: &'static str,
    group_by: &'static str,
    /// The filters applied, as given.
    key: Option<&'a str>,
    model: Option<&'a str>,
    since: Option<String>,
    until: Option<String>,
    data: Vec<Group>,
    total: Group,
}

pub async fn usage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Response {
    match body(&state, &caller, query.as_deref()).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => ApiError::openai(error).into_response(),
    }
}

async fn body(state: &AppState, caller: &Caller, query: Option<&str>) -> Result<String, Error> {
    if state.access.has_keys() && !caller.is_admin() {
        return Err(Error::new(
            ErrorKind::Permission,
            "reading usage needs a key with `admin = true` in `[[keys]]`",
        ));
    }
    let query = Query::parse(query, &["group_by", "key", "model", "since", "until"])?;
    let by = match query.get("group_by") {
        None => GroupBy::Key,
        Some(name) => GroupBy::parse(name).ok_or_else(|| {
            Error::invalid_request(format!(
                "`group_by` is `{name}`; it must be `key`, `model` or `day`"
            ))
            .with_param("group_by")
        })?,
    };
    let time = |name: &'static str| {
        query
            .get(name)
            .map(|text| {
                rill_ledger::parse_time(text).ok_or_else(|| {
                    Error::invalid_request(format!(
                        "`{name}` is `{text}`; give a date (2026-12-07, UTC), an RFC 3339 time or Unix seconds"
                    ))
                    .with_param(name)
                })
            })
            .transpose()
    };
    let filter = Filter {
        key: query.get("key").map(str::to_owned),
        model: query.get("model").map(str::to_owned),
        since_ms: time("since")?,
        until_ms: time("until")?,
    };
    let Some(reader) = state.ledger.reader() else {
        return Err(Error::new(
            ErrorKind::NotFound,
            "the usage ledger is off (`[ledger] enabled = false`)",
        ));
    };
    // What finished a moment ago counts too.
    state.ledger.flush().await;
    let data = reader.usage(&filter, by).await.map_err(|error| {
        tracing::warn!(%error, "cannot read the usage ledger");
        Error::new(
            ErrorKind::Overloaded,
            "the usage ledger's database cannot be read right now; retry later",
        )
    })?;
    let total = data.iter().fold(Group::default(), |mut total, group| {
        total.add(group);
        total
    });
    let usage = Usage {
        object: "usage",
        group_by: by.name(),
        key: filter.key.as_deref(),
        model: filter.model.as_deref(),
        since: filter.since_ms.map(rill_ledger::format_time),
        until: filter.until_ms.map(rill_ledger::format_time),
        data,
        total,
    };
    serde_json::to_string(&usage).map_err(|e| Error::internal(e.to_string()))
}
