//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::Instant;

/// Builds a scenario from a link and runs it to `until_us`.
pub fn run_link(l: &str, until_us: u64) -> Box<dyn labs::Sim> {
    let s = link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let mut sim = labs::build(&s).unwrap_or_else(|e| panic!("{l}: {e}"));
    sim.run_until(Instant(until_us));
    sim
}

/// The number of seeds a sweep runs: `DSPLAY_SEEDS`, or a small default.
pub fn seeds(default: u64) -> u64 {
    std::env::var("DSPLAY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
