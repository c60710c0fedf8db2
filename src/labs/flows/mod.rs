//! The flows lab: clients send requests to servers, servers reply after a processing delay.
//!
//! The smallest lab that exercises every part of the engine: client processes with timeouts,
//! servers with timers and a bounded pool of workers (so queues build up under load), and the
//! network between them. It grows into the message-flows lab of the curriculum.
//!
//! `mode=queue` runs producers, a broker and consumers with a delivery semantics and, on the
//! producer side, a transactional outbox or none (`queue.rs`, its figures in `queue_view.rs`,
//! its experiments in `delivery.rs`).
//!
//! `mode=pubsub` runs producers, a broker with a topic of partitions (logs with offsets) and
//! consumer groups that share them, commit offsets and rebalance when a consumer goes
//! (`pubsub.rs`, its figures and stage in `pubsub_view.rs`).

pub mod delivery;
pub mod lessons;
pub mod payment;
mod properties;
pub mod protocol;
#[cfg(not(target_arch = "wasm32"))]
pub mod pubsub;
#[cfg(not(target_arch = "wasm32"))]
mod pubsub_view;
pub mod queue;
mod queue_stage;
mod queue_view;
mod view;

pub use protocol::{Flows, FlowsMode, FlowsMsg, Op, Reply};

use super::{validate_ops, world_config, Lab, ParamKind, ParamSpec, Preset, Sim};
use crate::scenario::Scenario;
use crate::sim::time::{parse_duration, Duration};
use crate::sim::{Run, World};

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "clients",
        label: "Clients",
        help: "How many client processes send requests",
        kind: ParamKind::Int { min: 0, max: 32 },
        default: "2",
    },
    ParamSpec {
        key: "think",
        label: "Think time",
        help: "Pause between a client's requests",
        kind: ParamKind::Duration {
            min_us: 0,
            max_us: 60_000_000,
        },
        default: "200ms",
    },
    ParamSpec {
        key: "proc",
        label: "Processing time",
        help: "How long a server works on one request (queue mode: a consumer on one message, a producer's transaction)",
        kind: ParamKind::DurationRange {
            min_us: 0,
            max_us: 10_000_000,
        },
        default: "5..20ms",
    },
    ParamSpec {
        key: "workers",
        label: "Workers per server",
        help: "Requests a server works on at once; the rest wait in its queue (queue mode: deliveries a consumer may hold unacknowledged; pubsub: records one fetch returns at most)",
        kind: ParamKind::Int { min: 1, max: 64 },
        default: "4",
    },
    ParamSpec {
        key: "timeout",
        label: "Client timeout",
        help: "A client gives up after this long; the outcome is then unknown",
        kind: ParamKind::Duration {
            min_us: 1_000,
            max_us: 60_000_000,
        },
        default: "1s",
    },
    ParamSpec {
        key: "mode",
        label: "Mode",
        help: "rpc: clients and servers; payment: each request is a payment to charge once; queue: producers, a broker and consumers (n of them); pubsub: producers, a broker with a partitioned topic, and consumer groups (n consumers each)",
        kind: ParamKind::Choice {
            options: &[
                "rpc",
                "payment",
                "queue",
                #[cfg(not(target_arch = "wasm32"))]
                "pubsub",
            ],
        },
        default: "rpc",
    },
    payment::IDEM,
    payment::TTL,
    ParamSpec {
        key: "semantics",
        label: "Delivery",
        help: "at-most-once: ack before processing; at-least-once: ack after, redeliver on timeout; exactly-once: at-least-once with a consumer that deduplicates",
        kind: ParamKind::Choice {
            options: queue::Semantics::NAMES,
        },
        default: "at-least-once",
    },
    ParamSpec {
        key: "outbox",
        label: "Outbox",
        help: "on: state and message in one transaction, relayed until acknowledged; off: written and sent separately",
        kind: ParamKind::Choice {
            options: &["off", "on"],
        },
        default: "off",
    },
    ParamSpec {
        key: "producers",
        label: "Producers",
        help: "How many producers send messages",
        kind: ParamKind::Int { min: 1, max: 4 },
        default: "1",
    },
    ParamSpec {
        key: "messages",
        label: "Messages",
        help: "How many messages each producer sends",
        // Each consumer keeps a counter per message, and scrubbing keeps copies.
        kind: ParamKind::Int { min: 1, max: 1_000 },
        default: "50",
    },
    ParamSpec {
        key: "every",
        label: "Send every",
        help: "A producer's pause between messages",
        kind: ParamKind::Duration {
            min_us: 1_000,
            max_us: 60_000_000,
        },
        default: "200ms",
    },
    ParamSpec {
        key: "ack",
        label: "Ack timeout",
        help: "The broker delivers again (a producer sends again) after this long without an ack",
        kind: ParamKind::Duration {
            min_us: 1_000,
            max_us: 60_000_000,
        },
        default: "300ms",
    },
    #[cfg(not(target_arch = "wasm32"))]
    ParamSpec {
        key: "partitions",
        label: "Partitions",
        help: "pubsub mode: how many partitions the topic has (a message's key picks one)",
        kind: ParamKind::Int { min: 1, max: 8 },
        default: "4",
    },
    #[cfg(not(target_arch = "wasm32"))]
    ParamSpec {
        key: "groups",
        label: "Consumer groups",
        help: "pubsub mode: how many consumer groups read the topic; each gets every message",
        kind: ParamKind::Int { min: 1, max: 3 },
        default: "2",
    },
    #[cfg(not(target_arch = "wasm32"))]
    ParamSpec {
        key: "rebalance",
        label: "Rebalance timeout",
        help: "pubsub mode: the broker gives a consumer's partitions away after this long without a heartbeat (consumers heartbeat three times as often)",
        kind: ParamKind::Duration {
            min_us: 50_000,
            max_us: 60_000_000,
        },
        default: "1s",
    },
    super::variant_param(
        "none: the consumers and the broker as described; any other: deliberately broken ones, to hunt for the run that shows the mistake",
        &[
            "none",
            "dedup-in-memory",
            #[cfg(not(target_arch = "wasm32"))]
            "no-revoke",
        ],
    ),
];

