//! [`ChatRequest`] -> an Ollama `/api/chat` body.

use rill_core::{ChatRequest, Error, ResponseFormat, Sampling, Tool, ToolChoice};
use serde::Serialize;
use serde_json::Value;

use super::messages::{MessageOut, messages};

#[derive(Serialize)]
struct BodyOut<'a> {
    model: &'a str,
    messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<FormatOut<'a>>,
    #[serde(skip_serializing_if = "OptionsOut::is_empty")]
    options: OptionsOut<'a>,
    stream: bool,
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

/// `"json"`, or a JSON schema as it is.
#[derive(Serialize)]
#[serde(untagged)]
enum FormatOut<'a> {
    Json(&'static str),
    Schema(&'a Value),
}

#[derive(Serialize, Default)]
struct OptionsOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_predict: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f32>,
}

impl OptionsOut<'_> {
    fn is_empty(&self) -> bool {
        let Self {
            temperature,
            top_p,
            top_k,
            num_predict,
            stop,
            seed,
            frequency_penalty,
            presence_penalty,
        } = self;
        temperature.is_none()
            && top_p.is_none()
            && top_k.is_none()
            && num_predict.is_none()
            && stop.is_empty()
            && seed.is_none()
            && frequency_penalty.is_none()
            && presence_penalty.is_none()
    }
}

/// Serialises a core request as an Ollama `/api/chat` body for `model` (the upstream's
/// name for it), with `stream: true`.
///
/// - **messages**: in order, roles as they are (see the `messages` module): an
///   assistant's calls become `tool_calls` with `arguments` the arguments' JSON object
///   (`{}` when they are not one); a tool result is a `tool` message with `tool_name`, the
///   name of the latest earlier call with its id (left out when no earlier call has it).
///   Ollama has no call ids, so none are sent.
/// - **tools**: `{"type": "function", "function": {name, description, parameters}}`, the
///   schema untouched.
/// - **tool choice**: Ollama has none. `none` sends no tools (the model cannot call what it
///   was not given); a named tool sends only that tool; `auto` and `required` send them
///   all. A named tool or `required` cannot be enforced: the model may still answer in
///   text.
/// - **sampling** in `options`: `temperature`, `top_p`, `top_k`, `num_predict`
///   (`max_tokens`), `stop`, `seed`, `frequency_penalty`, `presence_penalty`. Ollama's seed
///   is a signed 64-bit integer: a seed is sent as its low 63 bits.
/// - **response format**: `json_object` is `format: "json"`; a JSON schema is `format:
///   <schema>` (untouched; `name` and `strict` are not sent, Ollama always follows it).
///   `text` is the default and not sent.
///
/// Not sent: `think` (core has no reasoning switch: the model's default applies, and the
/// reasoning a thinking model sends in `message.thinking` is decoded), `keep_alive` and
/// `images`.
///
/// `Err` only if serialisation fails, which these types cannot make happen.
pub fn request_body(request: &ChatRequest, model: &str) -> Result<String, Error> {
    let body = BodyOut {
        model,
        messages: messages(&request.messages),
        tools: tools(&request.tools, request.tool_choice.as_ref()),
        format: request.response_format.as_ref().and_then(format),
        options: options(&request.sampling),
        stream: true,
    };
    serde_json::to_string(&body)
        .map_err(|e| Error::internal(format!("could not serialise the Ollama request: {e}")))
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
        ResponseFormat::JsonObject => Some(FormatOut::Json("json")),
        ResponseFormat::JsonSchema { schema, .. } => Some(FormatOut::Schema(schema)),
    }
}

fn options(sampling: &Sampling) -> OptionsOut<'_> {
    OptionsOut {
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        num_predict: sampling.max_tokens,
        stop: &sampling.stop,
        seed: sampling.seed.map(int64_seed),
        frequency_penalty: sampling.frequency_penalty,
        presence_penalty: sampling.presence_penalty,
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
        assert_eq!(int64_seed(0), 0);
        assert_eq!(int64_seed(42), 42);
        assert_eq!(int64_seed(i64::MAX as u64), i64::MAX);
        assert_eq!(int64_seed(1 << 63), 0);
        assert_eq!(int64_seed(u64::MAX), i64::MAX);
    }
}
