//! [`ChatRequest`] -> a Responses request body, for Responses upstreams.

use rill_core::{ChatRequest, Message, Reasoning};
use serde::Serialize;

use super::echo::{TextOut, ToolChoiceOut, ToolOut};
use super::item_out::SummaryOut;

#[derive(Serialize)]
struct BodyOut<'a> {
    model: &'a str,
    input: Vec<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextOut<'a>>,
    store: bool,
    stream: bool,
}

/// One input item.
#[derive(Serialize)]
#[serde(untagged)]
enum ItemOut<'a> {
    Message {
        role: &'static str,
        content: &'a str,
    },
    FunctionCall {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    FunctionCallOutput {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        output: &'a str,
    },
    /// Without an `id`: with `store: false` there is no stored item to name, and the
    /// `encrypted_content` carries the reasoning.
    Reasoning {
        #[serde(rename = "type")]
        kind: &'static str,
        summary: Vec<SummaryOut<'a>>,
        encrypted_content: &'a str,
    },
}

/// Serialises a core request as a Responses request body: the inverse of
/// [`super::parse_request`].
///
/// `model` is the model id to put in the body; `stream` is sent as is, and `store:
/// false` always (rill sends the whole conversation each time and needs nothing kept).
///
/// - **input**: every message becomes an input item, in order: system, user and
///   assistant messages become messages with string content (roles `system`, `user`,
///   `assistant`; an assistant without text or calls sends `""`), an assistant's tool
///   calls become `function_call` items after its text, a tool message a
///   `function_call_output`. Nothing goes in `instructions`.
/// - **reasoning**: an assistant's signed reasoning blocks become `reasoning` items
///   before its text and calls, their text as one `summary_text` part and their
///   signature as `encrypted_content` (what a stateless conversation gives OpenAI back).
///   Unsigned and redacted reasoning is not sent: OpenAI reads only its own encrypted
///   reasoning. rill does not ask for `encrypted_content` (`include`): models without
///   reasoning refuse the request that does, and core has no such option; an upstream
///   that sends it unasked, or is set up to, gets it back.
/// - **tools** as flat `function` tools with `strict: false` (core has no strict flag,
///   and OpenAI's default, `true`, refuses schemas Chat Completions accepts); **tool
///   choice** as `auto`, `none`, `required` or `{"type":"function","name":..}`.
/// - **sampling**: `temperature`, `top_p`, and `max_tokens` as `max_output_tokens`.
///   `top_k`, `stop`, `seed`, `frequency_penalty` and `presence_penalty` are not sent:
///   the Responses API has no such parameters and refuses unknown fields (a provider
///   that must honour `stop` has to cut the text itself).
/// - **response format** as `text.format` (a JSON schema with its `name`, `schema`
///   and `strict` beside `type`).
///
/// Parsing the body back with [`super::parse_request`] gives the same request but for
/// those normalisations and the parser's own: the model is `model`, an assistant's
/// absent text beside no calls comes back as `""`, calls that directly follow an
/// assistant message join it (core's assistant message holds its text and its calls),
/// and only signed reasoning comes back.
pub fn request_body(request: &ChatRequest, model: &str, stream: bool) -> String {
    let sampling = &request.sampling;
    let body = BodyOut {
        model,
        input: request.messages.iter().flat_map(items).collect(),
        tools: request.tools.iter().map(ToolOut::from).collect(),
        tool_choice: request.tool_choice.as_ref().map(ToolChoiceOut::from),
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        max_output_tokens: sampling.max_tokens,
        text: request.response_format.as_ref().map(TextOut::from),
        store: false,
        stream,
    };
    // These types hold only strings, numbers and JSON values, so this cannot fail; were
    // it to, the empty body gets the upstream's 400 rather than a panic.
    serde_json::to_string(&body).unwrap_or_default()
}

fn items(message: &Message) -> Vec<ItemOut<'_>> {
    let message_item = |role, content| ItemOut::Message { role, content };
    match message {
        Message::System { text } => vec![message_item("system", text)],
        Message::User { text } => vec![message_item("user", text)],
        Message::Tool { tool_call_id, text } => vec![ItemOut::FunctionCallOutput {
            kind: "function_call_output",
            call_id: tool_call_id,
            output: text,
        }],
        Message::Assistant {
            text,
            tool_calls,
            reasoning,
        } => {
            let reasoning = reasoning.iter().filter_map(|block| match block {
                Reasoning::Text {
                    text,
                    signature: Some(signature),
                } => Some(ItemOut::Reasoning {
                    kind: "reasoning",
                    summary: if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![SummaryOut::new(text)]
                    },
                    encrypted_content: signature,
                }),
                Reasoning::Text { .. } | Reasoning::Redacted { .. } => None,
            });
            let text = match (text, tool_calls.is_empty()) {
                (Some(text), _) => Some(text.as_str()),
                (None, true) => Some(""),
                (None, false) => None,
            };
            let calls = tool_calls.iter().map(|call| ItemOut::FunctionCall {
                kind: "function_call",
                call_id: &call.id,
                name: &call.name,
                arguments: &call.arguments,
            });
            let text = text.map(|text| message_item("assistant", text));
            reasoning.chain(text).chain(calls).collect()
        }
    }
}
