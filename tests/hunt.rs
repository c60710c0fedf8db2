//! The page's hunt for a counterexample, driven natively: seeds handed to pools of workers of
//! any size, answered in any order, give the first violation in seed order (the one the
//! command line's sweep lists first), shrunk to a link that opens at it; the workers' lines
//! are total.

use dsplay::play::hunt::{self, Answer, Hunt, Outcome};
use dsplay::play::sweep::{self, Faults};
use dsplay::scenario::link;

/// Leader-follower replication acknowledged at the leader: failovers under faults lose writes.
const ASYNC: &str = "#/quorum?n=5&seed=4&lat=10..40ms&clients=4&mode=leader";
const UNTIL_US: u64 = 8_000_000;

/// A pool of `workers`, each holding up to two seeds, answering its oldest (or, with
/// `newest_first`, its newest) seed first: a hunt run the way the page runs it.
fn hunt_with_pool(
    base: &str,
    planned: u64,
    workers: usize,
    newest_first: bool,
    faults: Faults,
) -> (Hunt, Outcome) {
    let mut h = Hunt::new(planned);
    let mut queues: Vec<Vec<u64>> = vec![Vec::new(); workers];
    let mut turn = 0;
    loop {
        for q in queues.iter_mut() {
            while q.len() < 2 {
                let Some(k) = h.next_seed() else { break };
                q.push(k);
            }
        }
        if let Some(outcome) = h.outcome() {
            return (h, outcome);
        }
        turn = (turn + 1) % workers;
        let q = &mut queues[turn];
        if q.is_empty() {
            continue;
        }
        let k = if newest_first {
            q.pop()
        } else {
            Some(q.remove(0))
        }
        .unwrap();
        let line = hunt::judge_request(7, k, faults, UNTIL_US, base);
        let reply = hunt::answer(&line).expect("a judge line is answered");
        match hunt::read_answer(&reply) {
            Some((
                7,
                Answer::Judged {
                    k: got,
                    events,
                    broke,
                },
            )) => {
                assert_eq!(got, k);
                h.judged(k, events, broke);
            }
            other => panic!("{reply}: {other:?}"),
        }
    }
}

#[test]
fn any_pool_finds_the_first_violation_in_seed_order_the_sweep_lists_first() {
    let (_, one) = hunt_with_pool(ASYNC, 8, 1, false, Faults::Heavy);
    let (_, three) = hunt_with_pool(ASYNC, 8, 3, true, Faults::Heavy);
    let (_, five) = hunt_with_pool(ASYNC, 8, 5, false, Faults::Heavy);
    assert_eq!(one, three);
    assert_eq!(one, five);
    let Outcome::Broken(b) = one else {
        panic!("heavy faults on async replication lose a write")
    };
    let s = link::decode(ASYNC).unwrap();
    let report = sweep::sweep(&s, 8, Faults::Heavy, 1, UNTIL_US).unwrap();
    let first = &report.violations[0];
    assert_eq!(first.seed, sweep::seed_of(s.seed, b.k));
    assert_eq!(first.property, b.property);
}

#[test]
fn the_shrunk_counterexample_opens_at_its_violation_and_breaks_the_same_property() {
    let (_, outcome) = hunt_with_pool(ASYNC, 8, 2, false, Faults::Heavy);
    let Outcome::Broken(b) = outcome else {
        panic!("expected a violation")
    };
    let line = hunt::shrink_request(3, b.k, Faults::Heavy, UNTIL_US, &b.property, ASYNC);
    let reply = hunt::answer(&line).unwrap();
    let Some((
        3,
        Answer::Shrunk {
            at_us,
            before,
            after,
            link: shrunk,
        },
    )) = hunt::read_answer(&reply)
    else {
        panic!("{reply}")
    };
    assert!(after < before, "{before} → {after}");
    let s = link::decode(&shrunk).unwrap();
    assert_eq!(s.cursor_us, Some(at_us));
    let judged = sweep::judge(&s, sweep::heal_at_us(UNTIL_US), UNTIL_US).unwrap();
    assert_eq!(judged.broken, Some((b.property.clone(), at_us)));
}

