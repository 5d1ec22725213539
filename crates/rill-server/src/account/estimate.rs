//! Token counts for text no provider counted: the prompt and the answer of a generation
//! whose stream ended without a usage report (cancelled, disconnected, failed, or from
//! an upstream that reports none, such as llama.cpp's server).
//!
//! Text is counted with OpenAI's `o200k_base` BPE (`tiktoken-rs`): exact for OpenAI's
//! current models, an approximation for other providers' tokenizers (typically within
//! 10-20% for English text). To bound the memory and the work, only the first
//! [`SAMPLE_BYTES`] of a text are kept and counted; the rest is counted by its size at the
//! sample's bytes per token.

/// How much of a text is kept to be counted exactly.
pub const SAMPLE_BYTES: usize = 16 * 1024;

/// A text as it streams past: its first [`SAMPLE_BYTES`] and its whole size.
#[derive(Debug, Default)]
pub struct TextSample {
    text: String,
    bytes: u64,
}

impl TextSample {
    pub fn push(&mut self, text: &str) {
        self.bytes += text.len() as u64;
        let room = SAMPLE_BYTES.saturating_sub(self.text.len());
        if room == 0 {
            return;
        }
        let mut end = room.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&text[..end]);
    }

    /// Tokens in everything pushed. CPU work (tokenizing up to [`SAMPLE_BYTES`], and on
    /// first use loading the vocabulary): call it off the async workers.
    pub fn tokens(&self) -> u64 {
        if self.bytes == 0 {
            return 0;
        }
        let counted = tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(&self.text)
            .len() as u64;
        let sampled = self.text.len() as u64;
        if sampled >= self.bytes || sampled == 0 {
            return counted.max(1);
        }
        // Beyond the sample, at the sample's density, rounded up.
        (counted * self.bytes).div_ceil(sampled).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_the_bpe_and_scales_past_the_sample() {
        let mut sample = TextSample::default();
        assert_eq!(sample.tokens(), 0);
        sample.push("Hello, world!");
        // o200k_base: "Hello" "," " world" "!"
        assert_eq!(sample.tokens(), 4);

        let mut long = TextSample::default();
        let word = "streaming ";
        for _ in 0..(4 * SAMPLE_BYTES / word.len()) {
            long.push(word);
        }
        let sampled = {
            let mut s = TextSample::default();
            s.push(&word.repeat(SAMPLE_BYTES / word.len()));
            s.tokens()
        };
        let tokens = long.tokens();
        assert!(
            (4 * sampled - 8..=4 * sampled + 8).contains(&tokens),
            "{tokens} vs 4 x {sampled}"
        );
    }

    #[test]
    fn the_sample_ends_on_a_character_boundary() {
        let mut sample = TextSample::default();
        sample.push(&"a".repeat(SAMPLE_BYTES - 1));
        sample.push("é and more");
        assert_eq!(sample.text.len(), SAMPLE_BYTES - 1);
        assert_eq!(sample.bytes, (SAMPLE_BYTES - 1 + "é and more".len()) as u64);
    }
}
