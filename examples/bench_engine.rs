//! The engine benchmark natively, as the page's `window.dsplay.benchEngine` runs it in wasm:
//! one link for some seconds of virtual time, [`RUNS`] times (the first warms up), each run's
//! events, wall time and trace hash printed as one line of JSON, so that
//! `scripts/bench-wasm-engine.mjs` puts native and wasm side by side in one run.
//!
//! `cargo run --profile bench --example bench_engine -- [link] [virtual seconds]`
use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::Instant;

/// Runs of a few tens of milliseconds each: enough that the median is steady on a busy machine.
const RUNS: usize = 9;

/// The scenario of `engine/flows16` (benches/engine.rs).
const FLOWS16: &str =
    "#/flows?n=16&seed=3&lat=1..20ms&loss=1%&dup=0%&clients=32&think=0ms&proc=1..5ms&workers=8";

fn main() {
    let mut args = std::env::args().skip(1);
    let text = args.next().unwrap_or_else(|| FLOWS16.to_string());
    let virtual_s: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(60);
    let s = link::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    for _ in 0..RUNS {
        let mut sim = labs::build(&s).unwrap_or_else(|e| panic!("{text}: {e}"));
        let t0 = std::time::Instant::now();
        sim.run_until(Instant(virtual_s * 1_000_000));
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let events = sim.counters().events;
        let line = serde_json::json!({
            "events": events,
            "ms": ms,
            "eventsPerSec": if ms > 0.0 { events as f64 / ms * 1e3 } else { 0.0 },
            "virtualUs": sim.now().0,
            "traceHash": format!("{:016x}", sim.trace_hash()),
        });
        println!("{line}");
    }
}
