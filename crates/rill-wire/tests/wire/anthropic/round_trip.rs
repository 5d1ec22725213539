//! Core events -> `StreamEncoder` -> SSE bytes -> `rill_sse::Decoder` -> `EventDecoder`
//! -> the same events.
//!
//! Streams whose blocks do not interleave come back event for event; the only changes
//! are the dialect's: the usage (zeros when unknown, without reasoning tokens) comes
//! last before `Finish`. Streams that interleave tool calls with other content come back
//! reordered into sequential blocks, with the same folded answer.

use proptest::prelude::*;
use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::anthropic::StreamEncoder;

use super::support::{decode_sse, fold, wire};

const MODEL: &str = "model-rt";

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\\n\r{}:,é🦀\u{0}]{1,12}"
}

/// Content whose tool calls each start, stream their fragments and end in one piece.
fn sequential() -> impl Strategy<Value = Vec<StreamEvent>> {
    #[derive(Debug, Clone)]
    enum Step {
        Text(String),
        Reasoning(String),
        Call(String, String, Vec<String>),
    }
    let step = prop_oneof![
        text().prop_map(Step::Text),
        text().prop_map(Step::Reasoning),
        (
            "toolu_[a-zA-Z0-9]{1,8}",
            "[a-z_]{1,10}",
            prop::collection::vec(text(), 0..4)
        )
            .prop_map(|(id, name, args)| Step::Call(id, name, args)),
    ];
    prop::collection::vec(step, 0..12).prop_map(|steps| {
        let mut calls = 0;
        let mut events = Vec::new();
        for step in steps {
            match step {
                Step::Text(t) => events.push(StreamEvent::TextDelta(t)),
                Step::Reasoning(t) => events.push(StreamEvent::ReasoningDelta(t)),
                Step::Call(id, name, fragments) => {
                    let index = calls;
                    calls += 1;
                    events.push(StreamEvent::ToolCallStart { index, id, name });
                    events.extend(
                        fragments
                            .into_iter()
                            .map(|arguments| StreamEvent::ToolCallDelta { index, arguments }),
                    );
                    events.push(StreamEvent::ToolCallEnd { index });
                }
            }
        }
        events
    })
}

