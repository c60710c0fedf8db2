//! Benchmarks of the replication lab's staleness experiment (`pbs`): 100,000 trials of N = 3,
//! R = W = 1 under LNKD-DISK, each a write and reads 0 and 10 ms after it commits, every trial
//! a run of the lab's store; and 10,000 trials with the 25 reads of the default curve.

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::labs::find_experiment;
use std::hint::black_box;
use std::time::Duration;

fn pbs(trials: &str, ts: &str) -> f64 {
    let spec = find_experiment("pbs").expect("pbs is registered");
    let values = spec
        .values(&[("trials".into(), trials.into()), ("t-ms".into(), ts.into())])
        .expect("valid values");
    let report = spec.run_all(&values).expect("runs");
    report.json["p_consistent"][0]["p"].as_f64().unwrap_or(0.0)
}

fn staleness(c: &mut Criterion) {
    let mut g = c.benchmark_group("pbs");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("100,000 trials, t = 0 and 10 ms", |b| {
        b.iter(|| black_box(pbs("100000", "0,10")))
    });
    g.bench_function("10,000 trials, the 25-point curve", |b| {
        b.iter(|| black_box(pbs("10000", "auto")))
    });
    g.finish();
}

criterion_group!(benches, staleness);
criterion_main!(benches);
