//! Small element-wise kernels on plain slices: RMS norm, RoPE, SiLU, softmax, dot products.
//!
//! They run on the decode hot path, where a candle op per step (allocation + dispatch, a few
//! microseconds each, hundreds per token) would cost more than the arithmetic. The loops are
//! written with fixed-width lane arrays and no branches so LLVM vectorizes them for whatever
//! target the crate is built for.

/// Lanes of the accumulators in [`dot`]: two SSE registers, one AVX register.
const LANES: usize = 8;

/// `sum(a[i] * b[i])`, vectorizable (independent lane accumulators, one final reduction).
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let mut a_chunks = a.chunks_exact(LANES);
    let mut b_chunks = b.chunks_exact(LANES);
    for (x, y) in a_chunks.by_ref().zip(b_chunks.by_ref()) {
        for lane in 0..LANES {
            acc[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// `out[i] += scale * x[i]`.
#[inline]
pub(crate) fn axpy(out: &mut [f32], scale: f32, x: &[f32]) {
    for (o, v) in out.iter_mut().zip(x) {
        *o += scale * v;
    }
}

/// `e^x` to ~2e-7 relative error, branch-free so loops over it vectorize (libm's `expf` is a
/// call per element). Inputs are clamped to [-87, 88] (results stay normal and finite).
#[inline]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Taylor polynomial of e^r on |r| <= ln(2)/2, Horner form.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

/// RMS-normalizes `x` into `out` and scales by `weight`.
pub(crate) fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let mean_square = dot(x, x) / x.len() as f32;
    let inv = 1.0 / (mean_square + eps).sqrt();
    for ((o, v), w) in out.iter_mut().zip(x).zip(weight) {
        *o = v * inv * w;
    }
}

/// In-place softmax.
pub(crate) fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = exp(*v - max);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// SwiGLU: `out[i] = silu(gate[i]) * up[i]`.
pub(crate) fn silu_mul(gate: &[f32], up: &[f32], out: &mut [f32]) {
    for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
        *o = g / (1.0 + exp(-g)) * u;
    }
}

/// Cosines and sines of the RoPE angles of one position: `angle[i] = pos * base^(-2i/dim)`.
pub(crate) fn rope_angles(position: usize, inv_freqs: &[f32], cos: &mut [f32], sin: &mut [f32]) {
    for ((c, s), f) in cos.iter_mut().zip(sin.iter_mut()).zip(inv_freqs) {
        let angle = position as f32 * f;
        *c = angle.cos();
        *s = angle.sin();
    }
}

/// RoPE as in llama.cpp's GGUF llama ("normal" mode, candle's `rope_i`): rotates the adjacent
/// pairs `(x[2i], x[2i+1])` of the first `2 * cos.len()` values of one head.
/// (The GGUF converter permutes the q/k weights so that adjacent pairs are the rotated ones.)
#[inline]
pub(crate) fn rope(head: &mut [f32], cos: &[f32], sin: &[f32]) {
    for ((pair, c), s) in head.chunks_exact_mut(2).zip(cos).zip(sin) {
        let (x0, x1) = (pair[0], pair[1]);
        pair[0] = x0 * c - x1 * s;
        pair[1] = x0 * s + x1 * c;
    }
}

/// Inverse frequencies `base^(-2i/dim)` for `i in 0..dim/2`, computed in f64.
pub(crate) fn rope_inv_freqs(dim: usize, base: f32) -> Vec<f32> {
    (0..dim / 2)
        .map(|i| (f64::from(base)).powf(-2.0 * i as f64 / dim as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let (fast, exact) = (exp(x), x.exp());
            assert!(
                ((fast - exact) / exact).abs() < 1e-6,
                "exp({x}) = {fast}, expected {exact}"
            );
            x += 0.173;
        }
        assert!(exp(-1000.0) >= 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn dot_handles_tails() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let expected: f32 = a.iter().map(|v| v * v).sum();
        assert_eq!(dot(&a, &a), expected);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut x = vec![1.0, 2.0, 3.0, -50.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[2] > x[1] && x[1] > x[0]);
    }

    #[test]
    fn rope_rotates_adjacent_pairs() {
        let mut head = vec![1.0, 0.0, 0.0, 1.0];
        let (cos, sin) = ([0.0, 1.0], [1.0, 0.0]);
        rope(&mut head, &cos, &sin);
        assert_eq!(head, vec![0.0, 1.0, 0.0, 1.0]);
    }
}
