//! Core events -> `StreamEncoder` -> SSE bytes -> `rill_sse::Decoder` -> `EventDecoder`
//! -> the same events.
//!
//! The encoder never holds content back, so every stream comes back event for event,
//! whatever the order of its content: the only changes are the dialect's. `Start`
//! carries the encoder's model; calls still open at `Finish` end there (in the order
//! they started), before the usage that the terminal event carries; usage details are
//! always reported (0 when unknown); and the Responses API has no finish reason beyond
//! complete and incomplete, so a normal end is `ToolCalls` exactly when the answer
//! called a tool.

use proptest::prelude::*;
use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::openai_responses::{Echo, StreamEncoder};

use super::support::{decode_sse, wire};

const MODEL: &str = "model-rt";

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\\n\r{}:,é🦀\u{0}]{1,12}"
}

/// Content in any order: text, reasoning and refusal, calls started at any time,
/// fragments to any started call until it ends, ends at any time (or never).
fn body() -> impl Strategy<Value = Vec<StreamEvent>> {
    #[derive(Debug, Clone)]
    enum Step {
        Text(String),
        Reasoning(String),
        Refusal(String),
        NewCall(String, String),
        Args(usize, String),
        End(usize),
    }
    let step = prop_oneof![
        text().prop_map(Step::Text),
        text().prop_map(Step::Reasoning),
        text().prop_map(Step::Refusal),
        ("call_[a-zA-Z0-9]{1,8}", "[a-z_]{1,10}").prop_map(|(id, name)| Step::NewCall(id, name)),
        (any::<usize>(), text()).prop_map(|(i, a)| Step::Args(i, a)),
        any::<usize>().prop_map(Step::End),
    ];
    prop::collection::vec(step, 0..24).prop_map(|steps| {
        let mut ended: Vec<bool> = Vec::new();
        let mut events = Vec::new();
        for step in steps {
            let n = ended.len();
            let pick = |i: usize| u32::try_from(i % n).unwrap();
            events.push(match step {
                Step::Text(t) => StreamEvent::TextDelta(t),
                Step::Reasoning(t) => StreamEvent::ReasoningDelta(t),
                Step::Refusal(t) => StreamEvent::RefusalDelta(t),
                Step::NewCall(id, name) => {
                    ended.push(false);
                    let index = u32::try_from(n).unwrap();
                    StreamEvent::ToolCallStart { index, id, name }
                }
                Step::Args(..) | Step::End(_) if n == 0 => continue,
                // Core never sends fragments after a call's end.
                Step::Args(i, _) | Step::End(i) if ended[i % n] => continue,
                Step::Args(i, arguments) => StreamEvent::ToolCallDelta {
                    index: pick(i),
                    arguments,
                },
                Step::End(i) => {
                    ended[i % n] = true;
                    StreamEvent::ToolCallEnd { index: pick(i) }
                }
            });
        }
        events
    })
}

fn finish_reason() -> impl Strategy<Value = FinishReason> {
    prop_oneof![
        Just(FinishReason::Stop),
        Just(FinishReason::StopSequence),
        Just(FinishReason::Length),
        Just(FinishReason::ToolCalls),
        Just(FinishReason::ContentFilter),
    ]
}

fn usage() -> impl Strategy<Value = Usage> {
    (
        0..1_000_000u64,
        0..1_000_000u64,
        prop::option::of(0..1000u64),
        prop::option::of(0..1000u64),
    )
        .prop_map(|(i, o, r, c)| Usage {
            input_tokens: i,
            output_tokens: o,
            reasoning_tokens: r,
            cached_input_tokens: c,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        })
}

