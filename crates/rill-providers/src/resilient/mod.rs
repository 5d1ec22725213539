//! Timeouts, retries and fallbacks around any providers, before the first token only.
//!
//! A [`Resilient`] provider serves one model through a chain: the model itself, then its
//! fallbacks, each a [`Link`] with its own provider and [`Policy`]. A request goes to the
//! first link; an attempt that fails before its first content event
//! ([`StreamEvent::is_content`](rill_core::StreamEvent::is_content)) is tried again on the
//! same link (after a [`Backoff`] pause, `max_attempts` in all), then on the next link,
//! as far as the failure allows: transient failures are retried, the operator's
//! refusals move on to the next link, the client's own errors go to the client at once.
//!
//! The key decision: an attempt's events before its first token (`Start`, `Usage`,
//! reasoning signatures, redacted reasoning) are held back until that token comes, or
//! until the stream finishes without one. A failed attempt's held events are dropped with
//! it, so whoever reads the stream sees one continuous answer, with one `Start`, whatever
//! was tried on the way. `Start` names the model that serves, by its [`Link::name`].
//! From the first token on the chain is settled: a failure then is an error event, never
//! a switch, since part of the answer has already gone to the client.
//!
//! Where it happens: [`Provider::start`] resolves once some attempt was accepted (for an
//! HTTP upstream, once its response headers came). Attempts that fail before that are
//! retried inside `start`, and when none is accepted its error is `start`'s, an HTTP error
//! for the client. Failures after it and before the first token are retried inside the
//! stream; when none succeeds the stream ends with the last error. Either way the error
//! is the last attempt's.
//!
//! Timeouts ([`Timeouts`]) are measured per attempt: to the first token (response headers
//! included), between events once streaming, and in total. When one fires, the attempt's
//! stream is dropped at once (which closes the upstream connection or stops the engine)
//! and the attempt fails with [`ErrorKind::Timeout`](rill_core::ErrorKind::Timeout),
//! naming the timeout and its value; before the first token that failure is retried like
//! any other.

mod flow;
mod policy;

use std::sync::Arc;

use rill_core::{ChatRequest, EventStream, Provider, ProviderFuture};

pub use policy::{Backoff, Policy, Timeouts};

use flow::{Flow, Run};

/// One model of a chain.
#[derive(Clone)]
pub struct Link {
    /// rill's name for the model: what `Start` reports when it serves, and what errors
    /// and logs name.
    pub name: String,
    pub provider: Arc<dyn Provider>,
    pub policy: Policy,
}

impl Link {
    pub fn new(name: impl Into<String>, provider: Arc<dyn Provider>, policy: Policy) -> Self {
        Self {
            name: name.into(),
            provider,
            policy,
        }
    }
}

/// A model served through a chain of links; see the module docs.
#[derive(Clone)]
pub struct Resilient {
    chain: Arc<[Link]>,
}

impl Resilient {
    /// `model` first, then each of `fallbacks` in order.
    pub fn new(model: Link, fallbacks: Vec<Link>) -> Self {
        let chain: Vec<Link> = std::iter::once(model).chain(fallbacks).collect();
        Self {
            chain: chain.into(),
        }
    }

    /// The names of the chain's models, the model itself first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.chain.iter().map(|link| link.name.as_str())
    }
}

impl Provider for Resilient {
    fn start(&self, request: ChatRequest) -> ProviderFuture {
        let mut run = Run::new(Arc::clone(&self.chain), request);
        Box::pin(async move {
            let attempt = run.accept().await?;
            let flow = Flow::new(run, attempt);
            Ok(Box::pin(futures_util::stream::unfold(flow, Flow::next)) as EventStream)
        })
    }
}
