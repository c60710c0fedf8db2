//! The Raft lab: leader election, log replication and safety, faithfully (Ongaro & Ousterhout,
//! extended version), with PreVote and CheckQuorum as options.
//!
//! - `protocol.rs`: the algorithm, one handler per message, in the paper's words.
//! - `log.rs`: the log (1-based) with ghost chain hashes for cheap property checks.
//! - `kv.rs`: the replicated key-value state machine and the client workload.
//! - `properties.rs`: Election Safety, Log Matching, Leader Completeness, State Machine Safety,
//!   and "a connected majority elects a leader".
//! - `view.rs`: nodes by role with the election timer, the logs side by side.
//! - `experiment.rs`: the paper's leader-election experiment (section 9.3, Figure 16).

pub mod experiment;
pub mod first_election;
pub mod kv;
pub mod lessons;
pub mod log;
pub mod paper;
pub mod properties;
pub mod protocol;
pub mod stage;
pub mod view;

pub use kv::KvOp;
pub use protocol::{Bug, Raft, RaftMsg, RaftReply, RaftState, Role, Timer};

use super::{parse_range, validate_ops, world_config, Lab, ParamKind, ParamSpec, Preset, Sim};
use crate::scenario::Scenario;
use crate::sim::time::parse_duration;
use crate::sim::{Run, World, WorldConfig};
use stage::STAGES;

/// Raft with one of the mistakes the tests show each property catches.
pub static VARIANTS: &[super::Variant] = &[
    super::Variant {
        id: "vote-without-log-check",
        mistake: "grants votes without checking that the candidate's log is up to date",
        breaks: "leader_completeness",
        hunt: "#/raft?n=5&seed=1",
    },
    super::Variant {
        id: "commit-old-term",
        mistake: "commits an entry of an earlier term once a majority stores it (Figure 8)",
        // A later leader lacks the entry committed too early, before any server applies a
        // different one there.
        breaks: "leader_completeness",
        hunt: "#/raft?n=5&seed=1",
    },
    super::Variant {
        id: "vote-twice",
        mistake: "forgets whom it voted for and votes for every candidate of a term",
        breaks: "election_safety",
        hunt: "#/raft?n=5&seed=1",
    },
    super::Variant {
        id: "append-without-check",
        mistake: "appends entries without comparing the previous entry's term",
        breaks: "log_matching",
        hunt: "#/raft?n=5&seed=1",
    },
    super::Variant {
        id: "fixed-timeout",
        mistake: "waits the shortest election timeout every time, never a random one",
        breaks: "leader_elected",
        hunt: "#/raft?n=5&seed=1",
    },
];

/// The mistake each variant makes in the protocol.
fn bug(variant: &str) -> Option<Bug> {
    Some(match variant {
        "vote-without-log-check" => Bug::VoteWithoutLogCheck,
        "commit-old-term" => Bug::CommitOldTermByCount,
        "vote-twice" => Bug::VoteTwiceInTerm,
        "append-without-check" => Bug::AppendWithoutConsistencyCheck,
        "fixed-timeout" => Bug::FixedElectionTimeout,
        _ => return None,
    })
}

pub static PARAMS: &[ParamSpec] = &[
    super::variant_param(
        "none: Raft as the paper gives it; any other: a deliberately broken Raft, to hunt for the run that shows its mistake",
        &[
                "none",
                "vote-without-log-check",
                "commit-old-term",
                "vote-twice",
                "append-without-check",
                "fixed-timeout",
            ],
    ),
    ParamSpec {
        key: "et",
        label: "Election timeout",
        help: "Each follower waits a random time in this range without hearing a leader before it stands for election",
        kind: ParamKind::DurationRange { min_us: 1_000, max_us: 10_000_000 },
        default: "150ms..300ms",
    },
    ParamSpec {
        key: "hb",
        label: "Heartbeat interval",
        help: "How often the leader sends AppendEntries when it has nothing new (keep it well below the election timeout)",
        kind: ParamKind::Duration { min_us: 1_000, max_us: 5_000_000 },
        default: "50ms",
    },
    ParamSpec {
        key: "prevote",
        label: "PreVote",
        help: "Ask whether an election could be won before incrementing the term, so a server cut off and reconnected does not depose a working leader",
        kind: ParamKind::Bool,
        default: "0",
    },
    ParamSpec {
        key: "checkquorum",
        label: "CheckQuorum",
        help: "A leader that has not heard from a majority within an election timeout steps down",
        kind: ParamKind::Bool,
        default: "0",
    },
    ParamSpec {
        key: "clients",
        label: "Clients",
        help: "Client processes sending put, get and append requests (followers redirect them to the leader)",
        kind: ParamKind::Int { min: 0, max: 8 },
        default: "1",
    },
    ParamSpec {
        key: "think",
        label: "Think time",
        help: "Pause between a client's requests",
        kind: ParamKind::Duration { min_us: 0, max_us: 3_600_000_000 },
        default: "300ms",
    },
];

