//! How long a model may take, how often it is tried, and which failures are worth another
//! try.

use std::time::Duration;

use rill_core::{Error, ErrorKind};

use crate::upstream_error::is_operator_refusal;

/// How one model of a chain is tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Attempts on this model before the chain moves on, the first included (at least 1).
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub timeouts: Timeouts,
}

impl Default for Policy {
    /// Two attempts, [`Backoff::default`], [`Timeouts::default`].
    fn default() -> Self {
        Self {
            max_attempts: 2,
            backoff: Backoff::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// The pause before a retry: exponential with full jitter (a random delay between zero
/// and `base * 2^(n-1)` before retry `n`, at most `max`), or the upstream's `Retry-After`
/// when it gave one, also at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 250 ms, at most 5 s.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The pause before retry number `retry` (1 for the first) after `error`.
    pub fn delay(&self, retry: u32, error: &Error) -> Duration {
        if let Some(after) = error.retry_after {
            return after.min(self.max);
        }
        let doubling = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base.saturating_mul(doubling).min(self.max);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// The limits on one attempt, each measured by rill; `None` is no limit. Every attempt
/// (a retry, a fallback) gets them afresh. The connect timeout is the HTTP client's
/// ([`crate::HttpUpstream::with_connect_timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the request to the first content event ([`rill_core::StreamEvent::is_content`]),
    /// response headers included.
    pub first_token: Option<Duration>,
    /// The longest silence between two events once the first token came.
    pub idle: Option<Duration>,
    /// From the request to the end of the stream.
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    /// 120 s to the first token, 60 s idle, no total limit.
    fn default() -> Self {
        Self {
            first_token: Some(Duration::from_secs(120)),
            idle: Some(Duration::from_secs(60)),
            total: None,
        }
    }
}

/// What an error that ended an attempt before its first token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// A transient failure: the same model again (after a pause), then the next model.
    Retry,
    /// This model cannot serve (rill's key refused, the model unknown upstream): the next
    /// model, but not this one again.
    Fallback,
    /// The client's own request is at fault, or it was cancelled: no other attempt can
    /// do better, the error goes to the client.
    Fail,
}

/// Rate limits, overload, timeouts (the upstream's 408 and 504, rill's own), an
/// upstream's 5xx, a connection that failed, a stream that broke or ended early: retried.
/// The operator's refusals are not worth a retry but another model may serve; the
/// client's own errors are final. Exhaustive on purpose: a new kind must pick one.
pub(crate) fn recovery(error: &Error) -> Recovery {
    match error.kind {
        ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::Timeout => Recovery::Retry,
        ErrorKind::Internal => Recovery::Retry,
        ErrorKind::Upstream if is_operator_refusal(error) => Recovery::Fallback,
        ErrorKind::Upstream => Recovery::Retry,
        // Only providers that are not HTTP upstreams (a script's `fail_status`) report
        // these as they are; for an upstream they are the operator's refusals above.
        ErrorKind::Authentication
        | ErrorKind::Permission
        | ErrorKind::NotFound
        | ErrorKind::Gone
        | ErrorKind::MethodNotAllowed => Recovery::Fallback,
        ErrorKind::InvalidRequest
        | ErrorKind::RequestTooLarge
        | ErrorKind::UnsupportedMediaType
        | ErrorKind::RequestTimeout
        | ErrorKind::Cancelled => Recovery::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream_error::for_client;

    #[test]
    fn transient_failures_are_retried_and_the_clients_own_are_final() {
        let retried = [
            Error::new(ErrorKind::RateLimited, "slow down"),
            Error::new(ErrorKind::Overloaded, "busy"),
            Error::new(ErrorKind::Timeout, "late"),
            Error::upstream("request failed: error sending request"),
            Error::upstream("the stream ended before the generation finished"),
            for_client("m", Error::internal("oops"), None),
            Error::internal("scripted failure with status 500"),
        ];
        for error in retried {
            assert_eq!(recovery(&error), Recovery::Retry, "{error:?}");
        }
        for kind in [ErrorKind::Authentication, ErrorKind::NotFound] {
            let upstream = for_client("m", Error::new(kind, "no"), None);
            assert_eq!(recovery(&upstream), Recovery::Fallback, "{upstream:?}");
            assert_eq!(recovery(&Error::new(kind, "no")), Recovery::Fallback);
        }
        for kind in [
            ErrorKind::InvalidRequest,
            ErrorKind::RequestTooLarge,
            ErrorKind::Cancelled,
        ] {
            let error = for_client("m", Error::new(kind, "no"), None);
            assert_eq!(recovery(&error), Recovery::Fail, "{error:?}");
        }
    }

    #[test]
    fn backoff_doubles_under_full_jitter_and_honours_retry_after_up_to_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        let error = Error::upstream("x");
        for (retry, ceiling) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let delays: Vec<_> = (0..200).map(|_| backoff.delay(retry, &error)).collect();
            let ceiling = Duration::from_millis(ceiling);
            assert!(delays.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Full jitter spreads the delays over the whole range.
            assert!(delays.iter().any(|d| *d < ceiling / 2), "retry {retry}");
            assert!(delays.iter().any(|d| *d > ceiling / 2), "retry {retry}");
        }
        let limited = Error::new(ErrorKind::RateLimited, "x");
        let after = |secs| {
            limited
                .clone()
                .with_retry_after(Duration::from_millis(secs))
        };
        assert_eq!(backoff.delay(1, &after(700)), Duration::from_millis(700));
        assert_eq!(backoff.delay(1, &after(9000)), Duration::from_millis(1000));
    }
}
