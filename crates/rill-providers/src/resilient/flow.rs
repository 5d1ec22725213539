//! One request through a chain: its attempts, their timeouts, and the events held back
//! until the first token.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ChatRequest, Error, ErrorKind, EventStream, StreamEvent, terminated};
use tokio::time::{Instant, Sleep};

use super::Link;
use super::policy::{Recovery, recovery};

/// The timeouts rill measures, as errors name them.
#[derive(Debug, Clone, Copy)]
enum Limit {
    FirstToken,
    Idle,
    Total,
}

/// When an attempt times out, and by which limit.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Limit,
    after: Duration,
}

impl Deadline {
    /// `after` from `from`; `None` without a limit (or one too far away to matter).
    fn new(from: Instant, limit: Limit, after: Option<Duration>) -> Option<Self> {
        let after = after?;
        let at = from.checked_add(after)?;
        Some(Self { at, limit, after })
    }

    fn error(&self, model: &str) -> Error {
        let secs = self.after.as_secs_f64();
        let message = match self.limit {
            Limit::FirstToken => {
                format!("`{model}` sent no token within its first-token timeout of {secs} s")
            }
            Limit::Idle => {
                format!(
                    "`{model}` stopped mid-answer: nothing came for its idle timeout of {secs} s"
                )
            }
            Limit::Total => {
                format!("`{model}` did not finish within its total timeout of {secs} s")
            }
        };
        Error::new(ErrorKind::Timeout, message)
    }
}

fn earliest(a: Option<Deadline>, b: Option<Deadline>) -> Option<Deadline> {
    match (a, b) {
        (Some(a), Some(b)) if b.at < a.at => Some(b),
        (a, b) => a.or(b),
    }
}

/// `future`'s output, unless `deadline` comes first.
async fn until<F: Future>(deadline: Option<Deadline>, future: F) -> Result<F::Output, Deadline> {
    match deadline {
        None => Ok(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline.at, future)
            .await
            .map_err(|_| deadline),
    }
}

/// An attempt whose provider accepted the request.
pub(super) struct Attempt {
    stream: EventStream,
    /// Its link in the chain.
    link: usize,
    began: Instant,
}

/// Where a request is in its chain: the link being tried, and how often it was.
pub(super) struct Run {
    chain: Arc<[Link]>,
    request: ChatRequest,
    link: usize,
    tries: u32,
}

impl Run {
    pub(super) fn new(chain: Arc<[Link]>, request: ChatRequest) -> Self {
        Self {
            chain,
            request,
            link: 0,
            tries: 0,
        }
    }

