//! Handler tests for the Raft lab: build a server's state, feed it one event, and assert the
//! exact effects. Grouped by the section of the Raft paper (extended version) each rule comes
//! from, in the manner of raft-rs's `test_raft_paper.rs`.

use dsplay::labs::raft::kv::{Cmd, KvOp, Origin};
use dsplay::labs::raft::log::Entry;
use dsplay::labs::raft::{Raft, RaftMsg, RaftReply, RaftState, Role, Timer};
use dsplay::sim::process::{ClientRequest, Ctx, Effect, Out, Protocol};
use dsplay::sim::time::{Duration, Instant};

const N: u32 = 5;
const NOW_US: u64 = 1_000_000;

fn raft() -> Raft {
    Raft::default()
}

fn ctx(id: u32) -> Ctx {
    Ctx {
        id,
        n: N,
        now: Instant(NOW_US),
    }
}

fn put(v: &str) -> KvOp {
    KvOp::Put {
        key: "x".into(),
        value: v.into(),
    }
}

fn entry(term: u64, v: &str) -> Entry {
    Entry::new(term, Cmd::internal(put(v)))
}

/// A follower in `term` whose log has entries with the given terms.
fn follower(term: u64, log_terms: &[u64]) -> RaftState {
    let mut st = RaftState::new(N);
    st.current_term = term;
    for (i, t) in log_terms.iter().enumerate() {
        st.log.push(entry(*t, &format!("{}", i + 1)));
    }
    st
}

/// A leader of `term` that has just been elected.
fn leader(term: u64, log_terms: &[u64]) -> RaftState {
    let mut st = follower(term, log_terms);
    st.role = Role::Leader;
    st.voted_for = Some(0);
    st.leader = Some(0);
    st.next_index = vec![st.log.last_index() + 1; N as usize];
    st.match_index = vec![0; N as usize];
    st.match_index[0] = st.log.last_index();
    st
}

fn election_timer() -> Effect<Raft> {
    Effect::SetTimer {
        timer: Timer::Election,
        min: Duration(150_000),
        max: Duration(300_000),
    }
}

fn send(to: u32, msg: RaftMsg) -> Effect<Raft> {
    Effect::Send { to, msg }
}

fn note(text: &str) -> Effect<Raft> {
    Effect::Note(text.into())
}

fn on_message(p: &Raft, st: &mut RaftState, id: u32, from: u32, msg: RaftMsg) -> Vec<Effect<Raft>> {
    let mut out = Out::default();
    p.on_message(st, &ctx(id), from, msg, &mut out);
    out.effects
}

fn on_timer(p: &Raft, st: &mut RaftState, id: u32, timer: Timer) -> Vec<Effect<Raft>> {
    let mut out = Out::default();
    p.on_timer(st, &ctx(id), timer, &mut out);
    out.effects
}

fn append(term: u64, prev: (u64, u64), entries: Vec<Entry>, commit: u64) -> RaftMsg {
    RaftMsg::AppendEntries {
        term,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit: commit,
    }
}

// ----- 5.1 Raft basics ---------------------------------------------------------------------

// Reference: section 5.1. "If a server receives a request with a stale term number, it rejects
// the request": the reply carries the newer term so the sender learns it.
#[test]
fn raft_5_1_a_request_with_a_stale_term_is_rejected() {
    let p = raft();
    let mut st = follower(3, &[1, 2]);
    let before = st.clone();
    let fx = on_message(&p, &mut st, 1, 0, append(2, (2, 2), vec![], 2));
    assert_eq!(
        fx,
        vec![send(
            0,
            RaftMsg::AppendReply {
                term: 3,
                success: false,
                match_index: 0
            }
        )]
    );
    assert_eq!(
        st, before,
        "a stale request changes nothing, not even the election timer"
    );
}

