//! The partitioning lab: where keys live under consistent hashing and the algorithms that
//! compete with the ring, how many move when servers join or leave, how evenly the load
//! spreads, and reads routed to the owners over a faulty network.
//!
//! - `hash.rs`: the one hash function (XXH64) for keys and servers, with golden values.
//! - `placement.rs`: mod-N, the ring with virtual nodes, jump, rendezvous, Maglev and bounded
//!   loads, each as its paper gives it; preference lists; balance figures.
//! - `protocol.rs`: the coordinator (node 0, holding the cluster map) and the servers.
//! - `stage.rs`: the ring stage. `view.rs`: nodes, the load chart, the figures.
//! - `experiment.rs`: `ring-balance`, `ring-move` and balance against virtual nodes.

pub mod experiment;
pub mod hash;
pub mod lessons;
pub mod placement;
pub mod properties;
pub mod protocol;
pub mod stage;
pub mod view;

pub use protocol::{Bug, KeyDist, RingLab};

use super::{validate_ops, world_config, Lab, ParamKind, ParamSpec, Preset, Sim, Verb};
use crate::scenario::Scenario;
use crate::sim::time::parse_duration;
use crate::sim::{Run, World};
use placement::{Algorithm, Setup};

/// The most servers the world has room for, spares included.
pub const MAX_SERVERS: u32 = 64;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "algo",
        label: "Algorithm",
        help: "How keys are placed: hash mod N, a consistent-hash ring, jump hash, rendezvous (highest random weight), Maglev's table, or a ring with bounded loads",
        kind: ParamKind::Choice { options: placement::NAMES },
        default: "ring",
    },
    ParamSpec {
        key: "vnodes",
        label: "Virtual nodes",
        help: "Points each server has on the ring (ring and bounded loads); more points, more even shares",
        kind: ParamKind::Int { min: 1, max: 1_000 },
        default: "16",
    },
    ParamSpec {
        key: "rf",
        label: "Replicas",
        help: "The length of each key's preference list: the servers a read falls back to, in order",
        kind: ParamKind::Int { min: 1, max: 5 },
        default: "3",
    },
    ParamSpec {
        key: "keys",
        label: "Keys",
        help: "How many keys there are (k0, k1, ...)",
        kind: ParamKind::Int { min: 1, max: 100_000 },
        default: "1000",
    },
    ParamSpec {
        key: "dist",
        label: "Key popularity",
        help: "Which keys clients read: uniform, or zipf:<exponent> (k0 the hottest; 0.99 is typical of caches)",
        kind: ParamKind::Text { canonical: super::Canonical(dist_canonical), form: "uniform or zipf:<exponent 0 to 4>" },
        default: "uniform",
    },
    ParamSpec {
        key: "eps",
        label: "Bounded-load ε",
        help: "Bounded loads: no server holds more than (1 + ε) times the mean",
        kind: ParamKind::Fraction { min_ppm: 0, max_ppm: 2_000_000 },
        default: "0.25",
    },
    ParamSpec {
        key: "table",
        label: "Maglev table size",
        help: "Slots in Maglev's lookup table: a prime well above the number of servers (65,537 in the paper)",
        kind: ParamKind::Int { min: 7, max: 1_000_003 },
        default: "65537",
    },
    ParamSpec {
        key: "compare",
        label: "Beside mod-N",
        help: "Inside the ring, the same keys under mod-N: a change of servers shows what it would move there",
        kind: ParamKind::Bool,
        default: "0",
    },
    ParamSpec {
        key: "spares",
        label: "Spare servers",
        help: "Servers standing by to join the ring (at most 64 servers in all)",
        kind: ParamKind::Int { min: 0, max: 63 },
        default: "2",
    },
    ParamSpec {
        key: "clients",
        label: "Clients",
        help: "Client processes reading keys through the coordinator",
        kind: ParamKind::Int { min: 0, max: 16 },
        default: "2",
    },
    ParamSpec {
        key: "think",
        label: "Think time",
        help: "Pause between a client's reads",
        kind: ParamKind::Duration { min_us: 0, max_us: 3_600_000_000 },
        default: "100ms",
    },
    ParamSpec {
        key: "fwd",
        label: "Forward timeout",
        help: "How long the coordinator waits for a server before trying the next one of the key's preference list",
        kind: ParamKind::Duration { min_us: 1_000, max_us: 10_000_000 },
        default: "300ms",
    },
    ParamSpec {
        key: "salt",
        label: "Sub-keys of a salted key",
        help: "Salting the hot key k0 splits its reads over this many sub-keys, each placed on its own",
        kind: ParamKind::Int { min: 2, max: 64 },
        default: "8",
    },
    super::variant_param(
        "none: reads fall back along the key's preference list; any other: a deliberately broken coordinator, to hunt for the run that shows its mistake",
        &["none", "fallback-by-number"],
    ),
];