    /// Attempts until a provider accepts the request; the last error when no attempt is
    /// left.
    pub(super) async fn accept(&mut self) -> Result<Attempt, Error> {
        loop {
            let error = match self.attempt().await {
                Ok(attempt) => return Ok(attempt),
                Err(error) => error,
            };
            let delay = self.recover(&error).ok_or(error)?;
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt on the current link, its first-token and total timeouts already
    /// running while the provider starts.
    async fn attempt(&mut self) -> Result<Attempt, Error> {
        self.tries += 1;
        self.request.tally.add_attempt();
        let link = &self.chain[self.link];
        let began = Instant::now();
        let timeouts = link.policy.timeouts;
        let deadline = earliest(
            Deadline::new(began, Limit::FirstToken, timeouts.first_token),
            Deadline::new(began, Limit::Total, timeouts.total),
        );
        let mut request = self.request.clone();
        request.model.clone_from(&link.name);
        let stream = until(deadline, link.provider.start(request))
            .await
            .map_err(|deadline| deadline.error(&link.name))??;
        Ok(Attempt {
            stream: terminated(stream),
            link: self.link,
            began,
        })
    }

    /// After `error` ended an attempt before its first token: the pause before the next
    /// attempt, on this link or the next one, or `None` when no attempt is left.
    fn recover(&mut self, error: &Error) -> Option<Duration> {
        self.request.tally.add_failure(error.kind.status_code());
        let chain = Arc::clone(&self.chain);
        let link = &chain[self.link];
        let recovery = recovery(error);
        if recovery == Recovery::Retry && self.tries < link.policy.max_attempts {
            let delay = link.policy.backoff.delay(self.tries, error);
            tracing::warn!(
                model = %link.name,
                attempt = self.tries,
                kind = error.kind.as_str(),
                error = %error.message,
                ?delay,
                "the attempt failed before its first token; retrying",
            );
            return Some(delay);
        }
        if recovery == Recovery::Fail {
            return None;
        }
        let next = chain.get(self.link + 1)?;
        tracing::warn!(
            model = %link.name,
            fallback = %next.name,
            attempts = self.tries,
            kind = error.kind.as_str(),
            error = %error.message,
            "the model failed before its first token; falling back",
        );
        self.link += 1;
        self.tries = 0;
        Some(Duration::ZERO)
    }
}

/// The stream [`super::Resilient`] returns.
pub(super) struct Flow {
    chain: Arc<[Link]>,
    /// `None` once the first token came: the chain is settled.
    run: Option<Run>,
    /// The attempt being read; `None` once the stream is over.
    attempt: Option<Attempt>,
    /// The attempt's events before its first token.
    held: Vec<StreamEvent>,
    /// Events to pass on.
    ready: VecDeque<StreamEvent>,
    /// `Finish` went out: a timeout now only ends the stream.
    finished: bool,
    /// When the last event came, for the idle timeout.
    last: Instant,
    /// Fires at the attempt's deadline or earlier. It is moved only when the deadline
    /// comes before it, or when it fires early (the idle deadline moved on meanwhile),
    /// not on every event: a timer per event per stream costs more than the event.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Flow {
    pub(super) fn new(run: Run, attempt: Attempt) -> Self {
        Self {
            chain: Arc::clone(&run.chain),
            run: Some(run),
            attempt: Some(attempt),
            held: Vec::new(),
            ready: VecDeque::new(),
            finished: false,
            last: Instant::now(),
            timer: None,
        }
    }

    /// The next event, for `futures_util::stream::unfold`.
    pub(super) async fn next(mut self) -> Option<(StreamEvent, Self)> {
        // The idle clock runs while the reader waits, not while it is away: a reader that
        // pulls the stream itself and was held up by its own client must not find the
        // upstream timed out for the pause it took.
        let asked = Instant::now();
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some((event, self));
            }
            let attempt = self.attempt.as_mut()?;
            let timeouts = self.chain[attempt.link].policy.timeouts;
            let waiting = match self.run {
                Some(_) => Deadline::new(attempt.began, Limit::FirstToken, timeouts.first_token),
                None => Deadline::new(self.last.max(asked), Limit::Idle, timeouts.idle),
            };
            let total = Deadline::new(attempt.began, Limit::Total, timeouts.total);
            let next = match earliest(waiting, total) {
                None => Ok(attempt.stream.next().await),
                Some(deadline) => {
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.at)));
                    if timer.deadline() > deadline.at {
                        timer.as_mut().reset(deadline.at);
                    }
                    tokio::select! {
                        biased;
                        event = attempt.stream.next() => Ok(event),
                        () = timer.as_mut() => {
                            if Instant::now() < deadline.at {
                                // Set for an earlier deadline that has moved on.
                                timer.as_mut().reset(deadline.at);
                                continue;
                            }
                            Err(deadline)
                        }
                    }
                }
            };
            match next {
                Ok(Some(event)) => {
                    self.last = Instant::now();
                    self.on_event(event).await;
                }
                Ok(None) => self.attempt = None,
                Err(deadline) => {
                    let error = deadline.error(&self.chain[attempt.link].name);
                    // Stop the work behind the stream before anything else.
                    self.attempt = None;
                    if self.run.is_some() {
                        self.retry(error).await;
                    } else if !self.finished {
                        self.ready.push_back(StreamEvent::Error(error));
                    }
                }
            }
        }
    }

    async fn on_event(&mut self, event: StreamEvent) {
        if self.run.is_none() {
            match &event {
                // Nothing follows an error.
                StreamEvent::Error(_) => self.attempt = None,
                StreamEvent::Finish(_) => self.finished = true,
                _ => {}
            }
            self.ready.push_back(event);
            return;
        }
        match event {
            StreamEvent::Error(error) => {
                self.attempt = None;
                self.retry(error).await;
            }
            event if event.is_content() || matches!(event, StreamEvent::Finish(_)) => {
                self.commit(event);
            }
            StreamEvent::Start { .. } => {
                let model = self.serving().to_owned();
                self.held.push(StreamEvent::Start { model });
            }
            event => self.held.push(event),
        }
    }

    /// The first token (or the finish of an answer without one): the held events go out
    /// before it, led by a `Start` naming the model that serves.
    fn commit(&mut self, event: StreamEvent) {
        self.run = None;
        if !self
            .held
            .iter()
            .any(|held| matches!(held, StreamEvent::Start { .. }))
        {
            let model = self.serving().to_owned();
            self.ready.push_back(StreamEvent::Start { model });
        }
        self.ready.extend(self.held.drain(..));
        self.finished = matches!(event, StreamEvent::Finish(_));
        self.ready.push_back(event);
    }

    /// rill's name of the model being read.
    fn serving(&self) -> &str {
        let link = self.attempt.as_ref().map_or(0, |attempt| attempt.link);
        &self.chain[link].name
    }

    /// The attempt failed before its first token (its stream is already dropped): the
    /// next one, if any is left, else the error ends the stream.
    async fn retry(&mut self, error: Error) {
        self.held.clear();
        let Some(run) = self.run.as_mut() else {
            self.ready.push_back(StreamEvent::Error(error));
            return;
        };
        let next = match run.recover(&error) {
            None => Err(error),
            Some(delay) => {
                tokio::time::sleep(delay).await;
                run.accept().await
            }
        };
        match next {
            Ok(attempt) => self.attempt = Some(attempt),
            Err(error) => self.ready.push_back(StreamEvent::Error(error)),
        }
    }
}