// Reference: section 5.1. "If a candidate or leader discovers that its term is out of date, it
// immediately reverts to follower state": a leader that sees a higher term steps down.
#[test]
fn raft_5_1_a_leader_that_sees_a_higher_term_steps_down() {
    let p = raft();
    let mut st = leader(2, &[1]);
    let fx = on_message(
        &p,
        &mut st,
        0,
        3,
        RaftMsg::AppendReply {
            term: 5,
            success: false,
            match_index: 0,
        },
    );
    assert_eq!(
        fx,
        vec![
            Effect::CancelTimer {
                timer: Timer::Heartbeat
            },
            Effect::CancelTimer {
                timer: Timer::CheckQuorum
            },
            election_timer(),
            note("stepped down in term 5"),
        ]
    );
    assert_eq!(
        (st.role, st.current_term, st.voted_for, st.leader),
        (Role::Follower, 5, None, None)
    );
}

// Reference: section 5.1. Terms act as a logical clock: any message with a newer term updates
// the receiver's term and clears its vote, even one it then refuses.
#[test]
fn raft_5_1_a_newer_term_in_any_message_is_adopted() {
    let p = raft();
    let mut st = follower(2, &[1, 2, 2]);
    st.voted_for = Some(4);
    // A vote request from a candidate with a shorter log: refused, but its term is adopted.
    let fx = on_message(
        &p,
        &mut st,
        1,
        3,
        RaftMsg::RequestVote {
            term: 7,
            last_log_index: 1,
            last_log_term: 1,
        },
    );
    assert_eq!(
        fx,
        vec![send(
            3,
            RaftMsg::Vote {
                term: 7,
                granted: false
            }
        )]
    );
    assert_eq!((st.current_term, st.voted_for), (7, None));
}

// ----- 5.2 Leader election -----------------------------------------------------------------

// Reference: section 5.2. A follower that hears nothing for an election timeout "increments its
// current term and transitions to candidate state. It then votes for itself and issues
// RequestVote RPCs in parallel to each of the other servers", resetting its timer to a new
// random timeout.
#[test]
fn raft_5_2_a_follower_that_times_out_becomes_a_candidate_and_asks_for_votes() {
    let p = raft();
    let mut st = follower(1, &[1, 1]);
    let fx = on_timer(&p, &mut st, 2, Timer::Election);
    let rv = RaftMsg::RequestVote {
        term: 2,
        last_log_index: 2,
        last_log_term: 1,
    };
    assert_eq!(
        fx,
        vec![
            election_timer(),
            note("election for term 2"),
            send(0, rv.clone()),
            send(1, rv.clone()),
            send(3, rv.clone()),
            send(4, rv)
        ]
    );
    assert_eq!(
        (st.role, st.current_term, st.voted_for),
        (Role::Candidate, 2, Some(2))
    );
    assert_eq!(st.votes.iter().copied().collect::<Vec<_>>(), vec![2]);
}

// Reference: section 5.2. "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term"; it then sends heartbeats at once.
#[test]
fn raft_5_2_a_candidate_with_a_majority_becomes_leader_and_sends_heartbeats() {
    let p = raft();
    let mut st = follower(1, &[1]);
    on_timer(&p, &mut st, 0, Timer::Election);
    assert!(on_message(
        &p,
        &mut st,
        0,
        1,
        RaftMsg::Vote {
            term: 2,
            granted: true
        }
    )
    .is_empty());
    // A duplicated vote is not a second vote.
    assert!(on_message(
        &p,
        &mut st,
        0,
        1,
        RaftMsg::Vote {
            term: 2,
            granted: true
        }
    )
    .is_empty());
    assert!(on_message(
        &p,
        &mut st,
        0,
        3,
        RaftMsg::Vote {
            term: 2,
            granted: false
        }
    )
    .is_empty());
    let fx = on_message(
        &p,
        &mut st,
        0,
        4,
        RaftMsg::Vote {
            term: 2,
            granted: true,
        },
    );
    let hb = append(2, (1, 1), vec![], 0);
    assert_eq!(
        fx,
        vec![
            Effect::CancelTimer {
                timer: Timer::Election
            },
            note("became leader in term 2"),
            send(1, hb.clone()),
            send(2, hb.clone()),
            send(3, hb.clone()),
            send(4, hb),
            Effect::SetTimer {
                timer: Timer::Heartbeat,
                min: Duration(50_000),
                max: Duration(50_000)
            },
        ]
    );
    assert_eq!(st.role, Role::Leader);
    assert_eq!(st.next_index, vec![2; 5]);
}

