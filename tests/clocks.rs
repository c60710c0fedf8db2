//! Logical clocks on the space-time diagram (`sim::clocks`): for every pair of events in a
//! run's trace window, happens-before computed straight from the trace (the transitive closure
//! of each row's order and of send → delivery) is the vector clocks' order, and Lamport
//! timestamps respect it; the clocks at any cursor of a long run are a fresh run's; the check
//! catches a clock that forgets to take the maximum on a delivery; and the "which happened
//! first?" question is a pure function of the run and its seed, with the trace's answer.

mod common;

use dsplay::labs::Sim;
use dsplay::sim::clocks::{which_happened_first, Order, WindowClocks};
use dsplay::sim::trace::RecordView;
use dsplay::sim::Instant;
use proptest::prelude::*;

/// An event's clocks as a checker sees them: record, row, Lamport timestamp, vector.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Clocked {
    seq: u64,
    process: u32,
    lamport: u64,
    vector: Vec<u32>,
}

fn clocked(c: &WindowClocks) -> Vec<Clocked> {
    (0..c.len())
        .map(|i| Clocked {
            seq: c.stamps()[i].seq,
            process: c.stamps()[i].process,
            lamport: c.stamps()[i].lamport as u64,
            vector: c.vector(i).to_vec(),
        })
        .collect()
}

/// The row of a record that is an event of the diagram, as the diagram draws it: a send on
/// its sender's row, a delivery on its receiver's, timers, crashes, restarts and notes on
/// their node's.
fn row_of(r: &RecordView, processes: u32) -> Option<u32> {
    let row = match r.what {
        "send" => r.from,
        "deliver" => r.to,
        "timer" | "crash" | "restart" | "note" => r.node,
        _ => None,
    };
    row.filter(|p| *p < processes)
}

/// The window's events and, for each, the set of events that happened before it (a bit set
/// over event indices): each row's order, and every send before its deliveries (a duplicated
/// copy's too), closed transitively.
fn happens_before(records: &[RecordView], processes: u32) -> (Vec<u64>, Vec<Vec<u64>>) {
    let mut seqs = Vec::new();
    let mut past: Vec<Vec<u64>> = Vec::new();
    let mut last_on_row: Vec<Option<usize>> = vec![None; processes as usize];
    let mut send_of: std::collections::HashMap<u64, usize> = Default::default();
    let words = records.len().div_ceil(64).max(1);
    for r in records {
        if r.what == "duplicate" {
            let copy = r.text.strip_prefix("copy #").and_then(|c| c.parse().ok());
            if let (Some(copy), Some(&s)) = (copy, r.msg.and_then(|m| send_of.get(&m))) {
                send_of.insert(copy, s);
            }
            continue;
        }
        let Some(row) = row_of(r, processes) else {
            continue;
        };
        let i = seqs.len();
        let mut set = vec![0u64; words];
        let take = |j: usize, set: &mut Vec<u64>| {
            for (w, p) in set.iter_mut().zip(&past[j]) {
                *w |= p;
            }
            set[j / 64] |= 1 << (j % 64);
        };
        if let Some(j) = last_on_row[row as usize] {
            take(j, &mut set);
        }
        if r.what == "deliver" {
            if let Some(&s) = r.msg.and_then(|m| send_of.get(&m)) {
                take(s, &mut set);
            }
        }
        if r.what == "send" {
            if let Some(m) = r.msg {
                send_of.insert(m, i);
            }
        }
        last_on_row[row as usize] = Some(i);
        seqs.push(r.seq);
        past.push(set);
    }
    (seqs, past)
}

fn before(past: &[Vec<u64>], a: usize, b: usize) -> bool {
    past[b][a / 64] >> (a % 64) & 1 == 1
}

fn vector_before(a: &[u32], b: &[u32]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a != b
}

