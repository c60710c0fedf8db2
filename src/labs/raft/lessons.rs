//! Raft's guided lessons ([`crate::labs::lesson`]), over the lab's presets.

use crate::labs::lesson::{Ask, Highlight, Lesson, Step, Then, Until};
use crate::labs::Sim;

/// The terms of the servers that are up and lead.
fn leader_terms(sim: &dyn Sim) -> Vec<u64> {
    let term = |r: &str| r.strip_prefix("leader, term ")?.parse().ok();
    sim.nodes()
        .iter()
        .filter(|n| n.up)
        .filter_map(|n| term(&n.role))
        .collect()
}

fn a_leader(sim: &dyn Sim) -> bool {
    !leader_terms(sim).is_empty()
}

fn leader_after_term_1(sim: &dyn Sim) -> bool {
    leader_terms(sim).iter().any(|t| *t >= 2)
}

fn two_leaders(sim: &dyn Sim) -> bool {
    leader_terms(sim).len() >= 2
}

fn one_leader_again(sim: &dyn Sim) -> bool {
    sim.now().0 > 6_000_000 && leader_terms(sim).len() == 1
}

fn s2_follows(sim: &dyn Sim) -> bool {
    let n = sim.nodes();
    n.get(2)
        .is_some_and(|n| n.up && n.role.starts_with("follower"))
        && leader_after_term_1(sim)
}

const LEADER: Until = Until::Cond {
    name: "a leader is elected",
    holds: a_leader,
};

const CRASH: &str = "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&s=2s:crash:2;5s:restart:2";
const MINORITY: &str = "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&s=2s:part:2.0/1.3.4;2.2s:op:0@2:put%20x%20stale;6s:heal&think=700ms";

