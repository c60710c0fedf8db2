//! The resilience experiments, each a small model of its own question at sizes beyond the
//! lab's, sharing the lab's pieces (the clients' backoff, the balancer's choice):
//!
//! - `retries`: n clients each update one row once with optimistic concurrency (read the
//!   version, write if unchanged, back off and start again on a conflict), over a network of
//!   |N(10 ms, 2 ms)| delay (Irwin–Hall's normal); the model of Marc Brooker's "Exponential Backoff And Jitter"
//!   (AWS Architecture Blog), base 5 ms and cap 2 s. Counts the writes (`total_calls`), the
//!   time until every client succeeded and the most writes in one 10 ms.
//! - `load-balancing`: Poisson arrivals, exponential service, one worker and an unbounded
//!   FIFO queue per backend, no network delay: time in system against queueing theory
//!   (random: M/M/1, 1/(μ(1 − ρ)); power of two: the supermarket model, Σ ρ^(2^i − 2)).
//! - `rate-limit`: offered requests against one limiter ([`limiter`]), and the most it admitted
//!   in any one second (sliding).
//! - `distributed-limit`: limiter instances sharing one limit through a store node over the
//!   simulated network ([`distributed`]): admitted a second against the limit as the store's
//!   latency grows, and what failing open or closed does while the store is cut off.

pub mod distributed;
pub mod limiter;

use super::balance::{pick, Algorithm, Choice, Cursor, NAMES};
use crate::labs::experiment::{
    report_json, trial_seed, AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle, Trials,
    Values, SEED_PARAM,
};
use crate::labs::{ParamKind, ParamSpec};
use crate::sim::client::{Backoff, ClientPolicy};
use crate::sim::rng::{Rng, Stream};
use crate::sim::time::fixed;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const fn trials(default: &'static str, max: i64) -> ParamSpec {
    ParamSpec {
        key: "trials",
        label: "Trials",
        help: "Independent runs, averaged",
        kind: ParamKind::Int { min: 1, max },
        default,
    }
}

fn get<'a>(v: &'a Values, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .map(String::as_str)
        .ok_or_else(|| format!("no value for '{key}'"))
}

fn get_u64(v: &Values, key: &str) -> Result<u64, String> {
    get(v, key)?
        .parse()
        .map_err(|_| format!("'{key}' must be a whole number"))
}

fn get_us(v: &Values, key: &str) -> Result<u64, String> {
    crate::sim::time::parse_duration(get(v, key)?)
}

fn chart(title: &str, x: &str, y: &str, series: Vec<Series>, caption: &str) -> Chart {
    Chart {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        x_scale: AxisScale::Linear,
        y_scale: AxisScale::Linear,
        series,
        caption: caption.into(),
        cursor_x: None,
    }
}

fn series(name: &str, style: SeriesStyle, points: Vec<(f64, f64)>, reference: bool) -> Series {
    Series {
        name: name.into(),
        style,
        points,
        reference,
        colour: None,
    }
}

// ----- retries ---------------------------------------------------------------------------------

/// The policies' names, as the command line takes them, with the shared client's backoff.
pub const POLICIES: [(&str, Backoff); 6] = [
    ("none", Backoff::None),
    ("fixed", Backoff::Fixed),
    ("exponential", Backoff::Exponential),
    ("full-jitter", Backoff::FullJitter),
    ("equal-jitter", Backoff::EqualJitter),
    ("decorrelated-jitter", Backoff::Decorrelated),
];

const POLICY_NAMES: &[&str] = &[
    "none",
    "fixed",
    "exponential",
    "full-jitter",
    "equal-jitter",
    "decorrelated-jitter",
];

pub static RETRIES: ExperimentSpec = ExperimentSpec {
    id: "retries",
    title: "Retries under contention: backoff and jitter",
    summary: "n clients each update one row once with optimistic concurrency, backing off after a conflict \
              (the model of \"Exponential Backoff And Jitter\", AWS Architecture Blog): the writes made, \
              the time until all succeeded and the busiest 10 ms.",
    params: &[
        ParamSpec {
            key: "clients",
            label: "Clients",
            help: "Clients contending for the row",
            kind: ParamKind::Int { min: 1, max: 2_000 },
            default: "100",
        },
        ParamSpec {
            key: "policy",
            label: "Policy",
            help: "none retries at once; the others wait the shared client's backoff",
            kind: ParamKind::Choice { options: POLICY_NAMES },
            default: "exponential",
        },
        ParamSpec {
            key: "base-ms",
            label: "Backoff base",
            help: "The first wait (fixed: every wait)",
            kind: ParamKind::Duration { min_us: 1, max_us: 10_000_000 },
            default: "5ms",
        },
        ParamSpec {
            key: "cap-ms",
            label: "Backoff cap",
            help: "The longest wait",
            kind: ParamKind::Duration { min_us: 1, max_us: 600_000_000 },
            default: "2s",
        },
        trials("20", 10_000),
        SEED_PARAM,
    ],
    lists: &[],
    start: |v| Ok(Box::new(RetriesRun::new(v)?)),
};

