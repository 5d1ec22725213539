//! `POST /v1/chat/completions` body -> [`ChatRequest`]: validation and conversion.

use rill_core::{ChatRequest, Error, Sampling};

use super::convert::{message, response_format, tool_choice, tools};
use super::request::{RawRequest, RawStop};
use crate::request_json::{check_range, parse_body};
pub(super) use crate::request_json::{invalid, missing};

/// A parsed `POST /v1/chat/completions` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The request. An absent `model` is the empty string: the server's default model.
    pub request: ChatRequest,
    /// Whether the client asked for a stream (`stream: true`).
    pub stream: bool,
    /// Whether a streaming client asked for a final usage chunk
    /// (`stream_options.include_usage`). Always false when `stream` is false.
    pub include_usage: bool,
}

/// The most stop sequences OpenAI accepts.
const MAX_STOP: usize = 4;

/// Parses a request body.
///
/// Errors are [`rill_core::ErrorKind::InvalidRequest`] with a lowercase message naming the
/// field (literals in backticks) and `param` set to its JSON path (`messages[1].role`).
/// Never panics, whatever the input.
///
/// Every documented field is accepted:
///
/// - **honoured**: `model` (absent means the server's default), `messages` (roles
///   `system`, `developer` (as system), `user`, `assistant`, `tool`, and the deprecated
///   `function`; `content` as a string or an array of `text` parts, concatenated),
///   `tools` (`function` only), `tool_choice`, the deprecated `functions` and
///   `function_call`, `temperature` (0..=2), `top_p` (0..=1), `max_tokens` /
///   `max_completion_tokens` (>= 1; both must agree), `stop` (up to 4), `seed`,
///   `frequency_penalty` / `presence_penalty` (-2..=2), `response_format` (`text`,
///   `json_object`, `json_schema`), `stream`, `stream_options.include_usage`;
/// - **refused with a 400** when they ask for something rill cannot do: `n` > 1,
///   `logprobs: true`, `top_logprobs` > 0, a non-empty `logit_bias`, `modalities` other
///   than `["text"]`, `audio`, `web_search_options`, media content parts (`image_url`,
///   `input_audio`, `file`), non-`function` tools and tool choices (`custom`,
///   `allowed_tools`);
/// - **harmlessly ignored** (they tune billing, logging, caching or latency at OpenAI and
///   do not change what a correct answer is): `user`, `metadata`, `store`,
///   `service_tier`, `parallel_tool_calls`, `prediction`, `reasoning_effort`, `verbosity`,
///   `safety_identifier`, `prompt_cache_key`, `stream_options.include_obfuscation`, a
///   tool's or schema's `strict` / `description` where core has no field, a message's
///   `name`, and an assistant message's `refusal` and `audio` (and `refusal` parts).
///
/// Unknown top-level fields are refused, as OpenAI does ("unrecognized request argument
/// supplied: `foo`"); unknown fields inside messages, tools and other objects are ignored
/// so that clients sending vendor extensions keep working.
pub fn parse_request(body: &[u8]) -> Result<ParsedRequest, Error> {
    convert(parse_body::<RawRequest>(body)?)
}

fn convert(raw: RawRequest) -> Result<ParsedRequest, Error> {
    reject_unsupported(&raw)?;
    let sampling = sampling(&raw)?;
    let response_format = raw.response_format.map(response_format).transpose()?;
    if raw.messages.is_empty() {
        return Err(invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    let messages = raw
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| message(i, m))
        .collect::<Result<Vec<_>, _>>()?;
    let tools = tools(raw.tools, raw.functions)?;
    let tool_choice = match (raw.tool_choice, raw.function_call) {
        (Some(choice), _) => Some(tool_choice(choice, "tool_choice", &tools)?),
        (None, Some(choice)) => Some(tool_choice(choice, "function_call", &tools)?),
        (None, None) => None,
    };
    let stream = raw.stream.unwrap_or(false);
    let include_usage = stream
        && raw
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
    let request = ChatRequest {
        model: raw.model.unwrap_or_default(),
        messages,
        tools,
        tool_choice,
        sampling,
        response_format,
        tally: rill_core::Tally::default(),
    };
    Ok(ParsedRequest {
        request,
        stream,
        include_usage,
    })
}

/// Fields that ask for something rill cannot do: refused rather than silently ignored.
fn reject_unsupported(raw: &RawRequest) -> Result<(), Error> {
    match raw.n {
        Some(0) => return Err(invalid("n", "`n` must be at least 1")),
        Some(n) if n > 1 => return Err(invalid("n", "`n` > 1 is not supported")),
        _ => {}
    }
    if raw.logprobs == Some(true) {
        return Err(invalid("logprobs", "`logprobs` is not supported"));
    }
    if raw.top_logprobs.is_some_and(|n| n > 0) {
        return Err(invalid("top_logprobs", "`top_logprobs` is not supported"));
    }
    if raw.logit_bias.as_ref().is_some_and(|b| !b.is_empty()) {
        return Err(invalid("logit_bias", "`logit_bias` is not supported"));
    }
    for (i, modality) in raw.modalities.iter().flatten().enumerate() {
        if modality != "text" {
            let message = format!("rill only produces `text`, not `{modality}`");
            return Err(invalid(format!("modalities[{i}]"), message));
        }
    }
    if raw.audio.is_some() {
        return Err(invalid("audio", "audio output (`audio`) is not supported"));
    }
    if raw.web_search_options.is_some() {
        return Err(invalid(
            "web_search_options",
            "`web_search_options` is not supported",
        ));
    }
    Ok(())
}

fn sampling(raw: &RawRequest) -> Result<Sampling, Error> {
    check_range("temperature", raw.temperature, 0.0, 2.0)?;
    check_range("top_p", raw.top_p, 0.0, 1.0)?;
    check_range("frequency_penalty", raw.frequency_penalty, -2.0, 2.0)?;
    check_range("presence_penalty", raw.presence_penalty, -2.0, 2.0)?;
    for (name, value) in [
        ("max_tokens", raw.max_tokens),
        ("max_completion_tokens", raw.max_completion_tokens),
    ] {
        if value == Some(0) {
            return Err(invalid(name, format!("`{name}` must be at least 1")));
        }
    }
    let max_tokens = match (raw.max_tokens, raw.max_completion_tokens) {
        (Some(a), Some(b)) if a != b => {
            let message = format!(
                "`max_tokens` ({a}) and `max_completion_tokens` ({b}) disagree; set only one"
            );
            return Err(invalid("max_completion_tokens", message));
        }
        (a, b) => b.or(a),
    };
    let stop = match &raw.stop {
        None => Vec::new(),
        Some(RawStop::One(s)) => vec![s.clone()],
        Some(RawStop::Many(v)) if v.len() > MAX_STOP => {
            let message = format!(
                "`stop` may contain at most {MAX_STOP} sequences, got {}",
                v.len()
            );
            return Err(invalid("stop", message));
        }
        Some(RawStop::Many(v)) => v.clone(),
    };
    Ok(Sampling {
        temperature: raw.temperature,
        top_p: raw.top_p,
        top_k: None,
        max_tokens,
        stop,
        seed: raw.seed.map(i64::cast_unsigned),
        frequency_penalty: raw.frequency_penalty,
        presence_penalty: raw.presence_penalty,
    })
}
