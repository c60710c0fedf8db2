//! Benchmarks of the Raft lab: the paper's election experiment (DESIGN section 8 asks for
//! experiments of thousands of runs while the user waits; 1,000 trials of 150-300 ms should
//! take under a second natively) and a minute of a default cluster with client traffic.

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::labs::raft::experiment::{election_experiment, ElectionParams};
use dsplay::labs::raft::{self, LAB};
use dsplay::scenario::Scenario;
use dsplay::sim::time::Instant;
use std::hint::black_box;

fn election(c: &mut Criterion) {
    let mut g = c.benchmark_group("raft_election_experiment");
    g.sample_size(10);
    g.bench_function("1000 trials of 150-300 ms", |b| {
        b.iter(|| election_experiment(black_box(&ElectionParams::paper(150, 300))))
    });
    g.bench_function("1000 trials of 12-24 ms", |b| {
        b.iter(|| election_experiment(black_box(&ElectionParams::paper(12, 24))))
    });
    g.finish();
}

fn cluster(c: &mut Criterion) {
    let mut g = c.benchmark_group("raft_cluster");
    g.sample_size(10);
    let s = Scenario::default_for(&LAB);
    g.bench_function(
        "60 s virtual, 5 nodes, default workload, properties on",
        |b| {
            b.iter(|| {
                let mut w = raft::world(&s).unwrap();
                w.run_until(Instant(60_000_000), &s.script);
                black_box(w.trace_hash())
            })
        },
    );
    let s9 = Scenario::from_link("#/raft?n=9&clients=4&think=20ms").unwrap();
    g.bench_function(
        "60 s virtual, 9 nodes, 4 busy clients, properties on",
        |b| {
            b.iter(|| {
                let mut w = raft::world(&s9).unwrap();
                w.run_until(Instant(60_000_000), &s9.script);
                black_box(w.counters().events)
            })
        },
    );
    g.finish();
}

criterion_group!(benches, election, cluster);
criterion_main!(benches);
