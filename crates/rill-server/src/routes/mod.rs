//! The route table: every route rill serves, in one place.

mod body;
mod generate;
mod meta;
mod params;
mod redact;
mod streams;
mod ui;
mod usage;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post};
use rill_core::{Error, ErrorKind};
use rill_wire::{AnthropicMessages, ClientDialect, Dialect, OpenAiChat, OpenAiResponses, VercelUi};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use crate::access::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    let body_limit = state.server.max_body_bytes;
    let openai = |route| guarded(&state, OpenAiChat::DIALECT, route);
    // The only place a path meets a dialect: a dialect is a `ClientDialect` in
    // `rill-wire` and a line here.
    let dialects = Dialects::new(&state)
        .serve::<OpenAiChat>("/v1/chat/completions")
        .serve::<AnthropicMessages>("/v1/messages")
        .serve::<OpenAiResponses>("/v1/responses")
        .serve::<VercelUi>("/api/chat");
    let exposed = dialects.stream_headers;
    let router = dialects
        .router
        .route("/v1/streams/{id}", openai(get(streams::resume)))
        .route("/v1/streams/{id}/cancel", openai(post(streams::cancel)))
        .route("/v1/models", openai(get(meta::list_models)))
        .route("/v1/models/{*id}", openai(get(meta::get_model)))
        .route("/health", openai(get(meta::health)))
        .route("/metrics", openai(get(meta::metrics)))
        .route("/v1/usage", openai(get(usage::usage)))
        .route("/", openai(get(ui::index)))
        .route("/rill-client.js", openai(get(ui::asset)))
        .route("/assets/{*path}", openai(get(ui::asset)))
        .fallback(not_found.layer(middleware::from_fn_with_state(
            guard_with(&state, OpenAiChat::DIALECT),
            guard,
        )))
        .layer(DefaultBodyLimit::max(body_limit));
    let router = match cors(&state.server.cors_origins, exposed) {
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
fn cors(origins: &[String], stream_headers: Vec<HeaderName>) -> Option<CorsLayer> {
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
            HeaderName::from_static(generate::RESUMABLE_HEADER),
            // `no-cache` / `no-store` for the response cache.
            header::CACHE_CONTROL,
        ])
        .expose_headers(
            [
                header::RETRY_AFTER,
                crate::sse::STREAM_ID_HEADER,
                generate::SERVED_BY_HEADER,
                generate::COST_HEADER,
                crate::cache::CACHE_HEADER,
            ]
            .into_iter()
            .chain(stream_headers)
            .collect::<Vec<_>>(),
        )
        .max_age(std::time::Duration::from_secs(600));
    Some(layer)
}

/// The client dialects' routes, and the headers their streams add (which CORS exposes).
struct Dialects<'a> {
    state: &'a AppState,
    router: Router<AppState>,
    stream_headers: Vec<HeaderName>,
}

impl<'a> Dialects<'a> {
    fn new(state: &'a AppState) -> Self {
        Self {
            state,
            router: Router::new(),
            stream_headers: Vec::new(),
        }
    }

    /// Serves dialect `D` at `path`: its generation route, its own resume route if it has
    /// one, and errors in its shape for anything else under `path`.
    fn serve<D: ClientDialect>(mut self, path: &str) -> Self {
        let state = self.state;
        let guarded = |route| guarded(state, D::DIALECT, route);
        let router = self
            .router
            .route(path, guarded(post(generate::generate::<D>)));
        // Paths under the route are the dialect's too (a path parameter and a catch-all
        // cannot share a level, so under the resume route's when it has one).
        let (router, under) = match D::RESUME {
            Some(resume) => {
                let resume_route = guarded(get(streams::resume_in::<D>));
                (router.route(resume.path, resume_route), resume.path)
            }
            None => (router, path),
        };
        let guard = middleware::from_fn_with_state(guard_with(state, D::DIALECT), guard);
        self.router = router.route(&format!("{under}/{{*rest}}"), any(not_found).layer(guard));
        let names = D::STREAM_HEADERS.iter();
        self.stream_headers
            .extend(names.map(|(name, _)| HeaderName::from_static(name)));
        self
    }
}

/// `route` behind the guard, its errors (a wrong method, a refused peer) in `dialect`.
fn guarded(
    state: &AppState,
    dialect: Dialect,
    route: MethodRouter<AppState>,
) -> MethodRouter<AppState> {
    route
        .fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            guard_with(state, dialect),
            guard,
        ))
}

#[derive(Clone)]
struct Guard {
    state: AppState,
    dialect: Dialect,
}

fn guard_with(state: &AppState, dialect: Dialect) -> Guard {
    Guard {
        state: state.clone(),
        dialect,
    }
}

/// The dialect the route's guard named.
fn dialect_of(request: &Request) -> Dialect {
    request
        .extensions()
        .get::<Dialect>()
        .copied()
        .unwrap_or(OpenAiChat::DIALECT)
}

async fn not_found(request: Request) -> ApiError {
    let path = request.uri().path().to_owned();
    ApiError::new(
        dialect_of(&request),
        Error::new(ErrorKind::NotFound, format!("there is no route `{path}`")),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    ApiError::new(
        dialect_of(&request),
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
async fn guard(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let Guard { state, dialect } = guard;
    request.extensions_mut().insert(dialect);
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
                let mut response = ApiError::new(dialect, error).into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
        };
    }
    request.extensions_mut().insert(Caller::default());
    let path = request.uri().path();
    let refuse = |error| ApiError::new(dialect, error).into_response();
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
