//! Core events as bytes, for what instances share through Redis.
//!
//! Core types carry no serde (no wire type in core), so this mirror of [`StreamEvent`]
//! is the one stored form: JSON, one tagged object per event, with short field names. A
//! version in the document lets a later form be told apart.

use std::time::Duration;

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use serde::{Deserialize, Serialize};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Document {
    v: u32,
    /// Each event with its time since the generation started, in microseconds.
    events: Vec<(u64, Event)>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Event {
    Start {
        model: String,
    },
    Text {
        d: String,
    },
    Reasoning {
        d: String,
    },
    Signature {
        d: String,
    },
    Redacted {
        d: String,
    },
    Refusal {
        d: String,
    },
    ToolStart {
        i: u32,
        id: String,
        name: String,
    },
    ToolDelta {
        i: u32,
        a: String,
    },
    ToolEnd {
        i: u32,
    },
    Usage {
        input: u64,
        output: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cached_input: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_write: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
        #[serde(default)]
        estimated: bool,
    },
    Finish {
        reason: String,
    },
    Error {
        kind: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

const FINISHES: [(FinishReason, &str); 5] = [
    (FinishReason::Stop, "stop"),
    (FinishReason::StopSequence, "stop_sequence"),
    (FinishReason::Length, "length"),
    (FinishReason::ToolCalls, "tool_calls"),
    (FinishReason::ContentFilter, "content_filter"),
];

impl From<&StreamEvent> for Event {
    fn from(event: &StreamEvent) -> Self {
        match event.clone() {
            StreamEvent::Start { model } => Self::Start { model },
            StreamEvent::TextDelta(d) => Self::Text { d },
            StreamEvent::ReasoningDelta(d) => Self::Reasoning { d },
            StreamEvent::ReasoningSignature(d) => Self::Signature { d },
            StreamEvent::ReasoningRedacted(d) => Self::Redacted { d },
            StreamEvent::RefusalDelta(d) => Self::Refusal { d },
            StreamEvent::ToolCallStart { index, id, name } => {
                Self::ToolStart { i: index, id, name }
            }
            StreamEvent::ToolCallDelta { index, arguments } => Self::ToolDelta {
                i: index,
                a: arguments,
            },
            StreamEvent::ToolCallEnd { index } => Self::ToolEnd { i: index },
            StreamEvent::Usage(u) => Self::Usage {
                input: u.input_tokens,
                output: u.output_tokens,
                reasoning: u.reasoning_tokens,
                cached_input: u.cached_input_tokens,
                cache_write: u.cache_write_tokens,
                cost_usd: u.cost_usd,
                estimated: u.estimated,
            },
            StreamEvent::Finish(reason) => Self::Finish {
                reason: FINISHES
                    .iter()
                    .find(|(r, _)| *r == reason)
                    .map_or("stop", |(_, name)| name)
                    .to_owned(),
            },
            StreamEvent::Error(error) => Self::Error {
                kind: error.kind.as_str().to_owned(),
                message: error.message,
                param: error.param,
                code: error.code,
                retry_after_ms: error
                    .retry_after
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
        }
    }
}

impl Event {
    fn into_core(self) -> Option<StreamEvent> {
        Some(match self {
            Self::Start { model } => StreamEvent::Start { model },
            Self::Text { d } => StreamEvent::TextDelta(d),
            Self::Reasoning { d } => StreamEvent::ReasoningDelta(d),
            Self::Signature { d } => StreamEvent::ReasoningSignature(d),
            Self::Redacted { d } => StreamEvent::ReasoningRedacted(d),
            Self::Refusal { d } => StreamEvent::RefusalDelta(d),
            Self::ToolStart { i, id, name } => StreamEvent::ToolCallStart { index: i, id, name },
            Self::ToolDelta { i, a } => StreamEvent::ToolCallDelta {
                index: i,
                arguments: a,
            },
            Self::ToolEnd { i } => StreamEvent::ToolCallEnd { index: i },
            Self::Usage {
                input,
                output,
                reasoning,
                cached_input,
                cache_write,
                cost_usd,
                estimated,
            } => StreamEvent::Usage(Usage {
                input_tokens: input,
                output_tokens: output,
                reasoning_tokens: reasoning,
                cached_input_tokens: cached_input,
                cache_write_tokens: cache_write,
                cost_usd,
                estimated,
            }),
            Self::Finish { reason } => {
                let (reason, _) = FINISHES.iter().find(|(_, name)| *name == reason)?;
                StreamEvent::Finish(*reason)
            }
            Self::Error {
                kind,
                message,
                param,
                code,
                retry_after_ms,
            } => {
                let mut error = Error::new(ErrorKind::parse(&kind)?, message);
                error.param = param;
                error.code = code;
                error.retry_after = retry_after_ms.map(Duration::from_millis);
                StreamEvent::Error(error)
            }
        })
    }
}

/// `events` (each with its time since the start) as one document.
pub fn encode_events<'a>(events: impl Iterator<Item = (Duration, &'a StreamEvent)>) -> Vec<u8> {
    let document = Document {
        v: VERSION,
        events: events
            .map(|(at, event)| {
                let micros = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
                (micros, Event::from(event))
            })
            .collect(),
    };
    // Serializing plain data into memory cannot fail.
    serde_json::to_vec(&document).unwrap_or_default()
}

/// The events of a document [`encode_events`] wrote; `None` for anything else (another
/// version, or bytes that are not such a document).
pub fn decode_events(bytes: &[u8]) -> Option<Vec<(Duration, StreamEvent)>> {
    let document: Document = serde_json::from_slice(bytes).ok()?;
    if document.v != VERSION {
        return None;
    }
    document
        .events
        .into_iter()
        .map(|(micros, event)| Some((Duration::from_micros(micros), event.into_core()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_event_comes_back_as_it_went_in() {
        let mut error = Error::new(ErrorKind::RateLimited, "slow down")
            .with_param("model")
            .with_code("rate_limit_exceeded");
        error.retry_after = Some(Duration::from_millis(1500));
        let events = vec![
            StreamEvent::Start { model: "m".into() },
            StreamEvent::ReasoningDelta("think \"hard\"".into()),
            StreamEvent::ReasoningSignature("sig==".into()),
            StreamEvent::ReasoningRedacted("opaque".into()),
            StreamEvent::TextDelta("héllo\n".into()),
            StreamEvent::RefusalDelta("no".into()),
            StreamEvent::ToolCallStart {
                index: 1,
                id: "call_1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "{\"a\":".into(),
            },
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 20,
                reasoning_tokens: Some(5),
                cached_input_tokens: Some(3),
                cache_write_tokens: None,
                cost_usd: Some(0.25),
                estimated: true,
            }),
            StreamEvent::Finish(FinishReason::StopSequence),
            StreamEvent::Error(error),
        ];
        let timed: Vec<(Duration, &StreamEvent)> = events
            .iter()
            .enumerate()
            .map(|(n, e)| (Duration::from_micros(n as u64 * 1500), e))
            .collect();
        let decoded = decode_events(&encode_events(timed.iter().copied())).unwrap();
        let owned: Vec<(Duration, StreamEvent)> =
            timed.into_iter().map(|(at, e)| (at, e.clone())).collect();
        assert_eq!(decoded, owned);
        for reason in FINISHES.map(|(reason, _)| reason) {
            let finish = StreamEvent::Finish(reason);
            let bytes = encode_events([(Duration::ZERO, &finish)].into_iter());
            assert_eq!(decode_events(&bytes).unwrap()[0].1, finish);
        }
    }

    #[test]
    fn anything_else_is_not_a_document() {
        assert!(decode_events(b"not json").is_none());
        assert!(decode_events(br#"{"v":2,"events":[]}"#).is_none());
        assert!(
            decode_events(br#"{"v":1,"events":[[0,{"t":"finish","reason":"maybe"}]]}"#).is_none()
        );
    }
}
