//! OpenAI Responses as a client dialect the server serves, with its own resume form.

use rill_core::{ChatRequest, Completion, Error};

use super::{Echo, StreamEncoder, error_body, parse_request, response_body};
use crate::query::Query;
use crate::{Answer, ClientDialect, Dialect, Resume};

/// `POST /v1/responses`, resumed with `GET /v1/responses/{id}?stream=true&starting_after=N`.
pub struct OpenAiResponses;

/// What a Responses request asks besides the core request.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub stream: bool,
    /// What every Response object repeats of the request.
    pub echo: Echo,
}

impl ClientDialect for OpenAiResponses {
    const DIALECT: Dialect = Dialect {
        name: "openai-responses",
        error_body,
        error_content_type: "application/json",
    };
    const ID_PREFIX: &'static str = "resp_";
    const RESUME: Option<Resume> = Some(Resume {
        path: "/v1/responses/{id}",
        after: resume_after,
    });

    type Options = Options;
    type Encoder = StreamEncoder;

    fn parse(body: &[u8]) -> Result<(ChatRequest, Options), Error> {
        let parsed = parse_request(body)?;
        let options = Options {
            stream: parsed.stream,
            echo: parsed.echo,
        };
        Ok((parsed.request, options))
    }

    fn streams(options: &Options) -> bool {
        options.stream
    }

    fn encoder(answer: &Answer, options: &Options) -> StreamEncoder {
        let Answer { id, model, created } = answer.clone();
        StreamEncoder::new(id, model, created, options.echo.clone())
    }

    fn body(answer: &Answer, options: &Options, completion: &Completion) -> Option<String> {
        Some(response_body(
            &answer.id,
            &answer.model,
            answer.created,
            &options.echo,
            completion,
        ))
    }
}

/// `?stream=true&starting_after=N`: the events after sequence number `N` (rill's frame
/// numbers). rill keeps no responses, so only the streaming form exists.
fn resume_after(query: Option<&str>) -> Result<Option<u64>, Error> {
    let query = Query::parse(query, &["stream", "starting_after"])?;
    if query.boolean("stream")? != Some(true) {
        return Err(Error::invalid_request(
            "rill keeps no responses: only `stream=true` resumes a response's stream",
        )
        .with_param("stream"));
    }
    query.frame("starting_after")
}
