//! Loading the weights of a llama GGUF.

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{Device, Module, Tensor};

use super::config::ModelConfig;
use super::quant::{Activations, Format, QuantMatrix};
use crate::{EngineError, Gguf};

/// A linear layer `y = x W^T`, possibly several weight matrices with the same input fused
/// into one (q/k/v, gate/up): one matmul call (one quantization of `x`, one parallel region)
/// instead of three or two.
pub(crate) struct Linear {
    kernel: Kernel,
    inputs: usize,
    outputs: usize,
}

/// How a layer multiplies.
enum Kernel {
    /// rill's kernels on the file's own blocks ([`QuantMatrix`]), where the CPU has VNNI.
    Blocks(QuantMatrix),
    /// candle's quantized matmul, one part per run of matrices of one dtype, each with its
    /// number of outputs.
    Candle(Vec<(QMatMul, usize)>),
}

impl Linear {
    /// `x` is `m` rows of `inputs` values; returns `m` rows of `outputs` values.
    pub(crate) fn forward(&self, x: &[f32], m: usize) -> Result<Vec<f32>, EngineError> {
        let parts = match &self.kernel {
            Kernel::Blocks(matrix) => {
                return Ok(matrix.matmul(&Activations::quantize(x, self.inputs)));
            }
            Kernel::Candle(parts) => parts,
        };
        let x = Tensor::from_slice(x, (m, self.inputs), &Device::Cpu)?;
        if let [(matmul, _)] = parts.as_slice() {
            return Ok(matmul.forward(&x)?.flatten_all()?.to_vec1()?);
        }
        let mut out = vec![0f32; m * self.outputs];
        let mut column = 0;
        for (matmul, n) in parts {
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

    fn batch_invariant(&self) -> bool {
        matches!(self.kernel, Kernel::Blocks(_))
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
    pub(crate) token_embd: QTensor,
    pub(crate) layers: Vec<Layer>,
    pub(crate) output_norm: Vec<f32>,
    pub(crate) output: Linear,
}

struct Loader<'a> {
    gguf: &'a Gguf,
    reader: BufReader<File>,
    device: &'a Device,
    /// Whether matrices run on [`QuantMatrix`]'s kernels (else candle's).
    blocks: bool,
}

impl Loader<'_> {
    fn raw(&mut self, name: &str) -> Result<QTensor, EngineError> {
        Ok(self
            .gguf
            .content()
            .tensor(&mut self.reader, name, self.device)?)
    }

    /// A weight matrix for candle's quantized matmul. Q4_1 is re-quantized to Q8_0: candle
    /// 0.11's Q4_1 dot product is a scalar loop (~16 tok/s on SmolLM2-135M) while Q8_0 has
    /// SIMD kernels (~4x faster). Q8_0 keeps Q4_1's values to within its 8-bit step, unlike
    /// Q4_0, which visibly degraded the text. Other dtypes are kept.
    fn for_candle(&self, tensor: QTensor) -> Result<QTensor, EngineError> {
        if tensor.dtype() != GgmlDType::Q4_1 {
            return Ok(tensor);
        }
        Ok(QTensor::quantize(
            &tensor.dequantize(self.device)?,
            GgmlDType::Q8_0,
        )?)
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

    /// Loads matrices sharing one input, fused into one: the file's own blocks for rill's
    /// kernels, or candle's matmul where those do not run.
    fn linear(&mut self, names: &[String], inputs: usize) -> Result<Linear, EngineError> {
        let mut tensors = Vec::with_capacity(names.len());
        for name in names {
            let tensor = self.raw(name)?;
            let (n, k) = tensor.shape().dims2()?;
            if k != inputs {
                return Err(EngineError::Model(format!(
                    "tensor `{name}` takes {k} inputs, expected {inputs}"
                )));
            }
            tensors.push((tensor, n));
        }
        let outputs = tensors.iter().map(|(_, n)| n).sum();
        let format = tensors.first().and_then(|(t, _)| Format::of(t.dtype()));
        let same = tensors.iter().all(|(t, _)| Format::of(t.dtype()) == format);
        let kernel = match format {
            Some(format) if self.blocks && same => {
                let mut bytes = Vec::new();
                for (tensor, _) in &tensors {
                    bytes.extend_from_slice(&tensor.data()?);
                }
                Kernel::Blocks(QuantMatrix::new(format, outputs, inputs, bytes).ok_or_else(
                    || EngineError::Model(format!("tensors {names:?} are not whole blocks")),
                )?)
            }
            _ => {
                let tensors = tensors
                    .into_iter()
                    .map(|(t, n)| Ok((self.for_candle(t)?, n)))
                    .collect::<Result<Vec<_>, EngineError>>()?;
                Kernel::Candle(fuse(tensors, inputs, self.device)?)
            }
        };
        Ok(Linear {
            kernel,
            inputs,
            outputs,
        })
    }
}

/// candle matmuls for matrices sharing one input: one fused matrix when they share a
/// quantized dtype (quantized rows are whole blocks, so stacking matrices is stacking their
/// bytes), else one part each.
fn fuse(
    tensors: Vec<(QTensor, usize)>,
    inputs: usize,
    device: &Device,
) -> Result<Vec<(QMatMul, usize)>, EngineError> {
    let dtype = tensors.first().map(|(t, _)| t.dtype());
    let fusable = tensors.len() > 1
        && tensors.iter().all(|(t, _)| Some(t.dtype()) == dtype)
        && !matches!(
            dtype,
            Some(GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16)
        );
    match dtype {
        Some(dtype) if fusable => {
            let outputs = tensors.iter().map(|(_, n)| n).sum::<usize>();
            let mut bytes = Vec::new();
            for (tensor, _) in &tensors {
                bytes.extend_from_slice(&tensor.data()?);
            }
            let storage = QStorage::from_data(Cow::Owned(bytes), device, dtype)?;
            let fused = QTensor::new(storage, (outputs, inputs))?;
            Ok(vec![(QMatMul::from_qtensor(fused)?, outputs)])
        }
        _ => tensors
            .into_iter()
            .map(|(t, n)| Ok((QMatMul::from_qtensor(t)?, n)))
            .collect(),
    }
}

impl Weights {
    pub(crate) fn batch_invariant(&self) -> bool {
        self.output.batch_invariant()
            && self.layers.iter().all(|l| {
                [&l.qkv, &l.attn_output, &l.gate_up, &l.down]
                    .iter()
                    .all(|linear| linear.batch_invariant())
            })
    }

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
            blocks: QuantMatrix::accelerated() && !options.candle_matmul,
        };
        let dim = config.embedding_length;
        let token_embd = loader.raw("token_embd.weight")?;
        let token_embd = loader.for_candle(token_embd)?;
        let (vocab, width) = token_embd.shape().dims2()?;
        if vocab != config.vocab_size || width != dim {
            return Err(EngineError::Model(format!(
                "token_embd.weight is {vocab}x{width}, expected {}x{dim}",
                config.vocab_size
            )));
        }
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
            "output.weight"
        } else {
            "token_embd.weight"
        };
        let output = loader.linear(&[output.to_owned()], dim)?;
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