#[test]
fn a_correct_protocol_ends_clean_after_every_seed() {
    let raft = "#/raft?n=3&seed=2&lat=10..40ms";
    let base = link::decode(raft).unwrap();
    let expected = sweep::sweep(&base, 4, Faults::Light, 1, UNTIL_US).unwrap();
    assert!(expected.violations.is_empty(), "{:?}", expected.violations);
    let (h, outcome) = hunt_with_pool(raft, 4, 2, true, Faults::Light);
    assert_eq!(outcome, Outcome::Clean);
    assert_eq!((h.done, h.broken), (4, 0));
    assert_eq!(h.events, expected.events, "the same runs as the sweep's");
}

#[test]
fn the_hunt_stops_handing_out_seeds_after_a_violation_and_waits_for_earlier_ones() {
    let mut h = Hunt::new(10);
    let out: Vec<u64> = (0..4).filter_map(|_| h.next_seed()).collect();
    assert_eq!(out, [0, 1, 2, 3]);
    h.judged(2, 10, Some(("p".into(), 5)));
    assert_eq!(h.next_seed(), None, "nothing after a violation");
    assert_eq!(h.outcome(), None, "seeds 0 and 1 may still break first");
    h.judged(1, 10, Some(("q".into(), 9)));
    h.judged(1, 10, None); // twice: ignored
    h.judged(42, 10, None); // never out: ignored
    assert_eq!(h.outcome(), None);
    h.judged(0, 10, None);
    let want = hunt::Broken {
        k: 1,
        property: "q".into(),
        at_us: 9,
    };
    assert_eq!(
        h.outcome(),
        Some(Outcome::Broken(want)),
        "seed 3 is not waited for"
    );
    assert_eq!((h.done, h.events, h.broken), (3, 30, 2));
}

#[test]
fn every_seed_judged_without_violation_is_clean_and_zero_seeds_is_clean_at_once() {
    let mut h = Hunt::new(3);
    while let Some(k) = h.next_seed() {
        assert_eq!(h.outcome(), None);
        h.judged(k, 1, None);
    }
    assert_eq!(h.outcome(), Some(Outcome::Clean));
    assert_eq!(Hunt::new(0).outcome(), Some(Outcome::Clean));
}

#[test]
fn malformed_lines_get_an_error_or_nothing_and_never_a_panic() {
    // The job worker's other requests are not the hunt's.
    let check = "check 4 jepsen-edn register 1000\n-\n{:process 0}";
    let run = "run 2 raft-election\ntrials=3";
    for line in [
        "",
        "judge",
        "judge x\n#/raft",
        "cancel 3",
        "judge 1 2 3 4",
        check,
        run,
    ] {
        assert_eq!(hunt::answer(line), None, "{line:?}");
    }
    for line in [
        "judge 1\n#/raft",
        "judge 1 x default 1000\n#/raft",
        "judge 1 0 lots 1000\n#/raft",
        "judge 1 0 default\n#/raft",
        "judge 1 0 default 1000\n#/nope",
        "judge 1 0 default 1000\nnot a link",
        "shrink 1 0 default 1000\n#/raft?n=3",
    ] {
        let reply = hunt::answer(line).unwrap();
        assert!(reply.starts_with("error 1 "), "{line:?} → {reply}");
        assert!(matches!(
            hunt::read_answer(&reply),
            Some((1, Answer::Error(_)))
        ));
    }
    for line in [
        "",
        "judged",
        "judged x 1 2 3 p",
        "judged 1 1 2",
        "judged 1 a b c p",
        "shrunk 1 5",
        "ready",
        "progress 1 2 3",
    ] {
        assert_eq!(hunt::read_answer(line), None, "{line:?}");
    }
}
