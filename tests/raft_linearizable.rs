//! What Raft's clients see is linearizable: the checker verifies the lab's own histories, under
//! faults, and catches a Raft that commits by counting replicas of an old term's entry.

mod common;

use dsplay::check::{check, Model, ModelKind, Verdict};
use dsplay::labs::raft::{self, Bug};
use dsplay::labs::to_check_history;
use dsplay::scenario::Scenario;
use dsplay::sim::Instant;

fn verdict(link: &str, bug: Option<Bug>, until_us: u64) -> (Verdict, usize) {
    let s = Scenario::from_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let mut w = raft::world(&s).unwrap();
    w.proto.bug = bug;
    w.run_until(Instant(until_us), &s.script);
    let h = to_check_history(&w);
    let r = check(&h, &Model::new(ModelKind::Kv, None)).expect("a well-formed history");
    (r.verdict, h.operations.len())
}

// Client histories of the correct Raft, with partitions, crashes and loss, are linearizable.
#[test]
fn raft_client_histories_are_linearizable_under_faults() {
    for seed in 1..=common::seeds(6) {
        let link = format!(
            "#/raft?n=5&seed={seed}&lat=10..60ms&loss=2%&dup=1%&clients=3&think=50ms&s=2s:part:0.1/2.3.4;4s:crash:2;6s:heal;7s:restart:2"
        );
        let (v, ops) = verdict(&link, None, 12_000_000);
        assert!(ops > 30, "seed {seed}: enough operations ({ops})");
        assert_eq!(v, Verdict::Linearizable, "seed {seed}: {link}");
    }
}

// The same scenario through the `Sim` trait: every lab with a checkable object exposes it.
#[test]
fn the_raft_lab_exposes_a_checkable_history() {
    let sim = common::run_link("#/raft?n=3&seed=2&clients=2", 10_000_000);
    let (h, model) = sim
        .check_history()
        .expect("raft clients use a key-value map");
    assert_eq!(model, ModelKind::Kv);
    assert_eq!(h.operations.len(), sim.history().len());
    let flows = common::run_link("#/flows?n=3&seed=2", 1_000_000);
    assert!(
        flows.check_history().is_none(),
        "flows requests are not a checkable object"
    );
}

// The checker has teeth on the lab's own histories: a Raft that grants votes without the
// up-to-date-log check elects a leader missing committed writes, and clients see it.
#[test]
fn the_checker_catches_a_raft_that_votes_without_the_log_check() {
    let link = "#/raft?n=5&seed=2&lat=10..60ms&loss=5%&dup=2%&clients=3&think=20ms&s=1s:part:0.1/2.3.4;2s:crash:0;2.5s:heal;3s:part:2.3/0.1.4;3.5s:crash:3;4s:restart:0;4.5s:heal;5s:restart:3;5.5s:part:4/0.1.2.3;6s:crash:1;7s:heal;7.5s:restart:1";
    assert_eq!(
        verdict(link, None, 10_000_000).0,
        Verdict::Linearizable,
        "the correct Raft"
    );
    assert_eq!(
        verdict(link, Some(Bug::VoteWithoutLogCheck), 10_000_000).0,
        Verdict::NotLinearizable
    );
}
