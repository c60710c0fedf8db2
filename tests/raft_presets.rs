//! Each Raft preset shows what its description promises, with its own seed and script.

use dsplay::labs::raft::{self, Bug, Raft, Role, PRESETS};
use dsplay::scenario::Scenario;
use dsplay::sim::time::Instant;
use dsplay::sim::World;

const S: u64 = 1_000_000;

fn preset(name_part: &str) -> &'static dsplay::labs::Preset {
    PRESETS
        .iter()
        .find(|p| p.name.contains(name_part))
        .unwrap_or_else(|| panic!("no preset '{name_part}'"))
}

/// Runs a link's scenario step by step to `until_us`, calling `watch` after every step.
fn run(
    link: &str,
    bug: Option<Bug>,
    until_us: u64,
    mut watch: impl FnMut(&World<Raft>),
) -> World<Raft> {
    let s = Scenario::from_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let mut w = raft::world(&s).unwrap();
    w.proto.bug = bug;
    while w.next_due_us(&s.script).is_some_and(|t| t <= until_us) {
        w.step(&s.script);
        watch(&w);
    }
    w.run_until(Instant(until_us), &s.script);
    w
}

/// The live leader whose term a majority shares, if any.
fn leader(w: &World<Raft>) -> Option<(u32, u64)> {
    let n = w.n();
    (0..n)
        .filter(|&l| w.is_up(l) && w.state(l).role == Role::Leader)
        .find_map(|l| {
            let t = w.state(l).current_term;
            let with = (0..n)
                .filter(|&p| w.is_up(p) && w.state(p).current_term == t)
                .count();
            (with > n as usize / 2).then_some((l, t))
        })
}

fn violations(w: &World<Raft>) -> Vec<&'static str> {
    w.properties()
        .iter()
        .filter(|p| p.violations > 0)
        .map(|p| p.name)
        .collect()
}

fn terms(w: &World<Raft>, id: u32) -> Vec<u64> {
    w.state(id).log.entries().map(|e| e.term).collect()
}

// Every preset opens, runs through the registry's Sim interface, and keeps every property.
#[test]
fn raft_every_preset_runs_without_violations() {
    for p in PRESETS {
        let s = Scenario::from_link(p.link).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(
            Scenario::from_link(&s.to_link()).as_ref(),
            Ok(&s),
            "{}: link round trip",
            p.name
        );
        let mut sim = dsplay::labs::build(&s).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        sim.run_until(Instant(12 * S));
        let bad: Vec<_> = sim
            .properties()
            .into_iter()
            .filter(|r| r.violations > 0)
            .map(|r| r.name)
            .collect();
        assert!(bad.is_empty(), "{}: {bad:?}", p.name);
    }
}

// Section 5.2: when the leader crashes, the followers time out and elect a new leader in a
// higher term; the old leader comes back as a follower and catches up.
#[test]
fn raft_preset_leader_crash_is_followed_by_a_new_leader_in_a_higher_term() {
    let link = preset("Leader crash").link;
    let mut before = None;
    let mut after = None;
    let w = run(link, None, 8 * S, |w| {
        let now = w.now().0;
        if now < 2 * S {
            before = leader(w);
        } else if now > 2 * S && after.is_none() {
            after = leader(w).map(|l| (l, now));
        }
    });
    assert_eq!(before, Some((2, 1)), "S2 leads term 1 before the crash");
    let ((l, t), at) = after.expect("a new leader");
    assert!(l != 2 && t > 1, "new leader S{l} in term {t}");
    assert!(
        at - 2 * S < 600_000,
        "elected {} ms after the crash",
        (at - 2 * S) / 1000
    );
    assert_eq!(w.state(2).role, Role::Follower);
    assert_eq!(w.state(2).current_term, w.state(l).current_term);
    assert_eq!(
        w.state(2).log,
        w.state(l).log,
        "the restarted server caught up"
    );
}

// Section 5.2: with timeouts in a 5 ms window, servers time out nearly together and split the
// vote; elections are retried in new terms until one server gets ahead.
#[test]
fn raft_preset_narrow_timeouts_split_the_vote_before_a_leader_emerges() {
    let mut first = None;
    let w = run(preset("Split vote").link, None, 5 * S, |w| {
        if first.is_none() {
            first = leader(w).map(|(l, t)| (l, t, w.now().0));
        }
    });
    let (_, term, at) = first.expect("a leader within 5 s");
    assert!(
        term >= 3,
        "the first leader won term {term}: at least two elections split first"
    );
    assert!(at > 400_000, "the first leader came at {} ms", at / 1000);
    assert!(violations(&w).is_empty());
}

