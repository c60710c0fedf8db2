//! Benchmarks of the partitioning lab's placement: 1,000,000 keys over 100 servers for each
//! algorithm (the ring and bounded loads with 1,000 virtual nodes per server, Maglev with the
//! paper's 65,537 slots), the index built and every key placed, as `ring-balance` does for
//! one trial; and building the ring of 100 x 1,000 points alone.

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::labs::ring::hash;
use dsplay::labs::ring::placement::{Member, Placement, Setup, ALGORITHMS};
use std::hint::black_box;
use std::time::Duration;

const KEYS: u64 = 1_000_000;

fn members() -> Vec<Member> {
    (1..=100).map(|id| Member { id, weight: 1 }).collect()
}

fn setup(a: dsplay::labs::ring::placement::Algorithm) -> Setup {
    Setup {
        algorithm: a,
        vnodes: 1_000,
        table: 65_537,
        eps_ppm: 250_000,
        salt: 1,
    }
}

fn placement(c: &mut Criterion) {
    let ms = members();
    let mut g = c.benchmark_group("place 1,000,000 keys on 100 servers");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for a in ALGORITHMS {
        g.bench_function(a.name(), |b| {
            b.iter(|| {
                let p = Placement::new(setup(a), &ms);
                black_box(p.assign(KEYS, &|i| hash::key(1, i)))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function("ring of 100 x 1,000 points", |b| {
        b.iter(|| black_box(Placement::new(setup(ALGORITHMS[1]), &ms)))
    });
    g.finish();
}

criterion_group!(benches, placement);
criterion_main!(benches);
