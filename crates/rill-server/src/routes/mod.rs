//! The route table: every route rill serves, in one place.

mod chat;
mod common;
mod messages;
mod meta;
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
        .layer(middleware::from_fn_with_state(state.clone(), loopback_only));
    let router = match cors(&state.server.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(tower_http::trace::TraceLayer::new_for_http())
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

/// Without `allow_remote`, only loopback peers are served: rill has no keys yet to tell
/// clients apart, so anything else could use its providers as an open relay.
async fn loopback_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.server.allow_remote {
        return next.run(request).await;
    }
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    match peer {
        Some(ip) if ip.is_loopback() => next.run(request).await,
        _ => ApiError::new(Dialect::of_path(request.uri().path()), Error::new(
            ErrorKind::Permission,
            "rill serves only loopback clients by default\nhint: set `server.allow_remote = true` to serve other addresses",
        ))
        .into_response(),
    }
}
