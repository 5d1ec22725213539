//! Causal grouped-query attention over a [`super::KvCache`]'s buffers.

use std::sync::Mutex;

use super::config::ModelConfig;
use super::ops;

/// Below this many multiply-adds, attention runs on the calling thread: waking the pool costs
/// more than it saves.
const PARALLEL_WORK: usize = 1 << 16;

/// Attention of every row (query token) over its sequence's cached keys and values.
///
/// - `qkv`: per row, `row_width` values starting with the query heads (after RoPE);
/// - `rows[r] = (sequence, position)`: the row attends to positions `0..=position`;
/// - `caches[sequence] = (keys, values)`: `[position][kv_head][head_dim]`, already holding the
///   rows' own keys and values;
/// - `out`: per row, `head_count * head_dim` values.
pub(crate) fn attend(
    config: &ModelConfig,
    qkv: &[f32],
    row_width: usize,
    rows: &[(usize, usize)],
    caches: &[(&[f32], &[f32])],
    out: &mut [f32],
) {
    let head_dim = config.head_dim;
    let heads = config.head_count;
    let kv_dim = config.kv_dim();
    let group = heads / config.head_count_kv;
    let scale = 1.0 / (head_dim as f32).sqrt();

    // One work item per (row, query head); each owns its slice of `out`.
    let slots: Vec<Mutex<&mut [f32]>> = out.chunks_exact_mut(head_dim).map(Mutex::new).collect();
    let run = |items: std::ops::Range<usize>| {
        let mut scores = Vec::new();
        for item in items {
            let (row, head) = (item / heads, item % heads);
            let (sequence, position) = rows[row];
            let (keys, values) = caches[sequence];
            let query = &qkv[row * row_width + head * head_dim..][..head_dim];
            let kv_offset = (head / group) * head_dim;
            let positions = position + 1;
            scores.clear();
            scores.extend(
                keys.chunks_exact(kv_dim)
                    .take(positions)
                    .map(|key| ops::dot(query, &key[kv_offset..kv_offset + head_dim]) * scale),
            );
            ops::softmax(&mut scores);
            let Ok(mut slot) = slots[item].lock() else {
                continue;
            };
            let slot: &mut [f32] = &mut slot;
            slot.fill(0.0);
            for (weight, value) in scores.iter().zip(values.chunks_exact(kv_dim)) {
                ops::axpy(slot, *weight, &value[kv_offset..kv_offset + head_dim]);
            }
        }
    };
    let items = rows.len() * heads;
    let work: usize = rows
        .iter()
        .map(|&(_, position)| position + 1)
        .sum::<usize>()
        * heads
        * head_dim;
    if work < PARALLEL_WORK {
        run(0..items);
    } else {
        candle_core::utils::barrier_pool().execute_chunked(items, run);
    }
}
