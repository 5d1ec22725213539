//! Upstream side: Gemini stream chunks -> core events.

use rill_core::{Error, FinishReason, StreamEvent, Usage};
use serde_json::Value;

use super::chunk::{CandidateIn, ChunkIn, FunctionCallIn, PartIn, UsageIn, parse};

/// Decodes the `data:` payloads of a Gemini stream (`streamGenerateContent?alt=sse`)
/// into core events. Only candidate 0 is read (rill asks for one).
///
/// - the first chunk -> `Start`, with its `modelVersion` as the model;
/// - text parts -> `TextDelta`; thought parts (`"thought": true`) -> `ReasoningDelta`;
///   empty texts -> nothing;
/// - a part's `thoughtSignature` -> `ReasoningSignature`, placed so that the part it
///   came on can be told again (see `contents.rs` for the way back): on a
///   `functionCall` part (Gemini signs the first call of a step) just before that call's
///   `ToolCallStart`; on a thought part just after its text, sealing it; on a text part
///   (often an empty one at the end) once the text run is over (before the next
///   thought or call, at the chunk with the finish reason, or at [`EventDecoder::end`]),
///   so that the answer's text is not cut in two;
/// - a `functionCall` part (Gemini sends each call whole) -> `ToolCallStart`, one
///   `ToolCallDelta` with the whole `args` as compact JSON (`{}` when absent), and
///   `ToolCallEnd` at once. Calls are numbered 0, 1, ... in the order they come. Gemini
///   gives no call id, so the decoder makes one: `call_{responseId}_{n}`, or `call_{n}`
///   when the stream has no `responseId`; it depends only on the stream, so decoding the
///   same bytes gives the same ids, and `responseId` makes it unique across answers. An
///   `id` the upstream does send (some models, Vertex) is kept;
/// - `usageMetadata` -> `Usage` whenever the counts changed (Gemini repeats its running
///   totals in every chunk). Input is `promptTokenCount` + `toolUsePromptTokenCount`,
///   output is `candidatesTokenCount` + `thoughtsTokenCount` (core's output includes
///   reasoning), reasoning is `thoughtsTokenCount`, cached is `cachedContentTokenCount`;
/// - `finishReason` is remembered, not emitted: more chunks (usage) may follow it, and
///   Gemini has no end-of-stream event. [`EventDecoder::end`], called when the body ended,
///   emits `Finish` then. `MAX_TOKENS` is `Length`; `SAFETY`, `RECITATION`, `BLOCKLIST`,
///   `PROHIBITED_CONTENT`, `SPII` and the `IMAGE_` variants are `ContentFilter`; `STOP`
///   and every other reason (`OTHER`, `LANGUAGE`, `MALFORMED_FUNCTION_CALL`, new ones)
///   are `ToolCalls` when the answer made a function call and `Stop` otherwise (Gemini
///   reports a matched stop sequence as `STOP` too). The first reason wins;
/// - `promptFeedback.blockReason` (the prompt itself was blocked; no candidate follows)
///   -> `ContentFilter` at the end, the same way;
/// - `{"error":{...}}` -> `Error`, and nothing after it.
///
/// A stream that ends without a finish reason was cut off: `end` then emits nothing, and
/// [`rill_core::terminated`] turns the stream into an error.
#[derive(Debug, Clone, Default)]
pub struct EventDecoder {
    started: bool,
    /// An error was decoded or the stream ended: nothing more is read.
    done: bool,
    response_id: Option<String>,
    next_call: u32,
    /// A text part's signature, held until the text run ends.
    text_signature: Option<String>,
    stop: Option<Stop>,
    usage: UsageIn,
    reported: Option<Usage>,
}

#[derive(Debug, Clone)]
enum Stop {
    Reason(String),
    PromptBlocked,
}

