//! [`ChatRequest`] -> an OpenAI Chat request body, for `rill chat` and upstream calls.

use rill_core::{ChatRequest, Message, ResponseFormat, ToolChoice};
use serde::Serialize;
use serde_json::Value;

use super::out::{ToolCallOut, to_json};

#[derive(Serialize)]
struct BodyOut<'a> {
    model: &'a str,
    messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormatOut<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptionsOut>,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum MessageOut<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCallOut<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct ToolOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionDefOut<'a>,
}

#[derive(Serialize)]
struct FunctionDefOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: &'a Value,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ToolChoiceOut<'a> {
    Mode(&'static str),
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NameOut<'a>,
    },
}

#[derive(Serialize)]
struct NameOut<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseFormatOut<'a> {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaOut<'a> },
}

#[derive(Serialize)]
struct JsonSchemaOut<'a> {
    name: &'a str,
    schema: &'a Value,
    strict: bool,
}

#[derive(Serialize)]
struct StreamOptionsOut {
    include_usage: bool,
}

/// Serialises a core request as an OpenAI Chat request body.
///
/// `model` is the model id to put in the body. When `stream` is true the body also asks
/// for `stream_options.include_usage`. The length limit is sent as `max_tokens`, the
/// spelling every OpenAI-compatible server accepts. `top_k` is not sent: OpenAI has no
/// such parameter and rejects unknown ones.
pub fn request_body(request: &ChatRequest, model: &str, stream: bool) -> String {
    let sampling = &request.sampling;
    to_json(&BodyOut {
        model,
        messages: request.messages.iter().map(message).collect(),
        tools: request
            .tools
            .iter()
            .map(|tool| ToolOut {
                kind: "function",
                function: FunctionDefOut {
                    name: &tool.name,
                    description: tool.description.as_deref(),
                    parameters: &tool.parameters,
                },
            })
            .collect(),
        tool_choice: request.tool_choice.as_ref().map(|choice| match choice {
            ToolChoice::Auto => ToolChoiceOut::Mode("auto"),
            ToolChoice::None => ToolChoiceOut::Mode("none"),
            ToolChoice::Required => ToolChoiceOut::Mode("required"),
            ToolChoice::Tool(name) => ToolChoiceOut::Named {
                kind: "function",
                function: NameOut { name },
            },
        }),
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        max_tokens: sampling.max_tokens,
        stop: &sampling.stop,
        seed: sampling.seed.map(u64::cast_signed),
        frequency_penalty: sampling.frequency_penalty,
        presence_penalty: sampling.presence_penalty,
        response_format: request.response_format.as_ref().map(|format| match format {
            ResponseFormat::Text => ResponseFormatOut::Text,
            ResponseFormat::JsonObject => ResponseFormatOut::JsonObject,
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => ResponseFormatOut::JsonSchema {
                json_schema: JsonSchemaOut {
                    name,
                    schema,
                    strict: *strict,
                },
            },
        }),
        stream,
        stream_options: stream.then_some(StreamOptionsOut {
            include_usage: true,
        }),
    })
}

fn message(message: &Message) -> MessageOut<'_> {
    match message {
        Message::System { text } => MessageOut::System { content: text },
        Message::User { text } => MessageOut::User { content: text },
        // Chat Completions has no field for reasoning (or its signatures) in the history.
        Message::Assistant {
            text,
            tool_calls,
            reasoning: _,
        } => MessageOut::Assistant {
            // `content` may only be null when there are tool calls.
            content: text.as_deref().or(tool_calls.is_empty().then_some("")),
            tool_calls: tool_calls.iter().map(ToolCallOut::from).collect(),
        },
        Message::Tool { tool_call_id, text } => MessageOut::Tool {
            tool_call_id,
            content: text,
        },
    }
}
