//! Finding the model the tests run, and running whole generations.

use std::path::PathBuf;
use std::sync::OnceLock;

use futures_util::StreamExt;
use rill_core::{ChatRequest, Message, Provider, Sampling, StreamEvent};
use rill_engine::{Engine, RuntimeConfig};

pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// `RILL_MODEL`, else `$RILL_CACHE_DIR/models/…`, else `$XDG_CACHE_HOME/rill/models/…`,
/// else `~/.cache/rill/models/…`. Absent: the test fails and says how to get it.
pub fn model_path() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let path = var("RILL_MODEL").unwrap_or_else(|| {
        let cache = var("RILL_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|dir| dir.join("rill")))
            .or_else(|| var("HOME").map(|home| home.join(".cache").join("rill")))
            .unwrap_or_else(|| PathBuf::from(".cache/rill"));
        cache.join("models").join(MODEL_FILE)
    });
    assert!(
        path.is_file(),
        "the model file `{}` is missing\nhint: run `cargo run -- fetch` (or `rill serve`, which fetches it on first run), \
         or point `RILL_MODEL` at a copy",
        path.display()
    );
    path
}

/// One engine shared by the tests that do not need their own limits.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(&model_path(), "smollm2", RuntimeConfig::default()).expect("load the model")
    })
}

pub fn ask(messages: Vec<Message>, sampling: Sampling) -> ChatRequest {
    ChatRequest {
        model: "smollm2".into(),
        messages,
        sampling,
        ..ChatRequest::default()
    }
}

pub fn user(text: &str) -> Vec<Message> {
    vec![Message::User { text: text.into() }]
}

pub fn greedy(max_tokens: u32) -> Sampling {
    Sampling {
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        ..Sampling::default()
    }
}

/// Runs a request to the end and returns its events.
pub async fn run(engine: &Engine, request: ChatRequest) -> Vec<StreamEvent> {
    engine
        .start(request)
        .await
        .expect("request accepted")
        .collect()
        .await
}

pub fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The usage a finished generation reported.
pub fn usage(events: &[StreamEvent]) -> rill_core::Usage {
    events
        .iter()
        .find_map(|e| {
            if let StreamEvent::Usage(u) = e {
                Some(*u)
            } else {
                None
            }
        })
        .expect("the generation reported its usage")
}
