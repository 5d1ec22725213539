//! `POST /v1/messages` body -> [`ChatRequest`]: validation and conversion.

use rill_core::{ChatRequest, Error, Sampling};

use super::convert::{message, system};
use super::options::{output_format, tool_choice, tools};
use super::request::{RawRequest, RawThinkingKind};
use crate::request_json::{check_range, invalid, missing, parse_body};

/// A parsed `POST /v1/messages` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The request. An absent `model` is the empty string: the server's default model.
    pub request: ChatRequest,
    /// Whether the client asked for a stream (`stream: true`).
    pub stream: bool,
    /// Whether the client turned extended thinking on (`thinking.type` `enabled` or
    /// `adaptive`). Pass it to [`super::StreamEncoder::new`] and
    /// [`super::message_body`]: reasoning text is only shown to clients that asked for
    /// it (signatures and redacted blocks come either way).
    pub thinking: bool,
}

/// Parses a request body.
///
/// Errors are [`rill_core::ErrorKind::InvalidRequest`] with a lowercase message naming the
/// field (literals in backticks) and `param` set to its JSON path
/// (`messages[1].content[0].type`). Never panics, whatever the input.
///
/// Every documented field is accepted:
///
/// - **honoured**: `model` (absent means the server's default), `max_tokens` (required,
///   at least 1), `messages` (roles `user` and `assistant`; `content` as a string or
///   blocks: `text`, `tool_use` in assistant messages, `tool_result` in user messages,
///   each its own core tool message, in order; `thinking` blocks, with their
///   `signature`, and `redacted_thinking` blocks in assistant messages, as the message's
///   reasoning), `system` (a string or text blocks),
///   `tools` (custom tools; `input_schema` passed through), `tool_choice` (`auto`,
///   `any`, `tool`, `none`), `stop_sequences`, `temperature` (0..=1), `top_p` (0..=1),
///   `top_k`, `stream`, `output_config.format` (`json_schema`, as a response format),
///   and `thinking`, whose `type` decides whether reasoning is shown (see
///   [`ParsedRequest::thinking`]; `budget_tokens` is not enforced: core has no budget);
/// - **refused with a 400** when they ask for something rill cannot do: `image`,
///   `document` and other media blocks, server tools and their blocks, `container`;
/// - **harmlessly ignored**: `metadata`, `service_tier`, `cache_control` (top level
///   and on blocks), `inference_geo`, `output_config.effort`,
///   `tool_choice.disable_parallel_tool_use`, and `citations`.
///
/// Text blocks of one message are joined with a blank line. A `tool_result` with
/// `is_error: true` becomes a tool message whose text starts with `error: ` (core has no
/// error flag on tool results). Unknown top-level fields are refused by name (beta
/// fields such as `mcp_servers` among them); unknown fields inside messages, blocks and
/// tools are ignored.
pub fn parse_request(body: &[u8]) -> Result<ParsedRequest, Error> {
    convert(parse_body::<RawRequest>(body)?)
}

fn convert(raw: RawRequest) -> Result<ParsedRequest, Error> {
    if raw.container.is_some() {
        return Err(invalid(
            "container",
            "`container` (code execution) is not supported",
        ));
    }
    let sampling = sampling(&raw)?;
    if raw.messages.is_empty() {
        return Err(invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    let mut messages = Vec::with_capacity(raw.messages.len() + 1);
    messages.extend(raw.system.map(system).transpose()?.flatten());
    for (i, m) in raw.messages.into_iter().enumerate() {
        message(i, m, &mut messages)?;
    }
    let tools = tools(raw.tools)?;
    let tool_choice = raw
        .tool_choice
        .map(|choice| tool_choice(choice, &tools))
        .transpose()?;
    let response_format = raw
        .output_config
        .and_then(|config| config.format)
        .map(output_format)
        .transpose()?;
    let thinking = raw
        .thinking
        .is_some_and(|t| t.kind != RawThinkingKind::Disabled);
    Ok(ParsedRequest {
        request: ChatRequest {
            model: raw.model.unwrap_or_default(),
            messages,
            tools,
            tool_choice,
            sampling,
            response_format,
            tally: rill_core::Tally::default(),
        },
        stream: raw.stream.unwrap_or(false),
        thinking,
    })
}

fn sampling(raw: &RawRequest) -> Result<Sampling, Error> {
    let max_tokens = raw
        .max_tokens
        .ok_or_else(|| missing("max_tokens".to_owned()))?;
    if max_tokens == 0 {
        return Err(invalid("max_tokens", "`max_tokens` must be at least 1"));
    }
    check_range("temperature", raw.temperature, 0.0, 1.0)?;
    check_range("top_p", raw.top_p, 0.0, 1.0)?;
    Ok(Sampling {
        temperature: raw.temperature,
        top_p: raw.top_p,
        top_k: raw.top_k,
        max_tokens: Some(max_tokens),
        stop: raw.stop_sequences.clone().unwrap_or_default(),
        ..Sampling::default()
    })
}