pub static LESSONS: &[Lesson] = &[
    Lesson {
        id: "why-terms",
        title: "Why terms?",
        description: "A leader crashes and comes back: terms tell everyone which leader is current",
        link: CRASH,
        length_us: 10_000_000,
        steps: &[
            Step {
                caption: "Five servers start as followers, each with an election timer (the arc around it) set to a random time. The first to run out becomes a candidate for term 1 and asks the others for their votes.",
                highlight: Highlight::Kind("vote request"),
                then: Then::Play(LEADER),
            },
            Step {
                caption: "A majority voted: there is a leader for term 1. Its heartbeats reset the followers' timers, so nobody else stands. At 2 s it crashes.",
                highlight: Highlight::Kind("heartbeat"),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "The leader is gone and the heartbeats stop.",
                highlight: Highlight::Nodes(&[2]),
                then: Then::Ask(Ask {
                    question: "What do the four others do?",
                    choices: &[
                        "Wait for the old leader to come back",
                        "One times out and is elected leader in a new, higher term",
                        "Two of them lead term 1 together",
                    ],
                    answer: 1,
                    shows: "A follower's timer ran out; it raised the term to 2 and won a majority. A term has at most one leader, so the new term is what makes the new leader legitimate.",
                    reveal: Until::Cond { name: "a leader in term 2 or later", holds: leader_after_term_1 },
                }),
            },
            Step {
                caption: "The new leader carries on. At 5 s the old leader restarts; it still remembers term 1, when it led.",
                highlight: Highlight::Nodes(&[2]),
                then: Then::Ask(Ask {
                    question: "What does it do when it hears from the new leader?",
                    choices: &[
                        "It sees a higher term and follows",
                        "It fights the new leader for its followers",
                    ],
                    answer: 0,
                    shows: "Every message carries its sender's term. A server that sees a higher term adopts it and becomes a follower: terms act as a logical clock that unmasks stale leaders.",
                    reveal: Until::Cond { name: "S2 follows a later leader", holds: s2_follows },
                }),
            },
        ],
    },
    Lesson {
        id: "stale-leader",
        title: "The stale leader",
        description: "A leader cut off in a minority still believes it leads, but it cannot commit",
        link: MINORITY,
        length_us: 10_000_000,
        steps: &[
            Step {
                caption: "Five servers elect a leader, as always.",
                highlight: Highlight::None,
                then: Then::Play(LEADER),
            },
            Step {
                caption: "At 2 s the network splits: the leader S2 and S0 on one side, S1, S3 and S4 on the other.",
                highlight: Highlight::Nodes(&[0, 2]),
                then: Then::Play(Until::Event { what: "command", text: "part" }),
            },
            Step {
                caption: "At 2.2 s a client asks S2 to write x = stale. S2 has heard of no other leader.",
                highlight: Highlight::Nodes(&[2]),
                then: Then::Ask(Ask {
                    question: "Will the write x = stale be committed?",
                    choices: &[
                        "Yes: S2 is the leader",
                        "No: S2 reaches only 2 of the 5 servers, not a majority",
                    ],
                    answer: 1,
                    shows: "S2 appends the entry but never hears from a majority, so it cannot commit it. Meanwhile the majority side's timers run out and it elects a leader of its own in a higher term.",
                    reveal: Until::Cond { name: "two servers say they lead", holds: two_leaders },
                }),
            },
            Step {
                caption: "Two servers now say \"leader\": only their terms tell the stale one. The majority's leader commits writes; S2 commits nothing. At 6 s the partition heals.",
                highlight: Highlight::Kind("append"),
                then: Then::Play(Until::Cond { name: "one leader again after the heal", holds: one_leader_again }),
            },
            Step {
                caption: "S2 saw the higher term and stepped down. The new leader's log wins: S2's uncommitted x = stale is overwritten, and nothing committed was lost.",
                highlight: Highlight::Panel("Logs"),
                then: Then::Play(Until::At(8_000_000)),
            },
        ],
    },
    Lesson {
        id: "figure-8",
        title: "Figure 8",
        description: "Why a leader may not commit an old entry by counting the servers that hold it",
        link: super::FIGURE8_LINK,
        length_us: 12_000_000,
        steps: &[
            Step {
                caption: "The Raft paper's Figure 8, played out. Cut links decide who can win each election. First S0 becomes leader of term 1.",
                highlight: Highlight::Panel("Logs"),
                then: Then::Play(Until::Event { what: "note", text: "became leader in term 1" }),
            },
            Step {
                caption: "S0 writes x = 2 at index 2, but only S1 gets it before S0 crashes at 2.5 s.",
                highlight: Highlight::Nodes(&[0, 1]),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "S4 wins term 2 and writes x = 3 at index 2 on itself only; then it crashes too.",
                highlight: Highlight::Nodes(&[4]),
                then: Then::Play(Until::Event { what: "note", text: "became leader in term 3" }),
            },
            Step {
                caption: "S0 is back and leads term 3. It copies its old x = 2 (from term 1) to S2: now S0, S1 and S2 hold it, a majority.",
                highlight: Highlight::Nodes(&[0, 1, 2]),
                then: Then::Ask(Ask {
                    question: "x = 2 is on a majority. Is it safe to call it committed?",
                    choices: &[
                        "Yes: a majority holds it",
                        "No: it is not from the leader's own term, and a later leader may still overwrite it",
                    ],
                    answer: 1,
                    shows: "S0 crashes; S4, whose last entry has the higher term 2, wins term 4 with the votes of S1, S2 and S3 and overwrites index 2 everywhere. Had x = 2 counted as committed, a committed entry would now be gone. Raft commits only entries of the leader's own term by counting; older ones ride along.",
                    reveal: Until::Event { what: "note", text: "became leader in term 4" },
                }),
            },
            Step {
                caption: "After the heal S4 writes x = 4 in its own term; once that commits, everything before it does too.",
                highlight: Highlight::Panel("Logs"),
                then: Then::Play(Until::At(11_000_000)),
            },
        ],
    },
];