/// One contention run's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contention {
    pub calls: u64,
    pub completion_us: u64,
    pub peak_per_10ms: u64,
    /// The same from each client's second retry on: the first round and the first retries
    /// come together whatever the policy, and this shows whether the retries keep coming in
    /// waves.
    pub peak_wave_per_10ms: u64,
    /// Writes per 10 ms, from the start.
    pub per_10ms: Vec<u64>,
}

/// |N(10 ms, 2 ms)|, the normal drawn as the sum of twelve uniforms less six (Irwin–Hall:
/// mean 0, variance 1, a close match of the normal), which needs no cosine in
/// the page.
fn net_delay_us(rng: &mut Rng) -> u64 {
    let z = (0..12).map(|_| rng.unit()).sum::<f64>() - 6.0;
    libm::fabs(10_000.0 + 2_000.0 * z) as u64
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Occ {
    ReadAtServer,
    VersionAtClient(u64),
    WriteAtServer(u64),
    ResultAtClient(bool),
}

/// `clients` clients contend for one row under `policy` (its retry, base and cap).
pub fn contention(clients: u32, policy: &ClientPolicy, seed: u64) -> Contention {
    let mut net = Rng::new(seed, Stream::Network);
    let mut jitter = Rng::new(seed, Stream::Retries);
    // Each client has one event pending at a time, so (time, client) orders them all; `next`
    // says what each is (the queue's type is the balancing model's, compiled once).
    let mut q: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let mut next = vec![Occ::ReadAtServer; clients as usize];
    let push = |q: &mut BinaryHeap<_>, next: &mut [Occ], t: u64, c: u32, e: Occ| {
        next[c as usize] = e;
        q.push(Reverse((t, 0, c)));
    };
    for c in 0..clients {
        let t = net_delay_us(&mut net);
        push(&mut q, &mut next, t, c, Occ::ReadAtServer);
    }
    let (mut attempts, mut prev) = (
        vec![0u32; clients as usize],
        vec![policy.backoff_base_us; clients as usize],
    );
    let (mut version, mut out) = (0u64, Contention::default());
    let mut retried: Vec<u64> = Vec::new();
    while let Some(Reverse((t, _, c))) = q.pop() {
        let e = next[c as usize];
        let d = net_delay_us(&mut net);
        match e {
            Occ::ReadAtServer => push(&mut q, &mut next, t + d, c, Occ::VersionAtClient(version)),
            Occ::VersionAtClient(v) => push(&mut q, &mut next, t + d, c, Occ::WriteAtServer(v)),
            Occ::WriteAtServer(v) => {
                out.calls += 1;
                let slot = (t / 10_000) as usize;
                if out.per_10ms.len() <= slot {
                    out.per_10ms.resize(slot + 1, 0);
                    retried.resize(slot + 1, 0);
                }
                out.per_10ms[slot] += 1;
                retried[slot] += (attempts[c as usize] >= 2) as u64;
                let ok = v == version;
                version += ok as u64;
                push(&mut q, &mut next, t + d, c, Occ::ResultAtClient(ok));
            }
            Occ::ResultAtClient(true) => out.completion_us = t,
            Occ::ResultAtClient(false) => {
                let i = c as usize;
                attempts[i] += 1;
                // The blog's n-th retry waits min(cap, base * 2^n), n from 1.
                let wait = policy.backoff_us(attempts[i], prev[i], &mut jitter);
                prev[i] = wait;
                push(&mut q, &mut next, t + d + wait, c, Occ::ReadAtServer);
            }
        }
    }
    out.peak_per_10ms = out.per_10ms.iter().copied().max().unwrap_or(0);
    out.peak_wave_per_10ms = retried.iter().copied().max().unwrap_or(0);
    out
}

struct RetriesRun {
    clients: u32,
    policy_name: String,
    policy: ClientPolicy,
    seed: u64,
    trials: u32,
    done: u32,
    calls: u64,
    completion_us: u64,
    peak: u64,
    wave: u64,
    first: Vec<u64>,
}

impl RetriesRun {
    fn new(v: &Values) -> Result<RetriesRun, String> {
        let name = get(v, "policy")?;
        let retry = POLICIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| format!("there is no policy '{name}'"))?;
        let (base, cap) = (get_us(v, "base-ms")?, get_us(v, "cap-ms")?);
        if base > cap {
            return Err("the backoff base must not exceed its cap".into());
        }
        Ok(RetriesRun {
            clients: get_u64(v, "clients")? as u32,
            policy_name: name.to_string(),
            policy: ClientPolicy {
                retry,
                backoff_base_us: base,
                backoff_cap_us: cap,
                ..ClientPolicy::default()
            },
            seed: get_u64(v, "seed")?,
            trials: get_u64(v, "trials")? as u32,
            done: 0,
            calls: 0,
            completion_us: 0,
            peak: 0,
            wave: 0,
            first: Vec::new(),
        })
    }
}

