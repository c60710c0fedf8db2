//! The replication lab: a Dynamo-style leaderless store with N, R and W; read repair, a
//! write-back phase, sloppy quorums with hinted handoff, anti-entropy and skewed clocks as
//! switches; the consistency each run kept (linearizability, the session guarantees, stale
//! reads, lost writes) measured live; and the PBS staleness experiment.
//!
//! - `protocol.rs`: the store (coordinators and replicas).
//! - `consistency.rs`: what the clients saw, judged: session guarantees, stale reads, lost
//!   writes, availability.
//! - `properties.rs`, `view.rs`: the properties every run checks; nodes, panels, figures.
//! - `pbs.rs`: the staleness experiment of Bailis et al. (VLDB 2012) over the real protocol.

pub mod consistency;
pub mod leader;
pub mod lessons;
pub mod pbs;
pub mod properties;
pub mod protocol;
pub mod stage;
pub mod view;

pub use protocol::{Op, Quorum, Reply, Sync};

use super::{validate_ops, world_config, Lab, ParamKind, ParamSpec, Preset, Sim};
use crate::scenario::Scenario;
use crate::sim::time::{format_us, parse_duration, Duration};
use crate::sim::{Run, World};

/// The most nodes the store has.
pub const MAX_NODES: u32 = 16;

const fn flag(key: &'static str, label: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Bool,
        default: "0",
    }
}

pub(crate) const fn count(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    max: i64,
    default: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Int { min: 1, max },
        default,
    }
}

const fn span(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min_us: u64,
    default: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Duration {
            min_us,
            max_us: 3_600_000_000,
        },
        default,
    }
}

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "mode",
        label: "Replication",
        help: "leaderless: any node coordinates, with N, R and W (Dynamo); leader: one leader orders every write and ships its log to the followers",
        kind: ParamKind::Choice { options: &["leaderless", "leader"] },
        default: "leaderless",
    },
    count("rf", "Replicas (N)", "How many nodes keep a copy of each key: the first N of its preference list on the ring", 9, "3"),
    count("r", "Read quorum (R)", "Replies a read waits for before it answers", 9, "2"),
    count("w", "Write quorum (W)", "Acknowledgements a write waits for before it answers", 9, "2"),
    count("keys", "Keys", "How many keys the clients use (k0, k1, ...)", 26, "1"),
    ParamSpec {
        key: "clients",
        label: "Clients",
        help: "Client processes reading and writing",
        kind: ParamKind::Int { min: 0, max: 16 },
        default: "2",
    },
    span("think", "Think time", "Pause between a client's operations", 0, "200ms"),
    ParamSpec {
        key: "writes",
        label: "Writes",
        help: "The share of the clients' operations that are writes",
        kind: ParamKind::Fraction {
            min_ppm: 0,
            max_ppm: 1_000_000,
        },
        default: "0.5",
    },
    ParamSpec {
        key: "versions",
        label: "Versions",
        help: "lww: last-write-wins by (clock, node) stamps; vv: version vectors, which keep concurrent writes side by side as siblings",
        kind: ParamKind::Choice { options: &["lww", "vv"] },
        default: "lww",
    },
    flag("repair", "Read repair", "A read sends the newest version it saw to the replicas that answered with an older one"),
    flag("writeback", "Write-back", "A read writes the newest version it saw to W replicas before it answers (with R + W > N: linearizable reads)"),
    flag("sloppy", "Sloppy quorum", "A silent replica is replaced by the next node of the preference list, which keeps a hint and hands it back later"),
    span("hint", "Fallback after", "Sloppy quorum: how long a replica may stay silent before a stand-in is asked", 1_000, "100ms"),
    span("timeout", "Operation timeout", "A coordinator that has not heard from enough replicas by then gives up", 1_000, "500ms"),
    ParamSpec {
        key: "sync",
        label: "Acknowledge writes",
        help: "Leader mode: async answers once the leader has the write; semisync once one follower has it too; sync once every follower has it",
        kind: ParamKind::Choice { options: &["async", "semisync", "sync"] },
        default: "async",
    },
    ParamSpec {
        key: "reads",
        label: "Reads from",
        help: "Leader mode: leader (a follower forwards its clients' reads) or follower (every node answers from its own copy, however far behind)",
        kind: ParamKind::Choice { options: &["leader", "follower"] },
        default: "leader",
    },
    span("failover", "Failover after", "Leader mode: how long a follower hears nothing from its leader before it takes over (0: only by hand, with Promote)", 0, "1s"),
    ParamSpec {
        key: "model",
        label: "Latency model",
        help: "link: the network settings; lnkd-ssd, lnkd-disk, ymmr, wan: the write and read delays the PBS paper measured in production (Bailis et al., VLDB 2012, Table 3), in place of the latency setting, so stale reads come as often as they did there",
        kind: ParamKind::Choice { options: &["link", "lnkd-ssd", "lnkd-disk", "ymmr", "wan"] },
        default: "link",
    },
    span("ae", "Anti-entropy every", "How often each node compares its keys with a peer's (0: never)", 0, "0s"),
    ParamSpec {
        key: "skew",
        label: "Clock skew",
        help: "Each node's clock offset, in node order: 0,0,-100ms puts S2's clock 100 ms behind",
        kind: ParamKind::Text {
            canonical: super::Canonical(skew_canonical),
            form: "offsets in node order, such as 0,-100ms,+50ms (each within 1 hour)",
        },
        default: "0",
    },
    super::variant_param(
        "none: the store as described; any other: a deliberately broken store, to hunt for the run that shows its mistake",
        &["none", "count-acks-twice"],
    ),
];

