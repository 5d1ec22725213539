//! Upstream side: chat-completions stream payloads -> core events.

use std::collections::BTreeMap;

use rill_core::{Error, FinishReason, StreamEvent, Usage};
use serde::Deserialize;
use serde_json::error::Category;

use super::encode::DONE;
use super::error::{ErrorField, ErrorIn};

/// Decodes the `data:` payloads of a chat-completions stream into core events.
///
/// Tolerant in what it accepts: `usage` on its own `choices: []` chunk or on the finish
/// chunk (DeepSeek), `usage: null`, missing or extra fields, `reasoning_content`
/// (DeepSeek, older vLLM) or `reasoning` (newer vLLM), tool-call fragments without an
/// `index` (told apart by `id`), an `error` member that is an object or a string, and
/// vLLM's bare `{"object":"error",...}`.
///
/// Events are tagged with their choice index. `Start` is emitted once, from the first
/// chunk, tagged 0; so is `Usage`, which covers the whole answer. When a choice's
/// `finish_reason` arrives, a `ToolCallEnd` is emitted for each of its open tool calls,
/// then `Finish`.
#[derive(Debug, Clone, Default)]
pub struct ChunkDecoder {
    started: bool,
    done: bool,
    choices: BTreeMap<u32, ChoiceState>,
}

#[derive(Debug, Clone, Default)]
struct ChoiceState {
    /// Calls seen and not yet ended, in the order they appeared.
    calls: Vec<CallState>,
    /// The index the next call without an `index` gets.
    next_index: u32,
    finished: bool,
}

#[derive(Debug, Clone)]
struct CallState {
    index: u32,
    id: String,
    started: bool,
}

#[derive(Deserialize)]
struct ChunkIn {
    model: Option<String>,
    object: Option<String>,
    choices: Option<Vec<ChoiceIn>>,
    usage: Option<UsageIn>,
    error: Option<ErrorField>,
}

#[derive(Deserialize)]
struct ChoiceIn {
    #[serde(default)]
    index: u32,
    delta: Option<DeltaIn>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct DeltaIn {
    content: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    tool_calls: Option<Vec<ToolCallIn>>,
}

#[derive(Deserialize)]
struct ToolCallIn {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionIn>,
}

#[derive(Deserialize)]
struct FunctionIn {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct UsageIn {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetailsIn>,
    completion_tokens_details: Option<CompletionDetailsIn>,
    /// DeepSeek's spelling of cached prompt tokens.
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetailsIn {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetailsIn {
    reasoning_tokens: Option<u64>,
}

impl From<UsageIn> for Usage {
    fn from(usage: UsageIn) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            reasoning_tokens: usage
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens),
            cached_input_tokens: usage
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .or(usage.prompt_cache_hit_tokens),
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        }
    }
}

impl ChunkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE data payload (a JSON chunk, or `[DONE]`) into events tagged with
    /// their choice index.
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). An `{"error":{...}}`
    /// payload is a [`StreamEvent::Error`], its kind mapped from the error's type and code.
    /// Payloads after `[DONE]`, and empty ones, decode to nothing.
    pub fn decode(&mut self, data: &str) -> Result<Vec<(u32, StreamEvent)>, Error> {
        let data = data.trim();
        if self.done || data.is_empty() {
            return Ok(Vec::new());
        }
        if data == DONE {
            self.done = true;
            return Ok(Vec::new());
        }
        let chunk: ChunkIn = serde_json::from_str(data).map_err(|e| chunk_error(&e))?;
        if let Some(ErrorField(error)) = chunk.error {
            return Ok(vec![(0, StreamEvent::Error(error.into_error()))]);
        }
        if chunk.object.as_deref() == Some("error") {
            let error: ErrorIn = serde_json::from_str(data).unwrap_or_default();
            return Ok(vec![(0, StreamEvent::Error(error.into_error()))]);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push((
                0,
                StreamEvent::Start {
                    model: chunk.model.unwrap_or_default(),
                },
            ));
        }
        for choice in chunk.choices.into_iter().flatten() {
            self.choice(choice, &mut out);
        }
        if let Some(usage) = chunk.usage {
            out.push((0, StreamEvent::Usage(usage.into())));
        }
        Ok(out)
    }

    /// Whether `[DONE]` was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn choice(&mut self, choice: ChoiceIn, out: &mut Vec<(u32, StreamEvent)>) {
        let n = choice.index;
        let state = self.choices.entry(n).or_default();
        if let Some(delta) = choice.delta {
            let reasoning = non_empty(delta.reasoning_content).or(non_empty(delta.reasoning));
            if let Some(text) = reasoning {
                out.push((n, StreamEvent::ReasoningDelta(text)));
            }
            if let Some(text) = non_empty(delta.content) {
                out.push((n, StreamEvent::TextDelta(text)));
            }
            if let Some(text) = non_empty(delta.refusal) {
                out.push((n, StreamEvent::RefusalDelta(text)));
            }
            for call in delta.tool_calls.into_iter().flatten() {
                state.tool_call(n, call, out);
            }
        }
        if let Some(reason) = non_empty(choice.finish_reason) {
            if state.finished {
                return;
            }
            state.finished = true;
            let mut ended: Vec<u32> = state.calls.drain(..).map(|c| c.index).collect();
            ended.sort_unstable();
            out.extend(
                ended
                    .into_iter()
                    .map(|index| (n, StreamEvent::ToolCallEnd { index })),
            );
            out.push((n, StreamEvent::Finish(finish_reason(&reason))));
        }
    }
}

impl ChoiceState {
    fn tool_call(&mut self, n: u32, call: ToolCallIn, out: &mut Vec<(u32, StreamEvent)>) {
        let id = non_empty(call.id);
        let (name, arguments) = match call.function {
            Some(f) => (non_empty(f.name), non_empty(f.arguments)),
            None => (None, None),
        };
        let index = match call.index {
            Some(index) => index,
            // Without an index: a new id opens a new call, anything else continues the last.
            None => match (self.calls.last(), &id) {
                (Some(last), Some(id)) if last.id != *id => self.next_index,
                (Some(last), _) => last.index,
                (None, _) => self.next_index,
            },
        };
        self.next_index = self.next_index.max(index.saturating_add(1));
        if !self.calls.iter().any(|c| c.index == index) {
            self.calls.push(CallState {
                index,
                id: String::new(),
                started: false,
            });
        }
        let Some(state) = self.calls.iter_mut().find(|c| c.index == index) else {
            return;
        };
        if !state.started && (id.is_some() || name.is_some()) {
            state.started = true;
            let id = id.unwrap_or_default();
            state.id.clone_from(&id);
            out.push((
                n,
                StreamEvent::ToolCallStart {
                    index,
                    id,
                    name: name.unwrap_or_default(),
                },
            ));
        }
        if let Some(arguments) = arguments {
            out.push((n, StreamEvent::ToolCallDelta { index, arguments }));
        }
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn chunk_error(e: &serde_json::Error) -> Error {
    match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid chunk: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent a chunk that is not valid JSON: {e}"
        )),
    }
}

/// The core reason for a `finish_reason` string. The deprecated `function_call` is a
/// tool call; unknown reasons are a normal stop.
fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        "stop_sequence" => FinishReason::StopSequence,
        _ => FinishReason::Stop,
    }
}
