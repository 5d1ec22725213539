//! [`ChatRequest`] -> a Cohere `/v2/chat` body.

use rill_core::{ChatRequest, Error, ResponseFormat, Tool, ToolChoice};
use serde::Serialize;
use serde_json::Value;

use super::messages::{MessageOut, messages};

#[derive(Serialize)]
struct BodyOut<'a> {
    model: &'a str,
    messages: Vec<MessageOut<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<FormatOut<'a>>,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    r#type: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: &'a Value,
}

/// `{"type": "json_object"}`, with the schema when there is one.
#[derive(Serialize)]
struct FormatOut<'a> {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_schema: Option<&'a Value>,
}

/// Serialises a core request as a Cohere `/v2/chat` body for `model` (the upstream's id
/// for it), with `stream: true`.
///
/// - **messages**: in order, roles as they are (see the `messages` module): an
///   assistant's calls become `tool_calls` (`{id, type: "function", function: {name,
///   arguments}}`, `arguments` the JSON text, `{}` when it is not an object); a tool
///   result is a `tool` message with its `tool_call_id`. An assistant message without
///   text has no `content`.
/// - **tools**: `{"type": "function", "function": {name, description, parameters}}`, the
///   schema untouched.
/// - **tool choice**: not sent. Cohere's `tool_choice` (`REQUIRED`, `NONE`) is only
///   accepted by newer models and has no named-tool form, so it is mapped onto the tools
///   instead: `none` sends no tools (the model cannot call what it was not given); a
///   named tool sends only that tool; `auto` and `required` send them all. A named tool
///   or `required` is then not enforced: the model may still answer in text.
/// - **sampling**: `temperature`, `p` (`top_p`), `k` (`top_k`), `max_tokens`,
///   `stop_sequences`, `seed`, `frequency_penalty`, `presence_penalty`, as they are:
///   Cohere checks its own ranges (`p` in 0.01..=0.99, `k` up to 500, at most 5 stop
///   sequences) and refuses values outside them with a 400. A seed is sent as its low 63
///   bits (Cohere's is a signed integer).
/// - **response format**: `json_object` is `{"type": "json_object"}`; a JSON schema is
///   `{"type": "json_object", "json_schema": <schema>}` (untouched; `name` and `strict`
///   have no place in Cohere's). `text` is the default and not sent.
///
/// Not sent: `documents`, `citation_options`, `safety_mode`, `thinking` and
/// `strict_tools` (core has none of them: Cohere's defaults apply).
///
/// `Err` only if serialisation fails, which these types cannot make happen.
pub fn request_body(request: &ChatRequest, model: &str) -> Result<String, Error> {
    let sampling = &request.sampling;
    let body = BodyOut {
        model,
        messages: messages(&request.messages),
        stream: true,
        tools: tools(&request.tools, request.tool_choice.as_ref()),
        max_tokens: sampling.max_tokens,
        temperature: sampling.temperature,
        p: sampling.top_p,
        k: sampling.top_k,
        stop_sequences: &sampling.stop,
        seed: sampling.seed.map(int64_seed),
        frequency_penalty: sampling.frequency_penalty,
        presence_penalty: sampling.presence_penalty,
        response_format: request.response_format.as_ref().and_then(format),
    };
    serde_json::to_string(&body)
        .map_err(|e| Error::internal(format!("could not serialise the Cohere request: {e}")))
}

fn tools<'a>(tools: &'a [Tool], choice: Option<&ToolChoice>) -> Vec<ToolOut<'a>> {
    let wanted = |tool: &Tool| match choice {
        Some(ToolChoice::None) => false,
        Some(ToolChoice::Tool(name)) => tool.name == *name,
        None | Some(ToolChoice::Auto | ToolChoice::Required) => true,
    };
    tools
        .iter()
        .filter(|tool| wanted(tool))
        .map(|tool| ToolOut {
            r#type: "function",
            function: FunctionOut {
                name: &tool.name,
                description: tool.description.as_deref(),
                parameters: &tool.parameters,
            },
        })
        .collect()
}

fn format(format: &ResponseFormat) -> Option<FormatOut<'_>> {
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(FormatOut {
            r#type: "json_object",
            json_schema: None,
        }),
        ResponseFormat::JsonSchema { schema, .. } => Some(FormatOut {
            r#type: "json_object",
            json_schema: Some(schema),
        }),
    }
}

/// The low 63 bits of `seed`, which always fit an int64.
fn int64_seed(seed: u64) -> i64 {
    i64::try_from(seed & 0x7fff_ffff_ffff_ffff).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_keep_their_low_63_bits() {
        assert_eq!(int64_seed(42), 42);
        assert_eq!(int64_seed(1 << 63), 0);
        assert_eq!(int64_seed(u64::MAX), i64::MAX);
    }
}