impl Trials for RetriesRun {
    fn run(&mut self, k: u32) -> u32 {
        let mut ran = 0;
        while ran < k && self.done < self.trials {
            let r = contention(self.clients, &self.policy, trial_seed(self.seed, self.done));
            self.calls += r.calls;
            self.completion_us += r.completion_us;
            self.peak += r.peak_per_10ms;
            self.wave += r.peak_wave_per_10ms;
            if self.done == 0 {
                self.first = r.per_10ms;
            }
            self.done += 1;
            ran += 1;
        }
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let d = self.done.max(1) as f64;
        let (calls, ms, peak, wave) = (
            self.calls as f64 / d,
            self.completion_us as f64 / d / 1e3,
            self.peak as f64 / d,
            self.wave as f64 / d,
        );
        let points = self
            .first
            .iter()
            .enumerate()
            .map(|(i, c)| (i as f64 * 10.0, *c as f64))
            .collect();
        let name = self.policy_name.clone();
        let clients = self.clients;
        Report {
            summary: format!(
                "{} clients, {}: {} writes, all done in {} ms, at most {} writes in 10 ms, {} from the second retry on (mean of {} trials)",
                self.clients,
                self.policy_name,
                fixed(calls, 1),
                fixed(ms, 1),
                fixed(peak, 1),
                fixed(wave, 1),
                self.done
            ),
            charts: vec![chart(
                "Writes per 10 ms (the first trial)",
                "time (ms)",
                "writes",
                vec![series(&self.policy_name, SeriesStyle::Steps, points, false)],
                "Without jitter the clients retry in waves; with it their writes spread out.",
            )],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "clients": clients,
                    "policy": name,
                    "trials": self.done,
                    "total_calls": calls,
                    "completion_ms": ms,
                    "peak_calls_per_10ms": peak,
                    "peak_wave_calls_per_10ms": wave,
                })
            }),
        }
    }
}

// ----- load balancing --------------------------------------------------------------------------

pub static LOAD_BALANCING: ExperimentSpec = ExperimentSpec {
    id: "load-balancing",
    title: "Load balancing against queueing theory",
    summary: "Poisson arrivals to servers with one worker, an unbounded queue and exponential service, picked \
              by one algorithm: the time in system (mean and 99th percentile) and the longest queue, beside \
              M/M/1 for random and the supermarket model for power of two choices.",
    params: &[
        ParamSpec {
            key: "algorithm",
            label: "Algorithm",
            help: "How each request's server is picked",
            kind: ParamKind::Choice { options: NAMES },
            default: "power-of-two",
        },
        ParamSpec {
            key: "servers",
            label: "Servers",
            help: "Servers behind the balancer",
            kind: ParamKind::Int { min: 1, max: 1_000 },
            default: "100",
        },
        ParamSpec {
            key: "load",
            label: "Load ρ",
            help: "Arrival rate over the servers' total service rate",
            kind: ParamKind::Fraction { min_ppm: 10_000, max_ppm: 990_000 },
            default: "0.9",
        },
        ParamSpec {
            key: "service-ms",
            label: "Mean service time",
            help: "Exponential service time's mean",
            kind: ParamKind::Duration { min_us: 10, max_us: 10_000_000 },
            default: "10ms",
        },
        ParamSpec {
            key: "arrivals",
            label: "Arrivals",
            help: "Requests per trial (the first tenth warms the queues up and is not measured)",
            // Each measured time is kept for the percentiles: at most 40 MB a trial.
            kind: ParamKind::Int { min: 100, max: 5_000_000 },
            default: "50000",
        },
        trials("1", 20),
        SEED_PARAM,
    ],
    lists: &[],
    start: |v| Ok(Box::new(BalanceRun::new(v)?)),
};

/// One balancing run: each measured request's time in system (ns) and the longest queue.
pub struct Balanced {
    pub times_ns: Vec<u64>,
    pub max_queue: u32,
}

/// Queueing theory's mean time in system, in service times, where it has one: random picks
/// make each server M/M/1, 1/(1 − ρ); power of two choices follows the supermarket model,
/// Σ_{i≥1} ρ^(2^i − 2) (Mitzenmacher 2001), as the servers grow many.
pub fn theory_mean(algo: Algorithm, rho: f64) -> Option<f64> {
    match algo {
        Algorithm::Random => Some(1.0 / (1.0 - rho)),
        Algorithm::PowerOfTwo => {
            let mut sum = 0.0;
            for i in 1..64 {
                let term = libm::pow(rho, libm::pow(2.0, i as f64) - 2.0);
                sum += term;
                if term < 1e-12 {
                    break;
                }
            }
            Some(sum)
        }
        _ => None,
    }
}

