//! The resilience lab: clients with open-loop arrivals, a load balancer and backends with
//! workers, bounded queues and exponential service times; health checks, per-client circuit
//! breakers and the clients' shared retry policy (timeouts, backoff with jitter, a retry
//! budget: the `retry`, `backoff`, `attempts` and `budget` link keys), a bulkhead and a rate
//! limiter at the LB's entry; readiness probes take a backend out of the pool, liveness probes
//! restart a stuck one. Lab actions slow a backend, make it fail a fraction of its requests,
//! drain it, hang it or heal it; the engine's crash and restart take it down and back.
//! Node 0 is the LB and nodes 1..=n the backends (the link's `n`).
//!
//! Its experiments (`experiment.rs`) compare retry policies under contention, balancing
//! algorithms against queueing theory, rate limiters against their definitions, and a rate
//! limit shared by several instances through a store across the network.

pub mod balance;
pub mod experiment;
pub mod lessons;
mod properties;
pub mod protocol;
pub mod view;

pub use protocol::{Mistake, Resilience};
pub use view::{figures, Figures};

use super::{
    param, param_u32, validate_ops, world_config, Lab, ParamKind, ParamSpec, Preset, Sim, Verb,
};
use crate::scenario::Scenario;
use crate::sim::time::{parse_duration, Duration};
use crate::sim::{Run, World};
use protocol::{BreakerConfig, HealthConfig, LivenessConfig};

const fn int(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min: i64,
    max: i64,
    default: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Int { min, max },
        default,
    }
}

const fn dur(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min_us: u64,
    max_us: u64,
    default: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Duration { min_us, max_us },
        default,
    }
}

const ON_OFF: ParamKind = ParamKind::Bool;

pub static PARAMS: &[ParamSpec] = &[
    int("clients", "Clients", "Client processes; the arrivals are spread over them", 1, 64, "8"),
    int("rate", "Request rate", "Requests a second over all clients, Poisson (a link's arrivals=poisson:R/s wins)", 1, 1_000, "100"),
    dur("timeout", "Client timeout", "A client gives up on an attempt after this long, and the LB on its backend", 1_000, 60_000_000, "500ms"),
    dur("service", "Service time", "Mean work of a request at a backend (exponential)", 100, 10_000_000, "20ms"),
    int("workers", "Workers", "Requests a backend serves at once", 1, 64, "2"),
    int("queue", "Queue limit", "Requests a backend keeps waiting; more are refused", 0, 10_000, "16"),
    ParamSpec {
        key: "algorithm",
        label: "Balancing",
        help: "How the LB picks a backend",
        kind: ParamKind::Choice { options: balance::NAMES },
        default: "round-robin",
    },
    ParamSpec {
        key: "weights",
        label: "Weights",
        help: "Weighted round robin: one weight per backend, B1 first (missing ones are 1)",
        kind: ParamKind::Text { canonical: super::Canonical(weights_text), form: "whole numbers 1 to 100 joined by '-', such as 3-1-1" },
        default: "1",
    },
    ParamSpec { key: "health", label: "Readiness probes", help: "The LB probes its backends' readiness and takes failing ones out of the pool", kind: ON_OFF, default: "1" },
    dur("probe-every", "Readiness interval", "Time between two readiness probes of a backend", 1_000, 60_000_000, "200ms"),
    dur("probe-timeout", "Readiness timeout", "A readiness probe unanswered this long fails", 1_000, 60_000_000, "100ms"),
    int("unhealthy-after", "Unready after", "Failed readiness probes in a row that take a backend out of the pool", 1, 10, "2"),
    int("healthy-after", "Ready after", "Good readiness probes in a row that bring it back", 1, 10, "2"),
    ParamSpec { key: "liveness", label: "Liveness probes", help: "The LB probes whether each backend's process still answers at all, and restarts one that does not", kind: ON_OFF, default: "0" },
    dur("live-every", "Liveness interval", "Time between two liveness probes of a backend", 1_000, 60_000_000, "500ms"),
    dur("live-timeout", "Liveness timeout", "A liveness probe unanswered this long fails", 1_000, 60_000_000, "200ms"),
    int("live-failures", "Restart after", "Failed liveness probes in a row that restart a backend (one good probe ends a run, as in Kubernetes)", 1, 10, "3"),
    dur("restart-delay", "Restart delay", "How long a restarted backend takes to come back; its liveness probes wait as long", 0, 60_000_000, "1s"),
    ParamSpec { key: "breaker", label: "Circuit breakers", help: "Each client's breaker fails its requests at once while the backends fail", kind: ON_OFF, default: "0" },
    int("breaker-failures", "Breaker threshold", "Failures in a row that open a breaker", 1, 100, "5"),
    dur("cool-down", "Breaker cool-down", "How long an open breaker waits before it lets probes through", 1_000, 60_000_000, "1s"),
    int("probes", "Half-open probes", "Requests a half-open breaker lets through; all must succeed to close it", 1, 10, "1"),
    ParamSpec {
        key: "fail-fraction",
        label: "Failing fraction",
        help: "The share of its requests a backend told to fail fails",
        kind: ParamKind::Fraction { min_ppm: 0, max_ppm: 1_000_000 },
        default: "0.5",
    },
    ParamSpec {
        key: "limiter",
        label: "Rate limiter",
        help: "At the LB's entry: requests over the limit are turned away (the leaky bucket holds them in its queue)",
        kind: ParamKind::Choice { options: LIMITERS },
        default: "off",
    },
    int("bulkhead", "Bulkhead", "Requests the LB keeps outstanding at one backend at most; one more fails at once (0: no limit)", 0, 1_000, "0"),
    int("limit", "Rate limit", "Requests a second the entry's limiter lets through", 1, 1_000, "80"),
    int("burst", "Limiter burst", "Token bucket: its capacity; leaky bucket: its queue", 1, 1_000, "10"),
    super::variant_param(
        "none: the LB as described; any other: a deliberately broken one, to hunt for the run that shows the mistake",
        &["none", "ignore-health", "no-cool-down"],
    ),
];

