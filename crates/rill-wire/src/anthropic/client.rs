//! Anthropic Messages as a client dialect the server serves.

use rill_core::{ChatRequest, Completion, Error};

use super::{StreamEncoder, error_body, message_body, parse_request};
use crate::{Answer, ClientDialect, Dialect};

/// `POST /v1/messages`.
pub struct AnthropicMessages;

/// What a Messages request asks besides the core request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub stream: bool,
    /// Extended thinking was turned on: reasoning text is shown.
    pub thinking: bool,
}

impl ClientDialect for AnthropicMessages {
    const DIALECT: Dialect = Dialect {
        name: "anthropic-messages",
        error_body,
        error_content_type: "application/json",
    };
    const ID_PREFIX: &'static str = "msg_";

    type Options = Options;
    type Encoder = StreamEncoder;

    fn parse(body: &[u8]) -> Result<(ChatRequest, Options), Error> {
        let parsed = parse_request(body)?;
        let options = Options {
            stream: parsed.stream,
            thinking: parsed.thinking,
        };
        Ok((parsed.request, options))
    }

    fn streams(options: &Options) -> bool {
        options.stream
    }

    fn encoder(answer: &Answer, options: &Options) -> StreamEncoder {
        StreamEncoder::new(answer.id.clone(), answer.model.clone(), options.thinking)
    }

    fn body(answer: &Answer, options: &Options, completion: &Completion) -> Option<String> {
        Some(message_body(
            &answer.id,
            &answer.model,
            completion,
            options.thinking,
        ))
    }
}
