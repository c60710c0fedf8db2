//! Same scenario, same trace: the principle every shared link rests on.

mod common;
use common::run_link;

const FIXED: &str = "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%";

/// The pinned hash of `FIXED` run to 10 s. It must never change without a new format version:
/// a change means old links would replay differently. The browser test checks the same value.
pub const FIXED_HASH_10S: &str = "5c0c5bea343c7cfc";

// Determinism: running the same scenario twice gives byte-identical traces.
#[test]
fn same_scenario_twice_gives_the_same_trace_hash() {
    for l in [FIXED, "#/flows?n=5&seed=3&lat=exp(30ms)&loss=5%&dup=3%&clients=6&s=1s:crash:1;2s:part:0.1/2.3.4;4s:heal;5s:restart:1"] {
        let a = run_link(l, 20_000_000);
        let b = run_link(l, 20_000_000);
        assert_eq!(a.trace_hash(), b.trace_hash(), "{l}");
        assert_eq!(a.counters(), b.counters(), "{l}");
    }
}

// A different seed is a different run.
#[test]
fn another_seed_gives_another_trace_hash() {
    let a = run_link(FIXED, 10_000_000);
    let b = run_link(&FIXED.replace("seed=7", "seed=8"), 10_000_000);
    assert_ne!(a.trace_hash(), b.trace_hash());
}

// The golden hash: guards against any change to the engine, RNG or encoding that would make
// released links replay differently.
#[test]
fn fixed_scenario_has_its_pinned_trace_hash() {
    let sim = run_link(FIXED, 10_000_000);
    assert_eq!(format!("{:016x}", sim.trace_hash()), FIXED_HASH_10S);
}

// Running in pieces (as the browser does frame by frame) equals running straight through.
#[test]
fn running_in_small_increments_equals_running_at_once() {
    let mut a = run_link(FIXED, 0);
    let mut t = 0;
    while t < 10_000_000 {
        t += 16_667;
        a.run_until(dsplay::sim::Instant(t.min(10_000_000)));
    }
    let b = run_link(FIXED, 10_000_000);
    assert_eq!(a.trace_hash(), b.trace_hash());
}