pub static VARIANTS: &[super::Variant] = &[
    super::Variant {
        id: "ignore-health",
        mistake: "the LB picks from every backend, marked unhealthy or not",
        breaks: "no_routing_to_unhealthy",
        hunt: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&s=1s:crash:1",
    },
    super::Variant {
        id: "no-cool-down",
        mistake: "an open breaker turns half-open at the next request instead of after its cool-down",
        breaks: "open_breaker_waits_for_cool_down",
        hunt: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&health=0&breaker=1&s=1s:do:fail@1;1s:do:fail@2;1s:do:fail@3",
    },
];

const LIMITERS: &[&str] = &[
    "off",
    "token-bucket",
    "leaky-bucket",
    "fixed-window",
    "sliding-window-log",
    "sliding-window-counter",
];

/// `3-1-1`.
fn weights_text(t: &str) -> Result<String, String> {
    parse_weights(t).map(|w| {
        let parts: Vec<String> = w.iter().map(|x| x.to_string()).collect();
        parts.join("-")
    })
}

fn parse_weights(t: &str) -> Result<Vec<u32>, String> {
    let parts: Vec<&str> = t.trim().split('-').collect();
    if parts.len() > 16 {
        return Err("at most 16 weights".into());
    }
    parts
        .iter()
        .map(|p| {
            p.trim()
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=100).contains(w))
                .ok_or_else(|| format!("'{}' is not a weight from 1 to 100", super::clip(p)))
        })
        .collect()
}

