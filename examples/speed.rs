//! Quick engine speed check without criterion: `cargo run --release --example speed`.
use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::Instant;

fn main() {
    let l = std::env::args().nth(1).unwrap_or_else(|| {
        "#/flows?n=16&seed=3&lat=1..20ms&loss=1%&dup=0%&clients=32&think=0ms&proc=1..5ms&workers=8".into()
    });
    let s = link::decode(&l).expect("link");
    let mut sim = labs::build(&s).expect("build");
    let t0 = std::time::Instant::now();
    sim.run_until(Instant(60_000_000));
    let dt = t0.elapsed().as_secs_f64();
    let ev = sim.counters().events;
    println!(
        "{ev} events in {dt:.3}s = {:.2} M events/s",
        ev as f64 / dt / 1e6
    );
}
