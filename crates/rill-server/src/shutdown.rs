//! Graceful shutdown in two stages: stop accepting (drain), then end what still runs.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Shared by the server and every open stream.
///
/// Stage one, *drain*: the listener stops accepting; running streams go on. Stage two,
/// *abort*, after the grace period: every open stream sends a final error event in its
/// dialect and ends, so that axum's graceful shutdown (which waits for open responses)
/// can finish. SSE responses never end by themselves, so without stage two it would wait
/// forever.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    drain: CancellationToken,
    abort: CancellationToken,
}

impl Shutdown {
    /// Starts shutting down: drain now, abort streams after `grace`.
    pub fn begin(&self, grace: Duration) {
        if self.drain.is_cancelled() {
            return;
        }
        self.drain.cancel();
        let abort = self.abort.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            abort.cancel();
        });
    }

    /// Resolves when stage one begins.
    pub fn drained(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.drain.clone().cancelled_owned()
    }

    /// The token streams watch to end themselves.
    pub fn abort_token(&self) -> &CancellationToken {
        &self.abort
    }
}