/// The store with a mistake the hunt can find.
pub static VARIANTS: &[super::Variant] = &[super::Variant {
    id: "count-acks-twice",
    mistake: "the coordinator counts a duplicated acknowledgement again, so a write can be acknowledged by fewer than W replicas",
    breaks: "linearizable",
    hunt: "#/quorum?n=5&seed=1&writeback=1",
}];

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "R = W = 1: a stale read",
        description: "Three replicas, each write waits for one acknowledgement and each read for one reply. S0's messages to S1 take 400 ms: S0 acknowledges its client's writes at once, and S1 goes on answering reads with the old value. The Consistency panel flags each stale read with the value it missed",
        link: "#/quorum?n=3&seed=2&lat=5..30ms&loss=0%&dup=0%&r=1&w=1&clients=2&s=0s:set:0>1:lat=400ms",
    },
    Preset {
        name: "R + W > N is still not linearizable",
        description: "R = W = 2 of N = 3: k0 lives on S1, S3 and S2. C0 writes k0 = 7 through S0, whose messages to S3 and S2 take 500 ms. At 20 ms C1 reads through S1, which has 7 already, and gets 7. At 100 ms C2 reads through S2 (slow to reach S1) and hears S2 and S3, which do not have it yet: nothing. A later read saw less than an earlier one, so the history is not linearizable, though every read quorum meets every write quorum",
        link: "#/quorum?n=4&seed=1&lat=10ms&loss=0%&dup=0%&clients=3&think=1h&timeout=2s&s=0s:set:0>3:lat=500ms;0s:set:0>2:lat=500ms;0s:set:2>1:lat=100ms;1ms:op:0@0:put%20k0%207;20ms:op:1@1:get%20k0;100ms:op:2@2:get%20k0",
    },
    Preset {
        name: "Write-back makes reads linearizable",
        description: "The same operations with write-back: C1's read writes 7 to W = 2 replicas before it answers, so C2's read finds it at S3, and the history is linearizable",
        link: "#/quorum?n=4&seed=1&lat=10ms&loss=0%&dup=0%&clients=3&think=1h&timeout=2s&writeback=1&s=0s:set:0>3:lat=500ms;0s:set:0>2:lat=500ms;0s:set:2>1:lat=100ms;1ms:op:0@0:put%20k0%207;20ms:op:1@1:get%20k0;100ms:op:2@2:get%20k0",
    },
    Preset {
        name: "Partition, strict quorum: consistency, not availability",
        description: "At 1 s S0 and S1 (with clients C0 and C1) are cut off from S2, S3 and S4. Operations that cannot reach W or R replicas fail: availability falls below 100%, and the history stays linearizable. Compare the next preset",
        link: "#/quorum?n=5&seed=4&lat=10..40ms&loss=0%&dup=0%&clients=4&writeback=1&s=1s:part:0.1.5.6/2.3.4.7.8;6s:heal",
    },
    Preset {
        name: "Partition, sloppy quorum: availability, not consistency",
        description: "The same partition with a sloppy quorum: each side writes to stand-ins, which keep hints; every operation succeeds, but the sides disagree and the history is not linearizable. After the heal at 6 s the hints are handed back",
        link: "#/quorum?n=5&seed=4&lat=10..40ms&loss=0%&dup=0%&clients=4&writeback=1&sloppy=1&s=1s:part:0.1.5.6/2.3.4.7.8;6s:heal",
    },
    Preset {
        name: "Clock skew: last-write-wins loses writes",
        description: "S1's clock is 300 ms behind. A write it coordinates just after one S0 coordinated gets the older stamp, and the replicas keep the other value: acknowledged writes are lost (Lost writes), and writes follow reads breaks",
        link: "#/quorum?n=3&seed=5&lat=5..20ms&loss=0%&dup=0%&clients=2&think=100ms&writes=0.8&skew=0,-300ms",
    },
    Preset {
        name: "Version vectors keep both siblings",
        description: "S1's clock is 300 ms behind and S0 and S1 reach each other slowly. C0 writes k0 = 7 through S0; after it is acknowledged C1 writes 8 through S1, which has not seen 7. Their version vectors are concurrent, so the replicas keep both, and C2's read at 600 ms returns both, 8 | 7 (in stamp order), for the client to resolve. With versions=lww the same operations lose 8, whose stamp is older",
        link: "#/quorum?n=3&seed=1&lat=10ms&loss=0%&dup=0%&r=1&w=1&clients=3&think=1h&versions=vv&skew=0,-300ms&s=0s:set:0>1:lat=300ms;0s:set:1>0:lat=300ms;1ms:op:0@0:put%20k0%207;100ms:op:1@1:put%20k0%208;600ms:op:2@2:get%20k0",
    },
    Preset {
        name: "Leader and followers: replication lag",
        description: "One leader (S0) orders every write and ships its log; it acknowledges a write once one follower has it (semi-synchronous). S0's messages to S2 take 300 ms, so S2 lags about 300 ms behind: the Replication panel shows how many entries each follower lacks and for how long",
        link: "#/quorum?n=3&seed=3&lat=5..20ms&loss=0%&dup=0%&mode=leader&sync=semisync&clients=2&keys=2&think=150ms&s=0s:set:0>2:lat=300ms",
    },
    Preset {
        name: "Reading your own write from a lagging follower",
        description: "C0 writes k0 = 7 to the leader S0, which acknowledges it at once (asynchronous replication), then reads k0 from the follower S2, which S0 reaches in 600 ms: S2 has nothing yet. The read is stale and read-your-writes breaks; a second read at 1 s finds 7. With reads=leader the same client reads 7",
        link: "#/quorum?n=3&seed=1&lat=10ms&loss=0%&dup=0%&mode=leader&reads=follower&clients=1&think=1h&s=0s:set:0>2:lat=600ms;100ms:op:0@0:put%20k0%207;300ms:op:0@2:get%20k0;1s:op:0@2:get%20k0",
    },
    Preset {
        name: "Asynchronous failover loses a write",
        description: "At 1 s the leader S0 and its client C0 are cut off. S0 acknowledges C0's write of 8 at once (asynchronous), but no follower gets it. A second later S1 hears nothing from S0 and takes over in epoch 2 without the write: an acknowledged write is lost, and C1 reads 7. After the heal S0 steps down and drops the entry. With sync=sync S0 cannot acknowledge the write, and nothing is lost",
        link: "#/quorum?n=3&seed=1&lat=10ms&loss=0%&dup=0%&mode=leader&clients=2&think=1h&s=500ms:op:0@0:put%20k0%207;1s:part:0.3/1.2.4;1.1s:op:0@0:put%20k0%208;3s:op:1@1:get%20k0;4s:heal",
    },
];