/// Checks clocks against the trace: the same events, happens-before equal to the vector order
/// for every pair, and a → b implying L(a) < L(b). The first pair that disagrees, if any.
fn check_clocks(records: &[RecordView], processes: u32, clocks: &[Clocked]) -> Result<(), String> {
    let (seqs, past) = happens_before(records, processes);
    let clock_seqs: Vec<u64> = clocks.iter().map(|c| c.seq).collect();
    if clock_seqs != seqs {
        return Err(format!(
            "events differ: {} from the trace, {} clocked",
            seqs.len(),
            clocks.len()
        ));
    }
    for a in 0..seqs.len() {
        for b in 0..seqs.len() {
            let hb = before(&past, a, b);
            let vc = vector_before(&clocks[a].vector, &clocks[b].vector);
            if hb != vc {
                return Err(format!(
                    "#{} -> #{}: trace says {hb}, vectors {:?} {:?}",
                    seqs[a], seqs[b], clocks[a].vector, clocks[b].vector
                ));
            }
            if hb && clocks[a].lamport >= clocks[b].lamport {
                return Err(format!(
                    "#{} -> #{} but Lamport does not grow",
                    seqs[a], seqs[b]
                ));
            }
        }
    }
    Ok(())
}

/// Vector clocks computed over the window with a delivery that forgets to take the maximum
/// with the message's clock: the bug the check must catch.
fn forgetful_clocks(records: &[RecordView], processes: u32) -> Vec<Clocked> {
    let mut rows = vec![vec![0u32; processes as usize]; processes as usize];
    let mut lamport = vec![0u64; processes as usize];
    let mut out = Vec::new();
    for r in records {
        let Some(p) = row_of(r, processes) else {
            continue;
        };
        let p = p as usize;
        rows[p][p] += 1;
        lamport[p] += 1;
        out.push(Clocked {
            seq: r.seq,
            process: p as u32,
            lamport: lamport[p],
            vector: rows[p].clone(),
        });
    }
    out
}

fn processes(sim: &dyn Sim) -> u32 {
    sim.n() + sim.clients()
}

/// A run of `link` with its clocks kept, as `clocks=vector` asks (the engine keeps none
/// otherwise).
fn run_clocked(link: &str, until_us: u64) -> Box<dyn Sim> {
    common::run_link(&format!("{link}&clocks=vector"), until_us)
}

fn checked(link: &str, until_us: u64) -> (Box<dyn Sim>, Result<(), String>) {
    let sim = run_clocked(link, until_us);
    let clocks = sim.logical_clocks().expect("a lab's run keeps its clocks");
    let verdict = check_clocks(&sim.records(), processes(&*sim), &clocked(&clocks));
    (sim, verdict)
}

