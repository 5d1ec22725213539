//! `useChat` request body -> [`ChatRequest`]: validation and conversion.

use rill_core::{ChatRequest, Error, Sampling};

use super::convert::message;
use super::request::{RawMessage, RawRequest};
use crate::request_json::{check_range, invalid, parse_body};

/// A parsed `useChat` request body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The request. An absent `model` is the empty string: the server's default model.
    pub request: ChatRequest,
    /// The id of the assistant message this answer continues, when the conversation
    /// ends with one (after the client added tool results to it). The answer's `start`
    /// chunk must then carry this id, or `useChat` shows the continuation as a second
    /// message: pass it to [`super::StreamEncoder::new`].
    pub continues: Option<String>,
}

/// Parses the body `useChat` (`DefaultChatTransport`) sends:
/// `{...body, id, messages, trigger, messageId}`.
///
/// Errors are [`rill_core::ErrorKind::InvalidRequest`] with a lowercase message naming the
/// field (literals in backticks) and `param` set to its JSON path
/// (`messages[1].parts[0].type`). Never panics, whatever the input. The answer always
/// streams: `useChat` has no other mode.
///
/// - **Messages** (`UIMessage`s, all required to have `parts`): `system` and `user`
///   messages become one core message each, their `text` parts joined without a
///   separator (as OpenAI joins text parts). An `assistant` message is split at its
///   `step-start` parts, like the SDK's `convertToModelMessages`: each step becomes an
///   assistant turn (its text parts joined, its finished tool calls) followed by one
///   tool message per call; a step with neither text nor a finished call is left out.
/// - **Tool parts** (`tool-<name>`, or `dynamic-tool` with `toolName`): `output-available`
///   gives the call (its `input` as JSON text) and a tool message with the `output`
///   (a string as is, anything else as JSON text; absent is `null`). `output-error`
///   gives the call (its `input`, else its raw input text) and a tool message
///   `error: <errorText>` (core has no error flag on tool results; Anthropic's dialect
///   does the same). Calls still waiting (`input-streaming`, `input-available`, or a
///   `preliminary` output) are left out: an unanswered call would make every upstream
///   refuse the conversation (the SDK's `ignoreIncompleteToolCalls`).
/// - **Reasoning parts** are the step's reasoning, in order: their `text`, sealed with
///   the `providerMetadata.rill.signature` rill's stream gave them, or, with
///   `providerMetadata.rill.redactedData`, a redacted block (see
///   [`super::StreamEncoder`]). Other providers' metadata is not read.
/// - **Dropped**, as the SDK drops them before the model: `source-url` /
///   `source-document` parts, `data-*` parts (the app's own data), `step-start` outside
///   assistant messages, message `metadata`.
/// - **Refused with a 400**: `file` parts (rill takes no attachments yet), unknown part
///   types, tool and reasoning parts outside assistant messages, unknown roles and
///   tool states, an empty `messages`, and AI SDK 4 messages (`content` without `parts`,
///   with a hint).
/// - **Options**, read from the fields the app adds with `useChat({body})` or
///   `sendMessage(msg, {body})`: `model` (absent: the server's default), and the AI
///   SDK's call-setting names `temperature` (0..=2), `topP` (0..=1), `topK`,
///   `maxOutputTokens` (or `max_tokens`; >= 1, both must agree), `stopSequences`,
///   `seed`, `presencePenalty` / `frequencyPenalty` (-2..=2). Tools are defined on the
///   server in the AI SDK, so the body has none.
/// - **Ignored**: the transport's `id` (the chat), `trigger` and `messageId` (the
///   messages already say what to answer).
/// - **Refused**: any other top-level field (the transport merges the app's `body` into
///   the top level, so an option rill does not honour, such as `n` or `stream`, would
///   otherwise pass unnoticed), and `model: null`.
pub fn parse_request(body: &[u8]) -> Result<ParsedRequest, Error> {
    convert(parse_body::<RawRequest>(body)?)
}

fn convert(raw: RawRequest) -> Result<ParsedRequest, Error> {
    let sampling = sampling(&raw)?;
    if raw.messages.is_empty() {
        return Err(invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    let continues = continues(&raw.messages);
    let mut messages = Vec::with_capacity(raw.messages.len());
    for (i, m) in raw.messages.into_iter().enumerate() {
        message(i, m, &mut messages)?;
    }
    Ok(ParsedRequest {
        request: ChatRequest {
            model: raw.model.unwrap_or_default(),
            messages,
            sampling,
            ..ChatRequest::default()
        },
        continues,
    })
}

/// The last message's id when it is an assistant's (what the SDK's server does).
fn continues(messages: &[RawMessage]) -> Option<String> {
    messages
        .last()
        .filter(|m| m.role == "assistant")
        .and_then(|m| m.id.clone())
        .filter(|id| !id.is_empty())
}

fn sampling(raw: &RawRequest) -> Result<Sampling, Error> {
    check_range("temperature", raw.temperature, 0.0, 2.0)?;
    check_range("topP", raw.top_p, 0.0, 1.0)?;
    check_range("presencePenalty", raw.presence_penalty, -2.0, 2.0)?;
    check_range("frequencyPenalty", raw.frequency_penalty, -2.0, 2.0)?;
    for (name, value) in [
        ("maxOutputTokens", raw.max_output_tokens),
        ("max_tokens", raw.max_tokens),
    ] {
        if value == Some(0) {
            return Err(invalid(name, format!("`{name}` must be at least 1")));
        }
    }
    let max_tokens = match (raw.max_output_tokens, raw.max_tokens) {
        (Some(a), Some(b)) if a != b => {
            let message =
                format!("`maxOutputTokens` ({a}) and `max_tokens` ({b}) disagree; set only one");
            return Err(invalid("max_tokens", message));
        }
        (a, b) => a.or(b),
    };
    Ok(Sampling {
        temperature: raw.temperature,
        top_p: raw.top_p,
        top_k: raw.top_k,
        max_tokens,
        stop: raw.stop_sequences.clone().unwrap_or_default(),
        seed: raw.seed.map(i64::cast_unsigned),
        frequency_penalty: raw.frequency_penalty,
        presence_penalty: raw.presence_penalty,
    })
}