/// The direct actions RaftScope's users rely on ([`protocol::Raft::on_verb`]).
pub static VERBS: &[super::Verb] = &[
    super::Verb {
        name: "timeout",
        label: "Time out now",
        help: "This server's election timer fires now: it stands for election (or asks for pre-votes)",
        on_node: true,
        key: Some('t'),
    },
    super::Verb {
        name: "align",
        label: "Align timers",
        help: "Every follower's and candidate's election timer is set to fire at the same instant: a split vote",
        on_node: false,
        key: Some('a'),
    },
    super::Verb {
        name: "spread",
        label: "Spread timers",
        help: "The election timers are set far apart, server by server: one times out first and wins",
        on_node: false,
        key: Some('s'),
    },
];

/// Each preset is checked by a test in `tests/raft_presets.rs` to show what it promises.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "Leader crash and re-election",
        description: "The leader (S2) crashes at 2 s; the others notice the silence, elect a new leader in a higher term, and the old leader rejoins as a follower at 5 s",
        link: "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&s=2s:crash:2;5s:restart:2",
    },
    Preset {
        name: "Split vote",
        description: "Election timeouts of 150 to 155 ms: servers time out almost together, split the vote, and try again in a new term",
        link: "#/raft?n=5&seed=3&lat=5..15ms&loss=0%&dup=0%&et=150..155ms&clients=0",
    },
    Preset {
        name: "Leader in a minority partition",
        description: "At 2 s the leader (S2) and one follower (S0) are cut off: the stale leader still takes a request but cannot commit it; the majority elects a new leader; after the heal at 6 s the stale entry is overwritten",
        link: "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&s=2s:part:2.0/1.3.4;2.2s:op:0@2:put%20x%20stale;6s:heal&think=700ms",
    },
    Preset {
        name: "Partition heal without PreVote",
        description: "S3 is cut off for 4 s and keeps starting elections, inflating its term; when it returns its higher term deposes the working leader",
        link: "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&s=2s:part:3/0.1.2.4;6s:heal",
    },
    Preset {
        name: "Partition heal with PreVote",
        description: "The same cut with PreVote: S3's pre-votes fail, its term stays put, and the leader keeps leading after the heal",
        link: "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&prevote=1&s=2s:part:3/0.1.2.4;6s:heal",
    },
    Preset {
        name: "Figure 8: why old entries are not committed by counting",
        description: FIGURE8_DESCRIPTION,
        link: FIGURE8_LINK,
    },
];

const FIGURE8_DESCRIPTION: &str = "The paper's Figure 8, with PreVote on so terms stay small. (a) S0 leads term 1 \
     and writes x=2 at index 2 on S0 and S1 only. (b) S0 crashes; S4 leads term 2 and writes x=3 at index 2 on \
     itself only. (c) S4 crashes, S0 restarts and leads term 3, copying its old x=2 to S2: it is now on a majority \
     (S0, S1, S2), yet S0 may not commit it, as it is not from S0's own term. (d) S0 crashes; S4 wins term 4 with \
     votes from S1, S2 and S3 and overwrites index 2 everywhere. Nothing committed was lost.";

/// The Figure 8 script. Stars of cut links decide who can win each election (only the centre
/// can gather a majority), crashes decide who is away; `tests/raft_presets.rs` checks that the
/// situation arises with this seed.
pub const FIGURE8_LINK: &str = "#/raft?n=5&seed=8&lat=10ms&loss=0%&dup=0%&think=1h&prevote=1&s=\
0ms:cut:1-2;0ms:cut:1-3;0ms:cut:1-4;0ms:cut:2-3;0ms:cut:2-4;0ms:cut:3-4;\
1500ms:op:0@0:put%20x%201;\
2s:part:0.1/2.3.4;2100ms:op:0@0:put%20x%202;\
2500ms:crash:0;2500ms:heal;2500ms:part:1/0.2.3.4;2500ms:cut:2-3;\
4s:part:4/0.1.2.3;4100ms:op:0@4:put%20x%203;\
5500ms:crash:4;5500ms:heal;5500ms:restart:0;5500ms:part:0.1.2/3;5500ms:cut:1-2;\
7500ms:crash:0;7500ms:heal;7500ms:restart:4;7500ms:cut:1-2;7500ms:cut:1-3;7500ms:cut:2-3;\
9500ms:heal;10s:op:0@4:put%20x%204";

