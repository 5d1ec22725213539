//! What a Response object repeats of its request, and how it is written.

use rill_core::{ChatRequest, ResponseFormat, Tool, ToolChoice};
use serde::Serialize;
use serde_json::Value;

/// The request's settings that every Response object repeats (OpenAI's Response objects
/// echo their request). Only settings rill honours are kept: what the Response object
/// says of the rest is what rill did (`store: false`, `parallel_tool_calls: true`,
/// `truncation: "disabled"`, no `metadata`, tools with `strict: false`).
///
/// [`super::parse_request`] fills it in; [`Echo::new`] builds it from any core request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Echo {
    /// The request's `instructions`.
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub tools: Vec<Tool>,
    /// `None` is reported as `auto`.
    pub tool_choice: Option<ToolChoice>,
    /// `None` is reported as `text`.
    pub format: Option<ResponseFormat>,
}

impl Echo {
    /// The settings of `request`, which was given these `instructions`.
    pub fn new(request: &ChatRequest, instructions: Option<String>) -> Self {
        Self {
            instructions,
            max_output_tokens: request.sampling.max_tokens,
            temperature: request.sampling.temperature,
            top_p: request.sampling.top_p,
            tools: request.tools.clone(),
            tool_choice: request.tool_choice.clone(),
            format: request.response_format.clone(),
        }
    }
}

/// A function tool, as a Response object lists it and an upstream request sends it.
#[derive(Serialize)]
pub(super) struct ToolOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    description: Option<&'a str>,
    parameters: &'a Value,
    /// rill does not hold arguments to the schema, and an upstream must not either:
    /// OpenAI's default (`true`) refuses schemas that Chat Completions clients send.
    strict: bool,
}

impl<'a> From<&'a Tool> for ToolOut<'a> {
    fn from(tool: &'a Tool) -> Self {
        Self {
            kind: "function",
            name: &tool.name,
            description: tool.description.as_deref(),
            parameters: &tool.parameters,
            strict: false,
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum ToolChoiceOut<'a> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        name: &'a str,
    },
}

impl<'a> From<&'a ToolChoice> for ToolChoiceOut<'a> {
    fn from(choice: &'a ToolChoice) -> Self {
        match choice {
            ToolChoice::Auto => Self::Mode("auto"),
            ToolChoice::None => Self::Mode("none"),
            ToolChoice::Required => Self::Mode("required"),
            ToolChoice::Tool(name) => Self::Function {
                kind: "function",
                name,
            },
        }
    }
}

/// `text`: `{"format":{...}}`.
#[derive(Serialize)]
pub(super) struct TextOut<'a> {
    format: FormatOut<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FormatOut<'a> {
    Text,
    JsonObject,
    JsonSchema {
        name: &'a str,
        schema: &'a Value,
        strict: bool,
    },
}

impl<'a> From<&'a ResponseFormat> for TextOut<'a> {
    fn from(format: &'a ResponseFormat) -> Self {
        let format = match format {
            ResponseFormat::Text => FormatOut::Text,
            ResponseFormat::JsonObject => FormatOut::JsonObject,
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => FormatOut::JsonSchema {
                name,
                schema,
                strict: *strict,
            },
        };
        Self { format }
    }
}

impl TextOut<'_> {
    pub(super) const TEXT: TextOut<'static> = TextOut {
        format: FormatOut::Text,
    };
}