// Sections 5.3-5.4: a leader cut off in a minority keeps its role (no CheckQuorum) and takes
// a request, but cannot commit it; the majority elects a new leader and goes on committing;
// after the heal the stale leader steps down and its uncommitted entries are overwritten.
#[test]
fn raft_preset_a_stale_leader_in_a_minority_cannot_commit() {
    let mut commit_at_cut = None;
    let mut stale_grew = false;
    let mut majority_leader = None;
    let w = run(preset("minority partition").link, None, 9 * S, |w| {
        let now = w.now().0;
        let s2 = w.state(2);
        if now < 2 * S {
            return;
        }
        let c0 = *commit_at_cut.get_or_insert(s2.commit_index);
        if now < 6 * S {
            assert_eq!(
                (s2.role, s2.current_term),
                (Role::Leader, 1),
                "S2 still believes it leads"
            );
            assert_eq!(s2.commit_index, c0, "the stale leader commits nothing");
            stale_grew |= s2.log.last_index() > c0;
            if majority_leader.is_none() {
                majority_leader = leader(w).filter(|(l, _)| *l != 2);
            }
        }
    });
    let c0 = commit_at_cut.unwrap();
    assert!(
        stale_grew,
        "the stale leader appended a request it could not commit"
    );
    let (_, t) = majority_leader.expect("the majority elected a leader");
    assert!(t > 1);
    let (l, _) = leader(&w).unwrap();
    assert!(w.state(l).commit_index > c0, "the majority kept committing");
    assert_eq!(w.state(2).role, Role::Follower);
    for id in 0..5 {
        assert!(
            terms(&w, id).iter().skip(c0 as usize).all(|t| *t > 1),
            "S{id}: no stale term-1 entry survives after index {c0}"
        );
    }
    assert!(violations(&w).is_empty());
}

/// The leader and S3's term just before the heal at 6 s, and the leader at 9 s.
struct HealRun {
    before: Option<(u32, u64)>,
    s3_term: u64,
    after: Option<(u32, u64)>,
    w: World<Raft>,
}

fn heal_run(name: &str) -> HealRun {
    let mut before = None;
    let mut s3_term = 0;
    let w = run(preset(name).link, None, 9 * S, |w| {
        if w.now().0 < 6 * S {
            before = leader(w);
            s3_term = w.state(3).current_term;
        }
    });
    HealRun {
        before,
        s3_term,
        after: leader(&w),
        w,
    }
}

// Thesis 9.6: without PreVote a server cut off from the others keeps starting elections and
// inflating its term; when it returns, its term deposes the working leader.
#[test]
fn raft_preset_without_prevote_a_returning_server_deposes_the_leader() {
    let HealRun {
        before,
        s3_term,
        after,
        w,
    } = heal_run("without PreVote");
    let (_, t) = before.unwrap();
    assert!(
        s3_term > t + 5,
        "the isolated server inflated its term to {s3_term} (leader's: {t})"
    );
    let (_, t2) = after.unwrap();
    assert!(t2 > s3_term, "a new election followed the heal (term {t2})");
    assert!(violations(&w).is_empty());
}

// Thesis 9.6: with PreVote the isolated server's pre-votes fail, its term stays put, and the
// leader keeps leading after the heal.
#[test]
fn raft_preset_with_prevote_the_leader_survives_the_heal() {
    let HealRun {
        before,
        s3_term,
        after,
        w,
    } = heal_run("with PreVote");
    let (l, t) = before.unwrap();
    assert_eq!(s3_term, t, "the isolated server's term never moved");
    assert_eq!(after, Some((l, t)), "same leader, same term after the heal");
    assert_eq!(
        w.state(3).log,
        w.state(l).log,
        "the returning server caught up"
    );
    assert!(violations(&w).is_empty());
}

/// The log at index 2 on every server at 7.4 s (just before the scripted crash of S0).
fn figure8(bug: Option<Bug>) -> (Vec<Option<u64>>, Vec<u64>, World<Raft>) {
    let mut at_c = (Vec::new(), Vec::new());
    let w = run(raft::FIGURE8_LINK, bug, 12 * S, |w| {
        if w.now().0 < 7_400_000 {
            at_c = (
                (0..5).map(|i| w.state(i).log.term_at(2)).collect(),
                (0..5).map(|i| w.state(i).commit_index).collect(),
            );
        }
    });
    (at_c.0, at_c.1, w)
}

// Section 5.4.2, Figure 8: S0 leads term 1 and writes x=2 at index 2 on S0 and S1; S4 leads term
// 2 and writes x=3 at index 2 on itself; S0 leads term 3 and copies its term-1 entry to a
// majority (S0, S1, S2) but does not commit it; S4 then wins term 4 and overwrites index 2.
// Nothing committed is lost.
#[test]
fn raft_figure_8_an_old_entry_on_a_majority_is_not_committed_and_is_overwritten() {
    let (index2, commits, w) = figure8(None);
    assert_eq!(
        index2,
        vec![Some(1), Some(1), Some(1), None, Some(2)],
        "term of index 2 on S0..S4 at (c)"
    );
    assert_eq!(w.state(0).current_term, 3, "S0 led term 3 at (c)");
    assert!(
        commits.iter().all(|c| *c < 2),
        "index 2 was never committed: {commits:?}"
    );
    let s4 = w.state(4);
    assert_eq!((s4.role, s4.current_term), (Role::Leader, 4));
    for id in 1..5 {
        assert_eq!(terms(&w, id), vec![1, 2, 4], "S{id} ends with S4's log");
        assert_eq!(w.state(id).kv.data.get("x").map(String::as_str), Some("4"));
    }
    assert!(violations(&w).is_empty());
}

// The same script with a Raft that commits old-term entries by counting replicas: S0 commits
// x=2 at (c), S4 overwrites it at (d): Leader Completeness and State Machine Safety both fire.
#[test]
fn raft_figure_8_with_commit_by_counting_loses_a_committed_entry() {
    let (_, commits, w) = figure8(Some(Bug::CommitOldTermByCount));
    assert!(
        commits[0] >= 2,
        "the broken leader committed index 2 at (c): {commits:?}"
    );
    let v = violations(&w);
    assert!(
        v.contains(&"leader_completeness") && v.contains(&"state_machine_safety"),
        "{v:?}"
    );
}
