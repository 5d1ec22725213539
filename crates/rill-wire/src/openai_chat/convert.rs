//! Conversion of the parts of a request that have structure: messages, tools, tool
//! choice and response format. Each error names the exact JSON path at fault.

use rill_core::{Error, Message, ResponseFormat, Tool, ToolCall, ToolChoice};
use serde_json::Value;

use super::parse::{invalid, missing};
use super::request::{
    RawContent, RawFormatKind, RawFunctionDef, RawMessage, RawResponseFormat, RawRole, RawTool,
    RawToolCall, RawToolChoice,
};

pub(super) fn message(i: usize, m: RawMessage) -> Result<Message, Error> {
    let at = |field: &str| format!("messages[{i}].{field}");
    let required = |content: Option<RawContent>| match content {
        Some(content) => content_text(i, content),
        None => Err(missing(at("content"))),
    };
    Ok(match m.role {
        RawRole::System | RawRole::Developer => Message::System {
            text: required(m.content)?,
        },
        RawRole::User => Message::User {
            text: required(m.content)?,
        },
        RawRole::Assistant => {
            let text = m.content.map(|c| content_text(i, c)).transpose()?;
            let mut tool_calls = m
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(j, call)| tool_call(i, j, call))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(call) = m.function_call {
                // The legacy call has no id; the matching `function` message uses the name.
                let id = call.name.clone();
                tool_calls.push(ToolCall {
                    id,
                    name: call.name,
                    arguments: call.arguments,
                });
            }
            // Chat Completions has no reasoning in the history.
            Message::Assistant {
                text,
                tool_calls,
                reasoning: Vec::new(),
            }
        }
        RawRole::Tool => {
            let tool_call_id = m.tool_call_id.ok_or_else(|| missing(at("tool_call_id")))?;
            Message::Tool {
                tool_call_id,
                text: required(m.content)?,
            }
        }
        RawRole::Function => {
            let tool_call_id = m.name.ok_or_else(|| missing(at("name")))?;
            Message::Tool {
                tool_call_id,
                text: required(m.content)?,
            }
        }
    })
}

/// A message's text: the string, or its text parts concatenated. Refusal parts (in
/// assistant history) are ignored; media parts are refused.
fn content_text(i: usize, content: RawContent) -> Result<String, Error> {
    let parts = match content {
        RawContent::Text(text) => return Ok(text),
        RawContent::Parts(parts) => parts,
    };
    let mut text = String::new();
    for (j, part) in parts.into_iter().enumerate() {
        let at = |field: &str| format!("messages[{i}].content[{j}].{field}");
        match part.kind.as_str() {
            "text" => text.push_str(&part.text.ok_or_else(|| missing(at("text")))?),
            "refusal" => {}
            "image_url" | "input_audio" | "file" | "input_image" | "input_file" => {
                let message = format!("rill does not support `{}` content yet", part.kind);
                return Err(invalid(at("type"), message));
            }
            other => {
                let message = format!("unknown content part type `{other}`; expected `text`");
                return Err(invalid(at("type"), message));
            }
        }
    }
    Ok(text)
}

fn tool_call(i: usize, j: usize, call: RawToolCall) -> Result<ToolCall, Error> {
    let at = |field: &str| format!("messages[{i}].tool_calls[{j}].{field}");
    if let Some(kind) = call.kind.as_deref().filter(|k| *k != "function") {
        let message = format!("only `function` tool calls are supported, got `{kind}`");
        return Err(invalid(at("type"), message));
    }
    let function = call.function.ok_or_else(|| missing(at("function")))?;
    Ok(ToolCall {
        id: call.id,
        name: function.name,
        arguments: function.arguments,
    })
}

pub(super) fn tools(
    tools: Option<Vec<RawTool>>,
    functions: Option<Vec<RawFunctionDef>>,
) -> Result<Vec<Tool>, Error> {
    let tools = tools.unwrap_or_default();
    let functions = functions.unwrap_or_default();
    if !tools.is_empty() && !functions.is_empty() {
        let message = "`functions` is deprecated and cannot be combined with `tools`";
        return Err(invalid("functions", message));
    }
    let mut out = Vec::with_capacity(tools.len() + functions.len());
    for (i, tool) in tools.into_iter().enumerate() {
        if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "function") {
            let message = format!("only `function` tools are supported, got `{kind}`");
            return Err(invalid(format!("tools[{i}].type"), message));
        }
        let function = tool
            .function
            .ok_or_else(|| missing(format!("tools[{i}].function")))?;
        out.push(tool_def(function, &format!("tools[{i}].function.name"))?);
    }
    for (i, function) in functions.into_iter().enumerate() {
        out.push(tool_def(function, &format!("functions[{i}].name"))?);
    }
    Ok(out)
}

fn tool_def(function: RawFunctionDef, name_param: &str) -> Result<Tool, Error> {
    if function.name.is_empty() {
        return Err(invalid(
            name_param,
            format!("`{name_param}` must not be empty"),
        ));
    }
    Ok(Tool {
        name: function.name,
        description: function.description,
        parameters: crate::request_json::tool_schema(
            name_param.replace(".name", ".parameters"),
            function.parameters,
        )?,
    })
}

pub(super) fn tool_choice(
    choice: RawToolChoice,
    field: &str,
    tools: &[Tool],
) -> Result<ToolChoice, Error> {
    let choice = match choice {
        RawToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                let message = format!(
                    "invalid value `{other}` for `{field}`: expected `auto`, `none`, `required` or an object"
                );
                return Err(invalid(field, message));
            }
        },
        RawToolChoice::Named(named) => {
            if let Some(kind) = named.kind.as_deref().filter(|k| *k != "function") {
                let message = format!("`{field}` of type `{kind}` is not supported");
                return Err(invalid(format!("{field}.type"), message));
            }
            match (named.function, named.name) {
                (Some(function), _) => ToolChoice::Tool(function.name),
                (None, Some(name)) => ToolChoice::Tool(name),
                (None, None) => return Err(missing(format!("{field}.function"))),
            }
        }
    };
    match &choice {
        ToolChoice::Required if tools.is_empty() => Err(invalid(
            field,
            format!("`{field}` is `required` but no `tools` were given"),
        )),
        ToolChoice::Tool(name) if !tools.iter().any(|t| t.name == *name) => {
            let param = if field == "tool_choice" {
                "tool_choice.function.name".to_owned()
            } else {
                format!("{field}.name")
            };
            Err(invalid(
                param,
                format!("`{field}` names the tool `{name}`, which is not in `tools`"),
            ))
        }
        _ => Ok(choice),
    }
}

pub(super) fn response_format(format: RawResponseFormat) -> Result<ResponseFormat, Error> {
    Ok(match format.kind {
        RawFormatKind::Text => ResponseFormat::Text,
        RawFormatKind::JsonObject => ResponseFormat::JsonObject,
        RawFormatKind::JsonSchema => {
            let schema = format
                .json_schema
                .ok_or_else(|| missing("response_format.json_schema".to_owned()))?;
            ResponseFormat::JsonSchema {
                name: schema.name,
                schema: schema
                    .schema
                    .unwrap_or_else(|| Value::Object(Default::default())),
                strict: schema.strict.unwrap_or(false),
            }
        }
    })
}