/// The coordinator with a mistake the hunt can find.
pub static VARIANTS: &[super::Variant] = &[super::Variant {
    id: "fallback-by-number",
    mistake: "when a key's owner does not answer, tries the servers numbered after it, not the next servers clockwise on the ring",
    breaks: "reads_answered_by_replicas",
    // Eight servers, three replicas a key: the two servers numbered after an owner are seldom
    // both its replicas. Without spares every fault lands on the coordinator or a server.
    hunt: "#/ring?n=8&seed=1&spares=0&clients=4",
}];

pub static VERBS: &[Verb] = &[
    Verb {
        name: "add",
        label: "Add a server",
        help: "The next spare server joins: the keys that move to it are counted against the ideal",
        on_node: false,
        key: Some('+'),
    },
    Verb {
        name: "remove",
        label: "Remove",
        help: "The selected server leaves the ring: its keys go to the servers after it",
        on_node: true,
        key: Some('-'),
    },
    Verb {
        name: "heavier",
        label: "Heavier",
        help: "The selected server's weight grows by one (ring, bounded loads and rendezvous give it a larger share)",
        on_node: true,
        key: None,
    },
    Verb {
        name: "lighter",
        label: "Lighter",
        help: "The selected server's weight shrinks by one",
        on_node: true,
        key: None,
    },
    Verb {
        name: "salt",
        label: "Salt the hot key",
        help: "Split key k0's reads over sub-keys placed apart (again: undo)",
        on_node: false,
        key: Some('h'),
    },
];

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "Why not hash mod N?",
        description: "Ten servers under mod-N. Press Add a server (or +): the 11th joins and nearly every key moves, where an even split would move 1/11 (the next preset makes the same change on a ring)",
        link: "#/ring?n=10&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=mod-n&spares=1&view=ring",
    },
    Preset {
        name: "Why a ring: the same change",
        description: "Ten servers on a ring with 100 virtual nodes each, and the same keys under mod-N inside it. Press Add a server (or +): about 1/11 of the keys move on the ring, all of them to the newcomer; inside, nearly all of them",
        link: "#/ring?n=10&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=ring&vnodes=100&spares=1&compare=1&view=ring",
    },
    Preset {
        name: "One point per server",
        description: "Eight servers with one point each: the arcs, and so the loads, differ wildly (compare the load chart with 100 points)",
        link: "#/ring?n=8&seed=1&lat=20..80ms&loss=0%&dup=0%&vnodes=1&keys=10000&view=ring",
    },
    Preset {
        name: "Virtual nodes even out the load",
        description: "The same eight servers with 100 points each: every share is close to one eighth",
        link: "#/ring?n=8&seed=1&lat=20..80ms&loss=0%&dup=0%&vnodes=100&keys=10000&view=ring",
    },
    Preset {
        name: "A hot key",
        description: "Zipf-popular keys: the server holding k0 serves far more reads than the rest. At 3 s k0 is salted into 8 sub-keys and the requests even out",
        link: "#/ring?n=8&seed=1&lat=5..15ms&loss=0%&dup=0%&vnodes=100&dist=zipf:1.5&clients=8&think=20ms&s=3s:do:salt&view=ring",
    },
    Preset {
        name: "Jump hash: perfect balance, no removal from the middle",
        description: "Jump hash spreads keys evenly without a ring. At 1 s S3 leaves: jump can only drop the last bucket, so every server after S3 shifts down and most keys move",
        link: "#/ring?n=10&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=jump&s=1s:do:remove@3&view=ring",
    },
    Preset {
        name: "Maglev's table",
        description: "Three backends and a table of 7 slots, the size of the paper's example (the offsets and skips here come from the hash): each slot names its backend. At 1 s S2 leaves; watch the table fill in again and how few slots change hands",
        link: "#/ring?n=3&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=maglev&table=7&keys=100&spares=0&s=1s:do:remove@2&view=ring",
    },
    Preset {
        name: "Bounded loads cap the hottest server",
        description: "One point per server would leave some servers with twice the mean; bounded loads (ε = 0.25) pass keys on clockwise so none holds more than 1.25 times the mean",
        link: "#/ring?n=8&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=bounded&vnodes=1&keys=10000&view=ring",
    },
    Preset {
        name: "A server cut off: fallbacks",
        description: "At 1 s S4 is cut off from the coordinator: reads for its keys time out and go to the next server of their preference list, counted as fallbacks",
        link: "#/ring?n=6&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=4&s=1s:cut:0-4",
    },
];

pub static LAB: Lab = Lab {
    id: "ring",
    title: "Partitioning and consistent hashing",
    summary: "Keys on a consistent-hash ring and the algorithms that compete with it: who owns what, what moves when servers come and go, and how even the load is.",
    nodes_min: 1,
    nodes_max: MAX_SERVERS,
    nodes_default: 10,
    params: PARAMS,
    // The variant came after the lab's first links.
    quiet: &["variant"],
    presets: PRESETS,
    lessons: lessons::LESSONS,
    speed: "1",
    legend: super::Legend {
        messages: &[
            ("read", 0, "the coordinator forwards a client's read to the key's server"),
            ("value", 2, "the server's answer, relayed to the client"),
        ],
        roles: &[
            (view::CLASS_COORDINATOR, "coordinator", "holds the cluster map and forwards each read to its key's owner"),
            (view::CLASS_SERVER, "server", "owns the keys the placement gives it (grey ones are spares, not in the ring until added)"),
        ],
    },
    experiments: &[&experiment::BALANCE, &experiment::MOVE, &experiment::VNODES],
    clients: super::clients_param,
    world_nodes,
    verbs: VERBS,
    shown: super::always_shown,
    stages: stage::STAGES,
    variants: VARIANTS,
    sample_request: Some("get k0"),
    build,
};

