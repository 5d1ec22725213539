//! The AI SDK UI message stream as a client dialect the server serves.

use rill_core::{ChatRequest, Completion, Error};

use super::{ERROR_CONTENT_TYPE, STREAM_HEADER, StreamEncoder, error_body, parse_request};
use crate::{Answer, ClientDialect, Dialect};

/// `POST /api/chat`, what `useChat` calls.
pub struct VercelUi;

/// What a `useChat` request asks besides the core request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The assistant message the answer continues, if any.
    pub continues: Option<String>,
}

impl ClientDialect for VercelUi {
    const DIALECT: Dialect = Dialect {
        name: "vercel-ui",
        error_body,
        error_content_type: ERROR_CONTENT_TYPE,
    };
    const ID_PREFIX: &'static str = "msg-";
    const STREAM_HEADERS: &'static [(&'static str, &'static str)] = &[STREAM_HEADER];

    type Options = Options;
    type Encoder = StreamEncoder;

    fn parse(body: &[u8]) -> Result<(ChatRequest, Options), Error> {
        let parsed = parse_request(body)?;
        let options = Options {
            continues: parsed.continues,
        };
        Ok((parsed.request, options))
    }

    /// Always: the UI message stream has no other form.
    fn streams(_: &Options) -> bool {
        true
    }

    fn encoder(answer: &Answer, options: &Options) -> StreamEncoder {
        StreamEncoder::new(answer.id.clone(), options.continues.clone())
    }

    /// None: the protocol has no non-streaming form.
    fn body(_: &Answer, _: &Options, _: &Completion) -> Option<String> {
        None
    }
}
