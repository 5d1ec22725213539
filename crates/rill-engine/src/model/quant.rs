//! GGUF block-quantized matrices times 8-bit activations: the decode path's matmuls.
//!
//! A decode step reads every weight once, so it is bound by memory bandwidth (~12 GB/s on
//! the 2-core machines rill is measured on): the fewer bytes per weight, the faster. candle
//! 0.11 has only a scalar loop for Q4_1 (SmolLM2's weights), and runs Q8_0 on its VNNI
//! kernels only for inputs that are a multiple of 256 wide (SmolLM2's are 576); elsewhere it
//! converts each block's f16 scale through a function call. This module multiplies the
//! file's own blocks, unchanged (Q4_1: 0.625 bytes per weight; Q8_0: 1.06), by activations
//! quantized per 32 values (as llama.cpp does for both), on `vpdpbusd`:
//!
//! - Q4_1 (`w = d * q + m`, `q` in 0..16): the nibbles are already the unsigned operand;
//!   `m * sum(x)` comes from a per-block activation sum, once per block;
//! - Q8_0 (`w = d * q`): `|x|` times `q` with `x`'s sign, the classic sign trick;
//! - four weight rows share each activation block load, and rows are spread over candle's
//!   thread pool.
//!
//! The intrinsics live in `x86` (runtime-dispatched); [`QuantMatrix::matmul_reference`] is
//! the same arithmetic in plain Rust, which the tests hold the kernels to.

use std::sync::Mutex;

use candle_core::quantized::GgmlDType;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Values per block (one scale each) in every format here.
pub(crate) const BLOCK: usize = 32;

/// Rows of work handed to one thread at a time.
const ROWS_PER_TASK: usize = 64;

/// The block formats this module multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `{ d: f16, m: f16, qs: [u8; 16] }`: element `i < 16` is `qs[i] & 15`, element `16 + i`
    /// is `qs[i] >> 4`; value `d * q + m`.
    Q4_1,
    /// `{ d: f16, qs: [i8; 32] }`; value `d * q`.
    Q8_0,
}

impl Format {
    pub(crate) fn of(dtype: GgmlDType) -> Option<Self> {
        match dtype {
            GgmlDType::Q4_1 => Some(Self::Q4_1),
            GgmlDType::Q8_0 => Some(Self::Q8_0),
            _ => None,
        }
    }

    /// Bytes per block.
    pub(crate) const fn block_bytes(self) -> usize {
        match self {
            Self::Q4_1 => 20,
            Self::Q8_0 => 34,
        }
    }
}

/// A `rows x cols` matrix in GGUF blocks, row-major (each row is `cols / 32` blocks).
pub(crate) struct QuantMatrix {
    format: Format,
    rows: usize,
    cols: usize,
    bytes: Vec<u8>,
}

/// Activations quantized per block: `x ~ scale * q`, `m` rows of `cols`.
pub(crate) struct Activations {
    cols: usize,
    quants: Vec<i8>,
    scales: Vec<f32>,
    /// Per block: `scale * sum(q)`, the block's sum of activations (Q4_1's `m` term).
    sums: Vec<f32>,
}

impl Activations {
    pub(crate) fn quantize(x: &[f32], cols: usize) -> Self {
        let blocks = x.len() / BLOCK;
        let mut quants = vec![0i8; x.len()];
        let mut scales = Vec::with_capacity(blocks);
        let mut sums = Vec::with_capacity(blocks);
        for (block, out) in x.chunks_exact(BLOCK).zip(quants.chunks_exact_mut(BLOCK)) {
            let max = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = max / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            let mut sum = 0i32;
            for (q, v) in out.iter_mut().zip(block) {
                // |v * inv| <= 127 by construction.
                *q = (v * inv).round() as i8;
                sum += i32::from(*q);
            }
            scales.push(scale);
            sums.push(scale * sum as f32);
        }
        Self {
            cols,
            quants,
            scales,
            sums,
        }
    }

