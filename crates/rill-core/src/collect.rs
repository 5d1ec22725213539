//! Folding a stream into a whole answer: the non-streaming path, and tool-call
//! accumulation shared by every consumer that needs whole calls.

use std::borrow::Cow;
use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde_json::Value;

use crate::{
    Error, EventStream, FinishReason, Reasoning, StreamEvent, ToolCall, Usage, parse_partial,
};

/// A whole answer, collected from a stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    /// The model that served the answer (from `Start`).
    pub model: Option<String>,
    pub text: String,
    /// All the reasoning text, in order.
    pub reasoning: String,
    /// The same reasoning in blocks, with the signatures that sealed them and the
    /// redacted blocks, once a signature or a redacted block came: empty until then, when
    /// `reasoning` is all there is (one unsigned block). Read both with
    /// [`Completion::reasoning_in_blocks`]. A collected answer shows its reasoning before
    /// its content, so blocks are split only where a signature or a redacted block ends
    /// one: unsealed reasoning that other content interrupted goes on in the same block.
    pub reasoning_blocks: Vec<Reasoning>,
    pub refusal: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    pub usage: Option<Usage>,
}

impl Completion {
    /// Applies one event. Returns the error if the event is one.
    pub fn apply(
        &mut self,
        event: StreamEvent,
        tools: &mut ToolCallAccumulator,
    ) -> Result<(), Error> {
        match event {
            StreamEvent::Start { model } => self.model = Some(model),
            StreamEvent::TextDelta(t) => self.text.push_str(&t),
            StreamEvent::ReasoningDelta(t) => {
                self.reasoning.push_str(&t);
                match self.reasoning_blocks.last_mut() {
                    None => {}
                    Some(Reasoning::Text {
                        text,
                        signature: None,
                    }) => text.push_str(&t),
                    Some(_) => self.reasoning_blocks.push(Reasoning::unsigned(t)),
                }
            }
            StreamEvent::ReasoningSignature(s) => {
                self.open_blocks();
                match self.reasoning_blocks.last_mut() {
                    Some(Reasoning::Text {
                        signature: signature @ None,
                        ..
                    }) => *signature = Some(s),
                    _ => self.reasoning_blocks.push(Reasoning::signed("", s)),
                }
            }
            StreamEvent::ReasoningRedacted(data) => {
                self.open_blocks();
                self.reasoning_blocks.push(Reasoning::Redacted { data });
            }
            StreamEvent::RefusalDelta(t) => self.refusal.push_str(&t),
            event @ (StreamEvent::ToolCallStart { .. }
            | StreamEvent::ToolCallDelta { .. }
            | StreamEvent::ToolCallEnd { .. }) => tools.apply(&event),
            StreamEvent::Usage(u) => self.usage = Some(u),
            StreamEvent::Finish(reason) => self.finish_reason = Some(reason),
            StreamEvent::Error(e) => return Err(e),
        }
        Ok(())
    }

    /// Blocks from now on: the reasoning so far is their first, unsigned.
    fn open_blocks(&mut self) {
        if self.reasoning_blocks.is_empty() && !self.reasoning.is_empty() {
            let text = self.reasoning.clone();
            self.reasoning_blocks.push(Reasoning::unsigned(text));
        }
    }

    /// The reasoning in blocks: [`reasoning_blocks`](Self::reasoning_blocks), or, when
    /// nothing sealed it (or the completion was built without blocks), `reasoning` as
    /// one unsigned block.
    pub fn reasoning_in_blocks(&self) -> Cow<'_, [Reasoning]> {
        if self.reasoning_blocks.is_empty() && !self.reasoning.is_empty() {
            Cow::Owned(vec![Reasoning::unsigned(self.reasoning.as_str())])
        } else {
            Cow::Borrowed(&self.reasoning_blocks)
        }
    }
}

/// Collects a stream into a [`Completion`]; the first error event is returned as `Err`.
pub async fn collect(mut stream: EventStream) -> Result<Completion, Error> {
    let mut completion = Completion::default();
    let mut tools = ToolCallAccumulator::default();
    while let Some(event) = stream.next().await {
        completion.apply(event, &mut tools)?;
    }
    completion.tool_calls = tools.into_calls();
    Ok(completion)
}

/// Assembles tool calls from start / argument-fragment / end events, by index, and keeps
/// a best-effort value of each call's arguments as they grow ([`Self::partial`]).
#[derive(Debug, Clone, Default)]
pub struct ToolCallAccumulator {
    calls: BTreeMap<u32, ToolCall>,
    /// Each call's last parsed arguments, and how many bytes of them it had: parsed
    /// again only when asked for after they grew.
    parsed: BTreeMap<u32, (usize, Option<Value>)>,
}

