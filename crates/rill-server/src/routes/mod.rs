//! The route table: every route rill serves, in one place.

mod body;
mod chat;
mod common;
mod messages;
mod meta;
mod params;
mod redact;
mod responses;
mod streams;
mod ui;
mod ui_chat;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rill_core::{Error, ErrorKind};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use crate::access::{self, Caller};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    let body_limit = state.server.max_body_bytes;
    let router = Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/messages", post(messages::create))
        .route("/v1/responses", post(responses::create))
        .route("/v1/responses/{id}", get(streams::resume_response))
        .route("/v1/streams/{id}", get(streams::resume))
        .route("/v1/streams/{id}/cancel", post(streams::cancel))
        .route("/api/chat", post(ui_chat::chat))
        .route("/v1/models", get(meta::list_models))
        .route("/v1/models/{*id}", get(meta::get_model))
        .route("/health", get(meta::health))
        .route("/metrics", get(meta::metrics))
        .route("/", get(ui::index))
        .route("/rill-client.js", get(ui::asset))
        .route("/assets/{*path}", get(ui::asset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    let router = match cors(&state.server.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    // Keys are marked sensitive before anything else sees the request, so no `Debug` of
    // its headers (a trace layer told to include them, say) can print one.
    let keys = [
        header::AUTHORIZATION,
        HeaderName::from_static(access::API_KEY_HEADER),
    ];
    let trace =
        tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::debug_span!(
                "request",
                method = %request.method(),
                uri = %redact::uri(request.uri()),
                version = ?request.version(),
            )
        });
    router
        .layer(trace)
        .layer(SetSensitiveRequestHeadersLayer::new(keys))
        .with_state(state)
}

/// CORS for the configured origins; none configured, no layer (and no CORS headers).
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // `Config::validate` checked that every origin is a header value.
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let layer = CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("anthropic-version"),
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static(common::RESUMABLE_HEADER),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("x-vercel-ai-ui-message-stream"),
            crate::sse::STREAM_ID_HEADER,
            common::SERVED_BY_HEADER,
        ])
        .max_age(std::time::Duration::from_secs(600));
    Some(layer)
}

async fn not_found(request: Request) -> ApiError {
    let path = request.uri().path().to_owned();
    ApiError::new(
        Dialect::of_path(&path),
        Error::new(ErrorKind::NotFound, format!("there is no route `{path}`")),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    ApiError::new(
        Dialect::of_path(&path),
        Error::new(
            ErrorKind::MethodNotAllowed,
            format!("`{method}` is not allowed on `{path}`"),
        ),
    )
}

/// Who may connect. With keys configured, every peer, loopback included, presents one of
/// them on every request but for the chat page's files and `/health` (401 otherwise);
/// loopback is no proof of anything behind a local reverse proxy or tunnel. Without keys,
/// rill cannot tell clients apart, so only loopback peers are served unless
/// `allow_remote`: anything else could use its providers as an open relay; and only
/// requests that no other web site made (`access::site`).
async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if state.access.has_keys() {
        let path = request.uri().path();
        if access::is_public(path) {
            // No caller: a handler that needs one fails closed.
            return next.run(request).await;
        }
        return match state.access.authenticate(request.headers()) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                next.run(request).await
            }
            Err(error) => {
                let mut response = ApiError::new(Dialect::of_path(path), error).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
        };
    }
    request.extensions_mut().insert(Caller::default());
    let path = request.uri().path();
    let refuse = |error| ApiError::new(Dialect::of_path(path), error).into_response();
    if !state.server.allow_remote && !peer_is_loopback(&request) {
        return refuse(Error::new(
            ErrorKind::Permission,
            "rill serves only loopback clients by default\nhint: set `server.allow_remote = true` to serve other addresses",
        ));
    }
    if let Err(error) =
        access::site::check(request.headers(), &state.server, !access::is_public(path))
    {
        tracing::info!(
            path,
            "refused a request from another site: {}",
            error.message.lines().next().unwrap_or_default()
        );
        return refuse(error);
    }
    next.run(request).await
}

/// Whether the request came from a loopback address (an IPv4 client of a dual-stack
/// socket included, as `::ffff:127.0.0.1`).
fn peer_is_loopback(request: &Request) -> bool {
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}
