//! The deserialise-side types of an Anthropic stream, as an upstream sends it, and the
//! parsing of one event's data.
//!
//! Tagged by `type`, each with a catch-all: a new event, block or delta type is
//! ignored, never an error. Every field an event needs but may lack has a default.

use rill_core::{Error, Usage};
use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;

use super::error::ErrorIn;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum EventIn {
    MessageStart {
        message: MessageIn,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u32,
        content_block: BlockIn,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u32,
        delta: DeltaIn,
    },
    ContentBlockStop {
        #[serde(default)]
        index: u32,
    },
    MessageDelta {
        delta: Option<MessageDeltaIn>,
        usage: Option<UsageIn>,
    },
    MessageStop {},
    Ping {},
    Error {
        error: Option<ErrorIn>,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
pub(super) struct MessageIn {
    pub model: Option<String>,
    pub usage: Option<UsageIn>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BlockIn {
    Text {
        #[serde(default)]
        text: String,
    },
    /// `signature` is `""` at the start of a streamed block (it comes as a
    /// `signature_delta`); proxies that send blocks whole put it here.
    Thinking {
        #[serde(default)]
        thinking: String,
        signature: Option<String>,
    },
    RedactedThinking {
        data: Option<String>,
    },
    ToolUse {
        #[serde(default)]
        id: String,
        #[serde(default)]
        name: String,
        input: Option<Value>,
    },
    /// Server tool blocks, and whatever comes next.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum DeltaIn {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    /// A thinking block's signature, just before the block stops.
    SignatureDelta { signature: Option<String> },
    /// `citations_delta`, and whatever comes next.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
pub(super) struct MessageDeltaIn {
    pub stop_reason: Option<String>,
}

/// Token counts; every field may be absent or `null`.
#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(super) struct UsageIn {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
}

impl UsageIn {
    /// Takes every count `later` reports (Anthropic's counts are cumulative).
    pub(super) fn update(&mut self, later: UsageIn) {
        let fields = [
            (&mut self.input_tokens, later.input_tokens),
            (&mut self.output_tokens, later.output_tokens),
            (
                &mut self.cache_creation_input_tokens,
                later.cache_creation_input_tokens,
            ),
            (
                &mut self.cache_read_input_tokens,
                later.cache_read_input_tokens,
            ),
        ];
        for (field, value) in fields {
            if value.is_some() {
                *field = value;
            }
        }
    }

    /// Core counts cached and cache-writing prompt tokens in `input_tokens`; Anthropic
    /// reports them apart.
    pub(super) fn core(&self) -> Usage {
        let input = [
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ]
        .into_iter()
        .flatten()
        .fold(0u64, u64::saturating_add);
        Usage {
            input_tokens: input,
            output_tokens: self.output_tokens.unwrap_or_default(),
            reasoning_tokens: None,
            cached_input_tokens: self.cache_read_input_tokens,
            cache_write_tokens: self.cache_creation_input_tokens,
            cost_usd: None,
            estimated: false,
        }
    }
}

/// Parses an event's data. Data without a `type` takes the event name, as the official
/// SDKs do (the slow path only runs when the fast one fails).
pub(super) fn parse(event: &str, data: &str) -> Result<EventIn, Error> {
    let err = match serde_json::from_str::<EventIn>(data) {
        Ok(parsed) => return Ok(parsed),
        Err(err) => err,
    };
    if let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(data)
        && !object.contains_key("type")
        && event != "message"
    {
        object.insert("type".to_owned(), Value::String(event.to_owned()));
        return EventIn::deserialize(Value::Object(object)).map_err(|e| event_error(&e));
    }
    Err(event_error(&err))
}

/// An `error` event's data: `{"type":"error","error":{...}}`, or (tolerated) the error
/// object itself; anything else is an upstream error without details.
pub(super) fn error_event(data: &str) -> Error {
    #[derive(Deserialize)]
    struct ErrorEventIn {
        error: Option<ErrorIn>,
        #[serde(rename = "type")]
        kind: Option<String>,
        message: Option<String>,
    }
    let error = match serde_json::from_str::<ErrorEventIn>(data) {
        Ok(ErrorEventIn {
            error: Some(error), ..
        }) => error,
        Ok(ErrorEventIn { kind, message, .. }) => ErrorIn {
            kind: kind.filter(|k| k != "error"),
            message,
        },
        Err(_) => ErrorIn::default(),
    };
    error.into_error()
}

fn event_error(e: &serde_json::Error) -> Error {
    match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid event: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent an event that is not valid JSON: {e}"
        )),
    }
}
