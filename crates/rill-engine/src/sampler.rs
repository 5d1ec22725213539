//! Choosing the next token from logits.

use std::collections::{HashMap, VecDeque};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// How to sample. The defaults suit small instruction models, which wander at
/// temperature 1 and loop without a mild repetition penalty.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    /// 0 is greedy (always the most likely token).
    pub temperature: f32,
    /// Nucleus sampling: the smallest set of tokens whose probability reaches `top_p`.
    pub top_p: f32,
    /// Only the `top_k` most likely tokens; 0 turns it off.
    pub top_k: usize,
    /// llama.cpp-style: divides positive logits (multiplies negative ones) of tokens seen
    /// in the last [`REPEAT_WINDOW`] tokens. 1 turns it off.
    pub repetition_penalty: f32,
    /// OpenAI-style: subtracts `count * frequency_penalty` from generated tokens' logits.
    pub frequency_penalty: f32,
    /// OpenAI-style: subtracts `presence_penalty` from every generated token's logit.
    pub presence_penalty: f32,
    /// The same seed and request give the same answer. `None`: a random seed.
    pub seed: Option<u64>,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            temperature: 0.2,
            top_p: 0.9,
            top_k: 0,
            repetition_penalty: 1.1,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            seed: None,
        }
    }
}

/// How many recent tokens the repetition penalty looks at.
pub const REPEAT_WINDOW: usize = 64;

/// Samples tokens for one sequence; keeps the state penalties need.
pub struct Sampler {
    config: SamplerConfig,
    rng: StdRng,
    recent: VecDeque<u32>,
    generated: HashMap<u32, u32>,
    /// Reused between calls: candidate ids and their weights.
    candidates: Vec<(u32, f32)>,
}

impl Sampler {
    pub fn new(config: SamplerConfig) -> Self {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Self {
            config,
            rng,
            recent: VecDeque::new(),
            generated: HashMap::new(),
            candidates: Vec::new(),
        }
    }

    /// Records prompt tokens (they count for the repetition penalty only).
    pub fn observe_prompt(&mut self, tokens: &[u32]) {
        for &token in tokens.iter().rev().take(REPEAT_WINDOW).rev() {
            self.remember(token);
        }
    }

    fn remember(&mut self, token: u32) {
        if self.recent.len() == REPEAT_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(token);
    }

    /// Picks the next token and records it as generated. `logits` is modified.
    pub fn sample(&mut self, logits: &mut [f32]) -> u32 {
        self.penalize(logits);
        let token = if self.config.temperature <= 1e-5 {
            argmax(logits)
        } else {
            self.draw(logits)
        };
        self.remember(token);
        *self.generated.entry(token).or_default() += 1;
        token
    }

    fn penalize(&self, logits: &mut [f32]) {
        let penalty = self.config.repetition_penalty;
        if penalty != 1.0 {
            let mut seen: Vec<u32> = self.recent.iter().copied().collect();
            seen.sort_unstable();
            seen.dedup();
            for token in seen {
                if let Some(logit) = logits.get_mut(token as usize) {
                    *logit = if *logit > 0.0 {
                        *logit / penalty
                    } else {
                        *logit * penalty
                    };
                }
            }
        }
        let (frequency, presence) = (self.config.frequency_penalty, self.config.presence_penalty);
        if frequency != 0.0 || presence != 0.0 {
            for (&token, &count) in &self.generated {
                if let Some(logit) = logits.get_mut(token as usize) {
                    *logit -= count as f32 * frequency + presence;
                }
            }
        }
    }

    fn draw(&mut self, logits: &[f32]) -> u32 {
        let inv_temperature = 1.0 / self.config.temperature;
        let candidates = &mut self.candidates;
        candidates.clear();
        candidates.extend((0u32..).zip(logits.iter().copied()));
        let by_logit_desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1);
        let top_k = self.config.top_k;
        if top_k > 0 && top_k < candidates.len() {
            candidates.select_nth_unstable_by(top_k - 1, by_logit_desc);
            candidates.truncate(top_k);
        }
        // Softmax weights (unnormalised) in place of the logits.
        let max = candidates
            .iter()
            .map(|c| c.1)
            .fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0f32;
        for candidate in candidates.iter_mut() {
            candidate.1 = ((candidate.1 - max) * inv_temperature).exp();
            total += candidate.1;
        }
        let top_p = self.config.top_p;
        if top_p < 1.0 {
            let keep = nucleus(candidates, top_p * total);
            candidates.truncate(keep);
            total = candidates.iter().map(|c| c.1).sum();
        }
        let mut threshold = self.rng.random::<f32>() * total;
        for &(token, weight) in candidates.iter() {
            threshold -= weight;
            if threshold <= 0.0 {
                return token;
            }
        }
        candidates.last().map_or(0, |c| c.0)
    }
}