/// `arrivals` Poisson arrivals at load `rho` to `servers` one-worker FIFO servers.
pub fn balance_run(
    algo: Algorithm,
    servers: u32,
    rho: f64,
    service_ns: u64,
    arrivals: u64,
    seed: u64,
) -> Balanced {
    let mut arrive = Rng::new(seed, Stream::Arrivals);
    let mut work = Rng::new(seed, Stream::Workload);
    let mut draws = Rng::new(seed, Stream::Timers);
    let n = servers as usize;
    let gap_ns = service_ns as f64 / (rho * servers as f64);
    let (mut load, mut free_at) = (vec![0u32; n], vec![0u64; n]);
    let mut departures: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let (mut cursor, pool): (Cursor, Vec<u32>) = (Cursor::default(), (0..servers).collect());
    let warm = arrivals / 10;
    let mut out = Balanced {
        times_ns: Vec::with_capacity((arrivals - warm) as usize),
        max_queue: 0,
    };
    let mut t = 0u64;
    for k in 0..arrivals {
        t += arrive.exponential(gap_ns) as u64;
        while let Some(Reverse((d, _, b))) = departures.peek().copied() {
            if d > t {
                break;
            }
            departures.pop();
            load[b as usize] -= 1;
        }
        let choice = Choice {
            pool: &pool,
            load: &load,
            weights: &[],
            client: draws.range_inclusive(0, 10 * servers as u64),
            draw: draws.next_u64(),
        };
        let Some(b) = pick(algo, &mut cursor, &choice) else {
            break;
        };
        let i = b as usize;
        let done = free_at[i].max(t) + (work.exponential(service_ns as f64) as u64).max(1);
        free_at[i] = done;
        load[i] += 1;
        departures.push(Reverse((done, k, b)));
        if k >= warm {
            out.times_ns.push(done - t);
            out.max_queue = out.max_queue.max(load[i] - 1);
        }
    }
    out
}

struct BalanceRun {
    algo: Algorithm,
    name: String,
    servers: u32,
    rho: f64,
    service_ns: u64,
    arrivals: u64,
    seed: u64,
    trials: u32,
    done: u32,
    times_ns: Vec<u64>,
    max_queue: u32,
}

impl BalanceRun {
    fn new(v: &Values) -> Result<BalanceRun, String> {
        let name = get(v, "algorithm")?;
        let rho =
            crate::labs::parse_fraction_ppm(get(v, "load")?).ok_or("load must be a fraction")?;
        Ok(BalanceRun {
            algo: Algorithm::parse(name)
                .ok_or_else(|| format!("there is no algorithm '{name}'"))?,
            name: name.to_string(),
            servers: get_u64(v, "servers")? as u32,
            rho: rho as f64 / 1e6,
            service_ns: get_us(v, "service-ms")? * 1_000,
            arrivals: get_u64(v, "arrivals")?,
            seed: get_u64(v, "seed")?,
            trials: get_u64(v, "trials")? as u32,
            done: 0,
            times_ns: Vec::new(),
            max_queue: 0,
        })
    }
}

impl Trials for BalanceRun {
    fn run(&mut self, k: u32) -> u32 {
        let mut ran = 0;
        while ran < k && self.done < self.trials {
            let seed = trial_seed(self.seed, self.done);
            let r = balance_run(
                self.algo,
                self.servers,
                self.rho,
                self.service_ns,
                self.arrivals,
                seed,
            );
            self.times_ns.extend(r.times_ns);
            self.max_queue = self.max_queue.max(r.max_queue);
            self.done += 1;
            ran += 1;
        }
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let mut t = self.times_ns.clone();
        crate::sim::order::sort_by_key(&mut t, |x| *x);
        let ms = |ns: f64| ns / 1e6;
        let mean = ms(t.iter().map(|x| *x as f64).sum::<f64>() / t.len().max(1) as f64);
        let q = |p: f64| {
            t.get(((t.len() as f64 * p) as usize).min(t.len().saturating_sub(1)))
                .map_or(0.0, |x| ms(*x as f64))
        };
        let p99 = q(0.99);
        let service_ms = ms(self.service_ns as f64);
        let theory = theory_mean(self.algo, self.rho).map(|s| s * service_ms);
        let points = (1..=99).map(|p| (p as f64, q(p as f64 / 100.0))).collect();
        let mut lines = vec![series(&self.name, SeriesStyle::Line, points, false)];
        if let Some(th) = theory {
            lines.push(series(
                "theory's mean",
                SeriesStyle::Line,
                vec![(1.0, th), (99.0, th)],
                true,
            ));
        }
        let (name, servers, rho, maxq) =
            (self.name.clone(), self.servers, self.rho, self.max_queue);
        Report {
            summary: format!(
                "{}, {} servers at load {}: mean time in system {} ms{}, 99th percentile {} ms, longest queue {}",
                self.name,
                self.servers,
                fixed(self.rho, 2),
                fixed(mean, 3),
                theory.map_or(String::new(), |th| format!(" (theory {} ms)", fixed(th, 3))),
                fixed(p99, 3),
                self.max_queue
            ),
            charts: vec![chart(
                "Time in system, by percentile",
                "percentile",
                "time in system (ms)",
                lines,
                "The measured requests' times in system; the theory's mean where it has one.",
            )],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "algorithm": name,
                    "servers": servers,
                    "load": rho,
                    "service_ms": service_ms,
                    "requests": t.len(),
                    "mean_ms": mean,
                    "p99_ms": p99,
                    "max_queue": maxq,
                    "theory_mean_ms": theory,
                })
            }),
        }
    }
}

