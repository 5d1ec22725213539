//! The key/value cache of one sequence.

/// Keys and values (after RoPE) of the positions a sequence has seen, for every layer.
///
/// Layout per layer: `[position][kv_head][head_dim]`, f32, in a growable buffer: appending a
/// token is an amortized O(1) `extend` (no re-concatenation of the whole history), and
/// [`KvCache::truncate`] keeps a prefix without copying. Capacity grows in blocks of
/// [`KvCache::BLOCK`] positions and is kept across `truncate`/`clear`, so a reused cache does
/// not reallocate.
#[derive(Debug, Clone)]
pub struct KvCache {
    pub(crate) keys: Vec<Vec<f32>>,
    pub(crate) values: Vec<Vec<f32>>,
    pub(crate) kv_dim: usize,
    len: usize,
}

impl KvCache {
    /// Positions reserved at a time when the cache grows.
    pub const BLOCK: usize = 256;

    pub(crate) fn new(layers: usize, kv_dim: usize) -> Self {
        Self {
            keys: vec![Vec::new(); layers],
            values: vec![Vec::new(); layers],
            kv_dim,
            len: 0,
        }
    }

    /// Number of positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the first `len` positions (no-op when the cache holds fewer): a follow-up turn
    /// that shares a prefix with the previous one re-runs only what comes after it.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.len = len;
        self.trim_layers();
    }

    /// Forgets every position (keeps the allocation).
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Number of layers this cache was made for.
    pub(crate) fn layers(&self) -> usize {
        self.keys.len()
    }

    /// Makes room for `extra` more positions in every layer, in whole blocks.
    pub(crate) fn reserve(&mut self, extra: usize) {
        let needed = (self.len + extra) * self.kv_dim;
        for buffer in self.keys.iter_mut().chain(self.values.iter_mut()) {
            if buffer.capacity() < needed {
                let positions = (self.len + extra).div_ceil(Self::BLOCK) * Self::BLOCK;
                // Grow at least geometrically so long generations stay amortized O(1).
                let target = (positions * self.kv_dim).max(buffer.capacity() * 2);
                buffer.reserve_exact(target - buffer.len());
            }
        }
    }

    /// Records that `added` positions were appended to every layer.
    pub(crate) fn commit(&mut self, added: usize) {
        self.len += added;
    }

    /// Drops whatever layers hold beyond `len` (an interrupted forward pass).
    pub(crate) fn trim_layers(&mut self) {
        let keep = self.len * self.kv_dim;
        for buffer in self.keys.iter_mut().chain(self.values.iter_mut()) {
            buffer.truncate(keep);
        }
    }
}
