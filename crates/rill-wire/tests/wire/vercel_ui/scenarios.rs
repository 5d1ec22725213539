//! The streams the snapshots pin and the node test (`tests/vercel_ui/`) replays through
//! the real `ai` package. Ids are fixed test values, so nothing needs filtering.

use rill_core::{Error, ErrorKind, FinishReason, StreamEvent, Usage};
use rill_wire::vercel_ui::StreamEncoder;

/// One named stream: the encoder and the core events it gets.
pub struct Scenario {
    pub name: &'static str,
    pub encoder: StreamEncoder,
    pub events: Vec<StreamEvent>,
}

pub fn start() -> StreamEvent {
    StreamEvent::Start {
        model: "upstream-model".into(),
    }
}

pub fn text(s: &str) -> StreamEvent {
    StreamEvent::TextDelta(s.into())
}

pub fn reasoning(s: &str) -> StreamEvent {
    StreamEvent::ReasoningDelta(s.into())
}

pub fn call(index: u32, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

pub fn args(index: u32, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    }
}

pub fn end(index: u32) -> StreamEvent {
    StreamEvent::ToolCallEnd { index }
}

pub fn finish(reason: FinishReason) -> StreamEvent {
    StreamEvent::Finish(reason)
}

pub fn usage(input: u64, output: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    })
}

fn fresh(id: &str) -> StreamEncoder {
    StreamEncoder::new(id.into(), None)
}

/// Every scenario, by name.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "text",
            encoder: fresh("msg-text"),
            events: vec![
                start(),
                text("Hello"),
                text(", \"world\"\n"),
                StreamEvent::Usage(Usage {
                    input_tokens: 12,
                    output_tokens: 5,
                    reasoning_tokens: Some(2),
                    cached_input_tokens: Some(8),
                    cache_write_tokens: None,
                    cost_usd: None,
                    estimated: false,
                }),
                finish(FinishReason::Stop),
            ],
        },
        Scenario {
            name: "reasoning",
            encoder: fresh("msg-reasoning"),
            events: vec![
                start(),
                reasoning("The user asks"),
                reasoning(" about tomorrow."),
                text("Tomorrow looks similar."),
                finish(FinishReason::Stop),
                usage(40, 9),
            ],
        },
        // Call 1 starts while call 0 still streams; text comes first.
        Scenario {
            name: "tool_calls",
            encoder: fresh("msg-tools"),
            events: vec![
                start(),
                text("Let me check both."),
                call(0, "call_paris", "get_weather"),
                args(0, "{\"city\":"),
                call(1, "call_rome", "get_weather"),
                args(1, "{\"city\":\"Rome\"}"),
                args(0, "\"Paris\"}"),
                end(0),
                end(1),
                finish(FinishReason::ToolCalls),
                usage(30, 20),
            ],
        },
        // The answer after the client added the tool results: it extends `msg-tools`.
        Scenario {
            name: "continuation",
            encoder: StreamEncoder::new("msg-fresh".into(), Some("msg-tools".into())),
            events: vec![
                start(),
                text("Paris is sunny, Rome is rainy."),
                finish(FinishReason::Stop),
            ],
        },
        Scenario {
            name: "error_mid_stream",
            encoder: fresh("msg-error"),
            events: vec![
                start(),
                text("Partial"),
                StreamEvent::Error(Error::new(ErrorKind::Overloaded, "no capacity right now")),
                text("never sent"),
                finish(FinishReason::Stop),
            ],
        },
        // Cut off by `max_tokens` inside the arguments.
        Scenario {
            name: "invalid_arguments",
            encoder: fresh("msg-invalid"),
            events: vec![
                start(),
                call(0, "call_bad", "get_weather"),
                args(0, "{\"city\":\"Par"),
                end(0),
                finish(FinishReason::Length),
            ],
        },
        Scenario {
            name: "cancelled",
            encoder: fresh("msg-cancelled"),
            events: vec![
                start(),
                text("Stopped here"),
                StreamEvent::Error(Error::new(
                    ErrorKind::Cancelled,
                    "the generation was cancelled",
                )),
            ],
        },
        // The provider stream stops without `Finish`.
        Scenario {
            name: "truncated",
            encoder: fresh("msg-truncated"),
            events: vec![start(), text("cut")],
        },
        // No `Start`, a call without an id that never ends: `Finish` completes it.
        Scenario {
            name: "no_start",
            encoder: fresh("msg-bare"),
            events: vec![
                call(0, "", "lookup"),
                args(0, "{}"),
                finish(FinishReason::ToolCalls),
            ],
        },
        // Signed reasoning, a redacted block, and a signature of its own before a call
        // (Gemini signs the call): each ends a reasoning part with `providerMetadata`.
        Scenario {
            name: "signed_reasoning",
            encoder: fresh("msg-signed"),
            events: vec![
                start(),
                reasoning("Checking the forecast."),
                StreamEvent::ReasoningSignature("sig-forecast".into()),
                StreamEvent::ReasoningRedacted("opaque-data".into()),
                text("Let me look."),
                StreamEvent::ReasoningSignature("sig-call".into()),
                call(0, "call_paris", "get_weather"),
                args(0, "{\"city\":\"Paris\"}"),
                end(0),
                finish(FinishReason::ToolCalls),
            ],
        },
        // Only for clients on ai >= 5.0.92; ai@5.0.0 must refuse it.
        Scenario {
            name: "finish_reason",
            encoder: fresh("msg-length").with_finish_reason(),
            events: vec![start(), text("A long answer"), finish(FinishReason::Length)],
        },
    ]
}
