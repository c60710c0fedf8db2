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

/// One limiter's state, fed request times in order ([`Limiter::offer`]): the lab's LB keeps
/// one at its entry, and [`admit`] runs one over a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limiter {
    algo: Algorithm,
    limit: u64,
    burst: u64,
    /// Token bucket: millionths of a token (`limit` tokens a second is `limit` a µs).
    tokens: u64,
    last_us: u64,
    /// Leaky bucket: when each queued request leaves; sliding log: the admitted times.
    times: VecDeque<u64>,
    free_at_us: u64,
    /// Windows: the current one's index, its count and the last one's.
    window: u64,
    cur: u64,
    prev: u64,
}

impl Limiter {
    pub fn new(algo: Algorithm, limit: u64, burst: u64) -> Limiter {
        let burst = burst.max(1);
        Limiter {
            algo,
            limit: limit.max(1),
            burst,
            tokens: burst * SECOND_US,
            last_us: 0,
            times: VecDeque::new(),
            free_at_us: 0,
            window: 0,
            cur: 0,
            prev: 0,
        }
    }

    /// A request arrives at `t` (no earlier than the last): when it is let through (`t`, or
    /// later for the leaky bucket's queue), or `None` if it is turned away.
    pub fn offer(&mut self, t: u64) -> Option<u64> {
        let (limit, burst) = (self.limit, self.burst);
        match self.algo {
            Algorithm::TokenBucket => {
                let cap = burst * SECOND_US;
                let earned = t.saturating_sub(self.last_us).saturating_mul(limit);
                self.tokens = self.tokens.saturating_add(earned).min(cap);
                self.last_us = t;
                let ok = self.tokens >= SECOND_US;
                self.tokens -= if ok { SECOND_US } else { 0 };
                ok.then_some(t)
            }
            Algorithm::LeakyBucket => {
                while self.times.front().is_some_and(|d| *d <= t) {
                    self.times.pop_front();
                }
                if self.times.len() as u64 >= burst {
                    return None;
                }
                let leave = self.free_at_us.max(t);
                self.free_at_us = leave + SECOND_US.div_ceil(limit);
                self.times.push_back(leave);
                Some(leave)
            }
            Algorithm::FixedWindow => {
                if t / SECOND_US != self.window {
                    (self.window, self.cur) = (t / SECOND_US, 0);
                }
                let ok = self.cur < limit;
                self.cur += ok as u64;
                ok.then_some(t)
            }
            Algorithm::SlidingLog => {
                while self.times.front().is_some_and(|a| *a + SECOND_US <= t) {
                    self.times.pop_front();
                }
                let ok = (self.times.len() as u64) < limit;
                if ok {
                    self.times.push_back(t);
                }
                ok.then_some(t)
            }
            Algorithm::SlidingCounter => {
                let w = t / SECOND_US;
                if w != self.window {
                    self.prev = if w == self.window + 1 { self.cur } else { 0 };
                    (self.window, self.cur) = (w, 0);
                }
                let into = t % SECOND_US;
                // prev * (1 - into/1s) + cur + 1 <= limit, in millionths.
                let ok = self.prev * (SECOND_US - into) + (self.cur + 1) * SECOND_US
                    <= limit * SECOND_US;
                self.cur += ok as u64;
                ok.then_some(t)
            }
        }
    }
}

/// The times the limiter admits requests arriving at `times` (ascending).
pub fn admit(algo: Algorithm, limit: u64, burst: u64, times: &[u64]) -> Vec<u64> {
    let mut lim = Limiter::new(algo, limit, burst);
    times.iter().filter_map(|t| lim.offer(*t)).collect()
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
