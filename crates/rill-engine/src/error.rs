//! Engine errors.

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid GGUF file: {0}")]
    Gguf(String),
    #[error("the GGUF file has no `{0}` metadata")]
    MissingMetadata(String),
    #[error("the GGUF metadata `{key}` is not {expected}")]
    BadMetadata { key: String, expected: &'static str },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("chat template: {0}")]
    Template(String),
    #[error("model: {0}")]
    Model(String),
}

impl From<candle_core::Error> for EngineError {
    fn from(error: candle_core::Error) -> Self {
        Self::Model(error.to_string())
    }
}