pub static LAB: Lab = Lab {
    id: "raft",
    title: "Raft consensus",
    summary: "Leader election, log replication and the safety rules that keep committed entries, as in the Raft paper.",
    nodes_min: 3,
    nodes_max: 9,
    nodes_default: 5,
    params: PARAMS,
    // Added after the lab's first links were shared, which keep their form.
    quiet: &["variant"],
    presets: PRESETS,
    lessons: lessons::LESSONS,
    speed: "0.1",
    legend: super::Legend {
        messages: &[
            ("vote request", 1, "a candidate asks for a vote in its new term (RequestVote)"),
            ("vote", 1, "the answer: vote granted or not"),
            ("pre-vote request", 3, "PreVote: could I win an election? (the term is not raised)"),
            ("pre-vote", 3, "the answer to a pre-vote request"),
            ("heartbeat", 0, "AppendEntries with no entries: the leader is alive"),
            ("append", 7, "AppendEntries carrying log entries to a follower"),
            ("append reply", 0, "a follower's answer: appended up to an index, or a mismatch"),
        ],
        roles: &[
            (view::CLASS_FOLLOWER, "follower", "follows a leader; the arc around it drains until its election timeout"),
            (view::CLASS_CANDIDATE, "candidate", "stands for election (or a pre-candidate asking first)"),
            (view::CLASS_LEADER, "leader", "replicates its log and sends heartbeats"),
        ],
    },
    experiments: &[&experiment::ELECTION, &first_election::FIRST_ELECTION],
    clients: super::clients_param,
    world_nodes: super::link_nodes,
    verbs: VERBS,
    shown: super::always_shown,
    stages: STAGES,
    variants: VARIANTS,
    sample_request: Some("put x 1"),
    build,
};

/// The Raft configuration a scenario asks for, with the mistake of its variant if any.
pub fn config(s: &Scenario) -> Result<Raft, String> {
    let (et_min, et_max) = parse_range(super::param(s, "et")?)?;
    if et_min == 0 || et_min > et_max {
        return Err(
            "the election timeout range must be positive and increasing, such as 150..300ms".into(),
        );
    }
    let hb = parse_duration(super::param(s, "hb")?)?;
    let flag = |k: &str| s.param(k) == Some("1");
    Ok(Raft {
        election_timeout_min_us: et_min,
        election_timeout_max_us: et_max,
        heartbeat_us: hb.max(1),
        prevote: flag("prevote"),
        check_quorum: flag("checkquorum"),
        bug: bug(super::param(s, "variant")?),
        ..Raft::default()
    })
}

/// The engine configuration a scenario asks for: network, clients, think time.
pub fn world_cfg(s: &Scenario) -> Result<WorldConfig, String> {
    let clients = super::param_u32(s, "clients")?;
    let think = parse_duration(super::param(s, "think")?)?;
    if let Some(c) = s.script.iter().find_map(|c| match &c.action {
        crate::sim::Action::ClientOp { client, .. } if *client >= clients => Some(*client),
        _ => None,
    }) {
        return Err(format!(
            "the script names client {c}, but there are {clients} clients"
        ));
    }
    let mut cfg = world_config(s);
    cfg.clients = clients;
    cfg.client_think = crate::sim::Dist::Constant { us: think };
    Ok(cfg)
}

/// Builds the world of a scenario (for tests and tools that want the typed world).
pub fn world(s: &Scenario) -> Result<World<Raft>, String> {
    let raft = config(s)?;
    validate_ops(&raft, s)?;
    let cfg = world_cfg(s)?;
    let props = super::LabProtocol::properties(&raft);
    Ok(World::new(raft, cfg, props))
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    let w = world(s)?;
    Ok(Box::new(Run::new(w, s.script.clone())))
}
