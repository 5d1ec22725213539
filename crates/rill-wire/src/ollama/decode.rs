//! Upstream side: Ollama `/api/chat` stream lines -> core events.

use rill_core::{Error, FinishReason, StreamEvent, Usage};
use serde_json::Value;

use super::chunk::{ChunkIn, MessageIn, ToolCallIn, parse};
use super::error::stream_error;

/// Decodes the lines of an Ollama `/api/chat` stream (one JSON object each) into core
/// events.
///
/// - the first line -> `Start`, with its `model`;
/// - `message.thinking` -> `ReasoningDelta`, then `message.content` -> `TextDelta`; empty
///   ones -> nothing;
/// - each of `message.tool_calls` (Ollama sends each call whole, its `arguments` an
///   object) -> `ToolCallStart`, one `ToolCallDelta` with the arguments as compact JSON
///   (`{}` when absent or not an object), and `ToolCallEnd` at once. Calls are numbered
///   0, 1, ... in the order they come. Ollama gives no call id, so the decoder makes one:
///   `call_{t}_{n}` where `t` is the digits of the first line's `created_at` (to the
///   nanosecond: unique across answers in practice), or `call_{n}` without one; it depends
///   only on the stream, so the same bytes give the same ids. An `id` the upstream does
///   send is kept;
/// - the `done: true` line -> `Usage` (input `prompt_eval_count`, output `eval_count`,
///   thinking included; Ollama counts only the prompt tokens it evaluated, so a prefix it
///   reused from its cache is not counted) when it has either count, then `Finish`:
///   `length` is `Length`; `stop` and every other reason (`load`, `unload`, new ones, or
///   none) are `ToolCalls` when the answer made a call and `Stop` otherwise (Ollama reports
///   a matched stop sequence as `stop` too). Nothing after it is read;
/// - `{"error": "..."}` -> `Error` ([`rill_core::ErrorKind::Upstream`]), and nothing
///   after it.
///
/// A stream that ends before `done: true` was cut off: [`rill_core::terminated`] turns it
/// into an error.
#[derive(Debug, Clone, Default)]
pub struct ChunkDecoder {
    started: bool,
    /// `done: true` or an error was decoded: nothing more is read.
    done: bool,
    /// The digits of the first `created_at`, for call ids.
    stamp: Option<String>,
    next_call: u32,
}

impl ChunkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one line of the body.
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). Blank lines, and any
    /// after the end or an error, decode to nothing.
    pub fn decode(&mut self, line: &str) -> Result<Vec<StreamEvent>, Error> {
        let line = line.trim();
        if self.done || line.is_empty() {
            return Ok(Vec::new());
        }
        let mut chunk = parse(line)?;
        if let Some(error) = chunk.error.take().filter(|e| !e.is_null()) {
            self.done = true;
            return Ok(vec![StreamEvent::Error(stream_error(error))]);
        }
        let mut out = Vec::new();
        self.apply(chunk, &mut out);
        Ok(out)
    }

    /// Whether `done: true` or an error was decoded.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn apply(&mut self, chunk: ChunkIn, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                model: chunk.model.unwrap_or_default(),
            });
            let digits: String = chunk
                .created_at
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            self.stamp = (!digits.is_empty()).then_some(digits);
        }
        if let Some(message) = chunk.message {
            self.message(message, out);
        }
        if chunk.done == Some(true) {
            self.done = true;
            if chunk.prompt_eval_count.is_some() || chunk.eval_count.is_some() {
                out.push(StreamEvent::Usage(Usage {
                    input_tokens: chunk.prompt_eval_count.unwrap_or_default(),
                    output_tokens: chunk.eval_count.unwrap_or_default(),
                    reasoning_tokens: None,
                    cached_input_tokens: None,
                    cache_write_tokens: None,
                    cost_usd: None,
                    estimated: false,
                }));
            }
            let called = self.next_call > 0;
            out.push(StreamEvent::Finish(finish_reason(
                chunk.done_reason.as_deref(),
                called,
            )));
        }
    }

    fn message(&mut self, message: MessageIn, out: &mut Vec<StreamEvent>) {
        if let Some(thinking) = message.thinking.filter(|t| !t.is_empty()) {
            out.push(StreamEvent::ReasoningDelta(thinking));
        }
        if let Some(content) = message.content.filter(|c| !c.is_empty()) {
            out.push(StreamEvent::TextDelta(content));
        }
        for call in message.tool_calls.into_iter().flatten() {
            self.tool_call(call, out);
        }
    }

    fn tool_call(&mut self, call: ToolCallIn, out: &mut Vec<StreamEvent>) {
        let index = self.next_call;
        self.next_call = self.next_call.saturating_add(1);
        let id = match call.id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => match &self.stamp {
                Some(stamp) => format!("call_{stamp}_{index}"),
                None => format!("call_{index}"),
            },
        };
        let (name, arguments) = match call.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        out.push(StreamEvent::ToolCallStart {
            index,
            id,
            name: name.unwrap_or_default(),
        });
        let arguments = match arguments {
            Some(arguments @ Value::Object(_)) => arguments.to_string(),
            _ => "{}".to_owned(),
        };
        out.push(StreamEvent::ToolCallDelta { index, arguments });
        out.push(StreamEvent::ToolCallEnd { index });
    }
}

/// The core reason for a `done_reason`, given whether the answer made a tool call.
fn finish_reason(reason: Option<&str>, called: bool) -> FinishReason {
    match reason {
        Some("length") => FinishReason::Length,
        _ if called => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}