pub static LAB: Lab = Lab {
    id: "quorum",
    title: "Replication and quorums",
    summary: "A leaderless store in the manner of Dynamo: N replicas, R and W, stale reads, what a partition forces a store to choose, and how often reads are stale; and a leader with followers: replication lag and what a failover loses.",
    nodes_min: 1,
    nodes_max: MAX_NODES,
    nodes_default: 5,
    params: PARAMS,
    // The variant came after the lab's first links.
    quiet: &["variant"],
    presets: PRESETS,
    lessons: lessons::LESSONS,
    speed: "0.1",
    legend: super::Legend {
        messages: &[
            ("write", 0, "the coordinator sends a version to a replica (or to a stand-in, with a hint)"),
            ("ack", 0, "a replica has stored the write"),
            ("read", 2, "the coordinator asks a replica for its version"),
            ("read reply", 2, "a replica's version"),
            ("repair", 4, "a newer version for a replica that was behind (read repair, anti-entropy)"),
            ("handoff", 5, "a stand-in hands a hinted write to the replica it was meant for"),
            ("handoff ack", 5, "the replica has it: the hint is dropped"),
            ("anti-entropy", 6, "two replicas compare the versions they hold"),
            ("append", 1, "leader mode: the leader ships log entries (or, empty, a heartbeat)"),
            ("append ack", 1, "how far the follower's log matches the leader's"),
            ("forward", 3, "a follower hands its client's operation to the leader"),
            ("forward reply", 3, "the leader's answer, for the follower's client"),
        ],
        roles: &[
            (view::CLASS_IDLE, "node", "a storage node; any node coordinates a client's operation"),
            (view::CLASS_BUSY, "coordinating", "waiting for replicas to answer an operation"),
            (view::CLASS_HINTS, "holding hints", "keeps writes for replicas it could not reach"),
            (view::CLASS_LEADER, "leader", "leader mode: orders every write and ships its log"),
            (view::CLASS_LAGGING, "lagging", "leader mode: a follower behind the leader's log"),
        ],
    },
    experiments: &[&pbs::PBS],
    clients: super::clients_param,
    world_nodes: super::link_nodes,
    verbs: &[super::Verb {
        name: "promote",
        label: "Promote",
        help: "Leader mode: the selected follower takes over as leader in a new epoch (a failover by hand); the old leader steps down when it hears of it",
        on_node: true,
        key: Some('f'),
    }],
    shown,
    stages: stage::STAGES,
    variants: VARIANTS,
    sample_request: Some("get k0"),
    build,
};

