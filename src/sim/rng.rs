//! The one seeded generator, split into named streams.
//!
//! ChaCha8 has a specified output, so the same seed yields the same numbers natively and in
//! wasm. Each concern draws from its own stream so that, say, adding a client does not
//! reshuffle every network delay. Sampling is written here rather than taken from `rand`'s
//! distributions, whose algorithms may change between releases; logarithms and powers come from
//! `libm` so they are bit-identical on every target.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The named sub-streams of a run's generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Network = 1,
    Timers = 2,
    Workload = 3,
    Faults = 4,
    /// Client retries: the jitter of their backoff.
    Retries = 5,
    /// Open-loop arrivals of client operations.
    Arrivals = 6,
}

/// A deterministic random stream.
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl PartialEq for Rng {
    fn eq(&self, other: &Self) -> bool {
        self.0.get_word_pos() == other.0.get_word_pos()
            && self.0.get_stream() == other.0.get_stream()
            && self.0.get_seed() == other.0.get_seed()
    }
}
impl Eq for Rng {}

impl Rng {
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream as u64);
        Rng(r)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `[lo, hi]` inclusive (Lemire's widening multiply, unbiased).
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let n = span + 1;
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return lo + (m >> 64) as u64;
            }
        }
    }

    /// True with probability `ppm / 1_000_000`.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        ppm > 0 && (ppm >= 1_000_000 || self.range_inclusive(0, 999_999) < ppm as u64)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -libm::log(1.0 - self.unit()) * mean
    }

    /// Pareto with scale `x_m` and shape `alpha`: `x_m / U^(1/alpha)`.
    pub fn pareto(&mut self, x_m: f64, alpha: f64) -> f64 {
        let u = 1.0 - self.unit(); // in (0, 1]
        x_m / libm::pow(u, 1.0 / alpha)
    }

    /// Picks an index in `0..len` uniformly.
    pub fn index(&mut self, len: usize) -> usize {
        self.range_inclusive(0, len.saturating_sub(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden values: if these change, every saved link replays differently. They are checked
    // natively and in wasm (tests/web.rs) so the two targets cannot drift apart.
    #[test]
    fn streams_give_pinned_values_for_a_seed() {
        let mut net = Rng::new(7, Stream::Network);
        let mut tim = Rng::new(7, Stream::Timers);
        let a = net.next_u64();
        let b = tim.next_u64();
        assert_ne!(a, b, "streams must differ");
        assert_eq!((a, b), crate::sim::rng::golden::SEED7_FIRST);
    }

    #[test]
    fn range_is_inclusive_and_in_bounds() {
        let mut r = Rng::new(1, Stream::Workload);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = r.range_inclusive(10, 14);
            assert!((10..=14).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}

/// Pinned outputs shared by the native and wasm golden tests.
pub mod golden {
    /// First `next_u64` of the network and timers streams for seed 7.
    pub const SEED7_FIRST: (u64, u64) = (18_301_176_669_829_311_175, 5_536_391_431_806_027_785);
}
