//! The `vpdpbusd` kernels of [`super::QuantMatrix`], for CPUs with AVX-VNNI or AVX-512 VNNI.
//!
//! Unsafe for two reasons only: loads read through a pointer (each taken from a subslice of
//! exactly the loaded size, so they stay in bounds), and calling a `#[target_feature]`
//! function requires the caller to have checked the CPU (done once, in `isa`).
#![expect(
    unsafe_code,
    reason = "SIMD loads and target-feature calls, each after its bounds or CPU check"
)]

use std::arch::x86_64::{
    __m128, __m128i, __m256, __m256i, _mm_add_ps, _mm_cvtph_ps, _mm_cvtsi32_si128, _mm_cvtss_f32,
    _mm_fmadd_ps, _mm_loadu_si128, _mm_movehl_ps, _mm_set1_ps, _mm_setr_ps, _mm_setzero_ps,
    _mm_shuffle_ps, _mm_srli_epi16, _mm256_abs_epi8, _mm256_and_si256, _mm256_castps256_ps128,
    _mm256_cvtepi32_ps, _mm256_extractf128_ps, _mm256_fmadd_ps, _mm256_loadu_si256,
    _mm256_set_m128i, _mm256_set1_epi8, _mm256_set1_ps, _mm256_setzero_ps, _mm256_setzero_si256,
    _mm256_sign_epi8,
};
use std::ops::Range;
use std::sync::OnceLock;

use super::{Activations, BLOCK, Format, QuantMatrix};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Isa {
    Avx512Vnni,
    AvxVnni,
    None,
}

fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let base = std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c");
        if base
            && std::is_x86_feature_detected!("avx512vnni")
            && std::is_x86_feature_detected!("avx512vl")
        {
            Isa::Avx512Vnni
        } else if base && std::is_x86_feature_detected!("avxvnni") {
            Isa::AvxVnni
        } else {
            Isa::None
        }
    })
}

pub(super) fn supported() -> bool {
    isa() != Isa::None
}

/// Rows `rows` of `x W^T` into `out` (`rows.len() x m`).
pub(super) fn rows_into(w: &QuantMatrix, x: &Activations, rows: Range<usize>, out: &mut [f32]) {
    assert!(out.len() >= rows.len() * x.rows() && rows.end <= w.rows && x.cols == w.cols);
    // SAFETY (every arm): `isa()` detected the features the called function enables.
    match (isa(), w.format) {
        (Isa::Avx512Vnni, Format::Q4_1) => unsafe { q4_1_avx512vnni(w, x, rows, out) },
        (Isa::Avx512Vnni, Format::Q8_0) => unsafe { q8_0_avx512vnni(w, x, rows, out) },
        (Isa::AvxVnni, Format::Q4_1) => unsafe { q4_1_avxvnni(w, x, rows, out) },
        (Isa::AvxVnni, Format::Q8_0) => unsafe { q8_0_avxvnni(w, x, rows, out) },
        (Isa::None, _) => w.rows_into_reference(x, rows, out),
    }
}

/// Sum of the 8 lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ps(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

/// The 4 lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn lanes(v: __m128) -> [f32; 4] {
    [
        _mm_cvtss_f32(v),
        _mm_cvtss_f32(_mm_shuffle_ps::<0b01>(v, v)),
        _mm_cvtss_f32(_mm_shuffle_ps::<0b10>(v, v)),
        _mm_cvtss_f32(_mm_shuffle_ps::<0b11>(v, v)),
    ]
}

/// The 32 bytes at `start`.
#[inline]
#[target_feature(enable = "avx2")]
fn load32<T: Copy>(bytes: &[T], start: usize) -> __m256i {
    let block = &bytes[start..start + 32];
    assert_eq!(std::mem::size_of_val(block), 32);
    // SAFETY: `block` spans exactly 32 bytes; the load is unaligned.
    unsafe { _mm256_loadu_si256(block.as_ptr().cast()) }
}

/// The 16 bytes at `start`.
#[inline]
#[target_feature(enable = "avx2")]
fn load16(bytes: &[u8], start: usize) -> __m128i {
    let block = &bytes[start..start + 16];
    // SAFETY: `block` spans exactly 16 bytes; the load is unaligned.
    unsafe { _mm_loadu_si128(block.as_ptr().cast()) }
}

/// The f16 at `at`, as f32.
#[inline]
#[target_feature(enable = "f16c")]
fn f16_at(bytes: &[u8], at: usize) -> f32 {
    let bits = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits))))
}

/// Weight rows per tile: they share each activation block load.
const GROUP: usize = 4;
/// Activation rows per tile of a prompt: they share each unpacked weight block. A decode step
/// (and what is left of a prompt) runs tiles of one row.
const CHUNK: usize = 4;