/// The queue's consumer with a mistake the hunt can find.
pub static VARIANTS: &[super::Variant] = &[super::Variant {
    id: "dedup-in-memory",
    mistake: "the exactly-once consumer keeps its table of applied messages in memory, so after a crash it applies a redelivered message again",
    breaks: "no_duplicate_effects",
    hunt: "#/flows?n=2&seed=1&mode=queue&semantics=exactly-once&outbox=on",
}, #[cfg(not(target_arch = "wasm32"))] super::Variant {
    id: "no-revoke",
    mistake: "the pub/sub broker hands a partition to its new owner without revoking it from the old one, and serves the old owner's fetches: two consumers process one partition",
    breaks: "partition_order",
    hunt: "#/flows?n=2&seed=1&mode=pubsub&groups=1&messages=40&every=100ms",
}];

/// The payment and queue modes' keys came after the lab's first links: those links keep their
/// canonical form.
const QUIET: &[&str] = &[
    "mode",
    "idem",
    "ttl",
    "semantics",
    "outbox",
    "producers",
    "messages",
    "every",
    "ack",
    "partitions",
    "groups",
    "rebalance",
    "variant",
];

/// The keys only queue mode uses, and those only request and response uses.
const QUEUE_KEYS: &[&str] = &[
    "semantics",
    "outbox",
    "producers",
    "messages",
    "every",
    "ack",
    "variant",
];
const RPC_KEYS: &[&str] = &["clients", "think", "timeout"];
/// Pub/sub mode's own keys, and the queue's it does not use.
const PUBSUB_KEYS: &[&str] = &["partitions", "groups", "rebalance"];
const QUEUE_ONLY_KEYS: &[&str] = &["semantics", "outbox"];

fn queue_mode(s: &Scenario) -> bool {
    s.param("mode") == Some("queue")
}

fn pubsub_mode(s: &Scenario) -> bool {
    s.param("mode") == Some("pubsub")
}

/// The page offers each mode's own controls only.
fn shown(s: &Scenario, key: &str) -> bool {
    if !payment::shown(s, key) {
        return false;
    }
    match (queue_mode(s), pubsub_mode(s)) {
        (true, _) => !RPC_KEYS.contains(&key) && !PUBSUB_KEYS.contains(&key),
        (_, true) => !RPC_KEYS.contains(&key) && !QUEUE_ONLY_KEYS.contains(&key),
        _ => !QUEUE_KEYS.contains(&key) && !PUBSUB_KEYS.contains(&key),
    }
}

