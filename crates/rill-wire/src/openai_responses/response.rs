//! The Response object: in the stream's `response.*` events and as the non-streaming body.

use std::borrow::Cow;

use rill_core::{Completion, Error, FinishReason, Reasoning, Usage};
use serde::Serialize;

use super::echo::{Echo, TextOut, ToolChoiceOut, ToolOut};
use super::error::{FALLBACK_BODY, failure_code};
use super::item_out::{ItemOut, PartOut, SummaryOut, UsageOut};

/// What every Response object of one answer says about itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta<'a> {
    pub id: &'a str,
    pub model: &'a str,
    pub created_at: u64,
    pub echo: &'a Echo,
}

/// How far the answer got.
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome<'a> {
    InProgress,
    Completed,
    /// With `incomplete_details.reason`.
    Incomplete(&'static str),
    Failed(&'a Error),
}

impl Outcome<'_> {
    /// The outcome of an answer that ended normally: a length limit or a content filter
    /// leaves it incomplete.
    pub(super) fn of(reason: FinishReason) -> Self {
        match reason {
            FinishReason::Length => Self::Incomplete("max_output_tokens"),
            FinishReason::ContentFilter => Self::Incomplete("content_filter"),
            FinishReason::Stop | FinishReason::StopSequence | FinishReason::ToolCalls => {
                Self::Completed
            }
        }
    }
}

#[derive(Serialize)]
pub(super) struct ResponseOut<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'static str,
    error: Option<FailureOut<'a>>,
    incomplete_details: Option<IncompleteOut>,
    instructions: Option<&'a str>,
    max_output_tokens: Option<u32>,
    model: &'a str,
    output: Vec<ItemOut<'a>>,
    parallel_tool_calls: bool,
    /// Always `null`: rill keeps no responses to continue from.
    previous_response_id: (),
    store: bool,
    temperature: Option<f32>,
    text: TextOut<'a>,
    tool_choice: ToolChoiceOut<'a>,
    tools: Vec<ToolOut<'a>>,
    top_p: Option<f32>,
    truncation: &'static str,
    /// `null` until the answer ends, or when no counts are known.
    usage: Option<UsageOut>,
    metadata: Empty,
}

#[derive(Serialize)]
struct FailureOut<'a> {
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct IncompleteOut {
    reason: &'static str,
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

impl<'a> ResponseOut<'a> {
    pub(super) fn new(
        meta: Meta<'a>,
        outcome: Outcome<'a>,
        output: Vec<ItemOut<'a>>,
        usage: Option<&Usage>,
    ) -> Self {
        let echo = meta.echo;
        let (status, error, incomplete_details) = match outcome {
            Outcome::InProgress => ("in_progress", None, None),
            Outcome::Completed => ("completed", None, None),
            Outcome::Incomplete(reason) => ("incomplete", None, Some(IncompleteOut { reason })),
            Outcome::Failed(error) => {
                let code = failure_code(error);
                let message = error.message.as_str();
                ("failed", Some(FailureOut { code, message }), None)
            }
        };
        Self {
            id: meta.id,
            object: "response",
            created_at: meta.created_at,
            status,
            error,
            incomplete_details,
            instructions: echo.instructions.as_deref(),
            max_output_tokens: echo.max_output_tokens,
            model: meta.model,
            output,
            parallel_tool_calls: true,
            previous_response_id: (),
            store: false,
            temperature: echo.temperature,
            text: echo.format.as_ref().map_or(TextOut::TEXT, TextOut::from),
            tool_choice: echo
                .tool_choice
                .as_ref()
                .map_or(ToolChoiceOut::Mode("auto"), ToolChoiceOut::from),
            tools: echo.tools.iter().map(ToolOut::from).collect(),
            top_p: echo.top_p,
            truncation: "disabled",
            usage: usage.map(UsageOut::from),
            metadata: Empty {},
        }
    }
}

/// An output item's id: `<kind>_<response id without resp_>_<output index>`, unique
/// within the response and as unique as the response's id across responses.
pub(super) fn item_id(kind: &str, response_id: &str, index: usize) -> String {
    let suffix = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{kind}_{suffix}_{index}")
}

/// The non-streaming response body (a Response object) for a collected answer: the
/// same object the stream's terminal event carries.
///
/// `id` is the response's id (`resp_...`), `created_at` unix seconds, `echo`
/// [`ParsedRequest::echo`](super::ParsedRequest::echo). Items come in stream order: a
/// `reasoning` item per reasoning block (its text as the summary, its signature as
/// `encrypted_content`; redacted blocks are left out), a `message` with an
/// `output_text` part and a `refusal` part (each when not empty), then one
/// `function_call` per call. An answer that would have no item gets a message with an
/// empty `output_text`, as the stream does. A completion without a finish reason is
/// `completed`; one cut by the length limit or a content filter is `incomplete`, its
/// last item too. `usage` is `null` when unknown. (Reasoning that a signature sealed
/// after other content comes before it here, but after it in the stream.)
pub fn response_body(
    id: &str,
    model: &str,
    created_at: u64,
    echo: &Echo,
    completion: &Completion,
) -> String {
    let outcome = Outcome::of(completion.finish_reason.unwrap_or(FinishReason::Stop));
    let reasoning = completion.reasoning_in_blocks();
    let mut output = output(id, completion, &reasoning);
    if let (Outcome::Incomplete(_), Some(last)) = (outcome, output.last_mut()) {
        last.set_incomplete();
    }
    let meta = Meta {
        id,
        model,
        created_at,
        echo,
    };
    let response = ResponseOut::new(meta, outcome, output, completion.usage.as_ref());
    serde_json::to_string(&response).unwrap_or_else(|_| FALLBACK_BODY.to_owned())
}

fn output<'a>(
    response_id: &str,
    completion: &'a Completion,
    reasoning: &'a [Reasoning],
) -> Vec<ItemOut<'a>> {
    let (text, refusal, calls) = (
        &completion.text,
        &completion.refusal,
        &completion.tool_calls,
    );
    let mut output = Vec::with_capacity(reasoning.len() + 1 + calls.len());
    let id = |kind: &str, output: &Vec<ItemOut<'_>>| item_id(kind, response_id, output.len());
    for block in reasoning {
        let Reasoning::Text { text, signature } = block else {
            continue;
        };
        if text.is_empty() && signature.is_none() {
            continue;
        }
        output.push(ItemOut::Reasoning {
            id: id("rs", &output).into(),
            summary: if text.is_empty() {
                Vec::new()
            } else {
                vec![SummaryOut::new(text)]
            },
            encrypted_content: signature.as_deref(),
        });
    }
    if !text.is_empty() || !refusal.is_empty() || (output.is_empty() && calls.is_empty()) {
        let mut content = Vec::with_capacity(2);
        if !text.is_empty() || refusal.is_empty() {
            content.push(PartOut::OutputText {
                annotations: [],
                logprobs: [],
                text,
            });
        }
        if !refusal.is_empty() {
            content.push(PartOut::Refusal { refusal });
        }
        output.push(ItemOut::Message {
            id: id("msg", &output).into(),
            status: "completed",
            role: "assistant",
            content,
        });
    }
    for (index, call) in calls.iter().enumerate() {
        let call_id = match call.id.as_str() {
            "" => Cow::Owned(item_id("call", response_id, index)),
            call_id => Cow::Borrowed(call_id),
        };
        output.push(ItemOut::FunctionCall {
            id: id("fc", &output).into(),
            status: "completed",
            call_id,
            name: &call.name,
            arguments: &call.arguments,
        });
    }
    output
}