/// The keys only a leaderless store uses, and those only leader mode uses.
const LEADERLESS_KEYS: &[&str] = &[
    "rf",
    "r",
    "w",
    "versions",
    "repair",
    "writeback",
    "sloppy",
    "hint",
    "ae",
    "variant",
];
const LEADER_KEYS: &[&str] = &["sync", "reads", "failover", "promote"];

/// The page offers each mode's own controls only.
fn shown(s: &Scenario, key: &str) -> bool {
    match s.param("mode") == Some("leader") {
        true => !LEADERLESS_KEYS.contains(&key),
        false => !LEADER_KEYS.contains(&key),
    }
}

/// Every node in the ring's order from `key`'s hash: the key's preference list (the first N
/// hold its replicas; the rest are its stand-ins, in order).
pub fn ring_order(key: u32, nodes: u32) -> Vec<u32> {
    use super::ring::placement::{Algorithm, Member, Placement, Setup};
    let setup = Setup {
        algorithm: Algorithm::Ring,
        vnodes: 16,
        table: 0,
        eps_ppm: 0,
        salt: 0,
    };
    let members: Vec<Member> = (0..nodes).map(|id| Member { id, weight: 1 }).collect();
    let placement = Placement::new(setup, &members);
    placement.preference(super::ring::hash::key(0, key as u64), nodes as usize, None)
}

