//! Pieces every dialect handler needs.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use rill_core::{Error, ErrorKind};
use tokio_util::sync::CancellationToken;

use crate::access::Admitted;
use crate::error::Dialect;
use crate::session::{EncoderFactory, Spec};
use crate::sse::{self, Framed, WireEncoder};
use crate::state::AppState;

/// The request header that asks for a generation to survive a disconnect: it goes on for
/// `sessions.grace_secs` waiting for a resume instead of stopping at once.
pub const RESUMABLE_HEADER: &str = "x-rill-resumable";

/// What a streamed answer starts with besides its generation: its id, its dialect, how
/// to make its encoder (one per subscriber), and headers of its own.
pub struct Streamed {
    pub id: String,
    pub dialect: Dialect,
    pub encoder: EncoderFactory,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Streamed {
    /// A stream whose subscribers each get an encoder `make` builds.
    pub fn new<E: WireEncoder>(
        id: String,
        dialect: Dialect,
        make: impl Fn() -> E + Send + Sync + 'static,
    ) -> Self {
        Self {
            id,
            dialect,
            encoder: Box::new(move || Box::new(Framed(make()))),
            headers: Vec::new(),
        }
    }
}

/// Starts an admitted generation as a session (see `session`), owned by the key that
/// started it, and answers with its SSE response.
pub fn stream_response(
    state: &AppState,
    request_headers: &HeaderMap,
    streamed: Streamed,
    generation: Admitted,
) -> Response {
    let Streamed {
        id,
        dialect,
        encoder,
        headers,
    } = streamed;
    let resumable = request_headers
        .get(RESUMABLE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true"));
    let spec = Spec {
        id,
        dialect,
        encoder,
        headers,
        resumable,
        owner: generation.owner,
    };
    sse::response(state.sessions.start(spec, generation.stream))
}

/// A response id such as `chatcmpl-3vQ8...`: the prefix and 24 random alphanumerics.
pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs a non-streaming generation, unless shutdown's abort deadline comes first.
pub async fn run_to_completion<T>(
    work: impl Future<Output = Result<T, Error>>,
    abort: &CancellationToken,
) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        () = abort.cancelled() => {
            Err(Error::new(ErrorKind::Overloaded, "the server is shutting down; retry the request"))
        }
    }
}

/// The header naming the model that served a non-streaming answer, by rill's name: a
/// fallback's when the model asked for failed before its first token.
pub const SERVED_BY_HEADER: HeaderName = HeaderName::from_static("x-rill-served-by");

/// `response` with [`SERVED_BY_HEADER`]: the model the answer's `Start` named.
pub fn served_by(mut response: Response, completion: &rill_core::Completion) -> Response {
    let model = completion.model.as_deref().map(HeaderValue::from_str);
    if let Some(Ok(model)) = model {
        response.headers_mut().insert(SERVED_BY_HEADER, model);
    }
    response
}