/// A key distribution's canonical text: `uniform` or `zipf:<exponent>` (0 to 4, at most
/// three decimals).
pub fn dist_canonical(text: &str) -> Result<String, String> {
    parse_dist(text).map(|d| dist_text(&d))
}

pub fn parse_dist(text: &str) -> Result<KeyDist, String> {
    let t = text.trim();
    if t == "uniform" {
        return Ok(KeyDist::Uniform);
    }
    let e = t
        .strip_prefix("zipf:")
        .and_then(|e| crate::sim::time::parse_decimal_scaled(e, 1000))
        .filter(|&e| e <= 4_000);
    match e {
        Some(e) => Ok(KeyDist::Zipf {
            exponent_milli: e as u32,
        }),
        None => Err(format!(
            "'{}' is not uniform or zipf:<exponent from 0 to 4>",
            t.chars().take(40).collect::<String>()
        )),
    }
}

pub fn dist_text(d: &KeyDist) -> String {
    match d {
        KeyDist::Uniform => "uniform".into(),
        KeyDist::Zipf { exponent_milli } => {
            format!("zipf:{}", super::fraction_text(exponent_milli * 1000))
        }
    }
}

fn spares(s: &Scenario) -> u32 {
    let want = super::param_u32(s, "spares").unwrap_or(0);
    want.min(MAX_SERVERS.saturating_sub(s.n))
}

/// The coordinator, the servers and the spares.
fn world_nodes(s: &Scenario) -> u32 {
    1 + s.n + spares(s)
}

pub(crate) fn is_prime(p: u32) -> bool {
    p >= 2 && (2..).take_while(|d| d * d <= p).all(|d| p % d != 0)
}

/// The lab's configuration a scenario asks for.
pub fn config(s: &Scenario) -> Result<RingLab, String> {
    let p = |k: &str| super::param_u32(s, k);
    let algorithm = Algorithm::parse(super::param(s, "algo")?)
        .ok_or("the algorithm must be one of mod-n, ring, jump, rendezvous, maglev, bounded")?;
    let table = p("table")?;
    // Only Maglev reads the table: another algorithm's link keeps whatever size it names.
    if algorithm == Algorithm::Maglev && !is_prime(table) {
        return Err(format!(
            "Maglev's table size must be a prime (65537 in the paper), not {table}"
        ));
    }
    let servers = s.n + spares(s);
    if algorithm == Algorithm::Maglev && table <= servers {
        return Err(format!(
            "Maglev's table needs more slots than servers: {table} slots for {servers} servers"
        ));
    }
    let keys = p("keys")?;
    let dist = parse_dist(super::param(s, "dist")?)?;
    let cdf = match dist {
        KeyDist::Zipf { exponent_milli } => Some(protocol::Cdf::zipf(keys, exponent_milli)),
        KeyDist::Uniform => None,
    };
    Ok(RingLab {
        setup: Setup {
            algorithm,
            vnodes: p("vnodes")?,
            table,
            eps_ppm: super::parse_fraction_ppm(super::param(s, "eps")?).unwrap_or(250_000),
            salt: 0,
        },
        servers: s.n,
        spares: spares(s),
        rf: p("rf")?,
        keys,
        dist,
        cdf,
        forward_timeout_us: parse_duration(super::param(s, "fwd")?)?,
        salt_ways: p("salt")?,
        clients: p("clients")?,
        compare: s.param("compare") == Some("1"),
        bug: (s.param("variant") == Some("fallback-by-number")).then_some(Bug::FallbackByNumber),
    })
}

/// Builds the world of a scenario (for tests and tools that want the typed world).
pub fn world(s: &Scenario) -> Result<World<RingLab>, String> {
    let lab = config(s)?;
    validate_ops(&lab, s)?;
    let mut cfg = world_config(s);
    cfg.n = world_nodes(s);
    cfg.clients = lab.clients;
    cfg.client_think = crate::sim::Dist::Constant {
        us: parse_duration(super::param(s, "think")?)?,
    };
    // Long enough for a read to try every server of its preference list.
    cfg.client_timeout =
        crate::sim::time::Duration(lab.forward_timeout_us * (lab.rf as u64 + 1) + 1_000_000);
    super::check_script_clients(s, lab.clients)?;
    let props = super::LabProtocol::properties(&lab);
    Ok(World::new(lab, cfg, props))
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    let w = world(s)?;
    Ok(Box::new(Run::new(w, s.script.clone())))
}