pub static VERBS: &[Verb] = &[
    Verb {
        name: "slow",
        label: "Slow down",
        help: "The backend takes ten times as long on every request",
        on_node: true,
        key: Some('w'),
    },
    Verb {
        name: "fail",
        label: "Fail a fraction",
        help: "The backend fails the failing fraction of its requests",
        on_node: true,
        key: Some('f'),
    },
    Verb {
        name: "drain",
        label: "Take out",
        help: "The backend answers its health probes 'not ready', so the LB takes it out",
        on_node: true,
        key: Some('d'),
    },
    Verb {
        name: "hang",
        label: "Hang",
        help: "The backend's process gets stuck: it drops the work in hand and answers no request and no probe until it is restarted or healed",
        on_node: true,
        key: Some('u'),
    },
    Verb {
        name: "heal",
        label: "Heal",
        help: "The backend is back to normal: not slow, not failing, not hung, ready",
        on_node: true,
        key: Some('h'),
    },
];

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "Steady service",
        description: "Three backends behind a round-robin LB, 100 requests a second, a third of capacity",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%",
    },
    Preset {
        name: "Retry storm: no jitter, no budget",
        description: "Both backends are down from 2 s to 4 s. Clients retry at once, up to 10 times, without a budget: after the outage the queues stay full of requests whose clients gave up, and goodput stays low (a metastable failure)",
        link: RETRY_STORM,
    },
    Preset {
        name: "Retry storm: jitter and a budget",
        description: "The same outage with full jitter and a 10% retry budget: retries stay a small share of the load and the service recovers within seconds of the outage",
        link: RETRY_STORM_FIXED,
    },
    Preset {
        name: "Dead backend without health checks",
        description: "B1 crashes at 2 s; without health checks the LB keeps sending it a third of the requests, which time out. Try health=1",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&health=0&s=2s:crash:1",
    },
    Preset {
        name: "Dead backend with health checks",
        description: "The same crash: after two failed probes B1 leaves the pool, and comes back when it restarts at 6 s",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&s=2s:crash:1;6s:restart:1",
    },
    Preset {
        name: "A hung backend without liveness probes",
        description: "B1 hangs at 2 s: it is up but answers nothing. Readiness probes take it out of the pool, and there it stays: the tier runs on two backends for good. Try liveness=1",
        link: HUNG,
    },
    Preset {
        name: "A hung backend restarted by its liveness probe",
        description: "The same hang with liveness probes: after three failed ones the LB restarts B1, which is back a second later; readiness probes keep it out of the pool meanwhile and bring it back",
        link: HUNG_LIVENESS,
    },
    Preset {
        name: "Circuit breakers protect a failing service",
        description: "Every backend fails half its requests from 2 s to 6 s: the clients' breakers open, shed the load at once, and probe until the service heals",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&health=0&breaker=1&s=2s:do:fail@1;2s:do:fail@2;2s:do:fail@3;6s:do:heal@1;6s:do:heal@2;6s:do:heal@3",
    },
    Preset {
        name: "A rate limit at the entry sheds an overload",
        description: "400 requests a second against backends that serve 300: a token bucket at the LB lets 250 a second through (bursts of 20) and turns the rest away at once, so the admitted ones stay fast. Try limiter=off: more get through, all of them slowly",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&clients=32&rate=400&limiter=token-bucket&limit=250&burst=20",
    },
    Preset {
        name: "A fixed window admits twice its limit across a boundary",
        description: "A limit of 20 a second, in calendar-second windows; 20 requests come at 0.95 s and 20 more at 1.05 s: the first window lets the first 20 through, the next window starts afresh and lets the other 20 through, so 40 pass within a tenth of a second",
        link: BOUNDARY_FIXED,
    },
    Preset {
        name: "A sliding window log does not",
        description: "The same two bursts against a sliding window log of 20 a second: it counts what it admitted in the second before each request, so the second burst is turned away",
        link: BOUNDARY_SLIDING,
    },
    Preset {
        name: "A slow backend under round robin",
        description: "B1 turns ten times slower at 2 s and its probes still pass: round robin sends it a third of the requests, which queue and time out. Try algorithm=least-connections, or bulkhead=4",
        link: "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&rate=150&s=2s:do:slow@1",
    },
    Preset {
        name: "IP hash piles clients onto one backend",
        description: "24 clients, four backends, IP hash: nine clients hash to B3 and three to B2, so B3 runs past its capacity and queues while B2 idles (median latency about 1.5 times round robin's). Compare algorithm=round-robin",
        link: "#/resilience?n=4&seed=1&lat=1..2ms&loss=0%&dup=0%&clients=24&rate=300&algorithm=ip-hash",
    },
    Preset {
        name: "Random at high load",
        description: "Sixteen backends at 90% load, picked at random: queues form on the unlucky ones. Compare the next preset",
        link: "#/resilience?n=16&seed=1&lat=1..2ms&loss=0%&dup=0%&clients=64&rate=720&workers=1&queue=10000&timeout=10s&health=0&algorithm=random",
    },
    Preset {
        name: "Power of two choices at high load",
        description: "The same load, each request to the less busy of two random backends: far shorter queues and tail latency",
        link: "#/resilience?n=16&seed=1&lat=1..2ms&loss=0%&dup=0%&clients=64&rate=720&workers=1&queue=10000&timeout=10s&health=0&algorithm=power-of-two",
    },
];