/// A random run of the flows, Raft or quorum lab, with loss, duplicates and a crash.
fn lab_link() -> impl Strategy<Value = String> {
    let lab = prop_oneof![
        Just("flows?n=3&clients=2&proc=1..5ms&think=20ms"),
        Just("raft?n=5&clients=2&think=50ms"),
        Just("quorum?n=3&clients=3&think=20ms"),
        Just("quorum?n=3&mode=leader&clients=2&think=30ms"),
    ];
    (lab, 0u64..1_000, 0u32..15, 0u32..10, 0u32..3).prop_map(|(lab, seed, loss, dup, node)| {
        format!(
            "#/{lab}&seed={seed}&lat=2..30ms&loss={loss}%&dup={dup}%&s=300ms:crash:{node};600ms:restart:{node}"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    // Fidge and Mattern's theorem on our runs: a happened before b exactly when a's vector
    // clock is below b's; and Lamport's clock condition, a -> b implies L(a) < L(b).
    #[test]
    fn vector_clock_order_is_happens_before_and_lamport_respects_it(
        link in lab_link(),
        until_ms in 200u64..6_000,
    ) {
        let (_, verdict) = checked(&link, until_ms * 1_000);
        prop_assert!(verdict.is_ok(), "{link} to {until_ms}ms: {verdict:?}");
    }
}

// The window of a long run holds only its last records; the clocks still count from the start
// of the run, so the check holds there too (a path between two events of the window never
// leaves it).
#[test]
fn vector_clocks_are_happens_before_in_a_long_runs_truncated_window() {
    let link = "#/raft?n=5&seed=3&clients=2&think=20ms&lat=2..30ms&loss=2%&dup=2%";
    let (sim, verdict) = checked(link, 30_000_000);
    assert!(
        sim.counters().events > 3 * sim.records().len() as u64,
        "the window was truncated"
    );
    verdict.unwrap();
    let clocks = sim.logical_clocks().unwrap();
    let firsts = (0..clocks.len()).map(|i| clocks.vector(i).iter().sum::<u32>());
    assert!(
        firsts.min().unwrap() > 1_000,
        "clocks count the events before the window"
    );
}

// Scrubbing back after a long run restores a keyframe and replays: the clocks there are those
// of a fresh run to the same instant, and so are those at the live edge.
#[test]
fn clocks_at_any_cursor_of_a_long_run_equal_a_fresh_runs() {
    let link = "#/flows?n=3&seed=5&clients=4&proc=1..5ms&think=5ms&lat=1..20ms&loss=3%&dup=3%";
    let mut long = run_clocked(link, 300_000_000);
    assert!(long.keyframes() > 5);
    let edge = run_clocked(link, 300_000_000);
    assert_eq!(long.logical_clocks(), edge.logical_clocks());
    for t_us in [
        293_123_000,
        147_000_000,
        1_500_000,
        210_000_000,
        299_999_000,
    ] {
        long.seek(Instant(t_us));
        let fresh = run_clocked(link, t_us);
        assert_eq!(long.trace_hash(), fresh.trace_hash());
        let (a, b) = (
            long.logical_clocks().unwrap(),
            fresh.logical_clocks().unwrap(),
        );
        assert!(a.len() > 100, "at {t_us}us");
        assert_eq!(a, b, "clocks at {t_us}us after a long run");
    }
}

// A delivery that forgets the maximum (its row's own count alone) breaks the order: the
// check says so on an ordinary run, so a passing check means something.
#[test]
fn the_check_catches_a_clock_that_forgets_the_maximum_on_delivery() {
    let sim = run_clocked("#/raft?n=3&seed=1&clients=1&think=50ms", 1_000_000);
    let records = sim.records();
    let p = processes(&*sim);
    let err = check_clocks(&records, p, &forgetful_clocks(&records, p));
    assert!(err.is_err(), "the forgetful clock passed");
    let real = clocked(&sim.logical_clocks().unwrap());
    check_clocks(&records, p, &real).unwrap();
    // And a Lamport clock that forgets the maximum fails too, with the right vectors.
    let forgetful_lamport: Vec<Clocked> = real
        .iter()
        .zip(forgetful_clocks(&records, p))
        .map(|(c, f)| Clocked {
            lamport: f.lamport,
            ..c.clone()
        })
        .collect();
    assert!(check_clocks(&records, p, &forgetful_lamport).is_err());
}

// The selected event's causal past, future and concurrent events split the window, each as
// the trace says.
#[test]
fn causal_past_future_and_concurrent_events_split_the_window() {
    let sim = run_clocked("#/quorum?n=3&seed=2&clients=3&think=20ms", 800_000);
    let clocks = sim.logical_clocks().unwrap();
    let (seqs, past) = happens_before(&sim.records(), processes(&*sim));
    for sel in [0, clocks.len() / 2, clocks.len() - 1] {
        let (p, f, c) = (
            clocks.causal_past(sel),
            clocks.causal_future(sel),
            clocks.concurrent_with(sel),
        );
        assert_eq!(p.len() + f.len() + c.len() + 1, clocks.len());
        for (i, seq) in seqs.iter().enumerate() {
            assert_eq!(p.contains(seq), before(&past, i, sel));
            assert_eq!(f.contains(seq), before(&past, sel, i));
        }
        let rel = clocks.relations(sel);
        assert_eq!(rel[sel], Order::Same);
    }
}

// The question is the same for the same run and seed, its answer is the trace's, and over
// seeds it asks about ordered and concurrent pairs alike.
#[test]
fn which_happened_first_is_deterministic_and_answered_by_the_trace() {
    let sim = run_clocked("#/raft?n=5&seed=7&clients=2&think=30ms", 2_000_000);
    let clocks = sim.logical_clocks().unwrap();
    let (seqs, past) = happens_before(&sim.records(), processes(&*sim));
    let mut seen = [0; 3];
    for seed in 0..60 {
        let q = which_happened_first(&clocks, seed, 1_000_000, 2_000_000).unwrap();
        assert_eq!(
            Some(q),
            which_happened_first(&clocks, seed, 1_000_000, 2_000_000)
        );
        let (a, b) = (clocks.index_of(q.a).unwrap(), clocks.index_of(q.b).unwrap());
        assert_ne!(a, b);
        assert!(clocks.stamps()[a].at_us >= 1_000_000 && clocks.stamps()[b].at_us >= 1_000_000);
        let (ia, ib) = (
            seqs.binary_search(&q.a).unwrap(),
            seqs.binary_search(&q.b).unwrap(),
        );
        let truth = match (before(&past, ia, ib), before(&past, ib, ia)) {
            (true, _) => Order::Before,
            (_, true) => Order::After,
            _ => Order::Concurrent,
        };
        assert_eq!(q.answer, truth);
        seen[match truth {
            Order::Before => 0,
            Order::After => 1,
            _ => 2,
        }] += 1;
    }
    assert!(seen.iter().all(|n| *n >= 8), "answers asked: {seen:?}");
    assert_eq!(
        which_happened_first(&clocks, 1, 0, 10),
        None,
        "nothing in view"
    );
}

// The clocks shown and the question's seed are part of the link: they read back as written,
// change nothing about the run, and odd values are refused with a message naming them.
#[test]
fn the_clocks_shown_and_the_questions_seed_are_part_of_the_link() {
    use dsplay::scenario::link::{decode, encode};
    let plain = decode("#/raft?n=5&seed=3&clients=2").unwrap();
    let s = decode("#/raft?n=5&seed=3&clients=2&clocks=vector&quiz=42").unwrap();
    assert_eq!((s.clocks.as_deref(), s.quiz), (Some("vector"), Some(42)));
    assert!(
        encode(&s).ends_with("&clocks=vector&quiz=42"),
        "{}",
        encode(&s)
    );
    assert_eq!(decode(&encode(&s)).unwrap(), s);
    assert!(!encode(&plain).contains("clocks"));
    let lamport = decode("#/raft?n=5&seed=3&clients=2&clocks=lamport").unwrap();
    assert_eq!(lamport.clocks.as_deref(), Some("lamport"));
    let (a, b) = (
        common::run_link(&encode(&s), 2_000_000),
        common::run_link(&encode(&plain), 2_000_000),
    );
    assert_eq!(a.trace_hash(), b.trace_hash());
    // The engine keeps clocks only for a run whose link asks for them (they cost it speed).
    assert!(a.logical_clocks().is_some());
    assert_eq!(b.logical_clocks(), None);
    let e = decode("#/raft?clocks=sundial").unwrap_err().0;
    assert!(e.contains("lamport or vector"), "{e}");
    let e = decode("#/raft?quiz=-1").unwrap_err().0;
    assert!(e.contains("quiz"), "{e}");
}

// Labels as the diagram would write them: a Lamport number, or the vector in brackets.
#[test]
fn clock_labels_read_as_a_number_or_a_bracketed_vector() {
    use dsplay::sim::clocks::ClockLabels;
    let sim = run_clocked("#/raft?n=3&seed=1&clients=1&think=50ms", 1_000_000);
    let clocks = sim.logical_clocks().unwrap();
    let i = clocks.len() - 1;
    let v = ClockLabels::Vector.label(&clocks, i);
    assert!(
        v.starts_with('[') && v.ends_with(']') && v.matches(',').count() == 3,
        "{v}"
    );
    let l = ClockLabels::Lamport.label(&clocks, i);
    assert_eq!(l, clocks.stamps()[i].lamport.to_string());
    assert_eq!(ClockLabels::Lamport.label(&clocks, usize::MAX), "");
}

// A run told to keep no clocks (a sweep's) has none, before or after a seek back through its
// keyframes, and runs the same.
#[test]
fn a_run_that_forgets_its_clocks_keeps_none_and_runs_the_same() {
    let link = "#/raft?n=5&seed=3&clients=2&think=20ms";
    let mut sim = run_clocked(link, 0);
    sim.forget_clocks();
    sim.run_until(Instant(60_000_000));
    assert_eq!(sim.logical_clocks(), None);
    sim.seek(Instant(10_000_000));
    assert_eq!(sim.logical_clocks(), None);
    let kept = run_clocked(link, 10_000_000);
    assert_eq!(sim.trace_hash(), kept.trace_hash());
    assert!(kept.logical_clocks().is_some());
}