/// Queue mode's world: the broker, the producers and `n` consumers; pub/sub's: the broker,
/// the producers and `n` consumers in each group.
fn world_nodes(s: &Scenario) -> u32 {
    let producers = || super::param_u32(s, "producers").unwrap_or(1);
    match (queue_mode(s), pubsub_mode(s)) {
        (true, _) => 1 + producers() + s.n,
        (_, true) => 1 + producers() + super::param_u32(s, "groups").unwrap_or(1) * s.n,
        _ => s.n,
    }
}

/// Queue and pub/sub modes' producers make their own messages: no clients.
fn clients(s: &Scenario) -> u32 {
    match queue_mode(s) || pubsub_mode(s) {
        true => 0,
        false => super::clients_param(s),
    }
}

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "Steady traffic",
        description: "Two clients, three servers, a healthy network",
        link: "#/flows?n=3&seed=1&lat=20..80ms&loss=0%&dup=0%",
    },
    Preset {
        name: "Lossy network",
        description: "10% loss: watch requests time out and outcomes become unknown",
        link: "#/flows?n=3&seed=3&lat=20..80ms&loss=10%&dup=0%&clients=4",
    },
    Preset {
        name: "Server crash",
        description: "Server 0 crashes at 2 s and comes back at 5 s",
        link: "#/flows?n=3&seed=5&lat=20..80ms&loss=0%&dup=0%&clients=3&s=2s:crash:0;5s:restart:0",
    },
    payment::NO_KEYS,
    payment::WITH_KEYS,
    payment::SHORT_TTL,
    Preset {
        name: "Queue, at-most-once: loss loses messages",
        description: "Producer P0, broker B, consumer C0, 10% loss. C0 acknowledges before it processes and B never delivers twice: a lost delivery is a lost message",
        link: "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=at-most-once&messages=30&view=queue",
    },
    Preset {
        name: "Queue, at-least-once: loss duplicates effects",
        description: "The same run acknowledging after processing: B delivers again when an ack is lost, so nothing is lost, and some effects are applied twice",
        link: "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=at-least-once&messages=30&view=queue",
    },
    Preset {
        name: "Queue, exactly-once: loss and crashes",
        description: "Effectively-once: at-least-once delivery, and a consumer that records processed ids in the transaction of the effect. C0 crashes at 2 s, B at 4 s: redeliveries, no loss, no effect twice",
        link: "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=exactly-once&messages=30&s=2s:crash:2;3s:restart:2;4s:crash:0;4.5s:restart:0&view=queue",
    },
    Preset {
        name: "Queue: the consumer crashes mid-processing",
        description: "At-most-once: C0 crashes at 2.05 s with work in hand it had acknowledged, and is down for a second: those messages are lost. Try semantics=at-least-once: they are delivered again",
        link: "#/flows?n=1&seed=2&lat=20..80ms&loss=0%&dup=0%&proc=100..300ms&mode=queue&semantics=at-most-once&messages=30&ack=1s&s=2.05s:crash:2;3.05s:restart:2&view=queue",
    },
    Preset {
        name: "Queue: the broker crashes",
        description: "At-least-once: B is down from 2.05 s to 2.55 s and misses an ack; its log is durable, so it delivers the message again and the effect is applied twice. Try semantics=exactly-once",
        link: "#/flows?n=1&seed=2&lat=20..80ms&loss=0%&dup=0%&proc=100..300ms&mode=queue&semantics=at-least-once&messages=30&ack=1s&s=2.05s:crash:0;2.55s:restart:0&view=queue",
    },
    Preset {
        name: "Queue, no outbox: a lost and a phantom message",
        description: "P0 writes its state and sends its message separately, and crashes twice in between: once after a commit before the send (a lost message), once after a send before the commit (a phantom, for a state change rolled back)",
        link: "#/flows?n=1&seed=12&lat=20..80ms&loss=0%&dup=0%&proc=10..200ms&mode=queue&semantics=exactly-once&messages=30&s=1.1s:crash:1;1.5s:restart:1;2.8s:crash:1;3.2s:restart:1&view=queue",
    },
    Preset {
        name: "Queue, transactional outbox: the same crashes",
        description: "State and message are one transaction; a relay sends committed rows until B acknowledges each. The same crashes lose nothing and send no phantom",
        link: "#/flows?n=1&seed=12&lat=20..80ms&loss=0%&dup=0%&proc=10..200ms&mode=queue&semantics=exactly-once&messages=30&outbox=on&s=1.1s:crash:1;1.5s:restart:1;2.8s:crash:1;3.2s:restart:1&view=queue",
    },
    #[cfg(not(target_arch = "wasm32"))]
    PUBSUB_REBALANCE,
    #[cfg(not(target_arch = "wasm32"))]
    Preset {
        name: "Pub/sub, broken: a partition with two owners",
        description: "The broker hands a partition to a joining consumer without revoking it from the one that had it: A0 and A1 both read it, and partition_order breaks as soon as A1 joins",
        link: "#/flows?n=2&seed=1&lat=20..80ms&loss=0%&dup=0%&mode=pubsub&groups=1&messages=40&every=100ms&variant=no-revoke&view=topic",
    },
];

