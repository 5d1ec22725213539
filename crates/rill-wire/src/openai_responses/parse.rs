//! `POST /v1/responses` body -> [`ChatRequest`]: validation and conversion.

use rill_core::{ChatRequest, Error, Sampling};

use super::echo::Echo;
use super::input::messages;
use super::options::{format, tool_choice, tools};
use super::request::RawRequest;
use crate::request_json::{check_range, invalid, parse_body};

/// A parsed `POST /v1/responses` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRequest {
    /// The request. An absent `model` is the empty string: the server's default model.
    pub request: ChatRequest,
    /// Whether the client asked for a stream (`stream: true`).
    pub stream: bool,
    /// What the Response objects repeat of the request: pass it to
    /// [`super::StreamEncoder::new`] and [`super::response_body`].
    pub echo: Echo,
}

/// Parses a request body.
///
/// Errors are [`rill_core::ErrorKind::InvalidRequest`] with a lowercase message naming the
/// field (literals in backticks) and `param` set to its JSON path
/// (`input[1].content[0].type`). Never panics, whatever the input.
///
/// Every documented field is accepted:
///
/// - **honoured**: `model` (absent means the server's default), `input` (a string: one
///   user message; or items: messages with roles `user`, `assistant`, `system` and
///   `developer` (as system), their `content` a string or `input_text` / `output_text`
///   parts, concatenated; `function_call` items, which join the assistant message before
///   them; `function_call_output` items as tool messages; `reasoning` items, their
///   summary text and `encrypted_content`, as the reasoning of the assistant message
///   they belong to), `instructions` (the first
///   system message), `tools` (`function` only), `tool_choice` (`auto`, `none`,
///   `required`, `{"type":"function","name":..}`), `max_output_tokens` (>= 1),
///   `temperature` (0..=2), `top_p` (0..=1), `stream`, `text.format` (`text`,
///   `json_object`, `json_schema`);
/// - **refused with a 400** when they ask for something rill cannot do:
///   `previous_response_id`, `conversation` and `item_reference` items (rill keeps no
///   responses: send the whole conversation), `background: true`, `prompt` (stored
///   prompt templates), `top_logprobs` > 0 and `include` of
///   `message.output_text.logprobs`, media parts (`input_image`, `input_file`,
///   `input_audio`), built-in and custom tools, their tool choices (`allowed_tools` too)
///   and their items in `input`;
/// - **harmlessly ignored**: `reasoning` (core has no reasoning effort; reasoning is
///   always streamed, as summary text), `store`, `metadata`, `user`,
///   `parallel_tool_calls`, `truncation`, `max_tool_calls` (rill has no built-in tools),
///   `service_tier`, `safety_identifier`, `prompt_cache_key`, `prompt_cache_retention`,
///   `stream_options`, `text.verbosity`, other `include` values (they ask for details of
///   built-in tools, which rill does not run, and for `reasoning.encrypted_content`,
///   which rill sends whenever the upstream signed its reasoning), a tool's or schema's
///   `strict` and `description` where core has no field, `refusal` parts in the
///   history, and the `id` and `status` of earlier items.
///
/// Unknown top-level fields are refused, as OpenAI does ("unrecognized request argument
/// supplied: `foo`"); unknown fields inside items, tools and other objects are ignored.
pub fn parse_request(body: &[u8]) -> Result<ParsedRequest, Error> {
    convert(parse_body::<RawRequest>(body)?)
}

fn convert(raw: RawRequest) -> Result<ParsedRequest, Error> {
    reject_unsupported(&raw)?;
    let sampling = sampling(&raw)?;
    let response_format = raw
        .text
        .and_then(|text| text.format)
        .map(format)
        .transpose()?;
    let instructions = raw.instructions;
    let messages = messages(instructions.clone(), raw.input)?;
    let tools = tools(raw.tools)?;
    let tool_choice = raw
        .tool_choice
        .map(|choice| tool_choice(choice, &tools))
        .transpose()?;
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
        echo: Echo::new(&request, instructions),
        request,
        stream: raw.stream.unwrap_or(false),
    })
}

/// Fields that ask for something rill cannot do: refused rather than silently ignored.
fn reject_unsupported(raw: &RawRequest) -> Result<(), Error> {
    if raw.previous_response_id.is_some() {
        let message = "`previous_response_id` is not supported: rill keeps no responses to continue from; hint: send the whole conversation in `input`";
        return Err(invalid("previous_response_id", message));
    }
    if raw.conversation.is_some() {
        let message = "`conversation` is not supported: rill keeps no conversations; hint: send the whole conversation in `input`";
        return Err(invalid("conversation", message));
    }
    if raw.background == Some(true) {
        return Err(invalid("background", "`background` mode is not supported"));
    }
    if raw.prompt.is_some() {
        let message = "`prompt` (a stored prompt template) is not supported";
        return Err(invalid("prompt", message));
    }
    if raw.top_logprobs.is_some_and(|n| n > 0) {
        return Err(invalid("top_logprobs", "`top_logprobs` is not supported"));
    }
    for (i, value) in raw.include.iter().flatten().enumerate() {
        if value == "message.output_text.logprobs" {
            let message = format!("`include` of `{value}` is not supported");
            return Err(invalid(format!("include[{i}]"), message));
        }
    }
    Ok(())
}

fn sampling(raw: &RawRequest) -> Result<Sampling, Error> {
    check_range("temperature", raw.temperature, 0.0, 2.0)?;
    check_range("top_p", raw.top_p, 0.0, 1.0)?;
    if raw.max_output_tokens == Some(0) {
        let message = "`max_output_tokens` must be at least 1";
        return Err(invalid("max_output_tokens", message));
    }
    Ok(Sampling {
        temperature: raw.temperature,
        top_p: raw.top_p,
        max_tokens: raw.max_output_tokens,
        ..Sampling::default()
    })
}
