//! The deserialise-side types of a Cohere v2 chat stream's events.
//!
//! Tagged by `type`, with a catch-all: a new event type (or `citation-start` and
//! `citation-end`, which rill ignores) is never an error. Every field may be missing or
//! `null`, and members rill does not read are ignored.

use rill_core::{Error, Usage};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::{Number, Value};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(super) enum EventIn {
    /// Its `delta.message` is an empty message (`content: []`, `tool_calls: []`): not
    /// read.
    MessageStart {},
    ContentStart {
        delta: Option<DeltaIn>,
    },
    ContentDelta {
        delta: Option<DeltaIn>,
    },
    ToolPlanDelta {
        delta: Option<DeltaIn>,
    },
    ToolCallStart {
        index: Option<u32>,
        delta: Option<DeltaIn>,
    },
    ToolCallDelta {
        index: Option<u32>,
        delta: Option<DeltaIn>,
    },
    ToolCallEnd {
        index: Option<u32>,
    },
    MessageEnd {
        delta: Option<EndDeltaIn>,
    },
    /// `content-end`, `citation-start`, `citation-end`, and whatever comes next.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
pub(super) struct DeltaIn {
    pub message: Option<DeltaMessageIn>,
}

#[derive(Deserialize)]
pub(super) struct DeltaMessageIn {
    pub content: Option<ContentIn>,
    pub tool_plan: Option<String>,
    pub tool_calls: Option<ToolCallIn>,
}

/// A content block's piece: `text` for an answer, `thinking` for a reasoning model's
/// thoughts.
#[derive(Deserialize)]
pub(super) struct ContentIn {
    pub text: Option<String>,
    pub thinking: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ToolCallIn {
    pub id: Option<String>,
    pub function: Option<FunctionIn>,
}

#[derive(Deserialize)]
pub(super) struct FunctionIn {
    pub name: Option<String>,
    pub arguments: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct EndDeltaIn {
    pub finish_reason: Option<String>,
    pub error: Option<String>,
    pub usage: Option<UsageIn>,
}

#[derive(Deserialize)]
pub(super) struct UsageIn {
    pub billed_units: Option<CountsIn>,
    pub tokens: Option<CountsIn>,
}

/// Cohere's counts are numbers that its SDKs read as floats: `12` and `12.0` are both
/// taken.
#[derive(Deserialize, Default)]
pub(super) struct CountsIn {
    pub input_tokens: Option<Number>,
    pub output_tokens: Option<Number>,
}

impl UsageIn {
    /// The model's own token counts (`tokens`, the prompt template's tokens included),
    /// each falling back to the billed count when it is missing; `None` when neither has
    /// any count.
    pub(super) fn core(&self) -> Option<Usage> {
        let tokens = self.tokens.as_ref();
        let billed = self.billed_units.as_ref();
        let pick = |field: fn(&CountsIn) -> &Option<Number>| {
            tokens
                .and_then(|c| count(field(c).as_ref()))
                .or_else(|| billed.and_then(|c| count(field(c).as_ref())))
        };
        let input = pick(|c| &c.input_tokens);
        let output = pick(|c| &c.output_tokens);
        if input.is_none() && output.is_none() {
            return None;
        }
        Some(Usage {
            input_tokens: input.unwrap_or_default(),
            output_tokens: output.unwrap_or_default(),
            reasoning_tokens: None,
            cached_input_tokens: None,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        })
    }
}

/// A non-negative count, a float's fraction dropped.
fn count(number: Option<&Number>) -> Option<u64> {
    let number = number?;
    number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// Parses an event's data. Data without a `type` takes the event name.
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

fn event_error(e: &serde_json::Error) -> Error {
    match e.classify() {
        Category::Data => Error::upstream(format!("the upstream sent an invalid event: {e}")),
        _ => Error::upstream(format!(
            "the upstream sent an event that is not valid JSON: {e}"
        )),
    }
}