// Reference: section 5.2. "Each server will vote for at most one candidate in a given term, on
// a first-come-first-served basis"; granting a vote resets the election timer.
#[test]
fn raft_5_2_a_server_votes_at_most_once_per_term_first_come_first_served() {
    let p = raft();
    let mut st = follower(1, &[1]);
    let rv = |term| RaftMsg::RequestVote {
        term,
        last_log_index: 1,
        last_log_term: 1,
    };
    let fx = on_message(&p, &mut st, 0, 1, rv(2));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            note("granted vote to S1 in term 2"),
            send(
                1,
                RaftMsg::Vote {
                    term: 2,
                    granted: true
                }
            )
        ]
    );
    // The same candidate asking again (a retransmission) gets the same answer.
    let fx = on_message(&p, &mut st, 0, 1, rv(2));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            note("granted vote to S1 in term 2"),
            send(
                1,
                RaftMsg::Vote {
                    term: 2,
                    granted: true
                }
            )
        ]
    );
    // Another candidate of the same term is refused, and the timer is left alone.
    let fx = on_message(&p, &mut st, 0, 2, rv(2));
    assert_eq!(
        fx,
        vec![send(
            2,
            RaftMsg::Vote {
                term: 2,
                granted: false
            }
        )]
    );
    // In a new term the vote is free again.
    let fx = on_message(&p, &mut st, 0, 2, rv(3));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            note("granted vote to S2 in term 3"),
            send(
                2,
                RaftMsg::Vote {
                    term: 3,
                    granted: true
                }
            )
        ]
    );
}

// Reference: section 5.2. A split vote: "each candidate will time out and start a new election
// by incrementing its term and initiating another round of RequestVote RPCs".
#[test]
fn raft_5_2_a_candidate_whose_election_times_out_starts_a_new_term() {
    let p = raft();
    let mut st = follower(1, &[]);
    on_timer(&p, &mut st, 3, Timer::Election);
    let fx = on_timer(&p, &mut st, 3, Timer::Election);
    assert_eq!(
        fx[0],
        note("election for term 2 timed out without a majority")
    );
    assert_eq!(fx[1], election_timer());
    assert_eq!(
        (st.role, st.current_term, st.voted_for),
        (Role::Candidate, 3, Some(3))
    );
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(
                e,
                Effect::Send {
                    msg: RaftMsg::RequestVote { term: 3, .. },
                    ..
                }
            ))
            .count(),
        4
    );
}

// Reference: section 5.2. "If the leader's term is at least as large as the candidate's current
// term, then the candidate recognizes the leader as legitimate and returns to follower state."
#[test]
fn raft_5_2_a_candidate_hearing_the_leader_of_its_term_becomes_follower() {
    let p = raft();
    let mut st = follower(1, &[1]);
    on_timer(&p, &mut st, 2, Timer::Election);
    let fx = on_message(&p, &mut st, 2, 4, append(2, (1, 1), vec![], 0));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            send(
                4,
                RaftMsg::AppendReply {
                    term: 2,
                    success: true,
                    match_index: 1
                }
            )
        ]
    );
    assert_eq!(
        (st.role, st.leader, st.voted_for),
        (Role::Follower, Some(4), Some(2))
    );
}

// Reference: section 5.2. Followers stay followers while they hear from a leader: every
// AppendEntries of the current term, even one failing the consistency check, resets the timer.
#[test]
fn raft_5_2_any_append_entries_from_the_leader_resets_the_election_timer() {
    let p = raft();
    let mut st = follower(2, &[1]);
    let fx = on_message(&p, &mut st, 1, 0, append(2, (5, 2), vec![], 0));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            send(
                0,
                RaftMsg::AppendReply {
                    term: 2,
                    success: false,
                    match_index: 1
                }
            )
        ]
    );
}

// ----- 5.3 Log replication ------------------------------------------------------------------