// ----- rate limiting ---------------------------------------------------------------------------

pub static RATE_LIMIT: ExperimentSpec = ExperimentSpec {
    id: "rate-limit",
    title: "Rate limiters against their definitions",
    summary: "Offered requests at one rate limiter: how many it admits, and the most it admitted in any one \
              second (sliding). A fixed window admits up to twice its limit across a window boundary.",
    params: &[
        ParamSpec {
            key: "algorithm",
            label: "Limiter",
            help: "token-bucket, leaky-bucket, fixed-window, sliding-window-log or sliding-window-counter",
            kind: ParamKind::Choice { options: limiter::NAMES },
            default: "token-bucket",
        },
        ParamSpec {
            key: "limit",
            label: "Limit",
            help: "Requests a second it admits",
            kind: ParamKind::Int { min: 1, max: 100_000 },
            default: "100",
        },
        ParamSpec {
            key: "burst",
            label: "Burst",
            help: "Token bucket: its capacity; leaky bucket: its queue",
            kind: ParamKind::Int { min: 1, max: 100_000 },
            default: "20",
        },
        ParamSpec {
            key: "rate",
            label: "Offered rate",
            help: "Requests a second offered (Poisson) while traffic is on",
            kind: ParamKind::Int { min: 1, max: 1_000_000 },
            default: "400",
        },
        ParamSpec {
            key: "pattern",
            label: "Traffic",
            help: "steady: always on; bursts: on for one second in two, across a second boundary",
            kind: ParamKind::Choice { options: &["bursts", "steady"] },
            default: "bursts",
        },
        ParamSpec {
            key: "seconds",
            label: "Duration",
            help: "Seconds of traffic per trial",
            kind: ParamKind::Int { min: 1, max: 3_600 },
            default: "20",
        },
        trials("5", 1_000),
        SEED_PARAM,
    ],
    lists: &[],
    start: |v| Ok(Box::new(LimitRun::new(v)?)),
};

struct LimitRun {
    algo: limiter::Algorithm,
    name: String,
    limit: u64,
    burst: u64,
    rate: u64,
    bursts: bool,
    seconds: u64,
    seed: u64,
    trials: u32,
    done: u32,
    offered: u64,
    admitted: u64,
    max_in_1s: u64,
    first: Vec<u64>,
}

impl LimitRun {
    fn new(v: &Values) -> Result<LimitRun, String> {
        let name = get(v, "algorithm")?;
        let (rate, seconds) = (get_u64(v, "rate")?, get_u64(v, "seconds")?);
        if rate * seconds > 10_000_000 {
            return Err(format!(
                "{rate} requests a second for {seconds} s is more than the 10 million a trial may offer"
            ));
        }
        Ok(LimitRun {
            algo: limiter::Algorithm::parse(name)
                .ok_or_else(|| format!("there is no limiter '{name}'"))?,
            name: name.to_string(),
            limit: get_u64(v, "limit")?,
            burst: get_u64(v, "burst")?,
            rate: get_u64(v, "rate")?,
            bursts: get(v, "pattern")? == "bursts",
            seconds: get_u64(v, "seconds")?,
            seed: get_u64(v, "seed")?,
            trials: get_u64(v, "trials")? as u32,
            done: 0,
            offered: 0,
            admitted: 0,
            max_in_1s: 0,
            first: Vec::new(),
        })
    }
}

