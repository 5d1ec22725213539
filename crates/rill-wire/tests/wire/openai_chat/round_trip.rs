//! Core events -> `StreamEncoder` -> payloads -> `ChunkDecoder` -> the same events.

use proptest::prelude::*;
use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::openai_chat::{ChunkDecoder, StreamEncoder};

/// Content events of a well-formed stream, with tool calls started before their
/// fragments. Deltas are non-empty: empty deltas carry nothing and are not sent.
fn body() -> impl Strategy<Value = Vec<StreamEvent>> {
    #[derive(Debug, Clone)]
    enum Step {
        Text(String),
        Reasoning(String),
        Refusal(String),
        NewCall(String, String),
        Args(usize, String),
    }
    let text = "[a-zA-Z0-9 \"\\\\\n{}:,é🦀\u{0}]{1,12}";
    let step = prop_oneof![
        text.prop_map(Step::Text),
        text.prop_map(Step::Reasoning),
        text.prop_map(Step::Refusal),
        ("call_[a-z0-9]{1,8}", "[a-z_]{1,10}").prop_map(|(id, name)| Step::NewCall(id, name)),
        (any::<usize>(), text).prop_map(|(i, a)| Step::Args(i, a)),
    ];
    prop::collection::vec(step, 0..24).prop_map(|steps| {
        let mut calls = 0u32;
        let mut events = Vec::new();
        for step in steps {
            events.push(match step {
                Step::Text(t) => StreamEvent::TextDelta(t),
                Step::Reasoning(t) => StreamEvent::ReasoningDelta(t),
                Step::Refusal(t) => StreamEvent::RefusalDelta(t),
                Step::NewCall(id, name) => {
                    calls += 1;
                    StreamEvent::ToolCallStart {
                        index: calls - 1,
                        id,
                        name,
                    }
                }
                Step::Args(_, _) if calls == 0 => continue,
                Step::Args(i, arguments) => {
                    let index = u32::try_from(i % calls as usize).unwrap();
                    StreamEvent::ToolCallDelta { index, arguments }
                }
            });
        }
        events
    })
}

fn finish_reason() -> impl Strategy<Value = FinishReason> {
    prop_oneof![
        Just(FinishReason::Stop),
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
        "[a-z `]{1,20}",
        prop::option::of("[a-z_.]{1,10}"),
        prop::option::of("c_[a-z_]{1,8}"),
    )
        .prop_map(|(kind, message, param, code)| {
            let mut error = Error::new(kind, message);
            error.param = param;
            error.code = code;
            error
        })
}

/// Runs events through the encoder (with `finish()`) and the decoder.
fn round_trip(events: &[StreamEvent], include_usage: bool) -> Vec<StreamEvent> {
    let mut encoder = StreamEncoder::new("chatcmpl-rt".into(), "model-rt".into(), 1, include_usage);
    let mut payloads: Vec<String> = events.iter().flat_map(|e| encoder.encode(e)).collect();
    payloads.extend(encoder.finish());
    let mut decoder = ChunkDecoder::new();
    let mut out = Vec::new();
    for payload in &payloads {
        for (choice, event) in decoder.decode(payload).unwrap() {
            assert_eq!(choice, 0);
            out.push(event);
        }
    }
    assert!(decoder.is_done());
    out
}

fn ends(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let calls = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::ToolCallStart { .. }))
        .count();
    (0..u32::try_from(calls).unwrap())
        .map(|index| StreamEvent::ToolCallEnd { index })
        .collect()
}

proptest! {
    #[test]
    fn finished_streams_round_trip(
        body in body(),
        reason in finish_reason(),
        usage in prop::option::of(usage()),
        include_usage in any::<bool>(),
    ) {
        let mut events = vec![StreamEvent::Start { model: "model-rt".into() }];
        events.extend(body.iter().cloned());
        // The decoder closes open calls when the finish reason arrives.
        events.extend(ends(&body));
        events.push(StreamEvent::Finish(reason));
        let mut expected = events.clone();
        if let Some(usage) = usage {
            events.push(StreamEvent::Usage(usage));
            if include_usage {
                expected.push(StreamEvent::Usage(usage));
            }
        }
        prop_assert_eq!(round_trip(&events, include_usage), expected);
    }

    #[test]
    fn failed_streams_round_trip(body in body(), error in error()) {
        let mut events = vec![StreamEvent::Start { model: "model-rt".into() }];
        events.extend(body);
        let mut expected = events.clone();
        events.push(StreamEvent::Error(error.clone()));
        let got = round_trip(&events, true);
        let Some((StreamEvent::Error(decoded), rest)) = got.split_last() else {
            panic!("no error at the end: {got:?}");
        };
        expected.truncate(rest.len().max(1));
        prop_assert_eq!(rest, expected.as_slice());
        prop_assert_eq!(&decoded.message, &error.message);
        prop_assert_eq!(&decoded.param, &error.param);
        if error.code.is_some() {
            // The error's own code replaces the default code that tells apart kinds
            // sharing a `type`, so those come back as the type's main kind.
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