// Reference: section 5.3. "The leader appends the command to its log as a new entry, then
// issues AppendEntries RPCs in parallel to each of the other servers."
#[test]
fn raft_5_3_the_leader_appends_a_client_command_and_replicates_it() {
    let p = raft();
    let mut st = leader(2, &[1]);
    let mut out = Out::default();
    let req = ClientRequest {
        client: 5,
        request_id: 9,
        key: 9,
        op: put("a"),
    };
    p.on_client(&mut st, &ctx(0), req, &mut out);
    let cmd = Cmd {
        op: put("a"),
        origin: Some(Origin {
            client: 5,
            request_id: 9,
            key: 9,
        }),
    };
    let e = Entry::new(2, cmd);
    let ae = append(2, (1, 1), vec![e.clone()], 0);
    assert_eq!(
        out.effects,
        (1..5).map(|p| send(p, ae.clone())).collect::<Vec<_>>()
    );
    assert_eq!(st.log.entry(2), Some(&e));
}

// Reference: section 5.3 and Figure 2. A follower refuses entries whose predecessor it lacks,
// and hints where its log ends so the leader can back up in one step.
#[test]
fn raft_5_3_a_follower_refuses_entries_whose_predecessor_it_lacks() {
    let p = raft();
    let mut st = follower(3, &[1, 1]);
    let fx = on_message(&p, &mut st, 1, 0, append(3, (4, 3), vec![entry(3, "e")], 0));
    assert_eq!(
        fx,
        vec![
            election_timer(),
            send(
                0,
                RaftMsg::AppendReply {
                    term: 3,
                    success: false,
                    match_index: 2
                }
            )
        ]
    );
    assert_eq!(st.log.last_index(), 2);
    // Same length, but the entry at prevLogIndex has another term.
    let fx = on_message(&p, &mut st, 1, 0, append(3, (2, 2), vec![entry(3, "e")], 0));
    assert_eq!(
        fx[1],
        send(
            0,
            RaftMsg::AppendReply {
                term: 3,
                success: false,
                match_index: 1
            }
        )
    );
}

// Reference: section 5.3, Figure 7. "If an existing entry conflicts with a new one (same index
// but different terms), delete the existing entry and all that follow it", then append.
#[test]
fn raft_5_3_a_follower_deletes_a_conflicting_suffix_and_takes_the_leaders_entries() {
    let p = raft();
    let mut st = follower(3, &[1, 1, 2, 2, 2]);
    let fx = on_message(
        &p,
        &mut st,
        1,
        0,
        append(3, (2, 1), vec![entry(3, "a"), entry(3, "b")], 0),
    );
    assert_eq!(
        fx[1],
        send(
            0,
            RaftMsg::AppendReply {
                term: 3,
                success: true,
                match_index: 4
            }
        )
    );
    let terms: Vec<u64> = st.log.entries().map(|e| e.term).collect();
    assert_eq!(terms, vec![1, 1, 3, 3]);
}

// Reference: section 5.3 (and Figure 2, "append any new entries not already in the log"). A
// delayed, shorter AppendEntries must not truncate entries that agree with the leader.
#[test]
fn raft_5_3_a_reordered_old_append_entries_does_not_truncate_the_log() {
    let p = raft();
    let mut st = follower(3, &[1, 3, 3, 3]);
    let fx = on_message(&p, &mut st, 1, 0, append(3, (1, 1), vec![entry(3, "2")], 0));
    assert_eq!(
        fx[1],
        send(
            0,
            RaftMsg::AppendReply {
                term: 3,
                success: true,
                match_index: 2
            }
        )
    );
    assert_eq!(st.log.last_index(), 4);
}

// Reference: section 5.3. "After a rejection, the leader decrements nextIndex and retries."
#[test]
fn raft_5_3_the_leader_backs_up_next_index_after_a_refusal_and_retries() {
    let p = raft();
    let mut st = leader(3, &[1, 1, 2, 3]);
    let fx = on_message(
        &p,
        &mut st,
        0,
        2,
        RaftMsg::AppendReply {
            term: 3,
            success: false,
            match_index: 1,
        },
    );
    assert_eq!(st.next_index[2], 2);
    assert_eq!(
        fx,
        vec![send(
            2,
            append(
                3,
                (1, 1),
                vec![entry(1, "2"), entry(2, "3"), entry(3, "4")],
                0
            )
        )]
    );
}

