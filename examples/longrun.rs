//! Memory and seek times of a long run, natively: `cargo run --release --example longrun --
//! [LINK] [HOURS]`. Prints, each virtual hour, the events so far, the keyframes kept and the
//! bytes live (the run with its keyframes, and the same world alone, without keyframes, which
//! is what the protocol's own state needs); then the time of seeks to a few instants.
use dsplay::labs::raft::Raft;
use dsplay::scenario::link;
use dsplay::sim::{Instant, Run};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the bytes live on the heap.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
}
#[global_allocator]
static ALLOC: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1 << 20) as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let l = args
        .next()
        .unwrap_or_else(|| "#/raft?n=5&seed=1&lat=20..80ms&loss=2%&dup=0%&clients=2".into());
    let hours: u64 = args.next().and_then(|h| h.parse().ok()).unwrap_or(8);
    let s = link::decode(&l).expect("a Raft link");
    let hour_us = 3_600_000_000u64;
    let base = live_mb();
    let mut alone = dsplay::labs::raft::world(&s).expect("builds");
    let mut alone_mb = Vec::new();
    for h in 1..=hours {
        alone.run_until(Instant(h * hour_us), &s.script);
        alone_mb.push(live_mb() - base);
    }
    drop(alone);
    let mut run: Run<Raft> = Run::new(dsplay::labs::raft::world(&s).unwrap(), s.script.clone());
    let t0 = std::time::Instant::now();
    for h in 1..=hours {
        run.run_until(Instant(h * hour_us));
        println!(
            "{h} h: {} events in {:.1} s, {} keyframes, {:.0} MB live (the world alone: {:.0} MB)",
            run.world().counters().events,
            t0.elapsed().as_secs_f64(),
            run.keyframe_count(),
            live_mb() - base,
            alone_mb[h as usize - 1],
        );
    }
    let w = run.world();
    let b0 = live_mb();
    let snap = w.snapshot();
    let b1 = live_mb();
    let nodes = w.nodes.clone();
    let b2 = live_mb();
    println!(
        "a keyframe (snapshot) takes {:.0} KB, {:.0} KB of it the nodes' state",
        (b1 - b0) * 1024.0,
        (b2 - b1) * 1024.0
    );
    drop((snap, nodes));
    // The same ten instants as scripts/bench-longplay.mjs.
    let end = run.now().0;
    let mut x: u64 = 12345;
    for _ in 0..10 {
        x = (x * 1_103_515_245 + 12_345) % (1 << 31);
        let t = (x as f64 / (1u64 << 31) as f64 * end as f64) as u64;
        let before = run.world().counters().events;
        let t1 = std::time::Instant::now();
        run.seek(Instant(t));
        println!(
            "seek to {:.3} of the run: {:.1} ms (events {before} -> {}), {} keyframes, {:.0} MB live",
            t as f64 / end as f64,
            t1.elapsed().as_secs_f64() * 1e3,
            run.world().counters().events,
            run.keyframe_count(),
            live_mb() - base
        );
    }
}