impl ToolCallAccumulator {
    /// Applies a tool-call event; other events are ignored. A fragment for an index that
    /// never started opens an unnamed call rather than being lost.
    pub fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::ToolCallStart { index, id, name } => {
                let call = self.entry(*index);
                call.id.clone_from(id);
                call.name.clone_from(name);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.entry(*index).arguments.push_str(arguments);
            }
            _ => {}
        }
    }

    fn entry(&mut self, index: u32) -> &mut ToolCall {
        self.calls.entry(index).or_insert_with(|| ToolCall {
            id: String::new(),
            name: String::new(),
            arguments: String::new(),
        })
    }

    /// The call at `index`, as accumulated so far.
    pub fn get(&self, index: u32) -> Option<&ToolCall> {
        self.calls.get(&index)
    }

    /// The value of the call's arguments so far ([`crate::parse_partial`]): `None` until
    /// they hold one, so a form can fill in while the model writes it. The arguments are
    /// parsed again only when they grew since the last call.
    pub fn partial(&mut self, index: u32) -> Option<&Value> {
        let arguments = &self.calls.get(&index)?.arguments;
        let parsed = self.parsed.entry(index).or_insert((usize::MAX, None));
        if parsed.0 != arguments.len() {
            *parsed = (arguments.len(), parse_partial(arguments));
        }
        parsed.1.as_ref()
    }

    /// All calls, ordered by index.
    pub fn into_calls(self) -> Vec<ToolCall> {
        self.calls.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    #[test]
    fn a_calls_partial_arguments_grow_with_its_fragments() {
        let mut tools = ToolCallAccumulator::default();
        assert_eq!(tools.partial(0), None);
        tools.apply(&StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "book".into(),
        });
        assert_eq!(tools.partial(0), None);
        let mut seen = Vec::new();
        for fragment in ["{\"ci", "ty\": \"Pa", "ris\", \"nights\": [2", ", 3]}"] {
            tools.apply(&StreamEvent::ToolCallDelta {
                index: 0,
                arguments: fragment.into(),
            });
            seen.push(tools.partial(0).cloned());
        }
        assert_eq!(
            seen,
            [
                Some(json!({})),
                Some(json!({"city": "Pa"})),
                Some(json!({"city": "Paris", "nights": [2]})),
                Some(json!({"city": "Paris", "nights": [2, 3]})),
            ]
        );
        // Asking again without new fragments gives the same value.
        assert_eq!(
            tools.partial(0),
            Some(&json!({"city": "Paris", "nights": [2, 3]}))
        );
        assert_eq!(tools.partial(1), None);
    }

    fn stream(events: Vec<StreamEvent>) -> EventStream {
        Box::pin(futures_util::stream::iter(events))
    }

    #[tokio::test]
    async fn collects_text_reasoning_parallel_tool_calls_and_usage() {
        let usage = Usage {
            input_tokens: 5,
            output_tokens: 7,
            ..Usage::default()
        };
        let c = collect(stream(vec![
            StreamEvent::Start { model: "m".into() },
            StreamEvent::ReasoningDelta("think".into()),
            StreamEvent::TextDelta("Hel".into()),
            StreamEvent::TextDelta("lo".into()),
            StreamEvent::ToolCallStart {
                index: 1,
                id: "b".into(),
                name: "g".into(),
            },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "a".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"x\":".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                arguments: "{}".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "1}".into(),
            },
            StreamEvent::ToolCallEnd { index: 0 },
            StreamEvent::ToolCallEnd { index: 1 },
            StreamEvent::Finish(FinishReason::ToolCalls),
            StreamEvent::Usage(usage),
        ]))
        .await
        .unwrap();
        assert_eq!(c.model.as_deref(), Some("m"));
        assert_eq!(c.text, "Hello");
        assert_eq!(c.reasoning, "think");
        assert_eq!(c.tool_calls.len(), 2);
        assert_eq!(c.tool_calls[0].name, "f");
        assert_eq!(c.tool_calls[0].arguments, "{\"x\":1}");
        assert_eq!(c.tool_calls[1].id, "b");
        assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(c.usage, Some(usage));
    }

    #[tokio::test]
    async fn error_event_becomes_err() {
        let err = collect(stream(vec![
            StreamEvent::TextDelta("partial".into()),
            StreamEvent::Error(Error::new(ErrorKind::Timeout, "stalled")),
        ]))
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
    }

    #[tokio::test]
    async fn collects_reasoning_blocks_with_their_signatures() {
        let reasoning = |t: &str| StreamEvent::ReasoningDelta(t.into());
        let signature = |s: &str| StreamEvent::ReasoningSignature(s.into());
        let c = collect(stream(vec![
            reasoning("Let me "),
            reasoning("think."),
            signature("sig-1"),
            StreamEvent::ReasoningRedacted("opaque".into()),
            reasoning("More"),
            StreamEvent::TextDelta("Answer".into()),
            // Unsealed, the block goes on across other content.
            reasoning(" thought."),
            signature("sig-2"),
            // A signature with no reasoning before it seals an empty block.
            signature("sig-3"),
            StreamEvent::Finish(FinishReason::Stop),
        ]))
        .await
        .unwrap();
        assert_eq!(c.reasoning, "Let me think.More thought.");
        assert_eq!(
            c.reasoning_blocks,
            vec![
                Reasoning::signed("Let me think.", "sig-1"),
                Reasoning::Redacted {
                    data: "opaque".into()
                },
                Reasoning::signed("More thought.", "sig-2"),
                Reasoning::signed("", "sig-3"),
            ]
        );
        assert_eq!(
            c.reasoning_in_blocks().as_ref(),
            c.reasoning_blocks.as_slice()
        );
        assert_eq!(c.text, "Answer");
    }

    #[tokio::test]
    async fn unsealed_reasoning_is_only_text() {
        let c = collect(stream(vec![
            StreamEvent::ReasoningDelta("a".into()),
            StreamEvent::TextDelta("x".into()),
            StreamEvent::ReasoningDelta("b".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]))
        .await
        .unwrap();
        assert_eq!(c.reasoning, "ab");
        assert!(c.reasoning_blocks.is_empty());
        assert_eq!(
            c.reasoning_in_blocks().as_ref(),
            [Reasoning::unsigned("ab")]
        );
    }

    #[test]
    fn a_completion_without_blocks_has_its_reasoning_as_one_unsigned_block() {
        let c = Completion {
            reasoning: "hmm".into(),
            ..Completion::default()
        };
        assert_eq!(
            c.reasoning_in_blocks().as_ref(),
            [Reasoning::unsigned("hmm")]
        );
        assert!(Completion::default().reasoning_in_blocks().is_empty());
    }
}