// Reference: section 5.3. "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers"; the leader then applies it and answers.
#[test]
fn raft_5_3_an_entry_on_a_majority_is_committed_applied_and_answered() {
    let p = raft();
    let mut st = leader(2, &[1]);
    let mut out = Out::default();
    p.on_client(
        &mut st,
        &ctx(0),
        ClientRequest {
            client: 5,
            request_id: 1,
            key: 1,
            op: put("a"),
        },
        &mut out,
    );
    let fx = on_message(
        &p,
        &mut st,
        0,
        1,
        RaftMsg::AppendReply {
            term: 2,
            success: true,
            match_index: 2,
        },
    );
    assert!(fx.is_empty(), "two of five is not a majority");
    let fx = on_message(
        &p,
        &mut st,
        0,
        3,
        RaftMsg::AppendReply {
            term: 2,
            success: true,
            match_index: 2,
        },
    );
    assert_eq!(
        fx,
        vec![
            note("committed index 2"),
            Effect::Reply {
                client: 5,
                request_id: 1,
                reply: RaftReply::Done {
                    index: 2,
                    value: None
                }
            },
        ]
    );
    assert_eq!((st.commit_index, st.last_applied), (2, 2));
    assert_eq!(st.kv.data.get("x").map(String::as_str), Some("a"));
}

// Reference: Figure 2. "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index
// of last new entry)": a follower never commits past what it knows matches the leader.
#[test]
fn raft_5_3_a_follower_commits_up_to_the_leaders_commit_within_what_it_verified() {
    let p = raft();
    let mut st = follower(2, &[1, 1, 1, 2]);
    on_message(&p, &mut st, 1, 0, append(2, (2, 1), vec![], 9));
    assert_eq!((st.commit_index, st.last_applied), (2, 2));
    assert_eq!(st.kv.data.get("x").map(String::as_str), Some("2"));
}

// Reference: section 5.1/8. Only the leader takes client requests; others redirect clients to the
// leader they know of.
#[test]
fn raft_5_3_a_follower_redirects_clients_to_the_leader() {
    let p = raft();
    let mut st = follower(2, &[1]);
    st.leader = Some(3);
    let mut out = Out::default();
    p.on_client(
        &mut st,
        &ctx(1),
        ClientRequest {
            client: 6,
            request_id: 4,
            key: 4,
            op: put("b"),
        },
        &mut out,
    );
    assert_eq!(
        out.effects,
        vec![Effect::Reply {
            client: 6,
            request_id: 4,
            reply: RaftReply::NotLeader { leader: Some(3) }
        }]
    );
    assert_eq!(
        p.classify(&RaftReply::NotLeader { leader: Some(3) }),
        dsplay::sim::ReplyClass::Redirect(Some(3))
    );
}

// ----- 5.4 Safety ---------------------------------------------------------------------------

// Reference: section 5.4.1. "The voter denies its vote if its own log is more up-to-date than
// that of the candidate": later last term wins; with equal last terms, the longer log.
#[test]
fn raft_5_4_1_votes_go_only_to_candidates_with_logs_at_least_as_up_to_date() {
    let p = raft();
    // (voter log terms, candidate last term, candidate last index, granted)
    let cases: &[(&[u64], u64, u64, bool)] = &[
        (&[1, 2], 2, 2, true),  // identical
        (&[1, 2], 3, 1, true),  // later last term, shorter log
        (&[1, 2], 2, 3, true),  // same last term, longer
        (&[1, 2], 2, 1, false), // same last term, shorter
        (&[1, 2], 1, 5, false), // older last term, longer
        (&[], 0, 0, true),      // both empty
    ];
    for &(voter, last_term, last_index, granted) in cases {
        let mut st = follower(4, voter);
        let fx = on_message(
            &p,
            &mut st,
            0,
            1,
            RaftMsg::RequestVote {
                term: 4,
                last_log_index: last_index,
                last_log_term: last_term,
            },
        );
        assert_eq!(
            fx.last(),
            Some(&send(1, RaftMsg::Vote { term: 4, granted })),
            "voter {voter:?} vs ({last_term},{last_index})"
        );
    }
}