    fn rows(&self) -> usize {
        self.quants.len() / self.cols
    }
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

impl QuantMatrix {
    /// Wraps GGUF block bytes. `None` when the sizes do not fit the format.
    pub(crate) fn new(format: Format, rows: usize, cols: usize, bytes: Vec<u8>) -> Option<Self> {
        let fits = cols.is_multiple_of(BLOCK)
            && bytes.len() == rows * (cols / BLOCK) * format.block_bytes();
        fits.then_some(Self {
            format,
            rows,
            cols,
            bytes,
        })
    }

    /// Whether this CPU runs the SIMD kernels (else [`QuantMatrix::matmul`] is plain Rust).
    pub(crate) fn accelerated() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            x86::supported()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// `x W^T` for `m` activation rows: `m x rows` values.
    pub(crate) fn matmul(&self, x: &Activations) -> Vec<f32> {
        let m = x.rows();
        // Computed as `rows x m` (each task owns whole rows), transposed at the end.
        let mut by_row = vec![0f32; self.rows * m];
        let tasks: Vec<Mutex<&mut [f32]>> = by_row
            .chunks_mut(ROWS_PER_TASK * m)
            .map(Mutex::new)
            .collect();
        let run = |range: std::ops::Range<usize>| {
            for task in range {
                let Ok(mut out) = tasks[task].lock() else {
                    continue;
                };
                let first = task * ROWS_PER_TASK;
                let rows = first..(first + ROWS_PER_TASK).min(self.rows);
                self.rows_into(x, rows, &mut out);
            }
        };
        candle_core::utils::barrier_pool().execute_chunked(tasks.len(), run);
        drop(tasks);
        transpose(&by_row, self.rows, m)
    }

    /// Rows `rows` of the product into `out` (`rows.len() x m`, row-major).
    fn rows_into(&self, x: &Activations, rows: std::ops::Range<usize>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if x86::supported() {
            x86::rows_into(self, x, rows, out);
            return;
        }
        self.rows_into_reference(x, rows, out);
    }

    fn rows_into_reference(&self, x: &Activations, rows: std::ops::Range<usize>, out: &mut [f32]) {
        let m = x.rows();
        let blocks = self.cols / BLOCK;
        let size = self.format.block_bytes();
        for (j, out) in rows.zip(out.chunks_exact_mut(m)) {
            for (r, out) in out.iter_mut().enumerate() {
                let mut sum = 0f32;
                for b in 0..blocks {
                    let block = &self.bytes[(j * blocks + b) * size..][..size];
                    let xq = &x.quants[r * self.cols + b * BLOCK..][..BLOCK];
                    let (xs, xsum) = (x.scales[r * blocks + b], x.sums[r * blocks + b]);
                    sum += match self.format {
                        Format::Q4_1 => {
                            let nibble = |i: usize| {
                                let byte = block[4 + i % 16];
                                i32::from(if i < 16 { byte & 15 } else { byte >> 4 })
                            };
                            let dot: i32 = (0..BLOCK).map(|i| nibble(i) * i32::from(xq[i])).sum();
                            f16_at(block, 0) * xs * dot as f32 + f16_at(block, 2) * xsum
                        }
                        Format::Q8_0 => {
                            let dot: i32 = block[2..]
                                .iter()
                                .zip(xq)
                                .map(|(&w, &v)| i32::from(w as i8) * i32::from(v))
                                .sum();
                            f16_at(block, 0) * xs * dot as f32
                        }
                    };
                }
                *out = sum;
            }
        }
    }

