//! Loading the weights of a llama GGUF.

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{Device, Module, Tensor};

use super::config::ModelConfig;
use crate::{EngineError, Gguf};

/// A linear layer `y = x W^T`, possibly several weight matrices with the same input fused
/// into one (q/k/v, gate/up): one matmul call (one quantization of `x`, one parallel region)
/// instead of three or two. Matrices whose dtypes differ stay separate parts.
pub(crate) struct Linear {
    parts: Vec<(QMatMul, usize)>,
    inputs: usize,
    /// Inputs of the stored matrices: `inputs` rounded up to a multiple of 256 with zero
    /// columns when that lets candle use its repacked AVX-512 VNNI Q8_0 kernel.
    padded: usize,
    outputs: usize,
}

impl Linear {
    /// `x` is `m` rows of `inputs` values; returns `m` rows of `outputs` values.
    pub(crate) fn forward(&self, x: &[f32], m: usize) -> Result<Vec<f32>, EngineError> {
        let x = if self.padded == self.inputs {
            Tensor::from_slice(x, (m, self.inputs), &Device::Cpu)?
        } else {
            let mut padded = vec![0f32; m * self.padded];
            for (row, out) in x
                .chunks_exact(self.inputs)
                .zip(padded.chunks_exact_mut(self.padded))
            {
                out[..self.inputs].copy_from_slice(row);
            }
            Tensor::from_vec(padded, (m, self.padded), &Device::Cpu)?
        };
        if let [(matmul, _)] = self.parts.as_slice() {
            return Ok(matmul.forward(&x)?.flatten_all()?.to_vec1()?);
        }
        let mut out = vec![0f32; m * self.outputs];
        let mut column = 0;
        for (matmul, n) in &self.parts {
            let part: Vec<f32> = matmul.forward(&x)?.flatten_all()?.to_vec1()?;
            for (row, values) in part.chunks_exact(*n).enumerate() {
                let start = row * self.outputs + column;
                out[start..start + n].copy_from_slice(values);
            }
            column += n;
        }
        Ok(out)
    }

    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }
}

/// The weights of one transformer block.
pub(crate) struct Layer {
    pub(crate) attn_norm: Vec<f32>,
    /// q, k and v projections, outputs in that order.
    pub(crate) qkv: Linear,
    pub(crate) attn_output: Linear,
    pub(crate) ffn_norm: Vec<f32>,
    /// gate and up projections, outputs in that order.
    pub(crate) gate_up: Linear,
    pub(crate) down: Linear,
}

/// All the weights.
pub(crate) struct Weights {
    pub(crate) token_embd: Arc<QTensor>,
    pub(crate) layers: Vec<Layer>,
    pub(crate) output_norm: Vec<f32>,
    pub(crate) output: Linear,
}

struct Loader<'a> {
    gguf: &'a Gguf,
    reader: BufReader<File>,
    device: &'a Device,
    /// Whether re-quantized matrices get zero input columns up to a multiple of [`PAD_TO`].
    pad_inputs: bool,
}

/// candle's repacked Q8_0 kernels (AVX-512 VNNI / AVX-VNNI) take matrices whose inputs are a
/// multiple of 256 (one Q8_K activation block). SmolLM2's 576-wide matrices are not, and fall
/// back to the generic Q8_0 dot product, which on this kind of machine is ~4x slower for the
/// prefill (it converts each block's f16 scale through a function call) and ~20% slower for
/// decode. Padding them to 768 with zero columns costs a third more weight bytes per token but
/// wins both ways (measured: time to first token 320 -> 70 ms, decode 57 -> 80 tok/s). The
/// price is accuracy: those kernels quantize activations per 256 values (Q8_K) instead of
/// per 32 (Q8_0), which moved SmolLM2's logits about twice as far from the f32 reference as
/// llama.cpp's. Hence opt-in ([`super::LoadOptions::vnni_padding`]).
const PAD_TO: usize = 256;