impl EventDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE data payload (one JSON chunk).
    ///
    /// Malformed JSON is `Err` ([`rill_core::ErrorKind::Upstream`]). An error chunk is a
    /// [`StreamEvent::Error`], its kind mapped from the error's `status` (`UNAVAILABLE` is
    /// overload, `RESOURCE_EXHAUSTED` a rate limit, ...). Empty payloads, and any after an
    /// error or the end, decode to nothing.
    pub fn decode(&mut self, data: &str) -> Result<Vec<StreamEvent>, Error> {
        let data = data.trim();
        if self.done || data.is_empty() {
            return Ok(Vec::new());
        }
        let chunk = parse(data)?;
        if let Some(error) = chunk.error {
            self.done = true;
            return Ok(vec![StreamEvent::Error(error.into_stream_error())]);
        }
        let mut out = Vec::new();
        self.apply(chunk, &mut out);
        Ok(out)
    }

    /// The body ended (the connection closed after the last chunk): `Finish` if a finish
    /// reason (or a blocked prompt) was seen, else nothing, since the stream was cut off.
    /// Later calls, and calls after an error, return nothing.
    pub fn end(&mut self) -> Vec<StreamEvent> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let called = self.next_call > 0;
        let finish = match self.stop.take() {
            Some(Stop::Reason(reason)) => finish_reason(&reason, called),
            Some(Stop::PromptBlocked) => FinishReason::ContentFilter,
            None => return Vec::new(),
        };
        let mut out = Vec::new();
        self.flush_signature(&mut out);
        out.push(StreamEvent::Finish(finish));
        out
    }

    /// Whether an error was decoded or [`EventDecoder::end`] was called.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn apply(&mut self, chunk: ChunkIn, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                model: chunk.model_version.unwrap_or_default(),
            });
        }
        if self.response_id.is_none() {
            self.response_id = chunk.response_id.filter(|id| !id.is_empty());
        }
        let first = chunk
            .candidates
            .into_iter()
            .flatten()
            .find(|c| c.index.unwrap_or_default() == 0);
        if let Some(candidate) = first {
            self.candidate(candidate, out);
        }
        let blocked = chunk
            .prompt_feedback
            .and_then(|f| f.block_reason)
            .is_some_and(|r| !r.is_empty());
        if blocked && self.stop.is_none() {
            self.stop = Some(Stop::PromptBlocked);
        }
        if let Some(usage) = chunk.usage_metadata {
            self.usage.update(usage);
            let usage = self.usage.core();
            if self.reported != Some(usage) {
                self.reported = Some(usage);
                out.push(StreamEvent::Usage(usage));
            }
        }
    }

    fn candidate(&mut self, candidate: CandidateIn, out: &mut Vec<StreamEvent>) {
        let parts = candidate.content.and_then(|c| c.parts);
        for part in parts.into_iter().flatten() {
            self.part(part, out);
        }
        if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
            // The answer is over: so is its text.
            self.flush_signature(out);
            if self.stop.is_none() {
                self.stop = Some(Stop::Reason(reason));
            }
        }
    }

    fn part(&mut self, part: PartIn, out: &mut Vec<StreamEvent>) {
        let signature = part.thought_signature.filter(|s| !s.is_empty());
        let text = part.text.filter(|t| !t.is_empty());
        if let Some(call) = part.function_call {
            self.flush_signature(out);
            if let Some(text) = text {
                out.push(StreamEvent::TextDelta(text));
            }
            out.extend(signature.map(StreamEvent::ReasoningSignature));
            self.function_call(call, out);
        } else if part.thought == Some(true) {
            self.flush_signature(out);
            out.extend(text.map(StreamEvent::ReasoningDelta));
            out.extend(signature.map(StreamEvent::ReasoningSignature));
        } else {
            out.extend(text.map(StreamEvent::TextDelta));
            if let Some(signature) = signature {
                // A second one before the run ended: the first is not held back.
                self.flush_signature(out);
                self.text_signature = Some(signature);
            }
        }
    }

    /// The held text part's signature, if any: the text run it came in is over.
    fn flush_signature(&mut self, out: &mut Vec<StreamEvent>) {
        out.extend(
            self.text_signature
                .take()
                .map(StreamEvent::ReasoningSignature),
        );
    }

    fn function_call(&mut self, call: FunctionCallIn, out: &mut Vec<StreamEvent>) {
        let index = self.next_call;
        self.next_call = self.next_call.saturating_add(1);
        let id = match call.id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => match &self.response_id {
                Some(response) => format!("call_{response}_{index}"),
                None => format!("call_{index}"),
            },
        };
        out.push(StreamEvent::ToolCallStart {
            index,
            id,
            name: call.name.unwrap_or_default(),
        });
        let arguments = match call.args {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(args) => args.to_string(),
        };
        out.push(StreamEvent::ToolCallDelta { index, arguments });
        out.push(StreamEvent::ToolCallEnd { index });
    }
}

/// The core reason for a `finishReason`, given whether the answer made a function call.
fn finish_reason(reason: &str, called: bool) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        _ if called => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}