fn error() -> impl Strategy<Value = Error> {
    let kind = prop_oneof![
        Just(ErrorKind::InvalidRequest),
        Just(ErrorKind::Authentication),
        Just(ErrorKind::Permission),
        Just(ErrorKind::NotFound),
        Just(ErrorKind::MethodNotAllowed),
        Just(ErrorKind::RequestTooLarge),
        Just(ErrorKind::RateLimited),
        Just(ErrorKind::Overloaded),
        Just(ErrorKind::Upstream),
        Just(ErrorKind::Timeout),
        Just(ErrorKind::Cancelled),
        Just(ErrorKind::Internal),
    ];
    (
        kind,
        "[a-z `\"\n]{1,20}",
        prop::option::of("[a-z_.\\[\\]0-9]{1,10}"),
        prop::option::of("c_[0-9a-f_]{1,8}"),
    )
        .prop_map(|(kind, message, param, code)| {
            let mut error = Error::new(kind, message);
            error.param = param;
            error.code = code;
            error
        })
}

/// Runs events through the encoder (with `finish()`), the SSE framing and the decoder.
fn round_trip(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut encoder = StreamEncoder::new("resp_rt".into(), MODEL.into(), 1, Echo::default());
    let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    let (decoded, decoder) = decode_sse(wire(&out).as_bytes());
    assert!(decoder.is_done());
    decoded
}

/// What comes back of a usage: every detail, 0 when unknown.
fn reported(usage: Usage) -> Usage {
    Usage {
        reasoning_tokens: Some(usage.reasoning_tokens.unwrap_or_default()),
        cached_input_tokens: Some(usage.cached_input_tokens.unwrap_or_default()),
        ..usage
    }
}

/// The calls of `body` that never ended, in the order they started.
fn open_calls(body: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut open = Vec::new();
    for event in body {
        match event {
            StreamEvent::ToolCallStart { index, .. } => open.push(*index),
            StreamEvent::ToolCallEnd { index } => open.retain(|i| i != index),
            _ => {}
        }
    }
    open.into_iter()
        .map(|index| StreamEvent::ToolCallEnd { index })
        .collect()
}

proptest! {
    #[test]
    fn finished_streams_round_trip_event_for_event(
        body in body(),
        reason in finish_reason(),
        usage in prop::option::of(usage()),
        late in any::<bool>(),
    ) {
        let mut events = vec![StreamEvent::Start { model: "upstream".into() }];
        events.extend(body.iter().cloned());
        let usage_event = usage.map(StreamEvent::Usage);
        if !late {
            events.extend(usage_event.clone());
        }
        events.push(StreamEvent::Finish(reason));
        if late {
            events.extend(usage_event);
        }
        let called = body.iter().any(|e| matches!(e, StreamEvent::ToolCallStart { .. }));
        let reason = match reason {
            FinishReason::Length | FinishReason::ContentFilter => reason,
            _ if called => FinishReason::ToolCalls,
            _ => FinishReason::Stop,
        };
        let mut expected = vec![StreamEvent::Start { model: MODEL.into() }];
        expected.extend(body.iter().cloned());
        expected.extend(open_calls(&body));
        expected.extend(usage.map(|u| StreamEvent::Usage(reported(u))));
        expected.push(StreamEvent::Finish(reason));
        prop_assert_eq!(round_trip(&events), expected);
    }

    #[test]
    fn failed_streams_round_trip(body in body(), error in error()) {
        let mut events = vec![StreamEvent::Start { model: MODEL.into() }];
        events.extend(body);
        let expected = events.clone();
        events.push(StreamEvent::Error(error.clone()));
        let got = round_trip(&events);
        let Some((StreamEvent::Error(decoded), rest)) = got.split_last() else {
            panic!("no error at the end: {got:?}");
        };
        prop_assert_eq!(rest, expected.as_slice());
        prop_assert_eq!(&decoded.message, &error.message);
        prop_assert_eq!(&decoded.param, &error.param);
        // As in Chat Completions: the error's own code replaces the default code that
        // tells apart kinds sharing a `type`, so those come back as the type's main kind.
        if error.code.is_some() {
            prop_assert_eq!(&decoded.code, &error.code);
            let expected = match error.kind {
                ErrorKind::MethodNotAllowed | ErrorKind::RequestTooLarge => ErrorKind::InvalidRequest,
                ErrorKind::Overloaded => ErrorKind::Internal,
                kind => kind,
            };
            prop_assert_eq!(decoded.kind, expected);
        } else {
            prop_assert_eq!(decoded.kind, error.kind);
        }
    }
}