/// The clock skews of a link's `skew`: offsets in node order.
pub fn parse_skew(text: &str) -> Result<Vec<i64>, String> {
    let bad = |p: &str| {
        format!(
            "'{}' is not a clock offset such as -100ms or +50ms (within 1 hour)",
            p.chars().take(20).collect::<String>()
        )
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > MAX_NODES as usize {
        return Err(format!("at most {MAX_NODES} clock offsets, one per node"));
    }
    parts
        .iter()
        .map(|p| {
            let (sign, body) = match p.strip_prefix('-') {
                Some(b) => (-1, b),
                None => (1, p.strip_prefix('+').unwrap_or(p)),
            };
            let us = if body == "0" {
                Ok(0)
            } else {
                parse_duration(body)
            };
            match us {
                Ok(us) if us <= 3_600_000_000 => Ok(sign * us as i64),
                _ => Err(bad(p)),
            }
        })
        .collect()
}

pub fn skew_text(skew: &[i64]) -> String {
    let keep = skew.iter().rposition(|&s| s != 0).map_or(0, |i| i + 1);
    if keep == 0 {
        return "0".into();
    }
    let one = |s: i64| match s {
        0 => "0".to_string(),
        s if s < 0 => format!("-{}", format_us(s.unsigned_abs())),
        s => format!("+{}", format_us(s as u64)),
    };
    skew[..keep]
        .iter()
        .map(|&s| one(s))
        .collect::<Vec<_>>()
        .join(",")
}

fn skew_canonical(text: &str) -> Result<String, String> {
    parse_skew(text).map(|s| skew_text(&s))
}

/// The `q` quantile of latencies already sorted, in ms (0 for none).
pub(crate) fn quantile_ms(sorted_us: &[u64], q: f64) -> f64 {
    match sorted_us.len() {
        0 => 0.0,
        n => sorted_us[((n - 1) as f64 * q).round() as usize] as f64 / 1000.0,
    }
}

/// The lab's configuration a scenario asks for.
pub fn config(s: &Scenario) -> Result<Quorum, String> {
    let p = |k: &str| super::param_u32(s, k);
    let dur = |k: &str| super::param(s, k).and_then(parse_duration);
    let leader_mode = s.param("mode") == Some("leader");
    let (rf, r, w) = match leader_mode {
        // Every node keeps every key; R and W play no part.
        true => (s.n, 1, 1),
        false => (p("rf")?, p("r")?, p("w")?),
    };
    if rf > s.n {
        return Err(format!("N (rf) is {rf}, but there are only {} nodes", s.n));
    }
    if r > rf || w > rf {
        return Err(format!(
            "R (r) and W (w) must be at most N (rf) = {rf} (R is {r}, W is {w})"
        ));
    }
    let skew = parse_skew(super::param(s, "skew")?)?;
    if skew.len() > s.n as usize {
        return Err(format!("{} clock offsets for {} nodes", skew.len(), s.n));
    }
    let mut q = Quorum::new(s.n, p("keys")?, (rf, r, w));
    q.vectors = !leader_mode && s.param("versions") == Some("vv");
    q.leader_mode = leader_mode;
    q.sync = match s.param("sync") {
        Some("sync") => Sync::Sync,
        Some("semisync") => Sync::SemiSync,
        _ => Sync::Async,
    };
    q.follower_reads = s.param("reads") == Some("follower");
    q.failover_us = dur("failover")?;
    q.read_repair = s.param("repair") == Some("1");
    q.write_back = s.param("writeback") == Some("1");
    q.sloppy = s.param("sloppy") == Some("1");
    q.hint_after_us = dur("hint")?;
    q.timeout_us = dur("timeout")?;
    q.anti_entropy_us = dur("ae")?;
    q.skew_us = skew;
    q.counts_duplicate_acks = !leader_mode && s.param("variant") == Some("count-acks-twice");
    q.clients = p("clients")?;
    q.writes_ppm = super::parse_fraction_ppm(super::param(s, "writes")?).unwrap_or(500_000);
    Ok(q)
}

/// Builds the world of a scenario (for tests and tools that want the typed world).
pub fn world(s: &Scenario) -> Result<World<Quorum>, String> {
    let q = config(s)?;
    validate_ops(&q, s)?;
    let mut cfg = world_config(s);
    cfg.clients = q.clients;
    cfg.client_think = crate::sim::Dist::Constant {
        us: parse_duration(super::param(s, "think")?)?,
    };
    // Longer than the coordinator's own timeout, so the client hears why it gave up.
    cfg.client_timeout = Duration(q.timeout_us + 1_000_000);
    super::check_script_clients(s, q.clients)?;
    let overrides = latency_model(s, &mut cfg)?;
    let props = super::LabProtocol::properties(&q);
    let mut w = World::new(q, cfg, props);
    w.net.overrides.extend(overrides);
    Ok(w)
}

/// With a latency model (`model`), the network's delays become the PBS paper's: writes and
/// their acknowledgements, reads and their replies each as measured (every other message,
/// the clients' included, as a read's reply), loss and duplication kept from the link.
fn latency_model(
    s: &Scenario,
    cfg: &mut crate::sim::WorldConfig,
) -> Result<Vec<pbs::LinkOverride>, String> {
    let model = super::param(s, "model")?;
    if model == "link" {
        return Ok(Vec::new());
    }
    let latency = pbs::Latency::parse(model)?;
    let (mut link, overrides) = pbs::network(latency, s.n);
    link.latency = latency.delays().1;
    link.loss_ppm = cfg.net.loss_ppm;
    link.dup_ppm = cfg.net.dup_ppm;
    link.bandwidth_bps = cfg.net.bandwidth_bps;
    cfg.net = link;
    Ok(overrides)
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    let w = world(s)?;
    Ok(Box::new(Run::new(w, s.script.clone())))
}
