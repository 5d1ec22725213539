//! [`ChatRequest`] -> an Anthropic Messages request body, for Anthropic upstreams.

use std::borrow::Cow;

use rill_core::{ChatRequest, ResponseFormat, ToolChoice};
use serde::Serialize;
use serde_json::Value;

use super::turns::{TurnOut, history};

/// The `max_tokens` sent when the request sets none: Anthropic requires the field, and
/// 4096 is within every Claude model's output limit (the smallest, Claude 3's, is 4096).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

#[derive(Serialize)]
struct BodyOut<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Cow<'a, str>>,
    messages: Vec<TurnOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfigOut<'a>>,
    stream: bool,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: &'a Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ToolChoiceOut<'a> {
    Auto,
    None,
    Any,
    Tool { name: &'a str },
}

#[derive(Serialize)]
struct OutputConfigOut<'a> {
    format: FormatOut<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FormatOut<'a> {
    JsonSchema { schema: &'a Value },
}

/// Serialises a core request as an Anthropic Messages request body: the inverse of
/// [`super::parse_request`].
///
/// `model` is the model id to put in the body; `stream` is sent as is.
///
/// - **messages**: system messages become the top-level `system` (several are joined
///   with a blank line, empty ones are left out); user and assistant messages become
///   `user` and `assistant` turns; a tool message becomes a `tool_result` block in a
///   user turn. Consecutive messages of one side (user and tool messages count as the
///   user's) are merged into one turn, their blocks in order, because Anthropic wants
///   the roles to alternate. A turn that is one text is sent as a string.
/// - **tool calls**: an assistant's calls become `tool_use` blocks after its text, with
///   `input` the arguments' JSON object; arguments that are not a JSON object (a call
///   cut off by `max_tokens`, `""` for a call without parameters) are sent as `{}`,
///   since Anthropic only accepts an object there and refuses the whole request
///   otherwise, and the same rule [`super::message_body`] follows.
/// - **reasoning**: an assistant's signed reasoning blocks become `thinking` blocks with
///   their `signature`, its redacted ones `redacted_thinking` blocks, in order and before
///   its text and calls (Anthropic wants the thinking that led to a `tool_use` back
///   first, signature intact, when the conversation goes on). Unsigned reasoning is not
///   sent: Anthropic refuses thinking blocks without a valid signature.
/// - **empty text** is left out of a turn that has other content (Anthropic refuses
///   empty text blocks): an assistant's `""` beside its tool calls is dropped.
/// - **tools** with their `input_schema`; **tool choice** `auto`, `none`, `any`
///   (core's `Required`) and `tool`, sent only with tools (without any, the model calls
///   none whatever the choice says).
/// - **sampling**: `max_tokens` ([`DEFAULT_MAX_TOKENS`] when the request sets none),
///   `temperature`, `top_p`, `top_k`, and `stop` as `stop_sequences`. `seed`,
///   `frequency_penalty` and `presence_penalty` are not sent: Anthropic has no such
///   parameters and refuses unknown fields.
/// - **response format**: a JSON schema becomes `output_config.format` (Anthropic's is
///   nameless and always strict: `name` and `strict` are not sent). `json_object` is not
///   sent: Anthropic has no schema-less JSON mode, and OpenAI's asks the prompt to
///   request JSON anyway. `text` is the default.
///
/// Parsing the body back with [`super::parse_request`] gives the same request but for
/// those normalisations and the parser's own: the model is `model`, a `tool_result`
/// keeps its text but has no error flag to set, arguments come back as compact JSON,
/// and only signed and redacted reasoning comes back.
pub fn request_body(request: &ChatRequest, model: &str, stream: bool) -> String {
    let sampling = &request.sampling;
    let history = history(&request.messages);
    let has_tools = !request.tools.is_empty();
    let body = BodyOut {
        model,
        max_tokens: sampling.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        system: history.system,
        messages: history.turns,
        tools: request
            .tools
            .iter()
            .map(|tool| ToolOut {
                name: &tool.name,
                description: tool.description.as_deref(),
                input_schema: &tool.parameters,
            })
            .collect(),
        tool_choice: request.tool_choice.as_ref().filter(|_| has_tools).map(
            |choice| match choice {
                ToolChoice::Auto => ToolChoiceOut::Auto,
                ToolChoice::None => ToolChoiceOut::None,
                ToolChoice::Required => ToolChoiceOut::Any,
                ToolChoice::Tool(name) => ToolChoiceOut::Tool { name },
            },
        ),
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        stop_sequences: &sampling.stop,
        output_config: request
            .response_format
            .as_ref()
            .and_then(|format| match format {
                ResponseFormat::JsonSchema { schema, .. } => Some(OutputConfigOut {
                    format: FormatOut::JsonSchema { schema },
                }),
                ResponseFormat::Text | ResponseFormat::JsonObject => None,
            }),
        stream,
    };
    // These types hold only strings, numbers and JSON values, so this cannot fail; were
    // it to, the empty body gets the upstream's 400 rather than a panic.
    serde_json::to_string(&body).unwrap_or_default()
}
