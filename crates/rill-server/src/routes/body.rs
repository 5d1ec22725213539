//! Request bodies of the generation routes: JSON only, no larger than the limit, and
//! arriving fast enough.
//!
//! - JSON only (415 otherwise): a web page can send `text/plain` (or an untyped blob) to
//!   any address without asking first, but `application/json` from another origin needs
//!   a CORS preflight, which rill answers only for `server.cors_origins`.
//! - A `Content-Length` over `server.max_body_bytes` is refused before anything is read,
//!   so a client that sent `Expect: 100-continue` gets 413, not `100 Continue` (hyper
//!   sends that when a body is first read). A body without a length is cut off at the
//!   limit.
//! - The body must arrive within `server.body_timeout_secs` plus its size over
//!   `server.body_min_bytes_per_sec` (408 otherwise): a client cannot hold a connection
//!   by trickling a body, or by stopping halfway.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rill_core::{Error, ErrorKind};
use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// A generation request's JSON body, read under the limits above.
pub struct JsonBody(pub Bytes);

/// Why a body was refused. Handlers put it in their dialect (`Result<JsonBody, _>`); on
/// its own it answers in the OpenAI shape.
pub struct BodyError(pub Error);

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        ApiError::openai(self.0).into_response()
    }
}

impl From<BodyError> for Error {
    fn from(error: BodyError) -> Self {
        error.0
    }
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = BodyError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, BodyError> {
        read_json(request, &state.server)
            .await
            .map(JsonBody)
            .map_err(BodyError)
    }
}

/// How a body must arrive.
struct Limits {
    max_bytes: usize,
    timeout: Option<Duration>,
    min_rate: u64,
}

impl Limits {
    fn of(config: &ServerConfig) -> Self {
        Self {
            max_bytes: config.max_body_bytes,
            timeout: (config.body_timeout_secs > 0.0)
                .then(|| Duration::from_secs_f64(config.body_timeout_secs)),
            min_rate: config.body_min_bytes_per_sec.max(1),
        }
    }

    /// When the body must be complete, having received `bytes` of it so far.
    fn deadline(&self, start: Instant, bytes: usize) -> Option<Instant> {
        let allowance = Duration::from_secs_f64(bytes as f64 / self.min_rate as f64);
        self.timeout.map(|timeout| start + timeout + allowance)
    }

    fn too_large(&self) -> Error {
        Error::new(
            ErrorKind::RequestTooLarge,
            format!(
                "the request body is larger than the limit of {} bytes",
                self.max_bytes
            ),
        )
    }
}

async fn read_json(request: Request, config: &ServerConfig) -> Result<Bytes, Error> {
    let limits = Limits::of(config);
    check_content_type(request.headers())?;
    if declared_length(request.headers()).is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(limits.too_large());
    }
    read(request.into_body(), &limits).await
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let value = headers.get(header::CONTENT_TYPE);
    let essence = value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if essence.is_some_and(|e| e.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    let got = match value {
        Some(value) => format!(
            "`{}`",
            String::from_utf8_lossy(value.as_bytes()).escape_default()
        ),
        None => "none".to_owned(),
    };
    Err(Error::new(
        ErrorKind::UnsupportedMediaType,
        format!(
            "the request body must be JSON (content type: {got})\nhint: send `Content-Type: application/json`"
        ),
    )
    .with_code("unsupported_media_type"))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn read(mut body: Body, limits: &Limits) -> Result<Bytes, Error> {
    let start = Instant::now();
    let mut chunks = Vec::new();
    let mut received = 0usize;
    loop {
        let next = body.frame();
        let frame = match limits.deadline(start, received) {
            Some(deadline) => tokio::time::timeout_at(deadline, next)
                .await
                .map_err(|_| too_slow(received, limits))?,
            None => next.await,
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|error| {
            Error::invalid_request(format!("could not read the request body: {error}"))
        })?;
        if let Ok(data) = frame.into_data() {
            received += data.len();
            if received > limits.max_bytes {
                return Err(limits.too_large());
            }
            chunks.push(data);
        }
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut whole = BytesMut::with_capacity(received);
            chunks
                .iter()
                .for_each(|chunk| whole.extend_from_slice(chunk));
            whole.freeze()
        }
    })
}

fn too_slow(received: usize, limits: &Limits) -> Error {
    let timeout = limits.timeout.unwrap_or_default().as_secs_f64();
    Error::new(
        ErrorKind::RequestTimeout,
        format!(
            "the request body arrived too slowly ({received} bytes so far): a body must arrive within {timeout} s plus 1 s per {} bytes",
            limits.min_rate
        ),
    )
    .with_code("request_timeout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(check_content_type(&headers).is_err(), "none");
        for ok in ["application/json", "Application/JSON; charset=utf-8"] {
            headers.insert(header::CONTENT_TYPE, ok.parse().unwrap());
            assert!(check_content_type(&headers).is_ok(), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
        ] {
            headers.insert(header::CONTENT_TYPE, bad.parse().unwrap());
            let error = check_content_type(&headers).unwrap_err();
            assert_eq!(error.status_code(), 415);
            assert!(error.message.contains(bad), "{}", error.message);
        }
    }

    #[test]
    fn the_deadline_grows_with_what_arrived() {
        let limits = Limits {
            max_bytes: 1 << 20,
            timeout: Some(Duration::from_secs(10)),
            min_rate: 1000,
        };
        let start = Instant::now();
        assert_eq!(
            limits.deadline(start, 5000),
            Some(start + Duration::from_secs(15))
        );
    }
}