    /// [`QuantMatrix::matmul`] in plain Rust, on one thread.
    #[cfg(test)]
    pub(crate) fn matmul_reference(&self, x: &Activations) -> Vec<f32> {
        let m = x.rows();
        let mut by_row = vec![0f32; self.rows * m];
        self.rows_into_reference(x, 0..self.rows, &mut by_row);
        transpose(&by_row, self.rows, m)
    }
}

/// `rows x cols` row-major -> `cols x rows` row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    if cols == 1 {
        return values.to_vec();
    }
    let mut out = vec![0f32; values.len()];
    for (i, row) in values.chunks_exact(cols).enumerate() {
        for (j, v) in row.iter().enumerate() {
            out[j * rows + i] = *v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::QTensor;
    use candle_core::{Device, Tensor};

    use super::*;

    fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// A matrix quantized by candle (ggml's own block code), and its dequantized values.
    fn quantized(format: GgmlDType, rows: usize, cols: usize) -> (QuantMatrix, Vec<f32>) {
        let w = Tensor::from_vec(pseudo_random(rows * cols, 7), (rows, cols), &Device::Cpu)
            .expect("tensor");
        let q = QTensor::quantize(&w, format).expect("quantize");
        let values = q
            .dequantize(&Device::Cpu)
            .and_then(|t| t.flatten_all()?.to_vec1())
            .expect("dequantize");
        let bytes = q.data().expect("bytes").into_owned();
        let format = Format::of(format).expect("supported format");
        let matrix = QuantMatrix::new(format, rows, cols, bytes).expect("whole blocks");
        (matrix, values)
    }

    /// Both formats, a row count that is not a multiple of 4 or of a task, several
    /// activation rows: the kernel equals the plain-Rust arithmetic, and both are within
    /// 8-bit activation error of the exact product of the dequantized weights.
    #[test]
    fn kernels_match_reference_and_exact_product() {
        let (rows, cols) = (203, 576);
        for format in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let (matrix, w) = quantized(format, rows, cols);
            for m in [1, 3, 8] {
                let x = pseudo_random(m * cols, 11 + m as u32);
                let activations = Activations::quantize(&x, cols);
                let reference = matrix.matmul_reference(&activations);
                let fast = matrix.matmul(&activations);
                assert_eq!(fast.len(), m * rows);
                for (i, (f, r)) in fast.iter().zip(&reference).enumerate() {
                    assert!(
                        (f - r).abs() <= 1e-4 * (1.0 + r.abs()),
                        "{format:?} m={m} [{i}]: kernel {f}, reference {r}"
                    );
                    let (row, j) = (i / rows, i % rows);
                    let (x, w) = (&x[row * cols..][..cols], &w[j * cols..][..cols]);
                    let exact: f32 = x.iter().zip(w).map(|(a, b)| a * b).sum();
                    // 8-bit activations: errors of a few per mille of |x| |w|.
                    let norms = (x.iter().map(|v| v * v).sum::<f32>()
                        * w.iter().map(|v| v * v).sum::<f32>())
                    .sqrt();
                    assert!(
                        (r - exact).abs() < 5e-3 * norms,
                        "{format:?} m={m} [{i}]: quantized {r}, exact {exact}"
                    );
                }
            }
        }
    }

    /// A row's result is bit-identical whether it is computed alone or with other rows
    /// (prompt tiles of 4, leftover rows, leftover weight rows), in both formats.
    #[test]
    fn rows_do_not_depend_on_their_batch() {
        let (rows, cols) = (203, 576);
        for format in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let (matrix, _) = quantized(format, rows, cols);
            let m = 11;
            let x = pseudo_random(m * cols, 5);
            let together = matrix.matmul(&Activations::quantize(&x, cols));
            for r in 0..m {
                let alone = matrix.matmul(&Activations::quantize(&x[r * cols..][..cols], cols));
                assert!(
                    alone == together[r * rows..][..rows],
                    "{format:?}: row {r} differs when batched"
                );
            }
        }
    }

    #[test]
    fn zero_activations_and_wrong_sizes() {
        let (matrix, _) = quantized(GgmlDType::Q4_1, 8, 64);
        let out = matrix.matmul(&Activations::quantize(&[0.0; 64], 64));
        assert_eq!(out, vec![0.0; 8]);
        assert!(QuantMatrix::new(Format::Q4_1, 8, 48, vec![0; 8 * 20]).is_none());
        assert!(QuantMatrix::new(Format::Q8_0, 8, 64, vec![0; 8 * 2 * 20]).is_none());
    }
}
