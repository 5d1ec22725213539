//! How an upstream's body is cut into payloads before its dialect decodes them: SSE
//! events ([`Sse`], through `rill-sse`) or NDJSON lines ([`crate::ndjson::Lines`]).

use rill_core::Error;

/// One payload of a body: an event name (SSE's `event:`, `message` without one; empty
/// for NDJSON) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payload {
    pub event: String,
    pub data: String,
}

/// Cuts a body into payloads, whatever the chunking.
pub(crate) trait Framing: Send + 'static {
    /// The payloads that `chunk` completes, in order. `Err` ends the stream.
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Payload>, Error>;

    /// The body ended cleanly: the payload still unterminated, if the framing counts
    /// one as complete at the end of the body.
    fn finish(&mut self) -> Result<Option<Payload>, Error>;
}

/// Server-Sent Events: an event whose blank line never came is dropped at the end, as
/// the standard says.
pub(crate) struct Sse(pub rill_sse::Decoder);

impl Framing for Sse {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Payload>, Error> {
        let events = self
            .0
            .feed(chunk)
            .map_err(|e| Error::upstream(format!("the upstream's stream: {e}")))?;
        Ok(events
            .into_iter()
            .map(|e| Payload {
                event: e.event,
                data: e.data,
            })
            .collect())
    }

    fn finish(&mut self) -> Result<Option<Payload>, Error> {
        Ok(None)
    }
}