/// A link with two bursts of 20 requests, at 0.95 s and 1.05 s, either side of a window
/// boundary (clients 0 to 19, `req1` to `req40`), at the entry's limiter `$limiter`.
macro_rules! boundary {
    ($limiter:literal) => {
        concat!(
            "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&clients=20&rate=1&limit=20&burst=1&limiter=",
            $limiter,
            "&s=\
            0.95s:op:0@0:req1;0.95s:op:1@0:req2;0.95s:op:2@0:req3;0.95s:op:3@0:req4;\
            0.95s:op:4@0:req5;0.95s:op:5@0:req6;0.95s:op:6@0:req7;0.95s:op:7@0:req8;\
            0.95s:op:8@0:req9;0.95s:op:9@0:req10;0.95s:op:10@0:req11;0.95s:op:11@0:req12;\
            0.95s:op:12@0:req13;0.95s:op:13@0:req14;0.95s:op:14@0:req15;0.95s:op:15@0:req16;\
            0.95s:op:16@0:req17;0.95s:op:17@0:req18;0.95s:op:18@0:req19;0.95s:op:19@0:req20;\
            1.05s:op:0@0:req21;1.05s:op:1@0:req22;1.05s:op:2@0:req23;1.05s:op:3@0:req24;\
            1.05s:op:4@0:req25;1.05s:op:5@0:req26;1.05s:op:6@0:req27;1.05s:op:7@0:req28;\
            1.05s:op:8@0:req29;1.05s:op:9@0:req30;1.05s:op:10@0:req31;1.05s:op:11@0:req32;\
            1.05s:op:12@0:req33;1.05s:op:13@0:req34;1.05s:op:14@0:req35;1.05s:op:15@0:req36;\
            1.05s:op:16@0:req37;1.05s:op:17@0:req38;1.05s:op:18@0:req39;1.05s:op:19@0:req40"
        )
    };
}

/// The window-boundary presets' links (a test counts what each admits).
pub const BOUNDARY_FIXED: &str = boundary!("fixed-window");
pub const BOUNDARY_SLIDING: &str = boundary!("sliding-window-log");

/// The hung-backend presets' links (a test checks both).
pub const HUNG: &str = "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&s=2s:do:hang@1";
pub const HUNG_LIVENESS: &str =
    "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&liveness=1&s=2s:do:hang@1";

/// The retry-storm presets' links (a test checks both).
pub const RETRY_STORM: &str = "#/resilience?n=2&seed=1&lat=1..2ms&loss=0%&dup=0%&retry=fixed&backoff=1ms..1ms&attempts=10&clients=64&rate=100&timeout=100ms&queue=1000&health=0&s=2s:crash:1;2s:crash:2;4s:restart:1;4s:restart:2";
pub const RETRY_STORM_FIXED: &str = "#/resilience?n=2&seed=1&lat=1..2ms&loss=0%&dup=0%&retry=full-jitter&backoff=100ms..5s&attempts=10&budget=10%&clients=64&rate=100&timeout=100ms&queue=1000&health=0&s=2s:crash:1;2s:crash:2;4s:restart:1;4s:restart:2";

pub static LAB: Lab = Lab {
    id: "resilience",
    title: "Resilience",
    summary: "Clients behind a load balancer (node 0) and n backends that slow down, fail and crash; timeouts, retries with backoff and jitter, retry budgets, health checks, circuit breakers, a bulkhead and a rate limit keep a bad minute from becoming a bad hour.",
    nodes_min: 1,
    nodes_max: 16,
    nodes_default: 3,
    params: PARAMS,
    quiet: &["variant"],
    presets: PRESETS,
    lessons: lessons::LESSONS,
    speed: "1",
    legend: super::Legend {
        messages: &[
            ("forward", 4, "the LB passes a client's request to a backend"),
            ("backend reply", 2, "the backend's answer (or refusal) to the LB"),
            ("probe", 3, "a health check of a backend"),
            ("probe ack", 3, "a backend answers a health check (ready or not)"),
            ("liveness probe", 1, "a check that a backend's process answers at all"),
            ("liveness ack", 1, "a backend's process is alive"),
            ("restart", 5, "the LB restarts a backend that failed its liveness probes"),
        ],
        roles: &[
            (view::CLASS_LB, "balancer", "the load balancer, with each client's breaker"),
            (view::CLASS_BACKEND, "backend", "a backend in the pool"),
            (view::CLASS_DEGRADED, "degraded", "a backend told to be slow, fail, drain or hang"),
            (view::CLASS_OUT, "out of the pool", "a backend the readiness probes took out"),
            (view::CLASS_RESTARTING, "restarting", "a backend its liveness probes restarted, not up yet"),
        ],
    },
    experiments: &[&experiment::RETRIES, &experiment::LOAD_BALANCING, &experiment::RATE_LIMIT, &experiment::DISTRIBUTED_LIMIT],
    clients: super::clients_param,
    world_nodes,
    verbs: VERBS,
    shown,
    stages: view::STAGES,
    variants: VARIANTS,
    sample_request: Some("req 1"),
    build,
};

/// The LB and the `n` backends.
fn world_nodes(s: &Scenario) -> u32 {
    s.n + 1
}

