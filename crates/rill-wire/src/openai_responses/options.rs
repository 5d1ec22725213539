//! Conversion of the request's options that have structure: tools, tool choice and the
//! text format. Each error names the exact JSON path at fault.

use rill_core::{Error, ResponseFormat, Tool, ToolChoice};

use super::request::{RawFormat, RawFormatKind, RawTool, RawToolChoice};
use crate::request_json::{invalid, missing};

/// Function tools. Built-in tools (`web_search`, `file_search`, `code_interpreter`,
/// `mcp`, ...) and `custom` tools are refused: rill runs none of them.
pub(super) fn tools(tools: Option<Vec<RawTool>>) -> Result<Vec<Tool>, Error> {
    let tools = tools.unwrap_or_default();
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.into_iter().enumerate() {
        let at = |field: &str| format!("tools[{i}].{field}");
        if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "function") {
            let message = format!("only `function` tools are supported, got `{kind}`");
            return Err(invalid(at("type"), message));
        }
        if tool.function.is_some() && tool.name.is_none() {
            let message = format!(
                "`tools[{i}]` has the Chat Completions shape; hint: a Responses tool has `name`, `description` and `parameters` beside `type`, not inside `function`"
            );
            return Err(invalid(at("function"), message));
        }
        let name = tool.name.ok_or_else(|| missing(at("name")))?;
        if name.is_empty() {
            let param = at("name");
            let message = format!("`{param}` must not be empty");
            return Err(invalid(param, message));
        }
        out.push(Tool {
            name,
            description: tool.description,
            parameters: crate::request_json::tool_schema(at("parameters"), tool.parameters)?,
        });
    }
    Ok(out)
}

/// `auto`, `none`, `required` or `{"type":"function","name":..}`.
pub(super) fn tool_choice(choice: RawToolChoice, tools: &[Tool]) -> Result<ToolChoice, Error> {
    let choice = match choice {
        RawToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                let message = format!(
                    "invalid value `{other}` for `tool_choice`: expected `auto`, `none`, `required` or an object"
                );
                return Err(invalid("tool_choice", message));
            }
        },
        RawToolChoice::Named(named) if named.kind == "function" => {
            let name = named
                .name
                .ok_or_else(|| missing("tool_choice.name".to_owned()))?;
            ToolChoice::Tool(name)
        }
        RawToolChoice::Named(named) => {
            let message = format!("`tool_choice` of type `{}` is not supported", named.kind);
            return Err(invalid("tool_choice.type", message));
        }
    };
    match &choice {
        ToolChoice::Required if tools.is_empty() => Err(invalid(
            "tool_choice",
            "`tool_choice` is `required` but no `tools` were given",
        )),
        ToolChoice::Tool(name) if !tools.iter().any(|t| t.name == *name) => Err(invalid(
            "tool_choice.name",
            format!("`tool_choice` names the tool `{name}`, which is not in `tools`"),
        )),
        _ => Ok(choice),
    }
}

/// `text.format`: `text`, `json_object`, or `json_schema` with its `name` and `schema`.
pub(super) fn format(format: RawFormat) -> Result<ResponseFormat, Error> {
    Ok(match format.kind {
        RawFormatKind::Text => ResponseFormat::Text,
        RawFormatKind::JsonObject => ResponseFormat::JsonObject,
        RawFormatKind::JsonSchema => ResponseFormat::JsonSchema {
            name: format
                .name
                .ok_or_else(|| missing("text.format.name".to_owned()))?,
            schema: format
                .schema
                .ok_or_else(|| missing("text.format.schema".to_owned()))?,
            strict: format.strict.unwrap_or(false),
        },
    })
}
