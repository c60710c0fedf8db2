//! Engine throughput and the cost of seeking.
//!
//! - `engine/flows16`: request/response traffic among 16 servers and 32 clients, latency
//!   uniform 1..20 ms, 1% loss, run for 60 s of virtual time; criterion reports events/s.
//! - `engine/seek10m`: seeking to a random instant of a 10-minute run (keyframes + replay).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::Instant;

const LINK: &str =
    "#/flows?n=16&seed=3&lat=1..20ms&loss=1%&dup=0%&clients=32&think=0ms&proc=1..5ms&workers=8";

fn events_for(until_us: u64) -> u64 {
    let s = link::decode(LINK).expect("bench link");
    let mut sim = labs::build(&s).expect("bench build");
    sim.run_until(Instant(until_us));
    sim.counters().events
}

fn throughput(c: &mut Criterion) {
    let until = 60_000_000;
    let events = events_for(until);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.sample_size(10);
    g.bench_function("flows16", |b| b.iter(|| events_for(until)));
    g.finish();
}

fn seek(c: &mut Criterion) {
    let s = link::decode(LINK).expect("bench link");
    let mut sim = labs::build(&s).expect("bench build");
    sim.run_until(Instant(600_000_000));
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    let mut t = 17u64;
    g.bench_function("seek10m", |b| {
        b.iter(|| {
            // A spread of targets across the run, deterministic.
            t = (t * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407) % 600_000_000;
            sim.seek(Instant(t));
            sim.now()
        })
    });
    g.finish();
}

criterion_group!(benches, throughput, seek);
criterion_main!(benches);