impl Trials for LimitRun {
    fn run(&mut self, k: u32) -> u32 {
        let mut ran = 0;
        while ran < k && self.done < self.trials {
            let seed = trial_seed(self.seed, self.done);
            let arrivals = limiter::arrivals(self.rate, self.seconds, self.bursts, seed);
            let admitted = limiter::admit(self.algo, self.limit, self.burst, &arrivals);
            self.offered += arrivals.len() as u64;
            self.admitted += admitted.len() as u64;
            self.max_in_1s = self
                .max_in_1s
                .max(limiter::max_in_window(&admitted, 1_000_000));
            if self.done == 0 {
                let mut per = vec![0u64; (self.seconds * 10 + 1) as usize];
                for t in &admitted {
                    if let Some(c) = per.get_mut((t / 100_000) as usize) {
                        *c += 1;
                    }
                }
                self.first = per;
            }
            self.done += 1;
            ran += 1;
        }
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let bound = limiter::bound(self.algo, self.limit, self.burst);
        let points = self
            .first
            .iter()
            .enumerate()
            .map(|(i, c)| (i as f64 / 10.0, *c as f64))
            .collect();
        let (name, offered, admitted, max1, limit, burst) = (
            self.name.clone(),
            self.offered,
            self.admitted,
            self.max_in_1s,
            self.limit,
            self.burst,
        );
        Report {
            summary: format!(
                "{}, limit {}/s, burst {}: {} offered, {} admitted; at most {} in any one second (its definition allows {})",
                self.name, self.limit, self.burst, self.offered, self.admitted, self.max_in_1s, bound
            ),
            charts: vec![chart(
                "Admitted per 100 ms (the first trial)",
                "time (s)",
                "requests admitted",
                vec![series(&self.name, SeriesStyle::Steps, points, false)],
                "Where the admitted requests fall in time.",
            )],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "algorithm": name,
                    "limit": limit,
                    "burst": burst,
                    "offered": offered,
                    "admitted": admitted,
                    "max_admitted_in_1s": max1,
                    "bound": bound,
                })
            }),
        }
    }
}

// ----- the distributed rate limiter ------------------------------------------------------------

/// One run of the distributed limiter ([`distributed`]): the network between the instances
/// and the store, the traffic, and how long.
#[derive(Clone, Debug)]
pub struct DistributedSetup {
    pub limiter: distributed::Distributed,
    /// Requests a second offered over all instances (Poisson).
    pub rate: u64,
    /// One-way delay between an instance and the store, and the loss on those links.
    pub store_latency_us: u64,
    pub store_loss_ppm: u32,
    /// The store is cut off from every instance from 2 s for this long (0: never).
    pub partition_us: u64,
    pub seconds: u64,
}

/// When the store is cut off.
pub const PARTITION_FROM_US: u64 = 2_000_000;

/// Offered and admitted requests per one-second window, over all instances.
pub fn distributed_run(d: &DistributedSetup, seed: u64) -> (Vec<u64>, Vec<u64>) {
    use crate::sim::command::{Action, Command};
    use crate::sim::net::{Dist, NetSetting};
    let k = d.limiter.instances;
    let mut cfg = crate::sim::WorldConfig::new(k + 1, seed);
    cfg.net.latency = Dist::Constant { us: 100 };
    cfg.net.loss_ppm = 0;
    cfg.net.dup_ppm = 0;
    cfg.clients = 16 * k;
    // A trial reads counts, never the diagram: no clocks to keep.
    cfg.logical_clocks = false;
    cfg.client_timeout =
        crate::sim::time::Duration(d.limiter.store_timeout_us + 2 * d.store_latency_us + 1_000_000);
    cfg.client_policy.arrival_rate_mhz = d.rate * 1_000;
    let mut script = Vec::new();
    for i in 1..=k {
        for link in [(i, 0), (0, i)] {
            for setting in [
                NetSetting::Latency(Dist::Constant {
                    us: d.store_latency_us,
                }),
                NetSetting::LossPpm(d.store_loss_ppm),
            ] {
                let link = Some(link);
                script.push(Command::new(0, Action::Set { link, setting }));
            }
        }
    }
    if d.partition_us > 0 {
        for (at_us, cut) in [
            (PARTITION_FROM_US, true),
            (PARTITION_FROM_US + d.partition_us, false),
        ] {
            for i in 1..=k {
                let (from, to, both_ways) = (0, i, true);
                script.push(Command::new(
                    at_us,
                    match cut {
                        true => Action::CutLink {
                            from,
                            to,
                            both_ways,
                        },
                        false => Action::HealLink {
                            from,
                            to,
                            both_ways,
                        },
                    },
                ));
            }
        }
    }
    let mut w = crate::sim::World::new(d.limiter.clone(), cfg, Vec::new());
    w.run_until(crate::sim::Instant(d.seconds * 1_000_000), &script);
    let windows = d.seconds as usize;
    let (mut offered, mut admitted) = (vec![0; windows], vec![0; windows]);
    for id in 1..=k {
        if let distributed::NodeState::Instance(i) = w.state(id) {
            for (sum, mine) in [(&mut offered, &i.offered), (&mut admitted, &i.admitted)] {
                for (s, m) in sum.iter_mut().zip(mine) {
                    *s += m;
                }
            }
        }
    }
    (offered, admitted)
}

