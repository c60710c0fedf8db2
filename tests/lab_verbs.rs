//! A lab's own interventions (`Lab::verbs`): script commands like the engine's, recorded in the
//! link, checked by the lab, carried out by the protocol. The Raft lab's are RaftScope's:
//! time out now, align the election timers (a split vote), spread them (one clear winner).

use dsplay::labs::raft::{Raft, Role, Timer};
use dsplay::labs::{self, REGISTRY};
use dsplay::scenario::link;
use dsplay::sim::{Action, Instant, Run, World};

// Every verb of every lab round-trips through a link and runs; a wrong name or target is
// refused with a message that names it.
#[test]
fn every_lab_verb_round_trips_through_a_link_and_runs() {
    for lab in REGISTRY {
        let base = link::encode(&dsplay::scenario::Scenario::default_for(lab));
        for v in lab.verbs {
            let cmd = if v.on_node {
                format!("1s:do:{}@0", v.name)
            } else {
                format!("1s:do:{}", v.name)
            };
            let l = format!("{base}&s={cmd}");
            let s = link::decode(&l).unwrap_or_else(|e| panic!("{l}: {e}"));
            assert_eq!(link::decode(&link::encode(&s)).unwrap(), s, "{l}");
            let mut sim = labs::build(&s).unwrap();
            sim.run_until(Instant(1_000_001));
            assert!(
                sim.records()
                    .iter()
                    .any(|r| r.what == "command" && r.text == cmd),
                "{l}: the command is in the trace"
            );
            sim.run_until(Instant(5_000_000));
            assert!(sim.properties().iter().all(|p| p.violations == 0), "{l}");
            let wrong = if v.on_node {
                format!("1s:do:{}", v.name)
            } else {
                format!("1s:do:{}@0", v.name)
            };
            assert!(
                link::decode(&format!("{base}&s={wrong}")).is_err(),
                "{wrong}"
            );
        }
        let err = link::decode(&format!("{base}&s=1s:do:no-such-thing"))
            .unwrap_err()
            .0;
        assert!(err.contains("no action 'no-such-thing'"), "{err}");
        assert!(link::decode(&format!("{base}&s=1s:do:BAD!")).is_err());
    }
}

const LINK: &str = "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=0";

fn run_to(script: &str, t_us: u64) -> Run<Raft> {
    let l = if script.is_empty() {
        LINK.to_string()
    } else {
        format!("{LINK}&s={script}")
    };
    let s = link::decode(&l).unwrap();
    let mut run = Run::new(dsplay::labs::raft::world(&s).unwrap(), s.script.clone());
    run.run_until(Instant(t_us));
    run
}

fn leader(w: &World<Raft>) -> Option<u32> {
    (0..w.n()).find(|&i| w.is_up(i) && w.state(i).role == Role::Leader)
}

// "Time out now" on a follower: at that instant it stands for election in a new term.
#[test]
fn raft_time_out_now_starts_an_election_at_once() {
    let before = run_to("", 3_000_000);
    let l = leader(before.world()).expect("a leader by 3 s");
    let f = (l + 1) % 5;
    let term = before.world().state(f).current_term;
    let after = run_to(&format!("3s:do:timeout@{f}"), 3_000_000);
    let st = after.world().state(f);
    assert_eq!(st.role, Role::Candidate, "S{f} stands at once");
    assert_eq!(st.current_term, term + 1);
    // On the leader it does nothing (a leader has no election timer).
    let same = run_to(&format!("3s:do:timeout@{l}"), 3_000_000);
    assert_eq!(same.world().state(l).role, Role::Leader);
}

/// When each server's election timer fires, by server.
fn election_deadlines(w: &World<Raft>) -> Vec<Option<u64>> {
    (0..w.n())
        .map(|i| {
            w.nodes[i as usize]
                .timers
                .get(&Timer::Election)
                .map(|t| t.fire_us)
        })
        .collect()
}

// Aligned timers fire together (a split vote waits); spread ones fire one by one, 37.5 ms apart
// for the default 150-300 ms timeouts and five servers. The leader crashes at 3 s; the
// timers are set at 3.1 s, once its last heartbeats (which reset them) have landed.
#[test]
fn raft_align_and_spread_set_every_election_timer() {
    let (crash, t) = (3_000_000, 3_100_000);
    let l = leader(run_to("", crash).world()).expect("a leader by 3 s");
    let aligned = run_to(&format!("3s:crash:{l};3.1s:do:align"), t);
    let d: Vec<u64> = election_deadlines(aligned.world())
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(d.len(), 4, "the four live servers: {d:?}");
    assert!(d.iter().all(|x| *x == t + 150_000), "{d:?}");
    let mut spread = run_to(&format!("3s:crash:{l};3.1s:do:spread"), t);
    let d = election_deadlines(spread.world());
    for (i, at) in d.iter().enumerate() {
        if i as u32 != l {
            assert_eq!(*at, Some(t + 150_000 + 37_500 * i as u64), "S{i}: {d:?}");
        }
    }
    // The first to fire wins, in one round, before the next one's timer.
    let first = (0..5).find(|i| *i != l).unwrap();
    spread.run_until(Instant(t + 150_000 + 37_500 * (first as u64 + 1) + 160_000));
    assert_eq!(
        leader(spread.world()),
        Some(first),
        "S{first} fired first and won"
    );
    assert_eq!(spread.world().state(first).current_term, 2);
}

// Lab actions go through the same door as the engine's: a live act is checked by the lab.
#[test]
fn a_live_lab_action_is_checked_like_a_scripted_one() {
    let s = link::decode(LINK).unwrap();
    let mut sim = labs::build(&s).unwrap();
    sim.run_until(Instant(1_000_000));
    assert!(sim
        .act(Action::Lab {
            verb: "align".into(),
            node: None
        })
        .is_ok());
    let err = sim
        .act(Action::Lab {
            verb: "timeout".into(),
            node: None,
        })
        .unwrap_err();
    assert!(err.contains("one node"), "{err}");
    assert!(sim
        .act(Action::Lab {
            verb: "explode".into(),
            node: Some(1)
        })
        .is_err());
    assert_eq!(sim.script().len(), 1);
}