/// Defines one kernel from a format's `$unpack(block) -> (weights, d, m)` and
/// `$dot(weights, x, |x|) -> 8 lanes of i32`; `$offset` for formats with an offset
/// (`w = d * q + m`), whose `m * sum(x)` terms are accumulated in a lane per weight row.
///
/// The work is cut into tiles of up to `GROUP` weight rows by `CHUNK` activation rows, whose
/// accumulators live in registers. Every output is accumulated block by block with the same
/// operations in the same order whatever tile it falls in, so a row's numbers do not depend
/// on which other rows are computed with it: a prompt, a batch and a single decode step give
/// bit-identical results for the same row (tested).
macro_rules! kernel {
    ($name:ident, $features:literal, $format:expr, $unpack:ident, $dot:ident, $offset:literal) => {
        #[target_feature(enable = $features)]
        fn $name(w: &QuantMatrix, x: &Activations, rows: Range<usize>, out: &mut [f32]) {
            let m = x.rows();
            let mut r0 = 0;
            while r0 < m {
                let chunk = if m - r0 >= CHUNK { CHUNK } else { 1 };
                let mut j = rows.start;
                while j < rows.end {
                    let group = if rows.end - j >= GROUP { GROUP } else { 1 };
                    match (chunk, group) {
                        (CHUNK, GROUP) => tile::<CHUNK, GROUP>(w, x, j, r0, rows.start, out),
                        (CHUNK, _) => tile::<CHUNK, 1>(w, x, j, r0, rows.start, out),
                        (_, GROUP) => tile::<1, GROUP>(w, x, j, r0, rows.start, out),
                        _ => tile::<1, 1>(w, x, j, r0, rows.start, out),
                    }
                    j += group;
                }
                r0 += chunk;
            }

            /// Weight rows `j..j + G` times activation rows `r0..r0 + R`.
            #[inline]
            #[target_feature(enable = $features)]
            fn tile<const R: usize, const G: usize>(
                w: &QuantMatrix,
                x: &Activations,
                j: usize,
                r0: usize,
                first_row: usize,
                out: &mut [f32],
            ) {
                let m = x.rows();
                let cols = w.cols;
                let blocks = cols / BLOCK;
                let size = $format.block_bytes();
                let mut acc = [[_mm256_setzero_ps(); G]; R];
                let mut bias = [_mm_setzero_ps(); R];
                for b in 0..blocks {
                    let mut wv = [_mm256_setzero_si256(); G];
                    let mut wd = [0f32; G];
                    let mut wm = [0f32; 4];
                    for i in 0..G {
                        let at = ((j + i) * blocks + b) * size;
                        (wv[i], wd[i], wm[i]) = $unpack(&w.bytes[at..at + size]);
                    }
                    let wm = _mm_setr_ps(wm[0], wm[1], wm[2], wm[3]);
                    for r in 0..R {
                        let row = r0 + r;
                        let xv = load32(&x.quants, row * cols + b * BLOCK);
                        let xabs = _mm256_abs_epi8(xv);
                        let (xs, xsum) = (x.scales[row * blocks + b], x.sums[row * blocks + b]);
                        for i in 0..G {
                            let dot = _mm256_cvtepi32_ps($dot(wv[i], xv, xabs));
                            let scale = _mm256_set1_ps(wd[i] * xs);
                            acc[r][i] = _mm256_fmadd_ps(dot, scale, acc[r][i]);
                        }
                        if $offset {
                            bias[r] = _mm_fmadd_ps(wm, _mm_set1_ps(xsum), bias[r]);
                        }
                    }
                }
                for r in 0..R {
                    let offsets = lanes(bias[r]);
                    for i in 0..G {
                        out[(j + i - first_row) * m + r0 + r] = hsum(acc[r][i]) + offsets[i];
                    }
                }
            }
        }
    };
}

/// A Q4_1 block: its 32 nibbles as bytes (low nibbles are elements 0..16, high nibbles
/// 16..32), `d` and `m`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
fn unpack_q4_1(block: &[u8]) -> (__m256i, f32, f32) {
    let packed = load16(block, 4);
    let nibbles = _mm256_and_si256(
        _mm256_set_m128i(_mm_srli_epi16::<4>(packed), packed),
        _mm256_set1_epi8(0x0f),
    );
    (nibbles, f16_at(block, 0), f16_at(block, 2))
}

/// A Q8_0 block: its 32 signed bytes, `d` and no offset.
#[inline]
#[target_feature(enable = "avx2,f16c")]
fn unpack_q8_0(block: &[u8]) -> (__m256i, f32, f32) {
    (load32(block, 2), f16_at(block, 0), 0.0)
}

macro_rules! dots {
    ($q4_1:ident, $q8_0:ident, $features:literal, $dpbusd:path) => {
        /// Nibbles (unsigned) times activations (signed).
        #[inline]
        #[target_feature(enable = $features)]
        fn $q4_1(w: __m256i, x: __m256i, _xabs: __m256i) -> __m256i {
            $dpbusd(_mm256_setzero_si256(), w, x)
        }

        /// Signed times signed, as `|x| . (w * sign(x))`.
        #[inline]
        #[target_feature(enable = $features)]
        fn $q8_0(w: __m256i, x: __m256i, xabs: __m256i) -> __m256i {
            $dpbusd(_mm256_setzero_si256(), xabs, _mm256_sign_epi8(w, x))
        }
    };
}

use std::arch::x86_64::{_mm256_dpbusd_avx_epi32 as dpbusd_avx, _mm256_dpbusd_epi32 as dpbusd_512};

dots!(
    dot_q4_1_512,
    dot_q8_0_512,
    "avx2,avx512vnni,avx512vl",
    dpbusd_512
);
dots!(dot_q4_1_avx, dot_q8_0_avx, "avx2,avxvnni", dpbusd_avx);
kernel!(
    q4_1_avx512vnni,
    "avx2,fma,f16c,avx512vnni,avx512vl",
    Format::Q4_1,
    unpack_q4_1,
    dot_q4_1_512,
    true
);
kernel!(
    q8_0_avx512vnni,
    "avx2,fma,f16c,avx512vnni,avx512vl",
    Format::Q8_0,
    unpack_q8_0,
    dot_q8_0_512,
    false
);
kernel!(
    q4_1_avxvnni,
    "avx2,fma,f16c,avxvnni",
    Format::Q4_1,
    unpack_q4_1,
    dot_q4_1_avx,
    true
);
kernel!(
    q8_0_avxvnni,
    "avx2,fma,f16c,avxvnni",
    Format::Q8_0,
    unpack_q8_0,
    dot_q8_0_avx,
    false
);
