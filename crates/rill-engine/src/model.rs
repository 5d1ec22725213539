//! The forward pass of a llama-architecture model, with a KV cache the caller owns.
//!
//! candle's `quantized_llama` keeps its KV cache private (and grows it by concatenation), so
//! prefix reuse across turns and batched decoding need this module's own forward code. The
//! matmuls run on the file's own quantized blocks with rill's VNNI kernels ([`quant`]; on
//! CPUs without VNNI, on candle's quantized matmuls); everything between them (norms, RoPE,
//! attention, SwiGLU) runs on plain slices, which on the decode path is cheaper than a candle
//! op per step.
//!
//! Every step is computed per row with the same operations in the same order, whether the row
//! is alone, in a batch or in a prompt (with rill's kernels; candle's give no such promise):
//! a sequence's numbers do not depend on what else the engine runs or on whether its prefix
//! came from the cache, so the same seed and request give the same answer under any load.

mod attention;
mod cache;
mod config;
mod ops;
mod quant;
mod weights;

use std::sync::Arc;

use candle_core::{Device, Tensor};

pub use cache::KvCache;
pub use config::ModelConfig;
use weights::Weights;

use crate::{EngineError, Gguf};

/// How to load a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Use candle's quantized matmuls even where rill's own kernels run (they need AVX-VNNI
    /// or AVX-512 VNNI): what other CPUs get, Q4_1 re-quantized to Q8_0. For comparisons and
    /// tests of that path.
    pub candle_matmul: bool,
}

/// A loaded model: immutable, `Send + Sync`, cheap to clone (the weights are shared).
/// Sequences are represented by [`KvCache`]s, one per sequence, owned by the caller.
#[derive(Clone)]
pub struct Model {
    config: Arc<ModelConfig>,
    weights: Arc<Weights>,
    inv_freqs: Arc<[f32]>,
}

/// One sequence's part of a forward pass.
struct Segment<'a, 'c> {
    tokens: &'a [u32],
    cache: &'a mut &'c mut KvCache,
}

impl Model {
    /// Loads a llama-architecture GGUF. Only the CPU device is supported: the code between
    /// the matmuls works on host memory. q/k/v and gate/up are fused into one matrix each.
    pub fn load(gguf: &Gguf, device: &Device) -> Result<Self, EngineError> {
        Self::load_with(gguf, device, &LoadOptions::default())
    }

    /// [`Model::load`] with options.
    pub fn load_with(
        gguf: &Gguf,
        device: &Device,
        options: &LoadOptions,
    ) -> Result<Self, EngineError> {
        if !device.is_cpu() {
            return Err(EngineError::Model(
                "the embedded model runs on the CPU only".to_owned(),
            ));
        }
        let config = ModelConfig::from_gguf(gguf)?;
        let weights = Weights::load(gguf, &config, device, options)?;
        let inv_freqs = ops::rope_inv_freqs(config.rope_dim, config.rope_freq_base).into();
        Ok(Self {
            config: Arc::new(config),
            weights: Arc::new(weights),
            inv_freqs,
        })
    }

    /// Whether a row's results are bit-identical however it is batched (alone, in a batch, in
    /// a prompt): true where rill's own kernels run the matmuls.
    pub fn batch_invariant(&self) -> bool {
        self.weights.batch_invariant()
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// An empty cache for one sequence.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.config.block_count, self.config.kv_dim())
    }

    /// Runs `tokens` as the continuation of what `cache` holds (positions `cache.len()..`),
    /// appends their keys and values to the cache and returns the logits (`vocab_size`
    /// values) of the last position. `tokens` may be a whole prompt (prefill) or one token
    /// (decode). Fails, leaving the cache as it was, if `tokens` is empty, holds an id out of
    /// the vocabulary or would exceed the context length.
    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<Vec<f32>, EngineError> {
        let mut cache = cache;
        let mut logits = self.run(vec![Segment {
            tokens,
            cache: &mut cache,
        }])?;
        logits
            .pop()
            .ok_or_else(|| EngineError::Model("no logits".to_owned()))
    }

    /// One decode step for several sequences at once: `tokens[i]` continues `caches[i]`.
    /// Returns the logits of each sequence. The matmuls run once over all sequences (the
    /// weights are read once per step, not once per sequence); attention is per sequence.
    pub fn forward_batch(
        &self,
        tokens: &[u32],
        caches: &mut [&mut KvCache],
    ) -> Result<Vec<Vec<f32>>, EngineError> {
        if tokens.len() != caches.len() {
            return Err(EngineError::Model(format!(
                "forward_batch got {} tokens for {} caches",
                tokens.len(),
                caches.len()
            )));
        }
        let segments = tokens
            .chunks(1)
            .zip(caches.iter_mut())
            .map(|(tokens, cache)| Segment { tokens, cache })
            .collect();
        self.run(segments)
    }

    fn validate(&self, segments: &[Segment<'_, '_>]) -> Result<(), EngineError> {
        let config = &*self.config;
        for segment in segments {
            if segment.tokens.is_empty() {
                return Err(EngineError::Model("no tokens to run".to_owned()));
            }
            if let Some(&bad) = segment
                .tokens
                .iter()
                .find(|&&t| t as usize >= config.vocab_size)
            {
                return Err(EngineError::Model(format!(
                    "token id {bad} is out of the vocabulary ({} ids)",
                    config.vocab_size
                )));
            }
            let cache = &**segment.cache;
            if cache.layers() != config.block_count || cache.kv_dim != config.kv_dim() {
                return Err(EngineError::Model(
                    "the KV cache belongs to another model".to_owned(),
                ));
            }
            let total = cache.len() + segment.tokens.len();
            if total > config.context_length {
                return Err(EngineError::Model(format!(
                    "context length exceeded: {} positions held + {} new > {}",
                    cache.len(),
                    segment.tokens.len(),
                    config.context_length
                )));
            }
        }
        Ok(())
    }

