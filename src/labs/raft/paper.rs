//! A small, cited excerpt of the Raft paper's election measurements, for the browser.
//!
//! Source: Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm" (USENIX ATC
//! 2014), Figure 16; per-trial values recovered from the figures of Ongaro's PhD thesis, ch. 9
//! (`refdata/raft/fig16_summary_extracted.csv`). The browser cannot read the reference data, so
//! the summary percentiles are kept here; `tests/raft_election_experiment.rs` checks that they
//! match the reference file whenever it is present.

/// One timeout range's time without a leader, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaperRange {
    pub timeout_min_ms: u64,
    pub timeout_max_ms: u64,
    pub trials: u32,
    /// (quantile, milliseconds): min, p10, p25, median, p75, p90, p99, p99.9, max.
    pub quantiles: [(f64, f64); 9],
    pub mean_ms: f64,
}

const fn row(lo: u64, hi: u64, n: u32, v: [f64; 10]) -> PaperRange {
    PaperRange {
        timeout_min_ms: lo,
        timeout_max_ms: hi,
        trials: n,
        quantiles: [
            (0.0, v[0]),
            (0.10, v[1]),
            (0.25, v[2]),
            (0.50, v[3]),
            (0.75, v[5]),
            (0.90, v[6]),
            (0.99, v[7]),
            (0.999, v[8]),
            (1.0, v[9]),
        ],
        mean_ms: v[4],
    }
}

/// Figure 16, both panels (min, p10, p25, median, mean, p75, p90, p99, p99.9, max).
pub const FIG16: &[PaperRange] = &[
    row(
        150,
        150,
        100,
        [
            9864.7, 18730.8, 28176.5, 40878.7, 54330.7, 60484.4, 84054.7, 255384.4, 527964.3,
            527964.3,
        ],
    ),
    row(
        150,
        151,
        1000,
        [
            86.2, 434.3, 736.5, 1198.4, 1535.8, 1938.7, 3131.5, 5981.4, 7082.7, 8231.4,
        ],
    ),
    row(
        150,
        155,
        1000,
        [
            85.3, 119.2, 154.1, 287.3, 345.0, 434.7, 606.3, 1224.2, 1773.6, 2142.9,
        ],
    ),
    row(
        150,
        175,
        1000,
        [
            84.4, 106.7, 120.9, 141.0, 163.7, 164.2, 290.9, 462.5, 511.3, 610.0,
        ],
    ),
    row(
        150,
        200,
        1000,
        [
            87.1, 110.2, 124.5, 146.4, 156.0, 166.7, 193.4, 344.7, 496.0, 512.4,
        ],
    ),
    row(
        150,
        300,
        1000,
        [
            92.7, 124.4, 144.3, 171.2, 180.7, 207.5, 244.0, 405.4, 533.7, 603.3,
        ],
    ),
    row(
        12,
        24,
        1000,
        [15.3, 19.7, 24.4, 30.0, 34.7, 42.1, 52.4, 86.8, 134.7, 151.7],
    ),
    row(
        25,
        50,
        1000,
        [
            24.0, 30.5, 35.4, 43.0, 47.9, 52.4, 73.3, 118.0, 272.0, 276.3,
        ],
    ),
    row(
        50,
        100,
        1000,
        [
            37.1, 47.5, 56.0, 66.7, 71.3, 79.4, 95.6, 168.0, 210.9, 253.3,
        ],
    ),
    row(
        100,
        200,
        1000,
        [
            65.7, 85.1, 100.0, 120.1, 125.4, 145.2, 165.5, 272.8, 328.8, 335.2,
        ],
    ),
];

/// The paper's row for a timeout range, if it measured that range.
pub fn fig16(timeout_min_ms: u64, timeout_max_ms: u64) -> Option<&'static PaperRange> {
    FIG16
        .iter()
        .find(|r| r.timeout_min_ms == timeout_min_ms && r.timeout_max_ms == timeout_max_ms)
}

/// The empirical cumulative distribution of samples: sorted (ms, fraction ≤ ms) points.
pub fn cdf(samples_ms: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = samples_ms
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    crate::sim::order::sort_by(&mut v, f64::total_cmp);
    let n = v.len() as f64;
    v.iter()
        .enumerate()
        .map(|(i, x)| (*x, (i + 1) as f64 / n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_sorted_and_ends_at_one() {
        let c = cdf(&[3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!(c, vec![(1.0, 1.0 / 3.0), (2.0, 2.0 / 3.0), (3.0, 1.0)]);
    }

    #[test]
    fn every_paper_range_is_found_and_monotone() {
        for r in FIG16 {
            assert_eq!(fig16(r.timeout_min_ms, r.timeout_max_ms), Some(r));
            assert!(r
                .quantiles
                .windows(2)
                .all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
        }
    }
}
