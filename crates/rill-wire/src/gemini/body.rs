//! [`ChatRequest`] -> a Gemini `GenerateContentRequest` body.

use rill_core::{ChatRequest, Error, ResponseFormat, Sampling, Tool, ToolChoice};
use serde::Serialize;
use serde_json::Value;

use super::contents::{ContentOut, SystemOut, history};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BodyOut<'a> {
    contents: Vec<ContentOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfigOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<SystemOut<'a>>,
    #[serde(skip_serializing_if = "GenerationConfigOut::is_empty")]
    generation_config: GenerationConfigOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolOut<'a> {
    function_declarations: Vec<FunctionDeclarationOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclarationOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters_json_schema: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfigOut<'a> {
    function_calling_config: FunctionCallingConfigOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionCallingConfigOut<'a> {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_function_names: Option<[&'a str; 1]>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct GenerationConfigOut<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_json_schema: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
}

impl GenerationConfigOut<'_> {
    fn is_empty(&self) -> bool {
        let Self {
            stop_sequences,
            response_mime_type,
            response_json_schema,
            max_output_tokens,
            temperature,
            top_p,
            top_k,
            seed,
            presence_penalty,
            frequency_penalty,
        } = self;
        stop_sequences.is_empty()
            && response_mime_type.is_none()
            && response_json_schema.is_none()
            && max_output_tokens.is_none()
            && temperature.is_none()
            && top_p.is_none()
            && top_k.is_none()
            && seed.is_none()
            && presence_penalty.is_none()
            && frequency_penalty.is_none()
    }
}

/// Serialises a core request as a Gemini `GenerateContentRequest` body. The model is not
/// in the body: it is part of the URL.
///
/// - **messages**: system messages become `systemInstruction` (one text part; several
///   are joined with a blank line, empty ones are left out); user messages become `user`
///   turns and assistant messages `model` turns; a tool message becomes a
///   `functionResponse` part in a `user` turn, `{"name", "response": {"result": text}}`.
///   Consecutive messages of one side (user and tool messages are the user's side) are
///   merged into one turn, their parts in order. Empty texts are left out (Gemini refuses
///   empty text parts), and so is a message left without parts.
/// - **tool results** need the function's *name*, which Gemini matches calls and results
///   by: it is the name of the latest earlier assistant tool call with the result's id. A
///   result whose id no earlier call has is `Err` ([`rill_core::ErrorKind::InvalidRequest`]):
///   the conversation cannot be expressed, and guessing a name would mislead the model.
///   Call ids are not sent: Gemini matches by name and order, and some deployments
///   (Vertex's) refuse `id` there.
/// - **thought signatures**: an assistant message's last reasoning signature goes back
///   as the `thoughtSignature` of its first `functionCall` part, or, without calls, of
///   its text part (see `contents.rs`: where Gemini puts them); other reasoning is not
///   sent.
/// - **tool calls**: an assistant's calls become `functionCall` parts after its text, with
///   `args` the arguments' JSON object; arguments that are not a JSON object (a call cut
///   off by the length limit, `""` for a call without parameters) are sent as `{}`.
/// - **tools**: one `tools` entry with a `functionDeclarations` item per tool. The schema
///   goes in `parametersJsonSchema`, untouched: unlike `parameters` (an OpenAPI subset that
///   refuses `additionalProperties`, `$schema`, `$ref`, ... in older API versions), it
///   takes any JSON Schema, so nothing is stripped or rewritten. A tool whose schema is
///   `{}` or `null` (no parameters) is sent without one.
/// - **tool choice** (only with tools; without any, the model calls none whatever the
///   choice says): `toolConfig.functionCallingConfig.mode` `AUTO`, `NONE`, `ANY`
///   (core's `Required`), and `ANY` with `allowedFunctionNames: [name]` for one tool.
/// - **sampling** in `generationConfig`: `temperature`, `topP`, `topK`,
///   `maxOutputTokens`, `stopSequences`, `presencePenalty`, `frequencyPenalty` and `seed`.
///   Gemini's seed is an int32: a seed is sent as its low 31 bits, so seeds below 2^31
///   are sent as they are and one seed always gives the same upstream seed.
/// - **response format**: `json_object` is `responseMimeType: application/json`; a JSON
///   schema is that and `responseJsonSchema` (untouched, as for tools; Gemini's is
///   nameless and always followed: `name` and `strict` are not sent). `text` is the
///   default and not sent.
///
/// Not sent: `candidateCount` (one answer, the default), safety settings and thinking
/// options (core has none; Gemini's defaults apply).
pub fn request_body(request: &ChatRequest) -> Result<String, Error> {
    let history = history(&request.messages)?;
    let has_tools = !request.tools.is_empty();
    let body = BodyOut {
        contents: history.contents,
        tools: if has_tools {
            vec![ToolOut {
                function_declarations: request.tools.iter().map(declaration).collect(),
            }]
        } else {
            Vec::new()
        },
        tool_config: request
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(tool_config),
        system_instruction: history.system,
        generation_config: generation_config(&request.sampling, request.response_format.as_ref()),
    };
    serde_json::to_string(&body)
        .map_err(|e| Error::internal(format!("could not serialise the Gemini request: {e}")))
}

fn declaration(tool: &Tool) -> FunctionDeclarationOut<'_> {
    let no_parameters = match &tool.parameters {
        Value::Null => true,
        Value::Object(schema) => schema.is_empty(),
        _ => false,
    };
    FunctionDeclarationOut {
        name: &tool.name,
        description: tool.description.as_deref(),
        parameters_json_schema: (!no_parameters).then_some(&tool.parameters),
    }
}

fn tool_config(choice: &ToolChoice) -> ToolConfigOut<'_> {
    let (mode, allowed_function_names) = match choice {
        ToolChoice::Auto => ("AUTO", None),
        ToolChoice::None => ("NONE", None),
        ToolChoice::Required => ("ANY", None),
        ToolChoice::Tool(name) => ("ANY", Some([name.as_str()])),
    };
    ToolConfigOut {
        function_calling_config: FunctionCallingConfigOut {
            mode,
            allowed_function_names,
        },
    }
}

fn generation_config<'a>(
    sampling: &'a Sampling,
    format: Option<&'a ResponseFormat>,
) -> GenerationConfigOut<'a> {
    let (response_mime_type, response_json_schema) = match format {
        None | Some(ResponseFormat::Text) => (None, None),
        Some(ResponseFormat::JsonObject) => (Some("application/json"), None),
        Some(ResponseFormat::JsonSchema { schema, .. }) => (Some("application/json"), Some(schema)),
    };
    GenerationConfigOut {
        stop_sequences: &sampling.stop,
        response_mime_type,
        response_json_schema,
        max_output_tokens: sampling.max_tokens,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        seed: sampling.seed.map(int32_seed),
        presence_penalty: sampling.presence_penalty,
        frequency_penalty: sampling.frequency_penalty,
    }
}

/// The low 31 bits of `seed`, which always fit an int32.
fn int32_seed(seed: u64) -> i32 {
    i32::try_from(seed & 0x7fff_ffff).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_keep_their_low_31_bits() {
        assert_eq!(int32_seed(0), 0);
        assert_eq!(int32_seed(42), 42);
        assert_eq!(int32_seed(0x7fff_ffff), i32::MAX);
        assert_eq!(int32_seed(0x8000_0000), 0);
        assert_eq!(int32_seed(u64::MAX), i32::MAX);
        assert_eq!(int32_seed((7 << 40) | 5), 5);
    }
}