    fn run(&self, mut segments: Vec<Segment<'_, '_>>) -> Result<Vec<Vec<f32>>, EngineError> {
        self.validate(&segments)?;
        for segment in segments.iter_mut() {
            segment.cache.reserve(segment.tokens.len());
        }
        let result = self.run_layers(&mut segments);
        for segment in segments.iter_mut() {
            match result {
                Ok(_) => segment.cache.commit(segment.tokens.len()),
                // Layers already done appended keys and values: drop them.
                Err(_) => segment.cache.trim_layers(),
            }
        }
        result
    }

    fn run_layers(&self, segments: &mut [Segment<'_, '_>]) -> Result<Vec<Vec<f32>>, EngineError> {
        let config = &*self.config;
        let weights = &*self.weights;
        let dim = config.embedding_length;
        let kv_dim = config.kv_dim();
        let head_dim = config.head_dim;
        let half_rope = config.rope_dim / 2;

        // Rows of the batch: (segment, position) of each token.
        let rows: Vec<(usize, usize)> = segments
            .iter()
            .enumerate()
            .flat_map(|(s, segment)| {
                let start = segment.cache.len();
                (start..start + segment.tokens.len()).map(move |p| (s, p))
            })
            .collect();
        let m = rows.len();
        let ids: Vec<u32> = segments
            .iter()
            .flat_map(|s| s.tokens.iter().copied())
            .collect();
        let ids = Tensor::from_vec(ids, m, &Device::Cpu)?;
        let mut x: Vec<f32> = weights
            .token_embd
            .embedding(&ids)?
            .flatten_all()?
            .to_vec1()?;

        let mut cos = vec![0f32; m * half_rope];
        let mut sin = vec![0f32; m * half_rope];
        for (row, &(_, position)) in rows.iter().enumerate() {
            let range = row * half_rope..(row + 1) * half_rope;
            ops::rope_angles(
                position,
                &self.inv_freqs,
                &mut cos[range.clone()],
                &mut sin[range],
            );
        }

        let mut normed = vec![0f32; m * dim];
        let mut attn = vec![0f32; m * dim];
        let mut hidden = vec![0f32; m * config.feed_forward_length];
        let qkv_width = dim + 2 * kv_dim;
        for (l, layer) in weights.layers.iter().enumerate() {
            for (x, out) in x.chunks_exact(dim).zip(normed.chunks_exact_mut(dim)) {
                ops::rms_norm(x, &layer.attn_norm, config.rms_eps, out);
            }
            let mut qkv = layer.qkv.forward(&normed, m)?;
            for (row, values) in qkv.chunks_exact_mut(qkv_width).enumerate() {
                let cos = &cos[row * half_rope..(row + 1) * half_rope];
                let sin = &sin[row * half_rope..(row + 1) * half_rope];
                // q heads then k heads: both get RoPE.
                for head in values[..dim + kv_dim].chunks_exact_mut(head_dim) {
                    ops::rope(&mut head[..2 * half_rope], cos, sin);
                }
            }
            for (values, &(s, _)) in qkv.chunks_exact(qkv_width).zip(&rows) {
                let cache = &mut *segments[s].cache;
                cache.keys[l].extend_from_slice(&values[dim..dim + kv_dim]);
                cache.values[l].extend_from_slice(&values[dim + kv_dim..]);
            }
            let layer_caches: Vec<(&[f32], &[f32])> = segments
                .iter()
                .map(|s| (s.cache.keys[l].as_slice(), s.cache.values[l].as_slice()))
                .collect();
            attention::attend(config, &qkv, qkv_width, &rows, &layer_caches, &mut attn);
            let projected = layer.attn_output.forward(&attn, m)?;
            for (x, p) in x.iter_mut().zip(&projected) {
                *x += p;
            }

            for (x, out) in x.chunks_exact(dim).zip(normed.chunks_exact_mut(dim)) {
                ops::rms_norm(x, &layer.ffn_norm, config.rms_eps, out);
            }
            let gate_up = layer.gate_up.forward(&normed, m)?;
            let ffn = config.feed_forward_length;
            for (values, out) in gate_up
                .chunks_exact(2 * ffn)
                .zip(hidden.chunks_exact_mut(ffn))
            {
                let (gate, up) = values.split_at(ffn);
                ops::silu_mul(gate, up, out);
            }
            let down = layer.down.forward(&hidden, m)?;
            for (x, d) in x.iter_mut().zip(&down) {
                *x += d;
            }
        }

        // Only the last position of each segment needs logits.
        let mut last = Vec::with_capacity(segments.len() * dim);
        let mut end = 0;
        for segment in segments.iter() {
            end += segment.tokens.len();
            let row = &x[(end - 1) * dim..end * dim];
            let start = last.len();
            last.resize(start + dim, 0.0);
            ops::rms_norm(
                row,
                &weights.output_norm,
                config.rms_eps,
                &mut last[start..],
            );
        }
        let logits = weights.output.forward(&last, segments.len())?;
        Ok(logits
            .chunks_exact(config.vocab_size)
            .map(<[f32]>::to_vec)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_cache_are_thread_safe() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Model>();
        send::<KvCache>();
    }
}
