//! The one generation pipeline every dialect's route runs, the dialect fixed by the route:
//!
//! body -> parse -> resolve the model -> admit (limits) -> open its account -> start the
//! provider -> meter -> track (the account and the admission travel in the stream for its
//! whole life) -> a session (streams) or the collected answer (non-streaming) -> the
//! dialect's response.
//!
//! Whatever sees every generation once belongs here and nowhere else: the response cache
//! is asked just before a provider starts (a hit or a joined generation then stands in
//! for the provider's stream, and a miss may be recorded); the usage record is the account's,
//! settled when the tracked stream ends, however it ends (a provider that refuses to start
//! is recorded too).

use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rill_core::{Error, ErrorKind, collect, terminated};
use rill_ledger::{CacheUse, Outcome};
use rill_wire::{Answer, ClientDialect};
use tokio_util::sync::CancellationToken;

use super::body::{BodyError, JsonBody};
use crate::access::Caller;
use crate::account::{Account, Entry, Stopped, Tracked};
use crate::cache::{CACHE_HEADER, Found, Plan};
use crate::error::ApiError;
use crate::session::{Meta, Origin, encoder_factory, new_id};
use crate::sse;
use crate::state::AppState;

/// The request header that asks for a generation to survive a disconnect: it goes on for
/// `sessions.grace_secs` waiting for a resume instead of stopping at once.
pub const RESUMABLE_HEADER: &str = "x-rill-resumable";

/// The header naming the model that served a non-streaming answer, by rill's name: a
/// fallback's when the model asked for failed before its first token.
pub const SERVED_BY_HEADER: HeaderName = HeaderName::from_static("x-rill-served-by");

/// The header carrying a non-streaming answer's cost in US dollars, when the model has a
/// price (`ledger.cost_in_usage`).
pub const COST_HEADER: HeaderName = HeaderName::from_static("x-rill-cost-usd");

/// The cache header's value for a request the cache was not asked about.
const BYPASS: HeaderValue = HeaderValue::from_static("bypass");

/// `POST` on a dialect's generation route.
pub async fn generate<D: ClientDialect>(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Response {
    match pipeline::<D>(&state, &caller, &headers, body).await {
        Ok(response) => response,
        Err(error) => ApiError::new(D::DIALECT, error).into_response(),
    }
}

async fn pipeline<D: ClientDialect>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: Result<JsonBody, BodyError>,
) -> Result<Response, Error> {
    let JsonBody(body) = body?;
    let (mut request, options) = D::parse(&body)?;
    let (model, provider) = caller.resolve(&state.models, &request.model)?;
    state.sessions.available()?;
    let admission = state.access.admit_everywhere(caller).await?;
    request.model = model.clone();
    let answer = Answer {
        id: new_id(D::ID_PREFIX),
        model,
        created: unix_now(),
    };
    let entry = Entry {
        id: answer.id.clone(),
        dialect: D::DIALECT.name,
        model: answer.model.clone(),
    };
    let plan = state.cache.plan(&request, admission.key(), headers);
    let mut account = Account::open(state, admission, entry, &mut request);
    let encoder = encoder_factory::<D>(answer.clone(), options.clone());
    let origin = Origin {
        model: answer.model.clone(),
        created: answer.created,
        body: body.clone(),
    };
    let meta = |owner: Option<String>| Meta {
        id: answer.id.clone(),
        dialect: D::DIALECT,
        owner,
        encoder: Arc::clone(&encoder),
        headers: D::STREAM_HEADERS,
        origin: Some(origin.clone()),
    };

    let (found, ask) = match plan {
        Plan::Bypass => (None, None),
        Plan::Use(ask) => (
            Some(state.cache.find(&ask, &state.sessions).await),
            Some(ask),
        ),
    };
    let cached = found.as_ref().map_or(BYPASS, Found::header);
    let generation = match found {
        Some(Found::Hit(stream)) => {
            account.served_from_cache(CacheUse::Hit);
            account.track(terminated(stream))
        }
        Some(Found::Joined(stream)) => {
            account.served_from_cache(CacheUse::Joined);
            account.track(terminated(stream))
        }
        found => {
            let stream = match provider.start(request).await {
                Ok(stream) => stream,
                Err(error) => {
                    account.failed(&error);
                    return Err(error);
                }
            };
            let tracked = account.track(terminated(state.metrics.meter(stream)));
            match (found, ask) {
                // Identical requests from now on share this generation.
                (Some(Found::Miss(Some(lead))), Some(ask)) => {
                    let (sessions, owner) = (&state.sessions, tracked.owner.clone());
                    let first =
                        lead.launch(&ask, sessions, meta(owner), tracked.stream, tracked.stopped);
                    Tracked {
                        stream: first,
                        owner: tracked.owner,
                        // Stopping this request's session stops only its reading.
                        stopped: Stopped::default(),
                    }
                }
                (_, Some(ask)) => Tracked {
                    stream: state.cache.record(&ask, tracked.stream),
                    ..tracked
                },
                (_, None) => tracked,
            }
        }
    };
    let mut response = if D::streams(&options) {
        let subscription = state.sessions.start(
            meta(generation.owner),
            resumable(headers),
            generation.stream,
            generation.stopped,
        );
        sse::response(subscription)
    } else {
        collected::<D>(state, &answer, &options, generation).await?
    };
    response.headers_mut().insert(CACHE_HEADER, cached);
    Ok(response)
}

/// A non-streaming answer: the generation collected, as the dialect's body.
async fn collected<D: ClientDialect>(
    state: &AppState,
    answer: &Answer,
    options: &D::Options,
    generation: Tracked,
) -> Result<Response, Error> {
    let abort = state.shutdown.abort_token();
    let completion = run_to_completion(collect(generation.stream), abort, &generation.stopped);
    let completion = completion.await?;
    let body = D::body(answer, options, &completion).ok_or_else(|| {
        Error::internal(format!("`{}` has no non-streaming form", D::DIALECT.name))
    })?;
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    let model = completion.model.as_deref().map(HeaderValue::from_str);
    if let Some(Ok(model)) = model {
        response.headers_mut().insert(SERVED_BY_HEADER, model);
    }
    if let Some(cost) = completion.usage.and_then(|usage| usage.cost_usd) {
        let cost = HeaderValue::from_str(&cost.to_string());
        if let Ok(cost) = cost {
            response.headers_mut().insert(COST_HEADER, cost);
        }
    }
    Ok(response)
}

/// Whether the request asked to survive a disconnect.
fn resumable(headers: &HeaderMap) -> bool {
    headers
        .get(RESUMABLE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs a non-streaming generation, unless shutdown's abort deadline comes first.
async fn run_to_completion<T>(
    work: impl Future<Output = Result<T, Error>>,
    abort: &CancellationToken,
    stopped: &Stopped,
) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        () = abort.cancelled() => {
            stopped.set(Outcome::Shutdown);
            Err(Error::new(ErrorKind::Overloaded, "the server is shutting down; retry the request"))
        }
    }
}