const HEALTH_KEYS: &[&str] = &[
    "probe-every",
    "probe-timeout",
    "unhealthy-after",
    "healthy-after",
];
const LIVENESS_KEYS: &[&str] = &[
    "live-every",
    "live-timeout",
    "live-failures",
    "restart-delay",
];
const BREAKER_KEYS: &[&str] = &["breaker-failures", "cool-down", "probes"];
const LIMITER_KEYS: &[&str] = &["limit", "burst"];

/// Health-check and breaker settings show while they are on; weights with their algorithm.
fn shown(s: &Scenario, key: &str) -> bool {
    if HEALTH_KEYS.contains(&key) {
        return s.param("health") == Some("1");
    }
    if LIVENESS_KEYS.contains(&key) {
        return s.param("liveness") == Some("1");
    }
    if BREAKER_KEYS.contains(&key) {
        return s.param("breaker") == Some("1");
    }
    if LIMITER_KEYS.contains(&key) {
        return s.param("limiter").is_some_and(|l| l != "off");
    }
    key != "weights" || s.param("algorithm") == Some("weighted-round-robin")
}

fn us(s: &Scenario, key: &str) -> Result<u64, String> {
    parse_duration(param(s, key)?)
}

/// The protocol a scenario asks for.
pub fn config(s: &Scenario) -> Result<Resilience, String> {
    let algorithm = param(s, "algorithm")?;
    let health =
        (param(s, "health")? == "1")
            .then_some(())
            .map(|_| -> Result<HealthConfig, String> {
                Ok(HealthConfig {
                    every_us: us(s, "probe-every")?,
                    timeout_us: us(s, "probe-timeout")?,
                    unhealthy_after: param_u32(s, "unhealthy-after")?,
                    healthy_after: param_u32(s, "healthy-after")?,
                })
            });
    let liveness =
        (param(s, "liveness")? == "1")
            .then_some(())
            .map(|_| -> Result<LivenessConfig, String> {
                Ok(LivenessConfig {
                    every_us: us(s, "live-every")?,
                    timeout_us: us(s, "live-timeout")?,
                    failures: param_u32(s, "live-failures")?,
                    restart_us: us(s, "restart-delay")?,
                })
            });
    let breaker =
        (param(s, "breaker")? == "1")
            .then_some(())
            .map(|_| -> Result<BreakerConfig, String> {
                Ok(BreakerConfig {
                    failures: param_u32(s, "breaker-failures")?,
                    cool_down_us: us(s, "cool-down")?,
                    probes: param_u32(s, "probes")?,
                })
            });
    Ok(Resilience {
        backends: s.n,
        algorithm: balance::Algorithm::parse(algorithm).ok_or_else(|| {
            format!(
                "there is no balancing algorithm '{}'",
                super::clip(algorithm)
            )
        })?,
        weights: parse_weights(param(s, "weights")?)?,
        workers: param_u32(s, "workers")?,
        queue_limit: param_u32(s, "queue")?,
        service_us: us(s, "service")?,
        fail_ppm: super::parse_fraction_ppm(param(s, "fail-fraction")?).unwrap_or(500_000),
        upstream_timeout_us: us(s, "timeout")?,
        health: health.transpose()?,
        liveness: liveness.transpose()?,
        breaker: breaker.transpose()?,
        limiter: match param(s, "limiter")? {
            "off" => None,
            name => Some((
                experiment::limiter::Algorithm::parse(name)
                    .ok_or_else(|| format!("there is no rate limiter '{}'", super::clip(name)))?,
                param_u32(s, "limit")? as u64,
                param_u32(s, "burst")? as u64,
            )),
        },
        bulkhead: param_u32(s, "bulkhead")?,
        mistake: match param(s, "variant")? {
            "ignore-health" => Mistake::IgnoreHealth,
            "no-cool-down" => Mistake::NoCoolDown,
            _ => Mistake::None,
        },
    })
}

/// A scenario's typed world (for tests that read the LB and the backends).
pub fn world(s: &Scenario) -> Result<World<Resilience>, String> {
    let proto = config(s)?;
    validate_ops(&proto, s)?;
    let clients = param_u32(s, "clients")?;
    super::check_script_clients(s, clients)?;
    let mut cfg = world_config(s);
    cfg.n = world_nodes(s);
    cfg.clients = clients;
    cfg.client_timeout = Duration(us(s, "timeout")?);
    if cfg.client_policy.arrival_rate_mhz == 0 {
        cfg.client_policy.arrival_rate_mhz = param_u32(s, "rate")? as u64 * 1_000;
    }
    let props = crate::labs::LabProtocol::properties(&proto);
    Ok(World::new(proto, cfg, props))
}

fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    Ok(Box::new(Run::new(world(s)?, s.script.clone())))
}
