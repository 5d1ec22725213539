//! KV caches of finished conversations, kept so a follow-up turn skips its shared prefix.

use crate::model::KvCache;

/// A few `(tokens, cache)` pairs, most recently used last.
pub struct PrefixCache {
    entries: Vec<(Vec<u32>, KvCache)>,
    capacity: usize,
}

impl PrefixCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Vec::new(),
            capacity,
        }
    }

    /// Removes and returns the entry sharing the longest prefix with `prompt`, with the
    /// length of that prefix. `None` when nothing shares a token.
    pub fn take(&mut self, prompt: &[u32]) -> Option<(KvCache, usize)> {
        let (index, shared) = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (tokens, _))| (i, common_prefix(tokens, prompt)))
            .max_by_key(|&(_, shared)| shared)?;
        if shared == 0 {
            return None;
        }
        let (_, cache) = self.entries.remove(index);
        Some((cache, shared))
    }

    /// Keeps `cache` (holding `tokens`), evicting the least recently used entry if full.
    pub fn put(&mut self, tokens: Vec<u32>, cache: KvCache) {
        if self.capacity == 0 || tokens.is_empty() {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((tokens, cache));
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefix_length() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4]), 2);
        assert_eq!(common_prefix(&[1, 2], &[1, 2, 3]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
    }
}