// Reference: section 5.4.2, Figure 8. "Raft never commits log entries from previous terms by
// counting replicas": an old-term entry on a majority stays uncommitted until an entry of the
// leader's own term reaches a majority, which commits both.
#[test]
fn raft_5_4_2_old_term_entries_are_committed_only_through_a_current_term_entry() {
    let p = raft();
    let mut st = leader(4, &[1, 2]);
    for f in [1, 2] {
        let fx = on_message(
            &p,
            &mut st,
            0,
            f,
            RaftMsg::AppendReply {
                term: 4,
                success: true,
                match_index: 2,
            },
        );
        assert!(fx.is_empty());
    }
    assert_eq!(
        st.commit_index, 0,
        "index 2 (term 2) is on three of five servers but is not committed"
    );
    let mut out = Out::default();
    p.on_client(
        &mut st,
        &ctx(0),
        ClientRequest {
            client: 5,
            request_id: 1,
            key: 1,
            op: put("c"),
        },
        &mut out,
    );
    on_message(
        &p,
        &mut st,
        0,
        1,
        RaftMsg::AppendReply {
            term: 4,
            success: true,
            match_index: 3,
        },
    );
    let fx = on_message(
        &p,
        &mut st,
        0,
        2,
        RaftMsg::AppendReply {
            term: 4,
            success: true,
            match_index: 3,
        },
    );
    assert_eq!(fx[0], note("committed index 3"));
    assert_eq!((st.commit_index, st.last_applied), (3, 3));
}

// Reference: section 5.4.2 with the deliberate bug on: the broken rule commits by counting.
#[test]
fn raft_5_4_2_the_broken_rule_commits_old_entries_by_counting() {
    let p = Raft {
        bug: Some(dsplay::labs::raft::Bug::CommitOldTermByCount),
        ..raft()
    };
    let mut st = leader(4, &[1, 2]);
    on_message(
        &p,
        &mut st,
        0,
        1,
        RaftMsg::AppendReply {
            term: 4,
            success: true,
            match_index: 2,
        },
    );
    let fx = on_message(
        &p,
        &mut st,
        0,
        2,
        RaftMsg::AppendReply {
            term: 4,
            success: true,
            match_index: 2,
        },
    );
    assert_eq!(fx, vec![note("committed index 2")]);
}

// ----- 5.6 / Figure 2: persistence ----------------------------------------------------------

// Reference: Figure 2. currentTerm, votedFor and log[] are persistent; commitIndex, lastApplied
// and the leader's nextIndex/matchIndex are volatile, and the state machine is rebuilt by
// re-applying committed entries.
#[test]
fn raft_persistent_state_survives_a_restart_and_volatile_state_does_not() {
    let p = raft();
    let mut st = leader(3, &[1, 2, 3]);
    st.voted_for = Some(0);
    st.commit_index = 3;
    st.last_applied = 3;
    st.kv.data.insert("x".into(), "3".into());
    let r = p.recover(0, N, &st);
    assert_eq!(
        (r.current_term, r.voted_for, r.log.clone()),
        (3, Some(0), st.log.clone())
    );
    assert_eq!(
        (r.role, r.commit_index, r.last_applied, r.leader),
        (Role::Follower, 0, 0, None)
    );
    assert!(r.kv.data.is_empty());
    let mut r = r;
    let mut out = Out::default();
    p.on_start(&mut r, &ctx(0), &mut out);
    assert_eq!(out.effects, vec![election_timer()]);
}

// ----- PreVote (thesis 9.6) and CheckQuorum (thesis 6.2) -------------------------------------

// Reference: thesis section 9.6. With PreVote a timed-out server first asks whether it could
// win, without incrementing its term.
#[test]
fn raft_prevote_a_timed_out_server_asks_before_incrementing_its_term() {
    let p = Raft {
        prevote: true,
        ..raft()
    };
    let mut st = follower(4, &[1, 4]);
    let fx = on_timer(&p, &mut st, 1, Timer::Election);
    let pv = RaftMsg::PreVoteRequest {
        term: 5,
        last_log_index: 2,
        last_log_term: 4,
    };
    assert_eq!(
        fx,
        vec![
            election_timer(),
            note("pre-vote for term 5"),
            send(0, pv.clone()),
            send(2, pv.clone()),
            send(3, pv.clone()),
            send(4, pv)
        ]
    );
    assert_eq!(
        (st.role, st.current_term, st.voted_for),
        (Role::PreCandidate, 4, None)
    );
    // A majority of pre-votes starts the real election.
    on_message(
        &p,
        &mut st,
        1,
        0,
        RaftMsg::PreVote {
            term: 5,
            granted: true,
        },
    );
    let fx = on_message(
        &p,
        &mut st,
        1,
        2,
        RaftMsg::PreVote {
            term: 5,
            granted: true,
        },
    );
    assert_eq!(fx[1], note("election for term 5"));
    assert_eq!((st.role, st.current_term), (Role::Candidate, 5));
}

