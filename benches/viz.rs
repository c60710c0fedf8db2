//! Benchmarks of one animation frame's main-thread work outside the browser: the topology and
//! space-time diagram shapes for a playing Raft run, and their encoding for the paint worker.
//! (The frame benchmark in the browser is `scripts/bench-fps.mjs`; this isolates our part.)

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::time::Instant;
use dsplay::viz::scene::{topology, Layout, Selection, Style, TopologyInput};
use dsplay::viz::spacetime::{diagram, DiagramInput};
use dsplay::viz::wire::{encode, Encoded};
use std::hint::black_box;

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("viz_frame");
    for (name, l, at) in [
        ("raft5", "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=1", 8_000_000),
        (
            "raft9_200_in_flight",
            "#/raft?n=9&seed=1&lat=300..500ms&loss=0%&dup=0%&hb=100ms&et=1500..3000ms&clients=2&think=0ms",
            12_000_000,
        ),
    ] {
        let sc = link::decode(l).unwrap();
        let mut sim = labs::build(&sc).unwrap();
        sim.run_until(Instant(at));
        let records = sim.records();
        let style = Style { scale: 1.0 };
        let mut enc = Encoded::default();
        g.bench_function(format!("{name} topology"), |b| {
            b.iter(|| {
                let (nodes, msgs, cuts) = (sim.nodes(), sim.in_flight(), sim.cut_links());
                let layout = Layout::circle(sim.n(), sim.clients(), 900.0, 500.0, style);
                let input = TopologyInput {
                    nodes: &nodes,
                    clients: sim.clients(),
                    msgs: &msgs,
                    cuts: &cuts,
                    drops: &[],
                    now_us: at,
                    selected: Selection::None,
                    hover: Selection::None,
                    drag: None,
                };
                encode(&topology(&layout, &input, style), &mut enc);
                black_box(enc.ops.len())
            })
        });
        g.bench_function(format!("{name} diagram"), |b| {
            b.iter(|| {
                let labels: Vec<String> = sim.nodes().into_iter().map(|n| n.label).collect();
                let input = DiagramInput {
                    records: &records,
                    node_labels: &labels,
                    clients: sim.clients(),
                    now_us: at,
                    span_us: 1_000_000,
                    selected_msg: None,
                };
                let (shapes, segs) = diagram(&input, 1200.0, 260.0, style);
                encode(&shapes, &mut enc);
                black_box((enc.ops.len(), segs.len()))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