/// Orders the most likely candidates first and returns how many reach `mass`. Sorting
/// 49k candidates per token would cost more than the rest of sampling, so it sorts a
/// growing head found by selection until that head holds the mass.
fn nucleus(candidates: &mut [(u32, f32)], mass: f32) -> usize {
    let by_weight_desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1);
    let mut head = 64.min(candidates.len());
    loop {
        if head < candidates.len() {
            candidates.select_nth_unstable_by(head - 1, by_weight_desc);
        }
        candidates[..head].sort_unstable_by(by_weight_desc);
        let mut sum = 0.0;
        for (i, c) in candidates[..head].iter().enumerate() {
            sum += c.1;
            if sum >= mass {
                return i + 1;
            }
        }
        if head == candidates.len() {
            return head;
        }
        head = (head * 4).min(candidates.len());
    }
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = (0u32, f32::NEG_INFINITY);
    for (i, &logit) in (0u32..).zip(logits) {
        if logit > best.1 {
            best = (i, logit);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Vec<f32> {
        (0..1000)
            .map(|i| ((i * 7919) % 1000) as f32 / 100.0)
            .collect()
    }

    fn sampler(config: SamplerConfig) -> Sampler {
        Sampler::new(config)
    }

    #[test]
    fn greedy_takes_the_argmax() {
        let mut s = sampler(SamplerConfig {
            temperature: 0.0,
            repetition_penalty: 1.0,
            ..SamplerConfig::default()
        });
        let l = logits();
        let best = l
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0 as u32;
        assert_eq!(s.sample(&mut l.clone()), best);
    }

    #[test]
    fn same_seed_same_tokens_different_seed_differs() {
        let config = SamplerConfig {
            temperature: 1.5,
            top_p: 1.0,
            seed: Some(7),
            ..SamplerConfig::default()
        };
        let run = |config: SamplerConfig| {
            let mut s = sampler(config);
            (0..50).map(|_| s.sample(&mut logits())).collect::<Vec<_>>()
        };
        assert_eq!(run(config.clone()), run(config.clone()));
        assert_ne!(
            run(config.clone()),
            run(SamplerConfig {
                seed: Some(8),
                ..config
            })
        );
    }

    #[test]
    fn top_k_limits_the_choice() {
        let mut s = sampler(SamplerConfig {
            temperature: 5.0,
            top_k: 3,
            top_p: 1.0,
            repetition_penalty: 1.0,
            seed: Some(1),
            ..SamplerConfig::default()
        });
        let l = logits();
        let mut sorted: Vec<u32> = (0..1000).collect();
        sorted.sort_by(|a, b| l[*b as usize].total_cmp(&l[*a as usize]));
        for _ in 0..200 {
            assert!(sorted[..3].contains(&s.sample(&mut l.clone())));
        }
    }

    #[test]
    fn top_p_keeps_the_nucleus() {
        // One token holds ~88% of the mass; top_p 0.5 must always pick it.
        let mut l = vec![0.0f32; 50_000];
        l[123] = 13.0;
        let mut s = sampler(SamplerConfig {
            temperature: 1.0,
            top_p: 0.5,
            repetition_penalty: 1.0,
            seed: Some(3),
            ..SamplerConfig::default()
        });
        for _ in 0..100 {
            assert_eq!(s.sample(&mut l.clone()), 123);
        }
        // With top_p 1 the tail is reachable.
        let mut s = sampler(SamplerConfig {
            temperature: 1.0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            seed: Some(3),
            ..SamplerConfig::default()
        });
        assert!((0..200).any(|_| s.sample(&mut l.clone()) != 123));
    }

    #[test]
    fn nucleus_counts_the_smallest_sufficient_head() {
        let mut c: Vec<(u32, f32)> = (0..1000)
            .map(|i| (i, if i == 999 { 500.0 } else { 1.0 }))
            .collect();
        // 500 + 2 others >= 502.
        assert_eq!(nucleus(&mut c, 502.0), 3);
        assert_eq!(c[0].0, 999);
    }

    #[test]
    fn penalties_push_repeated_tokens_down() {
        let mut s = sampler(SamplerConfig {
            temperature: 0.0,
            repetition_penalty: 2.0,
            ..SamplerConfig::default()
        });
        s.observe_prompt(&[1]);
        let mut l = vec![0.0, 3.0, 2.0];
        assert_eq!(s.sample(&mut l), 2, "token 1 is penalised to 1.5");
        let mut s = sampler(SamplerConfig {
            temperature: 0.0,
            repetition_penalty: 1.0,
            presence_penalty: 1.5,
            ..SamplerConfig::default()
        });
        assert_eq!(s.sample(&mut [0.0, 3.0, 2.0]), 1);
        assert_eq!(
            s.sample(&mut [0.0, 3.0, 2.0]),
            2,
            "generated token 1 lost 1.5"
        );
    }
}
