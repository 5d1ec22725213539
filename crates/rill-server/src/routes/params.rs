//! Path and query parameters, read so that a bad one gets a clear error in the route's
//! dialect rather than axum's plain-text rejection.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use rill_core::Error;

/// A route's one path parameter, or the 400 for a path that does not decode (such as
/// `%FF%FE`, which is not UTF-8).
pub fn path(extracted: Result<Path<String>, PathRejection>) -> Result<String, Error> {
    extracted.map(|Path(value)| value).map_err(|rejection| {
        Error::invalid_request(format!(
            "the path is not valid: {}",
            rejection.body_text().to_lowercase()
        ))
    })
}

pub use rill_wire::query::{Query, frame_number};
