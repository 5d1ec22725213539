//! A request's cache key: a SHA-256 of the core request in a canonical form.
//!
//! Hand-written rather than serialized: core types carry no serde (no wire type in core),
//! and JSON of a client's tool schemas keeps the client's key order, where a canonical
//! form must not depend on it. Every field is written with its tag and its length, so
//! no two requests write the same bytes.

use rill_core::{ChatRequest, Message, Reasoning, ResponseFormat, Sampling, ToolChoice};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What identical requests share: the hash of the model, messages, tools, tool choice,
/// sampling, response format, stop sequences and seed, and of the key scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(pub [u8; 32]);

impl CacheKey {
    /// The key of `request` for `scope` (the asking key's name, or `None` when answers
    /// are shared across keys or there are no keys).
    pub fn of(request: &ChatRequest, scope: Option<&str>) -> Self {
        let mut canon = Canon(Sha256::new());
        canon.tag(b'K');
        canon.opt_str(scope);
        canon.str(&request.model);
        canon.tag(b'M');
        canon.len(request.messages.len());
        for message in &request.messages {
            canon.message(message);
        }
        canon.tag(b'T');
        canon.len(request.tools.len());
        for tool in &request.tools {
            canon.str(&tool.name);
            canon.opt_str(tool.description.as_deref());
            canon.value(&tool.parameters);
        }
        canon.tag(b'C');
        match &request.tool_choice {
            None => canon.tag(0),
            Some(ToolChoice::Auto) => canon.tag(1),
            Some(ToolChoice::None) => canon.tag(2),
            Some(ToolChoice::Required) => canon.tag(3),
            Some(ToolChoice::Tool(name)) => {
                canon.tag(4);
                canon.str(name);
            }
        }
        canon.sampling(&request.sampling);
        canon.tag(b'F');
        match &request.response_format {
            None => canon.tag(0),
            Some(ResponseFormat::Text) => canon.tag(1),
            Some(ResponseFormat::JsonObject) => canon.tag(2),
            Some(ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            }) => {
                canon.tag(3);
                canon.str(name);
                canon.value(schema);
                canon.tag(u8::from(*strict));
            }
        }
        Self(canon.0.finalize().into())
    }

    /// The key as lowercase hex, for stores that key by text.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

struct Canon(Sha256);

impl Canon {
    fn tag(&mut self, tag: u8) {
        self.0.update([tag]);
    }

    fn len(&mut self, len: usize) {
        self.0.update((len as u64).to_le_bytes());
    }

    fn str(&mut self, text: &str) {
        self.len(text.len());
        self.0.update(text.as_bytes());
    }

    fn opt_str(&mut self, text: Option<&str>) {
        match text {
            None => self.tag(0),
            Some(text) => {
                self.tag(1);
                self.str(text);
            }
        }
    }

    fn opt_f32(&mut self, value: Option<f32>) {
        match value {
            None => self.tag(0),
            Some(value) => {
                self.tag(1);
                // 0.0 and -0.0 sample alike.
                let value = if value == 0.0 { 0.0 } else { value };
                self.0.update(value.to_bits().to_le_bytes());
            }
        }
    }

    fn opt_u64(&mut self, value: Option<u64>) {
        match value {
            None => self.tag(0),
            Some(value) => {
                self.tag(1);
                self.0.update(value.to_le_bytes());
            }
        }
    }

    fn sampling(&mut self, sampling: &Sampling) {
        self.tag(b'S');
        self.opt_f32(sampling.temperature);
        self.opt_f32(sampling.top_p);
        self.opt_u64(sampling.top_k.map(u64::from));
        self.opt_u64(sampling.max_tokens.map(u64::from));
        self.len(sampling.stop.len());
        for stop in &sampling.stop {
            self.str(stop);
        }
        self.opt_u64(sampling.seed);
        self.opt_f32(sampling.frequency_penalty);
        self.opt_f32(sampling.presence_penalty);
    }

    fn message(&mut self, message: &Message) {
        match message {
            Message::System { text } => {
                self.tag(b's');
                self.str(text);
            }
            Message::User { text } => {
                self.tag(b'u');
                self.str(text);
            }
            Message::Assistant {
                text,
                tool_calls,
                reasoning,
            } => {
                self.tag(b'a');
                self.opt_str(text.as_deref());
                self.len(tool_calls.len());
                for call in tool_calls {
                    self.str(&call.id);
                    self.str(&call.name);
                    self.str(&call.arguments);
                }
                self.len(reasoning.len());
                for block in reasoning {
                    match block {
                        Reasoning::Text { text, signature } => {
                            self.tag(b'r');
                            self.str(text);
                            self.opt_str(signature.as_deref());
                        }
                        Reasoning::Redacted { data } => {
                            self.tag(b'd');
                            self.str(data);
                        }
                    }
                }
            }
            Message::Tool { tool_call_id, text } => {
                self.tag(b't');
                self.str(tool_call_id);
                self.str(text);
            }
        }
    }

    /// A JSON value with object keys in sorted order: the order a client wrote them in
    /// does not change what it asks.
    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.tag(b'n'),
            Value::Bool(b) => {
                self.tag(b'b');
                self.tag(u8::from(*b));
            }
            Value::Number(n) => {
                self.tag(b'#');
                self.str(&n.to_string());
            }
            Value::String(s) => {
                self.tag(b'"');
                self.str(s);
            }
            Value::Array(items) => {
                self.tag(b'[');
                self.len(items.len());
                items.iter().for_each(|item| self.value(item));
            }
            Value::Object(map) => {
                self.tag(b'{');
                self.len(map.len());
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    self.str(key);
                    self.value(&map[key]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::Tool;

    fn request() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![
                Message::System {
                    text: "be brief".into(),
                },
                Message::User { text: "hi".into() },
            ],
            tools: vec![Tool {
                name: "f".into(),
                description: None,
                parameters: serde_json::json!({"type": "object", "properties": {"a": {}, "b": {}}}),
            }],
            ..ChatRequest::default()
        }
    }

    #[test]
    fn the_order_of_schema_keys_does_not_matter_and_everything_else_does() {
        let base = CacheKey::of(&request(), None);
        let mut reordered = request();
        reordered.tools[0].parameters =
            serde_json::from_str(r#"{"properties": {"b": {}, "a": {}}, "type": "object"}"#)
                .unwrap();
        assert_eq!(CacheKey::of(&reordered, None), base);
        assert_eq!(CacheKey::of(&request(), None).hex().len(), 64);

        let changes: Vec<fn(&mut ChatRequest)> = vec![
            |r| r.model = "n".into(),
            |r| {
                r.messages.push(Message::User {
                    text: String::new(),
                })
            },
            |r| r.messages[1] = Message::System { text: "hi".into() },
            |r| r.tools.clear(),
            |r| r.tool_choice = Some(ToolChoice::Required),
            |r| r.sampling.temperature = Some(0.5),
            |r| r.sampling.max_tokens = Some(10),
            |r| r.sampling.stop = vec!["x".into()],
            |r| r.sampling.seed = Some(1),
            |r| r.response_format = Some(ResponseFormat::JsonObject),
        ];
        for change in changes {
            let mut changed = request();
            change(&mut changed);
            assert_ne!(CacheKey::of(&changed, None), base, "{changed:?}");
        }
        assert_ne!(CacheKey::of(&request(), Some("alice")), base);
        assert_ne!(
            CacheKey::of(&request(), Some("alice")),
            CacheKey::of(&request(), Some("bob"))
        );
    }
}
