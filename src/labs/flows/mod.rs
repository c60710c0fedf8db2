//! The flows lab: clients send requests to servers, servers reply after a processing delay.
//!
//! The smallest lab that exercises every part of the engine: client processes with timeouts,
//! servers with timers and a bounded pool of workers (so queues build up under load), and the
//! network between them. It grows into the message-flows lab of the curriculum.

pub mod payment;
mod properties;
pub mod protocol;
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
        help: "How long a server works on one request",
        kind: ParamKind::DurationRange {
            min_us: 0,
            max_us: 10_000_000,
        },
        default: "5..20ms",
    },
    ParamSpec {
        key: "workers",
        label: "Workers per server",
        help: "Requests a server works on at once; the rest wait in its queue",
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
        help: "rpc: servers answer requests; payment: each request is a payment to charge once",
        kind: ParamKind::Choice {
            options: &["rpc", "payment"],
        },
        default: "rpc",
    },
    payment::IDEM,
    payment::TTL,
];

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
];

pub static LAB: Lab = Lab {
    id: "flows",
    title: "Request and response",
    summary: "Clients send requests over the network; servers answer after a processing delay.",
    nodes_min: 1,
    nodes_max: 16,
    nodes_default: 3,
    params: PARAMS,
    // Added after the first links were shared, which keep their form.
    quiet: &["mode", "idem", "ttl"],
    presets: PRESETS,
    legend: super::Legend {
        // Servers talk only to clients here: the engine's client messages are the lab's.
        messages: &[],
        roles: &[
            (1, "idle", "a server with no request in service"),
            (
                2,
                "busy",
                "a server working on requests (more wait in its queue)",
            ),
        ],
    },
    experiments: &[],
    clients: super::clients_param,
    world_nodes: super::link_nodes,
    verbs: &[],
    shown: payment::shown,
    stages: &[],
    sample_request: Some("req 1"),
    build,
};

fn dur(s: &Scenario, key: &str) -> Result<u64, String> {
    parse_duration(super::param(s, key)?)
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
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