/// Content in any order: fragments to any started call, ends at any time (or never).
fn interleaved() -> impl Strategy<Value = Vec<StreamEvent>> {
    #[derive(Debug, Clone)]
    enum Step {
        Text(String),
        Reasoning(String),
        NewCall(String, String),
        Args(usize, String),
        End(usize),
    }
    let step = prop_oneof![
        text().prop_map(Step::Text),
        text().prop_map(Step::Reasoning),
        ("toolu_[a-z0-9]{1,8}", "[a-z_]{1,10}").prop_map(|(id, name)| Step::NewCall(id, name)),
        (any::<usize>(), text()).prop_map(|(i, a)| Step::Args(i, a)),
        any::<usize>().prop_map(Step::End),
    ];
    prop::collection::vec(step, 0..24).prop_map(|steps| {
        let mut ended: Vec<bool> = Vec::new();
        let mut events = Vec::new();
        for step in steps {
            let pick = |i: usize, n: usize| u32::try_from(i % n).unwrap();
            let n = ended.len();
            events.push(match step {
                Step::Text(t) => StreamEvent::TextDelta(t),
                Step::Reasoning(t) => StreamEvent::ReasoningDelta(t),
                Step::NewCall(id, name) => {
                    ended.push(false);
                    let index = u32::try_from(ended.len() - 1).unwrap();
                    StreamEvent::ToolCallStart { index, id, name }
                }
                Step::Args(..) | Step::End(_) if ended.is_empty() => continue,
                // Core never sends fragments after a call's end.
                Step::Args(i, _) | Step::End(i) if ended[i % n] => continue,
                Step::Args(i, arguments) => StreamEvent::ToolCallDelta {
                    index: pick(i, n),
                    arguments,
                },
                Step::End(i) => {
                    ended[i % n] = true;
                    let index = pick(i, n);
                    StreamEvent::ToolCallEnd { index }
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

/// Cached and cache-written tokens are part of the prompt's count, as core defines them.
fn usage() -> impl Strategy<Value = Usage> {
    (
        0..1_000_000u64,
        0..1_000_000u64,
        prop::option::of(0..1000u64),
        prop::option::of(0..=100u64),
        prop::option::of(0..=100u64),
    )
        .prop_map(|(i, o, r, c, w)| Usage {
            input_tokens: i + c.unwrap_or_default() + w.unwrap_or_default(),
            output_tokens: o,
            reasoning_tokens: r,
            cached_input_tokens: c,
            cache_write_tokens: w,
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
    (kind, "[a-z `\"\n]{1,20}").prop_map(|(kind, message)| Error::new(kind, message))
}

/// Runs events through the encoder (with `finish()`), the SSE framing and the decoder.
fn round_trip(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut encoder = StreamEncoder::new("msg_rt".into(), MODEL.into(), true);
    let mut out: Vec<_> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    out.extend(encoder.finish());
    let (decoded, decoder) = decode_sse(wire(&out).as_bytes());
    assert!(decoder.is_done());
    decoded
}

/// What comes back of a usage: Anthropic reports no reasoning tokens.
fn reported(usage: Option<Usage>) -> Usage {
    Usage {
        reasoning_tokens: None,
        ..usage.unwrap_or_default()
    }
}

/// Events around a body: `Start`, the body, `Finish`, and the usage before or after it.
fn finished(
    body: &[StreamEvent],
    reason: FinishReason,
    usage: Option<Usage>,
    late: bool,
) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Start {
        model: MODEL.into(),
    }];
    events.extend(body.iter().cloned());
    let usage = usage.map(StreamEvent::Usage);
    if !late {
        events.extend(usage.clone());
    }
    events.push(StreamEvent::Finish(reason));
    if late {
        events.extend(usage);
    }
    events
}

proptest! {
    #[test]
    fn sequential_streams_round_trip_event_for_event(
        body in sequential(),
        reason in finish_reason(),
        usage in prop::option::of(usage()),
        late in any::<bool>(),
    ) {
        let events = finished(&body, reason, usage, late);
        let mut expected = vec![StreamEvent::Start { model: MODEL.into() }];
        expected.extend(body);
        expected.push(StreamEvent::Usage(reported(usage)));
        expected.push(StreamEvent::Finish(reason));
        prop_assert_eq!(round_trip(&events), expected);
    }

    #[test]
    fn interleaved_streams_fold_to_the_same_answer(
        body in interleaved(),
        reason in finish_reason(),
        usage in prop::option::of(usage()),
        late in any::<bool>(),
    ) {
        let events = finished(&body, reason, usage, late);
        let got = round_trip(&events);
        let mut expected = fold(&events);
        expected.usage = Some(reported(usage));
        prop_assert_eq!(fold(&got), expected);
        // Still a well-formed stream: every call ends before `Finish`, which is last.
        let starts = got.iter().filter(|e| matches!(e, StreamEvent::ToolCallStart { .. })).count();
        let ends = got.iter().filter(|e| matches!(e, StreamEvent::ToolCallEnd { .. })).count();
        prop_assert_eq!(starts, ends);
        prop_assert_eq!(got.last(), Some(&StreamEvent::Finish(reason)));
    }

    #[test]
    fn failed_streams_round_trip(body in sequential(), error in error()) {
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
        // Kinds that share an Anthropic type come back as the type's main kind.
        let kind = match error.kind {
            ErrorKind::MethodNotAllowed => ErrorKind::InvalidRequest,
            ErrorKind::Upstream | ErrorKind::Cancelled => ErrorKind::Internal,
            kind => kind,
        };
        prop_assert_eq!(decoded.kind, kind);
    }
}
