//! Conversion of the request's options that have structure: tools, tool choice and the
//! output format. Each error names the exact JSON path at fault.

use rill_core::{Error, ResponseFormat, Tool, ToolChoice};

use super::request::{RawChoiceKind, RawFormatKind, RawOutputFormat, RawTool, RawToolChoice};
use crate::request_json::{invalid, missing};

/// Client (`custom`) tools. Server tools (`web_search_20250305`, `bash_20250124`, ...)
/// are refused: rill does not run them.
pub(super) fn tools(tools: Option<Vec<RawTool>>) -> Result<Vec<Tool>, Error> {
    let tools = tools.unwrap_or_default();
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.into_iter().enumerate() {
        let at = |field: &str| format!("tools[{i}].{field}");
        if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "custom") {
            let message = format!("only custom tools are supported, got `{kind}`");
            return Err(invalid(at("type"), message));
        }
        let name = tool.name.ok_or_else(|| missing(at("name")))?;
        if name.is_empty() {
            let param = at("name");
            let message = format!("`{param}` must not be empty");
            return Err(invalid(param, message));
        }
        let schema = tool
            .input_schema
            .ok_or_else(|| missing(at("input_schema")))?;
        let parameters = crate::request_json::tool_schema(at("input_schema"), Some(schema))?;
        out.push(Tool {
            name,
            description: tool.description,
            parameters,
        });
    }
    Ok(out)
}

/// `auto`, `any` (some tool: core's `Required`), `tool` (that one) and `none`.
pub(super) fn tool_choice(choice: RawToolChoice, tools: &[Tool]) -> Result<ToolChoice, Error> {
    Ok(match choice.kind {
        RawChoiceKind::Auto => ToolChoice::Auto,
        RawChoiceKind::None => ToolChoice::None,
        RawChoiceKind::Any if tools.is_empty() => {
            let message = "`tool_choice` is `any` but no `tools` were given";
            return Err(invalid("tool_choice.type", message));
        }
        RawChoiceKind::Any => ToolChoice::Required,
        RawChoiceKind::Tool => {
            let name = choice
                .name
                .ok_or_else(|| missing("tool_choice.name".to_owned()))?;
            if !tools.iter().any(|t| t.name == name) {
                let message =
                    format!("`tool_choice` names the tool `{name}`, which is not in `tools`");
                return Err(invalid("tool_choice.name", message));
            }
            ToolChoice::Tool(name)
        }
    })
}

/// `output_config.format`: structured output as a core JSON-schema response format.
/// Anthropic's format has no name; core's gets `output`.
pub(super) fn output_format(format: RawOutputFormat) -> Result<ResponseFormat, Error> {
    match format.kind {
        RawFormatKind::JsonSchema => {
            let schema = format
                .schema
                .ok_or_else(|| missing("output_config.format.schema".to_owned()))?;
            Ok(ResponseFormat::JsonSchema {
                name: "output".to_owned(),
                schema,
                strict: true,
            })
        }
    }
}