// Reference: thesis section 9.6. A server that heard from a leader within the minimum election
// timeout refuses pre-votes and keeps its term; one that has not, grants without changing state.
#[test]
fn raft_prevote_is_refused_while_the_leader_is_heard_from() {
    let p = Raft {
        prevote: true,
        ..raft()
    };
    let mut st = follower(4, &[1, 4]);
    st.leader_contact_us = Some(NOW_US - 100_000);
    let req = RaftMsg::PreVoteRequest {
        term: 9,
        last_log_index: 2,
        last_log_term: 4,
    };
    let fx = on_message(&p, &mut st, 1, 3, req.clone());
    assert_eq!(
        fx,
        vec![send(
            3,
            RaftMsg::PreVote {
                term: 4,
                granted: false
            }
        )]
    );
    assert_eq!(st.current_term, 4);
    st.leader_contact_us = Some(NOW_US - 200_000);
    let before = st.clone();
    let fx = on_message(&p, &mut st, 1, 3, req);
    assert_eq!(
        fx,
        vec![send(
            3,
            RaftMsg::PreVote {
                term: 9,
                granted: true
            }
        )]
    );
    assert_eq!(st, before, "a pre-vote changes no state");
}

// Reference: thesis section 6.2. With CheckQuorum, a leader that heard from no majority during
// an election timeout steps down.
#[test]
fn raft_check_quorum_a_leader_without_a_majority_steps_down() {
    let p = Raft {
        check_quorum: true,
        ..raft()
    };
    let mut st = leader(2, &[1]);
    st.heard_from.insert(1);
    let fx = on_timer(&p, &mut st, 0, Timer::CheckQuorum);
    assert_eq!(fx[0], note("heard from no majority in term 2"));
    assert_eq!(st.role, Role::Follower);
    let mut st = leader(2, &[1]);
    st.heard_from.extend([1, 3]);
    let fx = on_timer(&p, &mut st, 0, Timer::CheckQuorum);
    assert_eq!(
        fx,
        vec![Effect::SetTimer {
            timer: Timer::CheckQuorum,
            min: Duration(300_000),
            max: Duration(300_000)
        }]
    );
    assert_eq!(st.role, Role::Leader);
    assert!(st.heard_from.is_empty());
}

// ----- Messages ------------------------------------------------------------------------------

#[test]
fn raft_message_kinds_and_summaries_name_the_key_fields() {
    use dsplay::sim::MessageInfo;
    let hb = append(3, (4, 2), vec![], 4);
    assert_eq!(hb.kind(), "heartbeat");
    assert_eq!(
        hb.summary(),
        "term 3, prevLogIndex 4, prevLogTerm 2, 0 entries, leaderCommit 4"
    );
    assert_eq!(append(3, (4, 2), vec![entry(3, "a")], 4).kind(), "append");
    let rv = RaftMsg::RequestVote {
        term: 3,
        last_log_index: 7,
        last_log_term: 2,
    };
    assert_eq!(
        (rv.kind(), rv.summary().as_str()),
        ("vote request", "term 3, lastLogIndex 7, lastLogTerm 2")
    );
    assert_eq!(
        RaftMsg::Vote {
            term: 3,
            granted: true
        }
        .kind(),
        "vote"
    );
    let r = RaftMsg::AppendReply {
        term: 3,
        success: true,
        match_index: 7,
    };
    assert_eq!(
        (r.kind(), r.summary().as_str()),
        ("append reply", "term 3, success, matchIndex 7")
    );
    assert_eq!(
        RaftMsg::PreVoteRequest {
            term: 1,
            last_log_index: 0,
            last_log_term: 0
        }
        .kind(),
        "pre-vote request"
    );
    assert_eq!(
        RaftMsg::PreVote {
            term: 1,
            granted: false
        }
        .kind(),
        "pre-vote"
    );
}