pub static DISTRIBUTED_LIMIT: ExperimentSpec = ExperimentSpec {
    id: "distributed-limit",
    title: "A rate limit shared through a store",
    summary: "Several limiter instances share one limit a second through a counter in a store across the network. \
              Syncing every few milliseconds, they over-admit by about the offered rate times the sync interval plus a \
              round trip; asking the store on every request (sync=0) is exact. Cut off from the store, each fails open \
              (admits everything) or closed (rejects everything).",
    params: &[
        ParamSpec {
            key: "instances",
            label: "Instances",
            help: "Limiter instances sharing the limit",
            kind: ParamKind::Int { min: 1, max: 32 },
            default: "4",
        },
        ParamSpec {
            key: "limit",
            label: "Limit",
            help: "Requests a one-second window admits over all instances",
            kind: ParamKind::Int { min: 1, max: 1_000 },
            default: "100",
        },
        ParamSpec {
            key: "rate",
            label: "Offered rate",
            help: "Requests a second offered over all instances (Poisson)",
            kind: ParamKind::Int { min: 1, max: 1_000 },
            default: "300",
        },
        ParamSpec {
            key: "store-latency",
            label: "Store latency",
            help: "One-way delay between an instance and the store",
            kind: ParamKind::Duration { min_us: 0, max_us: 5_000_000 },
            default: "1ms",
        },
        ParamSpec {
            key: "store-loss",
            label: "Store loss",
            help: "Share of the messages between the instances and the store that are lost",
            kind: ParamKind::Fraction { min_ppm: 0, max_ppm: 1_000_000 },
            default: "0",
        },
        ParamSpec {
            key: "sync",
            label: "Sync interval",
            help: "How often an instance tells the store what it admitted and hears the total (0: it asks on every request)",
            kind: ParamKind::Duration { min_us: 0, max_us: 10_000_000 },
            default: "10ms",
        },
        ParamSpec {
            key: "store-timeout",
            label: "Store timeout",
            help: "An instance whose oldest unanswered message to the store is older than this takes it as unreachable",
            kind: ParamKind::Duration { min_us: 1_000, max_us: 60_000_000 },
            default: "250ms",
        },
        ParamSpec {
            key: "partition",
            label: "Partition",
            help: "The store is cut off from every instance from 2 s for this long (0: never)",
            kind: ParamKind::Duration { min_us: 0, max_us: 600_000_000 },
            default: "0ms",
        },
        ParamSpec {
            key: "fail",
            label: "Store unreachable",
            help: "open: each instance admits everything; closed: it rejects everything",
            kind: ParamKind::Choice { options: &["open", "closed"] },
            default: "open",
        },
        ParamSpec {
            key: "seconds",
            label: "Duration",
            help: "Seconds of traffic per trial",
            kind: ParamKind::Int { min: 1, max: distributed::WINDOWS_MAX as i64 },
            default: "10",
        },
        trials("3", 100),
        SEED_PARAM,
    ],
    lists: &[],
    start: |v| Ok(Box::new(DistributedRun::new(v)?)),
};

struct DistributedRun {
    setup: DistributedSetup,
    seed: u64,
    trials: u32,
    done: u32,
    /// Per window, summed over the trials.
    offered: Vec<u64>,
    admitted: Vec<u64>,
}

impl DistributedRun {
    fn new(v: &Values) -> Result<DistributedRun, String> {
        let sync_us = get_us(v, "sync")?;
        if sync_us > 0 && sync_us < 1_000 {
            return Err("the sync interval is 0 (ask on every request) or at least 1 ms".into());
        }
        let loss = get(v, "store-loss")?;
        let store_loss_ppm = crate::labs::parse_fraction_ppm(loss)
            .ok_or_else(|| format!("'{}' is not a fraction", crate::labs::clip(loss)))?;
        let setup = DistributedSetup {
            limiter: distributed::Distributed {
                instances: get_u64(v, "instances")? as u32,
                limit: get_u64(v, "limit")?,
                sync_us,
                store_timeout_us: get_us(v, "store-timeout")?,
                fail_open: get(v, "fail")? == "open",
            },
            rate: get_u64(v, "rate")?,
            store_latency_us: get_us(v, "store-latency")?,
            store_loss_ppm,
            partition_us: get_us(v, "partition")?,
            seconds: get_u64(v, "seconds")?,
        };
        let syncs = (setup.limiter.instances as u64 * setup.seconds * 1_000_000)
            .checked_div(sync_us)
            .unwrap_or(0);
        if syncs > 5_000_000 {
            return Err(format!(
                "{} instances syncing every {} for {} s make more than the 5 million syncs a trial may send",
                setup.limiter.instances,
                get(v, "sync")?,
                setup.seconds
            ));
        }
        let windows = setup.seconds as usize;
        Ok(DistributedRun {
            setup,
            seed: get_u64(v, "seed")?,
            trials: get_u64(v, "trials")? as u32,
            done: 0,
            offered: vec![0; windows],
            admitted: vec![0; windows],
        })
    }
}

