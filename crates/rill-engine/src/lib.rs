//! rill's embedded inference engine.
//!
//! Runs GGUF llama-architecture models (SmolLM2-135M-Instruct by default) on candle, on
//! the CPU. The engine owns its forward code and KV cache (candle's model code hides the
//! cache, which prefix reuse and batching need), and builds its tokenizer from the GGUF
//! metadata itself (candle's helper gets SmolLM2's pre-tokenizer wrong). The matmuls run
//! the file's own Q4_1/Q8_0 blocks on rill's VNNI kernels (`model::quant`), which are
//! batch-invariant: a sequence's numbers do not depend on what it is batched with.

mod detok;
mod error;
pub mod gguf;
pub mod model;
mod prefix;
mod provider;
mod runtime;
mod sampler;
mod stop;
mod template;
pub mod tokenizer;

pub use detok::Utf8Stream;
pub use error::EngineError;
pub use gguf::Gguf;
pub use model::{KvCache, LoadOptions, Model, ModelConfig};
pub use provider::Engine;
pub use runtime::{EngineStats, RuntimeConfig};
pub use sampler::{Sampler, SamplerConfig};
pub use stop::{StopMatcher, StopScan};
pub use template::ChatTemplate;
pub use tokenizer::Tokenizer;
