//! The property checks have teeth: for each property, a deliberately broken Raft (a config
//! flag only tests can set) on a fixed seed and script makes exactly that property fire, while
//! the correct Raft on the same scenario keeps every property.

use dsplay::labs::raft::{self, Bug, PRESETS};
use dsplay::scenario::Scenario;
use dsplay::sim::time::Instant;

/// The properties that fired when `link` ran for 12 s with `bug`.
fn fired(link: &str, bug: Option<Bug>) -> Vec<&'static str> {
    let s = Scenario::from_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let mut w = raft::world(&s).unwrap();
    w.proto.bug = bug;
    w.run_until(Instant(12_000_000), &s.script);
    w.properties()
        .iter()
        .filter(|p| p.violations > 0)
        .map(|p| p.name)
        .collect()
}

fn caught(property: &str, bug: Bug, link: &str) {
    assert_eq!(
        fired(link, None),
        Vec::<&str>::new(),
        "the correct Raft keeps every property on {link}"
    );
    let v = fired(link, Some(bug));
    assert!(
        v.contains(&property),
        "{bug:?} on {link} should break {property}; fired: {v:?}"
    );
}

fn preset(name_part: &str) -> &'static str {
    PRESETS
        .iter()
        .find(|p| p.name.contains(name_part))
        .map(|p| p.link)
        .unwrap()
}

// Election Safety: a server that ignores votedFor votes for every candidate of a term, so in a
// split vote two candidates both collect a majority.
#[test]
fn raft_election_safety_catches_a_server_that_votes_twice_in_a_term() {
    caught(
        "election_safety",
        Bug::VoteTwiceInTerm,
        preset("Split vote"),
    );
}

// Log Matching: a follower that skips the prevLogTerm comparison appends the new leader's
// entries after its own stale ones. S2 leads alone in a minority and appends a request; the
// majority's leader (S4) commits more and then crashes, so the next leader's first guess at
// S2's log lands on S2's stale entry.
#[test]
fn raft_log_matching_catches_appends_without_the_consistency_check() {
    let link = "#/raft?n=5&seed=1&lat=20..80ms&think=200ms&clients=2&s=2s:part:2/0.1.3.4;2.1s:op:0@2:put%20x%20stale;5s:crash:4;7s:heal";
    caught("log_matching", Bug::AppendWithoutConsistencyCheck, link);
}

// Leader Completeness: votes granted without the up-to-date check let S3, cut off while the
// others committed entries but holding the highest term, win and lead without them.
#[test]
fn raft_leader_completeness_catches_votes_without_the_log_check() {
    caught(
        "leader_completeness",
        Bug::VoteWithoutLogCheck,
        preset("without PreVote"),
    );
}

// State Machine Safety: committing an old-term entry by counting replicas (Figure 8) lets a
// later leader overwrite an entry some servers already applied.
#[test]
fn raft_state_machine_safety_catches_commit_by_counting_old_terms() {
    caught(
        "state_machine_safety",
        Bug::CommitOldTermByCount,
        raft::FIGURE8_LINK,
    );
}

// Leader elected within the bound: without randomised timeouts every server times out at the
// same instant, votes for itself, and the elections split for ever.
#[test]
fn raft_leader_elected_catches_election_timeouts_without_randomness() {
    caught(
        "leader_elected",
        Bug::FixedElectionTimeout,
        "#/raft?n=5&seed=1",
    );
}