/// Whether candle 0.11 runs Q8_0 matmuls on its repacked VNNI kernels on this CPU (mirrors
/// `candle_core::quantized::repack_x86::select`, which is private).
fn vnni_q8_0() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        (std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vnni"))
            || (std::is_x86_feature_detected!("avxvnni") && std::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Loader<'_> {
    fn raw(&mut self, name: &str) -> Result<QTensor, EngineError> {
        Ok(self
            .gguf
            .content()
            .tensor(&mut self.reader, name, self.device)?)
    }

    /// Reads a weight matrix. Q4_1 is re-quantized to Q8_0: candle 0.11's Q4_1 dot product
    /// is a scalar loop (~16 tok/s on SmolLM2-135M) while Q8_0 has runtime-dispatched SIMD
    /// (AVX2, AVX-512 VNNI) kernels (~4x faster). Q8_0 keeps Q4_1's values to within its
    /// 8-bit step, unlike Q4_0, which visibly degraded the text. Other dtypes are kept.
    fn matrix(&mut self, name: &str) -> Result<QTensor, EngineError> {
        let tensor = self.raw(name)?;
        if tensor.dtype() != GgmlDType::Q4_1 {
            return Ok(tensor);
        }
        let mut values = tensor.dequantize(self.device)?;
        let (_, k) = values.dims2()?;
        if self.pad_inputs && !k.is_multiple_of(PAD_TO) {
            values = values.pad_with_zeros(1, 0, k.next_multiple_of(PAD_TO) - k)?;
        }
        Ok(QTensor::quantize(&values, GgmlDType::Q8_0)?)
    }

    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>, EngineError> {
        let values: Vec<f32> = self
            .raw(name)?
            .dequantize(self.device)?
            .flatten_all()?
            .to_vec1()?;
        if values.len() != len {
            return Err(EngineError::Model(format!(
                "tensor `{name}` has {} values, expected {len}",
                values.len()
            )));
        }
        Ok(values)
    }

    /// Loads matrices sharing one input, fused into one when their dtypes allow it.
    fn linear(&mut self, names: &[String], inputs: usize) -> Result<Linear, EngineError> {
        let mut tensors = Vec::with_capacity(names.len());
        for name in names {
            let tensor = self.matrix(name)?;
            let (n, k) = tensor.shape().dims2()?;
            if k != inputs && k != inputs.next_multiple_of(PAD_TO) {
                return Err(EngineError::Model(format!(
                    "tensor `{name}` takes {k} inputs, expected {inputs}"
                )));
            }
            tensors.push((tensor, n));
        }
        let outputs = tensors.iter().map(|(_, n)| n).sum();
        let padded = tensors
            .first()
            .map_or(Ok(inputs), |(t, _)| t.shape().dims2().map(|(_, k)| k))?;
        if tensors
            .iter()
            .any(|(t, _)| t.shape().dims2().map(|(_, k)| k).ok() != Some(padded))
        {
            return Err(EngineError::Model(format!(
                "tensors {names:?} differ in inputs"
            )));
        }
        let dtype = tensors.first().map(|(t, _)| t.dtype());
        let fusable = tensors.len() > 1
            && tensors.iter().all(|(t, _)| Some(t.dtype()) == dtype)
            && !matches!(
                dtype,
                Some(GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16)
            );
        let parts = match dtype {
            // Quantized rows are whole blocks, so stacking matrices is stacking their bytes.
            Some(dtype) if fusable => {
                let mut bytes = Vec::new();
                for (tensor, _) in &tensors {
                    bytes.extend_from_slice(&tensor.data()?);
                }
                let storage = QStorage::from_data(Cow::Owned(bytes), self.device, dtype)?;
                let fused = QTensor::new(storage, (outputs, padded))?;
                vec![(QMatMul::from_qtensor(fused)?, outputs)]
            }
            _ => tensors
                .into_iter()
                .map(|(t, n)| Ok((QMatMul::from_qtensor(t)?, n)))
                .collect::<Result<_, EngineError>>()?,
        };
        Ok(Linear {
            parts,
            inputs,
            padded,
            outputs,
        })
    }
}

impl Weights {
    pub(crate) fn load(
        gguf: &Gguf,
        config: &ModelConfig,
        device: &Device,
        options: &super::LoadOptions,
    ) -> Result<Self, EngineError> {
        let mut loader = Loader {
            gguf,
            reader: gguf.reader()?,
            device,
            pad_inputs: options.vnni_padding && device.is_cpu() && vnni_q8_0(),
        };
        let dim = config.embedding_length;
        // The embeddings are also looked up by row: never padded.
        let pad_inputs = std::mem::replace(&mut loader.pad_inputs, false);
        let token_embd = loader.matrix("token_embd.weight")?;
        loader.pad_inputs = pad_inputs;
        let (vocab, width) = token_embd.shape().dims2()?;
        if vocab != config.vocab_size || width != dim {
            return Err(EngineError::Model(format!(
                "token_embd.weight is {vocab}x{width}, expected {}x{dim}",
                config.vocab_size
            )));
        }
        let token_embd = Arc::new(token_embd);
        let mut layers = Vec::with_capacity(config.block_count);
        for i in 0..config.block_count {
            let name = |suffix: &str| format!("blk.{i}.{suffix}.weight");
            let layer = Layer {
                attn_norm: loader.vector(&name("attn_norm"), dim)?,
                qkv: loader.linear(&[name("attn_q"), name("attn_k"), name("attn_v")], dim)?,
                attn_output: loader.linear(&[name("attn_output")], dim)?,
                ffn_norm: loader.vector(&name("ffn_norm"), dim)?,
                gate_up: loader.linear(&[name("ffn_gate"), name("ffn_up")], dim)?,
                down: loader.linear(&[name("ffn_down")], config.feed_forward_length)?,
            };
            let expected = [
                (layer.qkv.outputs(), dim + 2 * config.kv_dim()),
                (layer.attn_output.outputs(), dim),
                (layer.gate_up.outputs(), 2 * config.feed_forward_length),
                (layer.down.outputs(), dim),
            ];
            if expected.iter().any(|(got, want)| got != want) {
                return Err(EngineError::Model(format!(
                    "block {i} has projections of unexpected sizes"
                )));
            }
            layers.push(layer);
        }
        let output_norm = loader.vector("output_norm.weight", dim)?;
        // Tied embeddings: without `output.weight`, the token embeddings are the output layer.
        let output = if gguf.content().tensor_infos.contains_key("output.weight") {
            loader.linear(&["output.weight".to_owned()], dim)?
        } else {
            Linear {
                parts: vec![(QMatMul::from_arc(token_embd.clone())?, config.vocab_size)],
                inputs: dim,
                padded: dim,
                outputs: config.vocab_size,
            }
        };
        if output.outputs() != config.vocab_size {
            return Err(EngineError::Model(
                "output.weight does not cover the vocabulary".into(),
            ));
        }
        Ok(Self {
            token_embd,
            layers,
            output_norm,
            output,
        })
    }
}
