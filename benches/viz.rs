//! Benchmarks of one animation frame's drawing work outside the browser: the topology and
//! space-time diagram shapes for a playing Raft run and their encoding, as the paint worker
//! builds them from its copy of the run (or the page, when it paints the canvases itself).
//! (The frame benchmark in the browser is `scripts/bench-fps.mjs`; this isolates our part.)

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::play::frame::{diagram_frame, stage_frame, FrameView};
use dsplay::play::session::Session;
use dsplay::viz::packed::{encode, Encoded};
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
        let (mut s, err) = Session::open(l);
        assert!(err.is_none(), "{err:?}");
        s.seek(at);
        let view = FrameView::sized((900.0, 500.0), (1200.0, 260.0));
        let mut enc = Encoded::default();
        g.bench_function(format!("{name} topology"), |b| {
            b.iter(|| {
                let nodes = s.sim().nodes();
                encode(&stage_frame(&s, &nodes, &view).unwrap(), &mut enc);
                black_box(enc.ops.len())
            })
        });
        g.bench_function(format!("{name} diagram"), |b| {
            b.iter(|| {
                let nodes = s.sim().nodes();
                let (shapes, segs) = diagram_frame(&s, &nodes, &view).unwrap();
                encode(&shapes, &mut enc);
                black_box((enc.ops.len(), segs.len()))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