/// The rebalancing preset, which the lesson on consumer groups follows.
#[cfg(not(target_arch = "wasm32"))]
pub const PUBSUB_REBALANCE: Preset = Preset {
    name: "Pub/sub: consumer groups, a consumer crashes",
    description: "Producer P0 publishes keyed messages to a topic of 4 partitions; groups A and B each read all of them. A1 crashes at 2.5 s: a rebalance timeout later the broker gives its partitions to A0 and A2, which resume from A1's last committed offsets (some messages are processed twice). A1 rejoins at 6 s and takes partitions back",
    link: "#/flows?n=3&seed=1&lat=20..80ms&loss=0%&dup=0%&mode=pubsub&messages=80&every=100ms&s=2.5s:crash:3;6s:restart:3&view=topic",
};

pub static LAB: Lab = Lab {
    id: "flows",
    title: "Message flows",
    summary: "Clients send requests over the network; servers answer after a processing delay, or charge payments once with idempotency keys. In queue mode, producers, a broker and consumers: delivery semantics and the outbox. In pubsub mode, a partitioned topic read by consumer groups that commit offsets and rebalance.",
    nodes_min: 1,
    nodes_max: 16,
    nodes_default: 3,
    params: PARAMS,
    quiet: QUIET,
    presets: PRESETS,
    lessons: lessons::LESSONS,
    speed: "0.25",
    legend: super::Legend {
        // Servers talk only to clients here: the engine's client messages are the lab's.
        messages: queue_view::MESSAGES,
        roles: &[
            (1, "idle", "a server with no request in service"),
            (
                2,
                "busy",
                "a server working on requests (more wait in its queue)",
            ),
            (
                queue_view::CLASS_PRODUCER,
                "producer",
                "queue mode: makes state changes and sends a message for each",
            ),
            (
                queue_view::CLASS_BROKER,
                "broker",
                "queue mode: keeps the messages in a durable log and delivers them; pubsub: keeps the topic's partitions and the groups' offsets",
            ),
            (
                queue_view::CLASS_CONSUMER,
                "consumer",
                "queue mode: processes each delivery, which applies an effect; pubsub: fetches and processes its partitions' records",
            ),
        ],
    },
    experiments: &[&delivery::DELIVERY, &delivery::OUTBOX],
    clients,
    world_nodes,
    verbs: &[],
    shown,
    stages: queue_stage::STAGES,
    variants: VARIANTS,
    sample_request: Some("req 1"),
    build,
};

fn dur(s: &Scenario, key: &str) -> Result<u64, String> {
    parse_duration(super::param(s, key)?)
}

/// Queue mode's configuration a scenario asks for.
pub fn queue_config(s: &Scenario) -> Result<queue::QueueConfig, String> {
    let (work_min_us, work_max_us) = super::parse_range(super::param(s, "proc")?)?;
    let semantics = super::param(s, "semantics")?;
    Ok(queue::QueueConfig {
        semantics: queue::Semantics::parse(semantics)
            .ok_or_else(|| format!("there is no delivery semantics '{semantics}'"))?,
        outbox: super::param(s, "outbox")? == "on",
        producers: super::param_u32(s, "producers")?,
        consumers: s.n,
        messages: super::param_u32(s, "messages")?,
        every_us: dur(s, "every")?,
        ack_timeout_us: dur(s, "ack")?,
        prefetch: super::param_u32(s, "workers")?,
        work_min_us,
        work_max_us,
        dedup: match super::param(s, "variant")? {
            "dedup-in-memory" => queue::Dedup::InMemory,
            _ => queue::Dedup::Durable,
        },
    })
}

