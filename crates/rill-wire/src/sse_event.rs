//! A stream event of a dialect whose SSE events carry names (Anthropic Messages, OpenAI
//! Responses).

/// One stream event, ready to frame as SSE: `event: <event>` and `data: <data>`. `event`
/// always equals the `type` inside `data` (the official SDKs dispatch on the event name),
/// e.g. with `rill-sse`: `Frame::data(&e.data).event(e.event)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: &'static str,
    pub data: String,
}
