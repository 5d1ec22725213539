//! OpenAI Chat Completions as a client dialect the server serves.

use rill_core::{ChatRequest, Completion, Error};

use super::{StreamEncoder, completion_body, error_body, parse_request};
use crate::{Answer, ClientDialect, Dialect};

/// `POST /v1/chat/completions`.
pub struct OpenAiChat;

/// What a Chat Completions request asks besides the core request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub stream: bool,
    /// `stream_options.include_usage`: a final usage chunk.
    pub include_usage: bool,
}

impl ClientDialect for OpenAiChat {
    const DIALECT: Dialect = Dialect {
        name: "openai-chat",
        error_body,
        error_content_type: "application/json",
    };
    const ID_PREFIX: &'static str = "chatcmpl-";

    type Options = Options;
    type Encoder = StreamEncoder;

    fn parse(body: &[u8]) -> Result<(ChatRequest, Options), Error> {
        let parsed = parse_request(body)?;
        let options = Options {
            stream: parsed.stream,
            include_usage: parsed.include_usage,
        };
        Ok((parsed.request, options))
    }

    fn streams(options: &Options) -> bool {
        options.stream
    }

    fn encoder(answer: &Answer, options: &Options) -> StreamEncoder {
        let Answer { id, model, created } = answer.clone();
        StreamEncoder::new(id, model, created, options.include_usage)
    }

    fn body(answer: &Answer, _: &Options, completion: &Completion) -> Option<String> {
        Some(completion_body(
            &answer.id,
            &answer.model,
            answer.created,
            completion,
        ))
    }
}