/// Queue mode's world of a scenario (for tests and experiments that want the typed world).
pub fn world(s: &Scenario) -> Result<World<Flows>, String> {
    queue_world(s, true)
}

/// [`world`] without its property checks, which an experiment's trials do not need.
pub fn world_unchecked(s: &Scenario) -> Result<World<Flows>, String> {
    queue_world(s, false)
}

fn queue_world(s: &Scenario, checked: bool) -> Result<World<Flows>, String> {
    if !queue_mode(s) {
        return Err("only queue mode builds a typed world here".into());
    }
    let q = queue_config(s)?;
    let proto = Flows {
        queue: Some(Box::new(q.clone())),
        ..Flows::rpc(q.work_min_us, q.work_max_us, q.prefetch, 0)
    };
    let mut cfg = world_config(s);
    cfg.n = world_nodes(s);
    let props = match checked {
        true => crate::labs::LabProtocol::properties(&proto),
        false => Vec::new(),
    };
    Ok(World::new(proto, cfg, props))
}

/// Pub/sub mode's configuration a scenario asks for.
#[cfg(not(target_arch = "wasm32"))]
pub fn pubsub_config(s: &Scenario) -> Result<pubsub::PubSubConfig, String> {
    let (work_min_us, work_max_us) = super::parse_range(super::param(s, "proc")?)?;
    Ok(pubsub::PubSubConfig {
        producers: super::param_u32(s, "producers")?,
        messages: super::param_u32(s, "messages")?,
        every_us: dur(s, "every")?,
        ack_timeout_us: dur(s, "ack")?,
        partitions: super::param_u32(s, "partitions")?,
        groups: super::param_u32(s, "groups")?,
        consumers: s.n,
        rebalance_us: dur(s, "rebalance")?,
        fetch_max: super::param_u32(s, "workers")?,
        work_min_us,
        work_max_us,
        handover: match super::param(s, "variant")? {
            "no-revoke" => pubsub::Handover::NoRevoke,
            _ => pubsub::Handover::Revoke,
        },
        expire: true,
    })
}

/// Pub/sub mode's world of a scenario (for tests that want the typed world).
#[cfg(not(target_arch = "wasm32"))]
pub fn pubsub_world(s: &Scenario) -> Result<World<Flows>, String> {
    if !pubsub_mode(s) {
        return Err("only pubsub mode builds a pub/sub world here".into());
    }
    let q = pubsub_config(s)?;
    let proto = Flows {
        pubsub: Some(Box::new(q.clone())),
        ..Flows::rpc(q.work_min_us, q.work_max_us, q.fetch_max, 0)
    };
    let mut cfg = world_config(s);
    cfg.n = world_nodes(s);
    let props = crate::labs::LabProtocol::properties(&proto);
    Ok(World::new(proto, cfg, props))
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    if queue_mode(s) {
        return Ok(Box::new(Run::new(world(s)?, s.script.clone())));
    }
    #[cfg(not(target_arch = "wasm32"))]
    if pubsub_mode(s) {
        return Ok(Box::new(Run::new(pubsub_world(s)?, s.script.clone())));
    }
    let (proc_min_us, proc_max_us) = super::parse_range(super::param(s, "proc")?)?;
    let workers = super::param_u32(s, "workers")?;
    let clients = super::param_u32(s, "clients")?;
    let mode = match super::param(s, "mode")? {
        "payment" => FlowsMode::Payment,
        _ => FlowsMode::Rpc,
    };
    let proto = Flows {
        mode,
        idem: super::param(s, "idem")? == "1",
        ttl_s: super::param_u32(s, "ttl")?,
        ..Flows::rpc(proc_min_us, proc_max_us, workers, clients)
    };
    validate_ops(&proto, s)?;
    let mut cfg = world_config(s);
    cfg.clients = clients;
    cfg.client_think = crate::sim::Dist::Constant {
        us: dur(s, "think")?,
    };
    cfg.client_timeout = Duration(dur(s, "timeout")?);
    super::check_script_clients(s, clients)?;
    let props = crate::labs::LabProtocol::properties(&proto);
    let world = World::new(proto, cfg, props);
    Ok(Box::new(Run::new(world, s.script.clone())))
}
