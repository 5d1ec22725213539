//! Chat templates: the model's own Jinja template from its GGUF, rendered with minijinja.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, Error as JinjaError, ErrorKind as JinjaErrorKind, context};
use rill_core::Message;
use serde::Serialize;

use crate::EngineError;

const TEMPLATE_NAME: &str = "chat";

/// A compiled chat template (`tokenizer.chat_template`).
///
/// Rendered the way Hugging Face's `apply_chat_template` does: `trim_blocks` and
/// `lstrip_blocks` on, Python string methods available (`.strip()`, `.startswith()`...),
/// and `raise_exception(msg)` turning a template's own validation into an error.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

#[derive(Serialize)]
struct TemplateMessage<'a> {
    role: &'static str,
    content: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<TemplateToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct TemplateToolCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: TemplateFunction<'a>,
}

#[derive(Serialize)]
struct TemplateFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

impl ChatTemplate {
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, EngineError> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| EngineError::Template(e.to_string()))?;
        env.set_syntax(syntax);
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<Value, JinjaError> {
                Err(JinjaError::new(JinjaErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|e| {
                EngineError::Template(format!("the chat template does not compile: {e}"))
            })?;
        Ok(Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        })
    }

    /// Renders `messages`; with `add_generation_prompt` the text ends where the
    /// assistant's answer begins.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, EngineError> {
        let messages: Vec<TemplateMessage<'_>> = messages.iter().map(to_template).collect();
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| EngineError::Template(e.to_string()))?;
        template
            .render(context! {
                messages => Value::from(Serde(&messages)),
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos_token.as_str(),
                eos_token => self.eos_token.as_str(),
            })
            .map_err(|e| EngineError::Template(describe(&e)))
    }
}

fn to_template(message: &Message) -> TemplateMessage<'_> {
    let (tool_calls, tool_call_id) = match message {
        Message::Assistant { tool_calls, .. } => (
            tool_calls
                .iter()
                .map(|c| TemplateToolCall {
                    id: &c.id,
                    r#type: "function",
                    function: TemplateFunction {
                        name: &c.name,
                        arguments: &c.arguments,
                    },
                })
                .collect(),
            None,
        ),
        Message::Tool { tool_call_id, .. } => (Vec::new(), Some(tool_call_id.as_str())),
        _ => (Vec::new(), None),
    };
    TemplateMessage {
        role: message.role(),
        content: message.text().unwrap_or(""),
        tool_calls,
        tool_call_id,
    }
}

/// The template's own message for `raise_exception`, minijinja's otherwise.
fn describe(error: &JinjaError) -> String {
    match error.kind() {
        JinjaErrorKind::InvalidOperation => {
            error.detail().unwrap_or("invalid operation").to_owned()
        }
        _ => format!("the chat template failed: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template, as its GGUF carries it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn template(source: &str) -> ChatTemplate {
        ChatTemplate::new(source, "<|im_start|>", "<|im_end|>").unwrap()
    }

    #[test]
    fn default_system_prompt_and_generation_prompt() {
        let text = template(SMOLLM2)
            .render(&[Message::User { text: "Hi".into() }], true)
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn own_system_prompt_multi_turn_without_generation_prompt() {
        let messages = [
            Message::System {
                text: "Be terse.".into(),
            },
            Message::User {
                text: "One?".into(),
            },
            Message::Assistant {
                text: Some("1".into()),
                tool_calls: vec![],
                reasoning: vec![],
            },
            Message::User {
                text: "Two?".into(),
            },
        ];
        let text = template(SMOLLM2).render(&messages, false).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nOne?<|im_end|>\n<|im_start|>assistant\n1<|im_end|>\n<|im_start|>user\nTwo?<|im_end|>\n"
        );
    }

    #[test]
    fn python_methods_trim_blocks_and_raise_exception() {
        let source = "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}\n{% for m in messages %}\n[{{ m.content.strip().upper() }}]\n{% endfor %}";
        let t = template(source);
        assert_eq!(
            t.render(
                &[Message::User {
                    text: "  hi  ".into()
                }],
                false
            )
            .unwrap(),
            "[HI]\n"
        );
        let err = t
            .render(&[Message::System { text: "x".into() }], false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "chat template: first message must be from the user"
        );
    }

    #[test]
    fn tool_calls_reach_the_template() {
        let source = "{% for m in messages %}{% for c in m.tool_calls %}{{ c.function.name }}({{ c.function.arguments }}){% endfor %}{{ m.tool_call_id }}{% endfor %}";
        let messages = [
            Message::Assistant {
                text: None,
                tool_calls: vec![rill_core::ToolCall {
                    id: "c1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }],
                reasoning: vec![],
            },
            Message::Tool {
                tool_call_id: "c1".into(),
                text: "ok".into(),
            },
        ];
        assert_eq!(
            template(source).render(&messages, false).unwrap(),
            "f({})c1"
        );
    }

    #[test]
    fn broken_template_is_an_error() {
        assert!(ChatTemplate::new("{% for %}", "", "").is_err());
    }
}
