//! The upstream dialects' stream decoders, behind one trait so that one loop
//! ([`crate::event_stream`]) reads every upstream's body.

use rill_core::{Error, StreamEvent};
use rill_wire::{anthropic, cohere, gemini, ollama, openai_chat, openai_responses};

/// Decodes an upstream's payloads (SSE events, NDJSON lines) into core events, one at a
/// time.
pub trait UpstreamDecoder: Send + 'static {
    /// Decodes one payload: an SSE event's name (`message` when it had no `event:` line)
    /// and its data, or an NDJSON line as the data with an empty name. `Err` is a malformed event; the stream then ends with it as an error event.
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error>;

    /// Whether the upstream's stream is over: nothing after this point is read.
    fn is_done(&self) -> bool;

    /// The body ended cleanly before the decoder was done: the events that end brings.
    /// Called once, and never after a transport or decoding error. Only a dialect whose
    /// stream ends with its connection (Gemini) has any; the others' end is an event, and
    /// a body that stops before it is cut off.
    fn end(&mut self) -> Vec<StreamEvent> {
        Vec::new()
    }
}

/// OpenAI Chat: the payloads of choice 0 (rill asks for one choice); the event name is
/// not part of the dialect.
impl UpstreamDecoder for openai_chat::ChunkDecoder {
    fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        let events = openai_chat::ChunkDecoder::decode(self, data)?;
        Ok(events
            .into_iter()
            .filter(|(choice, _)| *choice == 0)
            .map(|(_, event)| event)
            .collect())
    }

    fn is_done(&self) -> bool {
        openai_chat::ChunkDecoder::is_done(self)
    }
}

/// Anthropic Messages, which dispatches on the event name.
impl UpstreamDecoder for anthropic::EventDecoder {
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        anthropic::EventDecoder::decode(self, event, data)
    }

    fn is_done(&self) -> bool {
        anthropic::EventDecoder::is_done(self)
    }
}

/// Cohere v2 chat, which names each event after its data's `type`; its end is
/// `message-end`.
impl UpstreamDecoder for cohere::EventDecoder {
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        cohere::EventDecoder::decode(self, event, data)
    }

    fn is_done(&self) -> bool {
        cohere::EventDecoder::is_done(self)
    }
}

/// OpenAI Responses, whose event names repeat their data's `type`; its end is
/// `response.completed`, `response.incomplete` or `response.failed`.
impl UpstreamDecoder for openai_responses::EventDecoder {
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        openai_responses::EventDecoder::decode(self, event, data)
    }

    fn is_done(&self) -> bool {
        openai_responses::EventDecoder::is_done(self)
    }
}

/// Gemini: data-only, without an end-of-stream event; its end is the body's.
impl UpstreamDecoder for gemini::EventDecoder {
    fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        gemini::EventDecoder::decode(self, data)
    }

    fn is_done(&self) -> bool {
        gemini::EventDecoder::is_done(self)
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        gemini::EventDecoder::end(self)
    }
}

/// Ollama: one NDJSON line per call (the event name is empty); its end is `done: true`.
impl UpstreamDecoder for ollama::ChunkDecoder {
    fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<StreamEvent>, Error> {
        ollama::ChunkDecoder::decode(self, data)
    }

    fn is_done(&self) -> bool {
        ollama::ChunkDecoder::is_done(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode<D: UpstreamDecoder>(decoder: &mut D, event: &str, data: &str) -> Vec<StreamEvent> {
        UpstreamDecoder::decode(decoder, event, data).unwrap()
    }

    #[test]
    fn openai_keeps_choice_zero_and_ignores_the_event_name() {
        let mut decoder = openai_chat::ChunkDecoder::new();
        let chunk = r#"{"model":"m","choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"}}]}"#;
        assert_eq!(
            decode(&mut decoder, "anything", chunk),
            vec![
                StreamEvent::Start { model: "m".into() },
                StreamEvent::TextDelta("a".into())
            ]
        );
        assert!(!UpstreamDecoder::is_done(&decoder));
        assert!(decode(&mut decoder, "message", "[DONE]").is_empty());
        assert!(UpstreamDecoder::is_done(&decoder));
    }

    #[test]
    fn anthropic_dispatches_on_the_event_name() {
        let mut decoder = anthropic::EventDecoder::new();
        let error =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        // Data of an `error` type under another name is not an error event.
        assert!(decode(&mut decoder, "ping", error).is_empty());
        let events = decode(&mut decoder, "error", error);
        assert!(matches!(&events[..], [StreamEvent::Error(e)] if e.message == "Overloaded"));
        assert!(UpstreamDecoder::is_done(&decoder));
    }

    #[test]
    fn cohere_finishes_at_message_end() {
        let mut decoder = cohere::EventDecoder::new("command-a");
        let end = r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}"#;
        assert_eq!(
            decode(&mut decoder, "message-end", end),
            vec![
                StreamEvent::Start {
                    model: "command-a".into()
                },
                StreamEvent::Finish(rill_core::FinishReason::Stop)
            ]
        );
        assert!(UpstreamDecoder::is_done(&decoder));
    }

    #[test]
    fn gemini_finishes_only_at_the_end_of_the_body() {
        let mut decoder = gemini::EventDecoder::new();
        let chunk = r#"{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"g"}"#;
        assert_eq!(
            decode(&mut decoder, "message", chunk),
            vec![
                StreamEvent::Start { model: "g".into() },
                StreamEvent::TextDelta("a".into())
            ]
        );
        assert!(!UpstreamDecoder::is_done(&decoder));
        assert_eq!(
            UpstreamDecoder::end(&mut decoder),
            vec![StreamEvent::Finish(rill_core::FinishReason::Stop)]
        );
        assert!(UpstreamDecoder::is_done(&decoder));
    }

    #[test]
    fn the_other_dialects_bring_nothing_at_the_end() {
        assert!(UpstreamDecoder::end(&mut openai_chat::ChunkDecoder::new()).is_empty());
        assert!(UpstreamDecoder::end(&mut anthropic::EventDecoder::new()).is_empty());
        assert!(UpstreamDecoder::end(&mut ollama::ChunkDecoder::new()).is_empty());
        assert!(UpstreamDecoder::end(&mut cohere::EventDecoder::new("m")).is_empty());
    }
}
