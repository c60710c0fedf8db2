//! Rate limiters, each the textbook definition over request times in microseconds:
//!
//! - token bucket: `burst` tokens at most, `limit` a second added; a request takes one;
//! - leaky bucket (a queue): requests wait in a queue of `burst` and leave one every
//!   1/`limit` s; admitted means leaving the bucket;
//! - fixed window: at most `limit` in each calendar second;
//! - sliding window log: at most `limit` in the second before each request;
//! - sliding window counter: the last window's count weighted by how much of it the sliding
//!   second still covers, plus this window's, must stay under `limit`.

use crate::sim::rng::{Rng, Stream};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    TokenBucket,
    LeakyBucket,
    FixedWindow,
    SlidingLog,
    SlidingCounter,
}

pub const NAMES: &[&str] = &[
    "token-bucket",
    "leaky-bucket",
    "fixed-window",
    "sliding-window-log",
    "sliding-window-counter",
];

const ALL: [Algorithm; 5] = [
    Algorithm::TokenBucket,
    Algorithm::LeakyBucket,
    Algorithm::FixedWindow,
    Algorithm::SlidingLog,
    Algorithm::SlidingCounter,
];

impl Algorithm {
    pub fn parse(name: &str) -> Option<Algorithm> {
        NAMES.iter().position(|n| *n == name).map(|i| ALL[i])
    }
}

const SECOND_US: u64 = 1_000_000;

/// The most a limiter's definition lets through in any one second: a fixed window twice its
/// limit (the end of one window and the start of the next), the sliding counter as much in
/// the worst case (all of the last window's at its very end); the buckets and the log their
/// limit plus the burst.
pub fn bound(algo: Algorithm, limit: u64, burst: u64) -> u64 {
    match algo {
        Algorithm::FixedWindow | Algorithm::SlidingCounter => 2 * limit,
        _ => limit + burst,
    }
}

/// Poisson arrivals at `rate` a second for `seconds`; with `bursts`, only those in the middle
/// second of every two (from 0.5 s to 1.5 s, 2.5 s to 3.5 s, ...), across a window boundary.
pub fn arrivals(rate: u64, seconds: u64, bursts: bool, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed, Stream::Arrivals);
    let gap = SECOND_US as f64 / rate.max(1) as f64;
    let end = seconds * SECOND_US;
    let mut t = 0u64;
    let mut out = Vec::new();
    loop {
        t += (rng.exponential(gap) as u64).max(1);
        if t >= end {
            return out;
        }
        let phase = t % (2 * SECOND_US);
        if !bursts || (SECOND_US / 2..3 * SECOND_US / 2).contains(&phase) {
            out.push(t);
        }
    }
}

/// The times the limiter admits requests arriving at `times` (ascending).
pub fn admit(algo: Algorithm, limit: u64, burst: u64, times: &[u64]) -> Vec<u64> {
    let mut out = Vec::new();
    let limit = limit.max(1);
    match algo {
        Algorithm::TokenBucket => {
            // Millionths of a token: `limit` tokens a second is `limit` millionths a µs.
            let cap = burst.max(1) * SECOND_US;
            let (mut tokens, mut last) = (cap, 0u64);
            for &t in times {
                tokens = (tokens + (t - last) * limit).min(cap);
                last = t;
                if tokens >= SECOND_US {
                    tokens -= SECOND_US;
                    out.push(t);
                }
            }
        }
        Algorithm::LeakyBucket => {
            let every = SECOND_US.div_ceil(limit);
            let mut queue: VecDeque<u64> = VecDeque::new();
            let mut free_at = 0u64;
            for &t in times {
                while queue.front().is_some_and(|d| *d <= t) {
                    queue.pop_front();
                }
                if (queue.len() as u64) < burst.max(1) {
                    let leave = free_at.max(t);
                    free_at = leave + every;
                    queue.push_back(leave);
                    out.push(leave);
                }
            }
        }
        Algorithm::FixedWindow => {
            let (mut window, mut count) = (u64::MAX, 0);
            for &t in times {
                if t / SECOND_US != window {
                    (window, count) = (t / SECOND_US, 0);
                }
                if count < limit {
                    count += 1;
                    out.push(t);
                }
            }
        }
        Algorithm::SlidingLog => {
            let mut log: VecDeque<u64> = VecDeque::new();
            for &t in times {
                while log.front().is_some_and(|a| *a + SECOND_US <= t) {
                    log.pop_front();
                }
                if (log.len() as u64) < limit {
                    log.push_back(t);
                    out.push(t);
                }
            }
        }
        Algorithm::SlidingCounter => {
            let (mut window, mut prev, mut cur) = (0u64, 0u64, 0u64);
            for &t in times {
                let w = t / SECOND_US;
                if w != window {
                    prev = if w == window + 1 { cur } else { 0 };
                    (window, cur) = (w, 0);
                }
                let into = t % SECOND_US;
                // prev * (1 - into/1s) + cur < limit, in millionths.
                if prev * (SECOND_US - into) + (cur + 1) * SECOND_US <= limit * SECOND_US {
                    cur += 1;
                    out.push(t);
                }
            }
        }
    }
    out
}

/// The most of `times` (ascending) in any window of `span_us`, sliding: `(t - span, t]`.
pub fn max_in_window(times: &[u64], span_us: u64) -> u64 {
    let (mut lo, mut best) = (0usize, 0u64);
    for (hi, &t) in times.iter().enumerate() {
        while times[lo] + span_us <= t {
            lo += 1;
        }
        best = best.max((hi - lo + 1) as u64);
    }
    best
}