/// Mean admitted a second, and mean over-admission (what a window admitted beyond the limit),
/// over windows `range` of per-window totals summed over `trials`.
pub fn admitted_and_over(
    admitted: &[u64],
    range: std::ops::Range<usize>,
    limit: u64,
    trials: u64,
) -> (f64, f64) {
    let w = &admitted[range.start.min(admitted.len())..range.end.min(admitted.len())];
    let n = (w.len() as u64 * trials.max(1)).max(1) as f64;
    let total: u64 = w.iter().sum();
    let over: u64 = w
        .iter()
        .map(|a| a.saturating_sub(limit.saturating_mul(trials.max(1))))
        .sum();
    (total as f64 / n, over as f64 / n)
}

impl Trials for DistributedRun {
    fn run(&mut self, k: u32) -> u32 {
        let mut ran = 0;
        while ran < k && self.done < self.trials {
            let seed = trial_seed(self.seed, self.done);
            let (offered, admitted) = distributed_run(&self.setup, seed);
            for (sum, one) in [(&mut self.offered, offered), (&mut self.admitted, admitted)] {
                for (s, x) in sum.iter_mut().zip(one) {
                    *s += x;
                }
            }
            self.done += 1;
            ran += 1;
        }
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let d = &self.setup;
        let limit = d.limiter.limit;
        let trials = self.done.max(1) as u64;
        let all = 0..self.admitted.len();
        let (per_s, over_per_s) = admitted_and_over(&self.admitted, all.clone(), limit, trials);
        let offered_per_s = admitted_and_over(&self.offered, all, u64::MAX, trials).0;
        let cut = (PARTITION_FROM_US / 1_000_000) as usize
            ..((PARTITION_FROM_US + d.partition_us) / 1_000_000) as usize;
        let during = (d.partition_us >= 1_000_000)
            .then(|| admitted_and_over(&self.admitted, cut, limit, trials).0);
        let per_window = |v: &[u64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(i, a)| (i as f64, *a as f64 / trials as f64))
                .collect()
        };
        let limit_line = (0..self.admitted.len())
            .map(|i| (i as f64, limit as f64))
            .collect();
        let mode = match d.limiter.sync_us {
            0 => "asking the store on every request".to_string(),
            us => format!("syncing every {} ms", fixed(us as f64 / 1e3, 1)),
        };
        let mut summary = format!(
            "{} instance{} {mode}, store {} ms away: {} admitted a second against a limit of {limit} ({} offered), {} a second over it",
            d.limiter.instances,
            if d.limiter.instances == 1 { "" } else { "s" },
            fixed(d.store_latency_us as f64 / 1e3, 1),
            fixed(per_s, 1),
            fixed(offered_per_s, 1),
            fixed(over_per_s, 1),
        );
        if let Some(x) = during {
            let how = if d.limiter.fail_open {
                "open"
            } else {
                "closed"
            };
            summary += &format!(
                "; cut off from the store, failing {how}: {} a second",
                fixed(x, 1)
            );
        }
        let (instances, sync_us, lat_us) =
            (d.limiter.instances, d.limiter.sync_us, d.store_latency_us);
        let fail = if d.limiter.fail_open {
            "open"
        } else {
            "closed"
        };
        Report {
            summary,
            charts: vec![chart(
                "Admitted per one-second window",
                "time (s)",
                "requests admitted (mean over trials)",
                vec![
                    series(
                        "admitted",
                        SeriesStyle::Steps,
                        per_window(&self.admitted),
                        false,
                    ),
                    series(
                        "offered",
                        SeriesStyle::Steps,
                        per_window(&self.offered),
                        false,
                    ),
                    series("limit", SeriesStyle::Line, limit_line, true),
                ],
                "Each window's admissions over all instances against the shared limit.",
            )],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "instances": instances,
                    "limit": limit,
                    "sync_ms": sync_us as f64 / 1e3,
                    "store_latency_ms": lat_us as f64 / 1e3,
                    "fail": fail,
                    "offered_per_s": offered_per_s,
                    "admitted_per_s": per_s,
                    "over_limit_per_s": over_per_s,
                    "admitted_per_s_partitioned": during,
                })
            }),
        }
    }
}
