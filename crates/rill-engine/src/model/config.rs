//! Hyper-parameters of a llama-architecture model, read from the GGUF `llama.*` metadata.

use crate::{EngineError, Gguf};

/// The shape of a llama-architecture model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Number of token ids (rows of `token_embd.weight`).
    pub vocab_size: usize,
    /// Maximum number of positions a sequence may hold.
    pub context_length: usize,
    /// Width of the residual stream (`n_embd`).
    pub embedding_length: usize,
    /// Hidden width of the feed-forward network.
    pub feed_forward_length: usize,
    /// Number of transformer blocks.
    pub block_count: usize,
    /// Number of query heads.
    pub head_count: usize,
    /// Number of key/value heads (grouped-query attention when smaller than `head_count`).
    pub head_count_kv: usize,
    /// Width of one attention head (`embedding_length / head_count`).
    pub head_dim: usize,
    /// How many leading dimensions of each head RoPE rotates (`head_dim` for llama).
    pub rope_dim: usize,
    /// RoPE frequency base (theta).
    pub rope_freq_base: f32,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
}

impl ModelConfig {
    /// Reads the configuration of a `llama` GGUF.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self, EngineError> {
        let arch = gguf.str("general.architecture")?;
        if arch != "llama" {
            return Err(EngineError::Model(format!(
                "unsupported model architecture `{arch}` (only `llama` is supported)"
            )));
        }
        let get = |key: &str| -> Result<usize, EngineError> { Ok(gguf.u32(key)? as usize) };
        let embedding_length = get("llama.embedding_length")?;
        let head_count = get("llama.attention.head_count")?;
        let head_count_kv = if gguf.has("llama.attention.head_count_kv") {
            get("llama.attention.head_count_kv")?
        } else {
            head_count
        };
        if head_count == 0
            || head_count_kv == 0
            || !embedding_length.is_multiple_of(head_count)
            || !head_count.is_multiple_of(head_count_kv)
        {
            return Err(EngineError::Model(format!(
                "inconsistent attention shape: {embedding_length} wide, {head_count} heads, \
                 {head_count_kv} key/value heads"
            )));
        }
        let head_dim = embedding_length / head_count;
        let rope_dim = if gguf.has("llama.rope.dimension_count") {
            get("llama.rope.dimension_count")?
        } else {
            head_dim
        };
        if rope_dim > head_dim || !rope_dim.is_multiple_of(2) {
            return Err(EngineError::Model(format!(
                "RoPE dimension {rope_dim} does not fit heads of {head_dim}"
            )));
        }
        let vocab_size = if gguf.has("llama.vocab_size") {
            get("llama.vocab_size")?
        } else {
            gguf.array("tokenizer.ggml.tokens")?.len()
        };
        let rope_freq_base = if gguf.has("llama.rope.freq_base") {
            gguf.f32("llama.rope.freq_base")?
        } else {
            10_000.0
        };
        Ok(Self {
            vocab_size,
            context_length: get("llama.context_length")?,
            embedding_length,
            feed_forward_length: get("llama.feed_forward_length")?,
            block_count: get("llama.block_count")?,
            head_count,
            head_count_kv,
            head_dim,
            rope_dim,
            rope_freq_base,
            rms_eps: gguf.f32("llama.attention.layer_norm_rms_epsilon")?,
        })
    }

    /// Width of the keys (and of the values) of one position: `head_count_kv * head_dim`.
    pub fn kv_dim(&self) -> usize {
        self.head_count_kv * self.head_dim
    }
}
