//! A service tier behind a load balancer, with the patterns that keep a bad minute from
//! becoming a bad hour.
//!
//! Node 0 is the load balancer (LB); nodes 1..=n are backends. The engine's clients (open-loop
//! Poisson arrivals, a timeout, retries with the shared [`crate::sim::client::ClientPolicy`]:
//! backoff, jitter, a retry budget) send every request to the LB.
//!
//! - **Backends** have `workers` requests in service at once and a FIFO queue of at most
//!   `queue_limit` more; a request beyond that is refused. Each request's work is drawn by the
//!   client's workload from an exponential distribution (so service is M/M/c-like); a slow
//!   backend takes ten times as long, a failing one fails a fraction of its requests.
//! - **The LB** picks a backend from its pool ([`super::balance`]) and forwards the request;
//!   it answers the client when the backend does; a backend slower than the client's timeout
//!   is given up on without an answer (the client has timed out, and its retry policy
//!   decides), and counts as a failure for the client's breaker.
//! - **Health checks**, two probes as Kubernetes has them, both sent by the LB (which plays
//!   the orchestrator's part as well as the balancer's). *Readiness*: every `every_us` the LB
//!   probes each backend; a probe unanswered within `timeout_us`, or answered "not ready" (a
//!   draining backend), fails. After `unhealthy_after` failures in a row the backend leaves
//!   the pool; after `healthy_after` successes in a row it rejoins. Without readiness checks
//!   the pool is every backend. *Liveness*: a probe of its own, with its own interval and
//!   timeout, answered by any backend whose process runs, draining or not; only one that is
//!   stuck (hung) or down leaves it unanswered. After `failures` failures in a row the LB
//!   restarts the backend (a `Restart` message, the kubelet killing the container): it drops
//!   the work in hand and comes back after `restart_us`, during which the LB holds its
//!   liveness probes (Kubernetes' initial delay). The success threshold is 1, as Kubernetes
//!   requires of a liveness probe: one good answer ends a run of failures. Liveness never
//!   takes a backend out of the pool; readiness never restarts one.
//! - **A bulkhead** (optional): at most `bulkhead` requests outstanding at one backend; the
//!   LB fails one more at once, so a slow backend cannot hold every request in the tier.
//! - **Circuit breakers**, one per client, kept by the LB's proxy for that client (the role a
//!   client-side library or a sidecar plays): closed, it counts failures in a row and opens at
//!   `failures`; open, it fails the client's requests at once, sending nothing, until
//!   `cool_down_us` has passed; then half-open, it lets `probes` requests through: all
//!   succeed and it closes, one fails and it opens again.

use super::balance::{mix, pick, Algorithm, Choice, Cursor};
use super::experiment::limiter::{self, Limiter};
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallMap;
use crate::sim::time::Duration;
use std::collections::VecDeque;

/// The LB's node id.
pub const LB: NodeId = 0;

/// How a slow backend's service time compares with a normal one's.
pub const SLOW_FACTOR: u64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    pub every_us: u64,
    pub timeout_us: u64,
    pub unhealthy_after: u32,
    pub healthy_after: u32,
}

/// The liveness probe: interval, timeout, failures in a row that restart a backend, and how
/// long a restart takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LivenessConfig {
    pub every_us: u64,
    pub timeout_us: u64,
    pub failures: u32,
    pub restart_us: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    pub failures: u32,
    pub cool_down_us: u64,
    pub probes: u32,
}

/// The deliberately broken versions ([`super::VARIANTS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mistake {
    #[default]
    None,
    /// The LB picks from every backend, healthy or not.
    IgnoreHealth,
    /// An open breaker turns half-open at the next request, whatever the cool-down.
    NoCoolDown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resilience {
    pub backends: u32,
    pub algorithm: Algorithm,
    pub weights: Vec<u32>,
    pub workers: u32,
    pub queue_limit: u32,
    /// Mean work of a request, which each client's workload draws exponentially.
    pub service_us: u64,
    /// Millionths of a failing backend's requests that fail.
    pub fail_ppm: u32,
    /// How long the LB waits for a backend (the clients' timeout).
    pub upstream_timeout_us: u64,
    /// The readiness probe.
    pub health: Option<HealthConfig>,
    pub liveness: Option<LivenessConfig>,
    pub breaker: Option<BreakerConfig>,
    /// The rate limiter at the LB's entry: its algorithm, limit a second and burst.
    pub limiter: Option<(limiter::Algorithm, u64, u64)>,
    /// The bulkhead: requests the LB keeps outstanding at one backend at most (0: no limit);
    /// one more is failed at once rather than queued behind a slow backend.
    pub bulkhead: u32,
    pub mistake: Mistake,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    pub id: u64,
    pub work_us: u64,
    /// A random word drawn with the operation (the balancer's choices, a failing backend's).
    pub salt: u64,
}

/// Why the LB answered a client with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Why {
    BreakerOpen,
    /// The entry's rate limiter turned the request away.
    RateLimited,
    /// The chosen backend's bulkhead was full.
    Bulkhead,
    NoBackend,
    /// The backend refused (queue full) or failed the request.
    Backend,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    Ok(u64),
    Err(Why),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    Forward {
        job: u64,
        work_us: u64,
        fail_draw: u64,
    },
    Done {
        job: u64,
        ok: bool,
    },
    /// A readiness probe, or (`live`) a liveness probe.
    Probe {
        seq: u64,
        live: bool,
    },
    /// The answer: ready or not, or (`live`) alive.
    ProbeAck {
        seq: u64,
        live: bool,
        ok: bool,
    },
    /// The LB restarts a backend that failed its liveness probes.
    Restart,
}

impl MessageInfo for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Forward { .. } => "forward",
            Msg::Done { .. } => "backend reply",
            Msg::Probe { live: false, .. } => "probe",
            Msg::ProbeAck { live: false, .. } => "probe ack",
            Msg::Probe { live: true, .. } => "liveness probe",
            Msg::ProbeAck { live: true, .. } => "liveness ack",
            Msg::Restart => "restart",
        }
    }
    fn summary(&self) -> String {
        match self {
            Msg::Forward { job, work_us, .. } => format!("job {job}, work {work_us} µs"),
            Msg::Done { job, ok } => format!("job {job} {}", if *ok { "ok" } else { "failed" }),
            Msg::Probe { seq, live: false } => format!("readiness probe {seq}"),
            Msg::Probe { seq, live: true } => format!("liveness probe {seq}"),
            Msg::ProbeAck { seq, live, ok } => {
                let what = if *live { "alive" } else { "ready" };
                format!("probe {seq}: {what} {ok}")
            }
            Msg::Restart => "restart: drop the work in hand and start afresh".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// A backend finished job `job`.
    Work { job: u64 },
    /// The LB gives up on job `job`.
    Upstream { job: u64 },
    /// Time to probe backend `backend`'s readiness, or (`live`) its liveness.
    Probe { backend: u32, live: bool },
    /// Probe `seq` of `backend` went unanswered.
    ProbeTimeout { backend: u32, seq: u64, live: bool },
    /// A restarting backend is up again.
    Restarted,
    /// The leaky bucket lets held request `job` through.
    Release { job: u64 },
    /// The LB notes its figures for the charts, once a second.
    Sample,
}

/// What the LB sees once a second, for the charts over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at_s: u64,
    /// Requests at the backends, and held by the leaky bucket.
    pub outstanding: u32,
    pub breakers_open: u32,
    pub breakers_half_open: u32,
}

/// Seconds of samples the LB keeps.
pub const SAMPLES_MAX: usize = 120;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breaker {
    pub state: BreakerState,
    /// Failures in a row while closed.
    pub failures: u32,
    /// When it last opened.
    pub opened_us: u64,
    /// Half-open: probes let through, and how many succeeded.
    pub probes_out: u32,
    pub probes_ok: u32,
    pub opened: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub healthy: bool,
    /// How often it changed (a property compares it across a route).
    pub changes: u32,
    pub fails: u32,
    pub oks: u32,
    pub seq: u64,
    /// The probe awaited, if any.
    pub awaiting: Option<u64>,
    /// Liveness: restarts ordered, and the end of the last one's hold on probing.
    pub restarts: u32,
    pub hold_until_us: u64,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            healthy: true,
            changes: 0,
            fails: 0,
            oks: 0,
            seq: 0,
            awaiting: None,
            restarts: 0,
            hold_until_us: 0,
        }
    }
}

/// The LB's latest forward, for the properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub backend: u32,
    pub client: u32,
    pub at_us: u64,
    pub health_changes: u32,
}

/// A request the LB has forwarded to `backend`, or holds in its leaky bucket ([`HELD`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub req: ClientRequest<Op>,
    pub backend: u32,
}

/// The backend of a job the leaky bucket holds.
pub const HELD: u32 = u32::MAX;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LbState {
    /// Requests forwarded and not yet answered, and those held by the leaky bucket.
    pub jobs: SmallMap<u64, Job>,
    /// Durable, so job ids stay unique across an LB restart.
    pub next_job: u64,
    pub load: Vec<u32>,
    pub cursor: Cursor,
    /// Readiness, per backend.
    pub health: Vec<Health>,
    /// Liveness, per backend (`healthy`: alive).
    pub live: Vec<Health>,
    pub breakers: Vec<Breaker>,
    pub last_route: Option<Route>,
    pub limiter: Option<Limiter>,
    pub rate_limited: u64,
    /// The last [`SAMPLES_MAX`] seconds' samples, oldest first.
    pub samples: VecDeque<Sample>,
    pub forwarded: u64,
    pub fast_failed: u64,
    pub upstream_timeouts: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendJob {
    pub job: u64,
    pub work_us: u64,
    pub fail_draw: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackendState {
    pub in_service: Vec<BackendJob>,
    pub queue: VecDeque<BackendJob>,
    pub slow: bool,
    pub failing: bool,
    pub draining: bool,
    /// Stuck: it answers no request and no probe, and finishes nothing, until restarted.
    pub hung: bool,
    /// Restarting after the LB's liveness restart: it answers nothing until it is up.
    pub restarting: bool,
    pub restarts: u32,
    pub served: u64,
    pub refused: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeState {
    Lb(Box<LbState>),
    Backend(BackendState),
}

impl NodeState {
    pub fn lb(&self) -> Option<&LbState> {
        match self {
            NodeState::Lb(s) => Some(s),
            NodeState::Backend(_) => None,
        }
    }
    pub fn backend(&self) -> Option<&BackendState> {
        match self {
            NodeState::Backend(s) => Some(s),
            NodeState::Lb(_) => None,
        }
    }
}

fn fixed(us: u64) -> (Duration, Duration) {
    (Duration(us), Duration(us))
}

impl Resilience {
    /// The backends a request may go to now.
    fn pool(&self, lb: &LbState) -> Vec<u32> {
        (0..self.backends)
            .filter(|b| {
                self.health.is_none()
                    || self.mistake == Mistake::IgnoreHealth
                    || lb.health[*b as usize].healthy
            })
            .collect()
    }

    /// Whether client `c`'s breaker lets a request through now (and counts it if half-open).
    fn admit(&self, b: &mut Breaker, now_us: u64) -> bool {
        let Some(cfg) = self.breaker else {
            return true;
        };
        if b.state == BreakerState::Open {
            let over = now_us >= b.opened_us.saturating_add(cfg.cool_down_us);
            if !over && self.mistake != Mistake::NoCoolDown {
                return false;
            }
            b.state = BreakerState::HalfOpen;
            b.probes_out = 0;
            b.probes_ok = 0;
        }
        match b.state {
            BreakerState::HalfOpen if b.probes_out >= cfg.probes => false,
            BreakerState::HalfOpen => {
                b.probes_out += 1;
                true
            }
            _ => true,
        }
    }

    fn record(&self, b: &mut Breaker, ok: bool, now_us: u64, out: &mut Out<Self>) {
        let Some(cfg) = self.breaker else {
            return;
        };
        let open = |b: &mut Breaker| {
            b.state = BreakerState::Open;
            b.opened_us = now_us;
            b.opened += 1;
        };
        match (b.state, ok) {
            (BreakerState::Closed, true) => b.failures = 0,
            (BreakerState::Closed, false) => {
                b.failures += 1;
                if b.failures >= cfg.failures {
                    open(b);
                    out.note("a breaker opened");
                }
            }
            (BreakerState::HalfOpen, false) => open(b),
            (BreakerState::HalfOpen, true) => {
                b.probes_ok += 1;
                if b.probes_ok >= cfg.probes {
                    b.state = BreakerState::Closed;
                    b.failures = 0;
                    out.note("a breaker closed");
                }
            }
            (BreakerState::Open, _) => {}
        }
    }

    fn lb_request(&self, lb: &mut LbState, ctx: &Ctx, req: ClientRequest<Op>, out: &mut Out<Self>) {
        let client = req.client.saturating_sub(ctx.n);
        let now_us = ctx.now.0;
        if lb.breakers.len() <= client as usize {
            lb.breakers.resize(client as usize + 1, Breaker::default());
        }
        if !self.admit(&mut lb.breakers[client as usize], now_us) {
            lb.fast_failed += 1;
            out.reply(&req, Reply::Err(Why::BreakerOpen));
            return;
        }
        match lb.limiter.as_mut().map(|l| l.offer(now_us)) {
            Some(None) => {
                lb.rate_limited += 1;
                self.unprobe(lb, client);
                out.reply(&req, Reply::Err(Why::RateLimited));
            }
            Some(Some(at_us)) if at_us > now_us => {
                let job = lb.next_job;
                lb.next_job += 1;
                let (lo, hi) = fixed(at_us - now_us);
                out.set_timer(Timer::Release { job }, lo, hi);
                lb.jobs.insert(job, Job { req, backend: HELD });
            }
            _ => self.route(lb, ctx, req, out),
        }
    }

    /// A half-open breaker's probe that never reached a backend gives its slot back (else the
    /// breaker would wait for ever on an answer that cannot come).
    fn unprobe(&self, lb: &mut LbState, client: u32) {
        if let Some(b) = lb.breakers.get_mut(client as usize) {
            if b.state == BreakerState::HalfOpen {
                b.probes_out = b.probes_out.saturating_sub(1);
            }
        }
    }

    /// Picks a backend for an admitted request and forwards it.
    fn route(&self, lb: &mut LbState, ctx: &Ctx, req: ClientRequest<Op>, out: &mut Out<Self>) {
        let client = req.client.saturating_sub(ctx.n);
        let now_us = ctx.now.0;
        let pool = self.pool(lb);
        let draw = mix(req.op.salt ^ req.request_id.rotate_left(32));
        let choice = Choice {
            pool: &pool,
            load: &lb.load,
            weights: &self.weights,
            client: req.client as u64,
            draw,
        };
        let picked = pick(self.algorithm, &mut lb.cursor, &choice);
        let full = |b: u32| self.bulkhead > 0 && lb.load[b as usize] >= self.bulkhead;
        let backend = match picked {
            Some(b) if !full(b) => b,
            _ => {
                let why = picked.map_or(Why::NoBackend, |_| Why::Bulkhead);
                lb.fast_failed += 1;
                self.unprobe(lb, client);
                out.reply(&req, Reply::Err(why));
                return;
            }
        };
        let job = lb.next_job;
        lb.next_job += 1;
        lb.load[backend as usize] += 1;
        lb.forwarded += 1;
        lb.last_route = Some(Route {
            backend,
            client,
            at_us: now_us,
            health_changes: lb.health[backend as usize].changes,
        });
        out.send(
            backend + 1,
            Msg::Forward {
                job,
                work_us: req.op.work_us,
                fail_draw: mix(draw),
            },
        );
        let (lo, hi) = fixed(self.upstream_timeout_us);
        out.set_timer(Timer::Upstream { job }, lo, hi);
        lb.jobs.insert(job, Job { req, backend });
    }

    /// Job `job` ended: answered by its backend (`Some(ok)`) or given up on (`None`).
    fn lb_finish(
        &self,
        lb: &mut LbState,
        ctx: &Ctx,
        job: u64,
        ok: Option<bool>,
        out: &mut Out<Self>,
    ) {
        // A held job has no backend to answer for it.
        if lb.jobs.get(&job).is_none_or(|j| j.backend == HELD) {
            return;
        }
        let Some(j) = lb.jobs.remove(&job) else {
            return;
        };
        lb.load[j.backend as usize] = lb.load[j.backend as usize].saturating_sub(1);
        let client = j.req.client.saturating_sub(ctx.n) as usize;
        let good = ok == Some(true);
        if let Some(b) = lb.breakers.get_mut(client) {
            self.record(b, good, ctx.now.0, out);
        }
        let reply = match ok {
            Some(true) => Reply::Ok(j.req.op.id),
            Some(false) => Reply::Err(Why::Backend),
            // The client's own timeout (as long, and started earlier) has fired: its retry
            // policy decides what comes next, and an answer now would end the operation.
            None => {
                lb.upstream_timeouts += 1;
                return;
            }
        };
        out.cancel_timer(Timer::Upstream { job });
        out.reply(&j.req, reply);
    }

    /// A probe's interval and timeout, if that probe is on.
    fn probe_times(&self, live: bool) -> Option<(u64, u64)> {
        match live {
            false => self.health.map(|c| (c.every_us, c.timeout_us)),
            true => self.liveness.map(|c| (c.every_us, c.timeout_us)),
        }
    }

    fn prober(lb: &mut LbState, live: bool, backend: u32) -> &mut Health {
        let v = if live { &mut lb.live } else { &mut lb.health };
        &mut v[backend as usize]
    }

    fn probe_result(
        &self,
        lb: &mut LbState,
        backend: u32,
        live: bool,
        ok: bool,
        ctx: &Ctx,
        out: &mut Out<Self>,
    ) {
        if live {
            return self.live_result(lb, backend, ok, ctx.now.0, out);
        }
        let Some(cfg) = self.health else {
            return;
        };
        let h = &mut lb.health[backend as usize];
        h.awaiting = None;
        if ok {
            h.oks += 1;
            h.fails = 0;
            if !h.healthy && h.oks >= cfg.healthy_after {
                h.healthy = true;
                h.changes += 1;
                out.note(format!("B{} rejoins the pool", backend + 1));
            }
        } else {
            h.fails += 1;
            h.oks = 0;
            if h.healthy && h.fails >= cfg.unhealthy_after {
                h.healthy = false;
                h.changes += 1;
                out.note(format!("B{} leaves the pool", backend + 1));
            }
        }
    }

    /// A liveness probe's result: `failures` in a row restart the backend, and its probes
    /// wait until it is up again.
    fn live_result(
        &self,
        lb: &mut LbState,
        backend: u32,
        ok: bool,
        now_us: u64,
        out: &mut Out<Self>,
    ) {
        let Some(cfg) = self.liveness else {
            return;
        };
        let h = &mut lb.live[backend as usize];
        h.awaiting = None;
        if ok {
            h.fails = 0;
            h.healthy = true;
            return;
        }
        h.fails += 1;
        if h.fails < cfg.failures {
            return;
        }
        h.fails = 0;
        h.healthy = false;
        h.restarts += 1;
        h.hold_until_us = now_us.saturating_add(cfg.restart_us);
        out.send(backend + 1, Msg::Restart);
        out.note(format!(
            "B{} fails its liveness probes: restart",
            backend + 1
        ));
    }

    fn lb_timer(&self, lb: &mut LbState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        match timer {
            Timer::Upstream { job } => self.lb_finish(lb, ctx, job, None, out),
            Timer::Release { job } => {
                if let Some(j) = lb.jobs.remove(&job) {
                    self.route(lb, ctx, j.req, out);
                }
            }
            Timer::Probe { backend, live } => {
                let Some((every_us, timeout_us)) = self.probe_times(live) else {
                    return;
                };
                // A probe still unanswered when the next is due has failed.
                if Self::prober(lb, live, backend).awaiting.is_some() {
                    self.probe_result(lb, backend, live, false, ctx, out);
                }
                let h = Self::prober(lb, live, backend);
                if ctx.now.0 >= h.hold_until_us {
                    h.seq += 1;
                    h.awaiting = Some(h.seq);
                    let seq = h.seq;
                    out.send(backend + 1, Msg::Probe { seq, live });
                    let (lo, hi) = fixed(timeout_us);
                    out.set_timer(Timer::ProbeTimeout { backend, seq, live }, lo, hi);
                }
                let (lo, hi) = fixed(every_us);
                out.set_timer(Timer::Probe { backend, live }, lo, hi);
            }
            Timer::ProbeTimeout { backend, seq, live } => {
                if Self::prober(lb, live, backend).awaiting == Some(seq) {
                    self.probe_result(lb, backend, live, false, ctx, out);
                }
            }
            Timer::Sample => {
                let count = |s| lb.breakers.iter().filter(|b| b.state == s).count() as u32;
                let sample = Sample {
                    at_s: ctx.now.0 / 1_000_000,
                    outstanding: lb.jobs.len() as u32,
                    breakers_open: count(BreakerState::Open),
                    breakers_half_open: count(BreakerState::HalfOpen),
                };
                if lb.samples.len() >= SAMPLES_MAX {
                    lb.samples.pop_front();
                }
                lb.samples.push_back(sample);
                let (lo, hi) = fixed(1_000_000);
                out.set_timer(Timer::Sample, lo, hi);
            }
            Timer::Work { .. } | Timer::Restarted => {}
        }
    }

    fn lb_message(&self, lb: &mut LbState, ctx: &Ctx, from: NodeId, msg: Msg, out: &mut Out<Self>) {
        let backend = from.wrapping_sub(1);
        match msg {
            Msg::Done { job, ok } => self.lb_finish(lb, ctx, job, Some(ok), out),
            Msg::ProbeAck { seq, live, ok }
                if backend < self.backends
                    && Self::prober(lb, live, backend).awaiting == Some(seq) =>
            {
                out.cancel_timer(Timer::ProbeTimeout { backend, seq, live });
                self.probe_result(lb, backend, live, ok, ctx, out);
            }
            _ => {}
        }
    }

    fn start_work(&self, st: &mut BackendState, j: BackendJob, out: &mut Out<Self>) {
        let factor = if st.slow { SLOW_FACTOR } else { 1 };
        let (lo, hi) = fixed(j.work_us.saturating_mul(factor));
        out.set_timer(Timer::Work { job: j.job }, lo, hi);
        st.in_service.push(j);
    }

    fn backend_message(&self, st: &mut BackendState, from: NodeId, msg: Msg, out: &mut Out<Self>) {
        if msg == Msg::Restart {
            return self.restart(st, out);
        }
        // A stuck process, or one still starting, answers nothing.
        if st.hung || st.restarting {
            return;
        }
        match msg {
            Msg::Forward {
                job,
                work_us,
                fail_draw,
            } => {
                let j = BackendJob {
                    job,
                    work_us,
                    fail_draw,
                };
                if (st.in_service.len() as u32) < self.workers {
                    self.start_work(st, j, out);
                } else if (st.queue.len() as u32) < self.queue_limit {
                    st.queue.push_back(j);
                } else {
                    st.refused += 1;
                    out.send(from, Msg::Done { job, ok: false });
                }
            }
            Msg::Probe { seq, live } => out.send(
                from,
                Msg::ProbeAck {
                    seq,
                    live,
                    ok: live || !st.draining,
                },
            ),
            _ => {}
        }
    }

    /// The LB's liveness restart: the work in hand is lost (the LB's timeouts answer for it),
    /// a stuck process is unstuck, and the backend is up again after the restart delay.
    fn restart(&self, st: &mut BackendState, out: &mut Out<Self>) {
        let Some(cfg) = self.liveness.filter(|_| !st.restarting) else {
            return;
        };
        st.in_service.clear();
        st.queue.clear();
        (st.hung, st.restarting) = (false, true);
        st.restarts += 1;
        let (lo, hi) = fixed(cfg.restart_us);
        out.set_timer(Timer::Restarted, lo, hi);
        out.note("restarting");
    }

    fn backend_done(&self, st: &mut BackendState, job: u64, out: &mut Out<Self>) {
        let Some(i) = st.in_service.iter().position(|j| j.job == job) else {
            return;
        };
        let j = st.in_service.remove(i);
        let failed = st.failing && j.fail_draw % 1_000_000 < self.fail_ppm as u64;
        st.served += 1;
        out.send(LB, Msg::Done { job, ok: !failed });
        if let Some(next) = st.queue.pop_front() {
            self.start_work(st, next, out);
        }
    }
}

impl Protocol for Resilience {
    type Msg = Msg;
    type Timer = Timer;
    type State = NodeState;
    type Op = Op;
    type Reply = Reply;

    fn init(&self, id: NodeId, _n: u32) -> NodeState {
        if id != LB {
            return NodeState::Backend(BackendState::default());
        }
        let b = self.backends as usize;
        NodeState::Lb(Box::new(LbState {
            load: vec![0; b],
            limiter: self
                .limiter
                .map(|(a, limit, burst)| Limiter::new(a, limit, burst)),
            health: vec![Health::default(); b],
            live: vec![Health::default(); b],
            ..LbState::default()
        }))
    }

    fn on_start(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        if let NodeState::Lb(_) = st {
            let to_next_s = 1_000_000 - ctx.now.0 % 1_000_000;
            let (lo, hi) = fixed(to_next_s);
            out.set_timer(Timer::Sample, lo, hi);
        }
        if let NodeState::Lb(_) = st {
            for live in [false, true] {
                let Some((every_us, _)) = self.probe_times(live) else {
                    continue;
                };
                for backend in 0..self.backends {
                    // Spread the first probes over one interval.
                    let (lo, hi) = (Duration(1), Duration(every_us.max(1)));
                    out.set_timer(Timer::Probe { backend, live }, lo, hi);
                }
            }
        }
    }

    fn on_message(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: NodeId,
        msg: Msg,
        out: &mut Out<Self>,
    ) {
        match st {
            NodeState::Lb(lb) => self.lb_message(lb, ctx, from, msg, out),
            NodeState::Backend(b) => self.backend_message(b, from, msg, out),
        }
    }

    fn on_timer(&self, st: &mut NodeState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        match (st, timer) {
            (NodeState::Backend(b), Timer::Work { job }) => self.backend_done(b, job, out),
            (NodeState::Backend(b), Timer::Restarted) => {
                b.restarting = false;
                out.note("up after its restart");
            }
            (NodeState::Lb(lb), t) => self.lb_timer(lb, ctx, t, out),
            _ => {}
        }
    }

    fn on_client(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        match st {
            NodeState::Lb(lb) => self.lb_request(lb, ctx, req, out),
            // Only the LB takes client requests (the clients send every one there).
            NodeState::Backend(_) => out.reply(&req, Reply::Err(Why::NoBackend)),
        }
    }

    fn on_verb(
        &self,
        st: &mut NodeState,
        _ctx: &Ctx,
        verb: &str,
        _target: Option<NodeId>,
        out: &mut Out<Self>,
    ) {
        let NodeState::Backend(b) = st else {
            return;
        };
        match verb {
            "slow" => b.slow = true,
            "fail" => b.failing = true,
            "drain" => b.draining = true,
            "hang" => {
                b.hung = true;
                b.in_service.clear();
                b.queue.clear();
            }
            "heal" => (b.slow, b.failing, b.draining, b.hung) = (false, false, false, false),
            _ => return,
        }
        out.note(verb.to_string());
    }

    fn client_node(&self, _client: u32, _after_timeout: Option<NodeId>, _n: u32) -> NodeId {
        LB
    }

    fn recover(&self, id: NodeId, n: u32, crashed: &NodeState) -> NodeState {
        let mut st = self.init(id, n);
        if let (NodeState::Lb(fresh), NodeState::Lb(old)) = (&mut st, crashed) {
            fresh.next_job = old.next_job;
            // The monitoring's record, not the LB's memory.
            fresh.samples = old.samples.clone();
        }
        st
    }

    fn classify(&self, reply: &Reply) -> ReplyClass {
        match reply {
            Reply::Ok(_) => ReplyClass::Ok,
            Reply::Err(_) => ReplyClass::Fail,
        }
    }

    fn next_op(&self, client: u32, seq: u64, rng: &mut Rng) -> Option<Op> {
        let work_us = (rng.exponential(self.service_us as f64) as u64).max(1);
        Some(Op {
            id: (client as u64) << 32 | (seq & 0xffff_ffff),
            work_us,
            salt: rng.next_u64(),
        })
    }

    fn parse_op(&self, text: &str) -> Result<Op, String> {
        let t = text.trim();
        let v = t.strip_prefix("req").map(str::trim).unwrap_or(t);
        v.parse()
            .map(|id| Op {
                id,
                work_us: self.service_us.max(1),
                salt: mix(id),
            })
            .map_err(|_| {
                format!(
                    "a resilience operation is 'req N' with a whole number N, not '{}'",
                    t.chars().take(40).collect::<String>()
                )
            })
    }

    fn timer_name(&self, timer: &Timer) -> &'static str {
        match timer {
            Timer::Work { .. } => "work done",
            Timer::Upstream { .. } => "backend timeout",
            Timer::Probe { .. } => "probe",
            Timer::ProbeTimeout { .. } => "probe timeout",
            Timer::Restarted => "restarted",
            Timer::Release { .. } => "leaky bucket release",
            Timer::Sample => "sample",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::process::Effect;
    use crate::sim::time::Instant;

    fn proto() -> Resilience {
        Resilience {
            backends: 2,
            algorithm: Algorithm::RoundRobin,
            weights: Vec::new(),
            workers: 1,
            queue_limit: 1,
            service_us: 10_000,
            fail_ppm: 1_000_000,
            upstream_timeout_us: 100_000,
            health: Some(HealthConfig {
                every_us: 100_000,
                timeout_us: 50_000,
                unhealthy_after: 2,
                healthy_after: 2,
            }),
            liveness: Some(LivenessConfig {
                every_us: 100_000,
                timeout_us: 50_000,
                failures: 3,
                restart_us: 500_000,
            }),
            breaker: Some(BreakerConfig {
                failures: 2,
                cool_down_us: 1_000_000,
                probes: 1,
            }),
            limiter: None,
            bulkhead: 0,
            mistake: Mistake::None,
        }
    }

    fn ctx(id: NodeId, now_us: u64) -> Ctx {
        Ctx {
            id,
            n: 3,
            now: Instant(now_us),
        }
    }

    fn req(id: u64) -> ClientRequest<Op> {
        ClientRequest {
            client: 3,
            request_id: id,
            key: id,
            op: Op {
                id,
                work_us: 10_000,
                salt: id,
            },
        }
    }

    fn lb(st: &mut NodeState) -> &mut LbState {
        match st {
            NodeState::Lb(lb) => lb,
            NodeState::Backend(_) => unreachable!("node 0 is the LB"),
        }
    }

    fn replies(out: &Out<Resilience>) -> Vec<Reply> {
        out.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { reply, .. } => Some(reply.clone()),
                _ => None,
            })
            .collect()
    }

    // Two failures in a row open the client's breaker; while it cools down its requests fail
    // at once and nothing is sent; after the cool-down one probe goes through, and its success
    // closes the breaker.
    #[test]
    fn a_breaker_opens_on_failures_fails_fast_then_probes_and_closes() {
        let p = proto();
        let mut st = p.init(LB, 3);
        let mut out = Out::default();
        for (k, t) in [(1, 0), (2, 10)] {
            p.on_client(&mut st, &ctx(0, t), req(k), &mut out);
            let job = k - 1;
            p.on_message(
                &mut st,
                &ctx(0, t + 5),
                1,
                Msg::Done { job, ok: false },
                &mut out,
            );
        }
        assert_eq!(lb(&mut st).breakers[0].state, BreakerState::Open);
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(0, 500_000), req(3), &mut out);
        assert_eq!(replies(&out), [Reply::Err(Why::BreakerOpen)]);
        assert!(!out.effects.iter().any(|e| matches!(e, Effect::Send { .. })));
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(0, 1_000_100), req(4), &mut out);
        assert!(out.effects.iter().any(|e| matches!(e, Effect::Send { .. })));
        assert_eq!(lb(&mut st).breakers[0].state, BreakerState::HalfOpen);
        let job = lb(&mut st).next_job - 1;
        p.on_message(
            &mut st,
            &ctx(0, 1_000_020),
            1,
            Msg::Done { job, ok: true },
            &mut out,
        );
        assert_eq!(lb(&mut st).breakers[0].state, BreakerState::Closed);
    }

    // Two probes unanswered take a backend out of the pool, and the LB then sends every
    // request to the other one.
    #[test]
    fn unanswered_probes_take_a_backend_out_of_the_pool() {
        let p = proto();
        let mut st = p.init(LB, 3);
        let mut out = Out::default();
        for (seq, t) in [(1, 0), (2, 100_000)] {
            let probe = Timer::Probe {
                backend: 0,
                live: false,
            };
            p.on_timer(&mut st, &ctx(0, t), probe, &mut out);
            let timeout = Timer::ProbeTimeout {
                backend: 0,
                seq,
                live: false,
            };
            p.on_timer(&mut st, &ctx(0, t + 50_000), timeout, &mut out);
        }
        assert!(!lb(&mut st).health[0].healthy);
        for k in 0..4 {
            let mut out = Out::default();
            p.on_client(&mut st, &ctx(0, 200_000 + k), req(k), &mut out);
            let to: Vec<NodeId> = out
                .effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Send { to, .. } => Some(*to),
                    _ => None,
                })
                .collect();
            assert_eq!(to, [2], "only B2 is in the pool");
        }
    }

    // A half-open breaker whose probe finds no backend in the pool gives the probe's slot
    // back, so the next request after the pool recovers still probes (it once stayed
    // half-open for ever, failing everything).
    #[test]
    fn a_probe_that_finds_no_backend_does_not_wedge_a_half_open_breaker() {
        let p = proto();
        let mut st = p.init(LB, 3);
        let b = &mut lb(&mut st).breakers;
        b.resize(1, Breaker::default());
        b[0].state = BreakerState::HalfOpen;
        for h in lb(&mut st).health.iter_mut() {
            h.healthy = false;
        }
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(0, 10), req(1), &mut out);
        assert_eq!(replies(&out), [Reply::Err(Why::NoBackend)]);
        lb(&mut st).health[0].healthy = true;
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(0, 20), req(2), &mut out);
        assert!(out
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Send { to: 1, .. })));
    }

    // Three liveness probes unanswered in a row restart the backend, once; its liveness
    // probes then wait out the restart delay, and readiness is left alone (B1 stays in the
    // pool: one failed readiness probe is not two).
    #[test]
    fn failed_liveness_probes_restart_a_backend_and_hold_its_probes() {
        let p = proto();
        let mut st = p.init(LB, 3);
        let mut restarts = 0;
        for (seq, t) in [(1, 0), (2, 100_000), (3, 200_000)] {
            let mut out = Out::default();
            let probe = Timer::Probe {
                backend: 0,
                live: true,
            };
            p.on_timer(&mut st, &ctx(0, t), probe, &mut out);
            let timeout = Timer::ProbeTimeout {
                backend: 0,
                seq,
                live: true,
            };
            p.on_timer(&mut st, &ctx(0, t + 50_000), timeout, &mut out);
            restarts += out.sends().contains(&(1, Msg::Restart)) as u32;
            assert_eq!(
                restarts,
                (seq == 3) as u32,
                "restart after the third failure"
            );
        }
        let mut out = Out::default();
        let probe = Timer::Probe {
            backend: 0,
            live: true,
        };
        p.on_timer(&mut st, &ctx(0, 300_000), probe, &mut out);
        assert_eq!(
            out.sends(),
            [],
            "no liveness probe during the restart delay"
        );
        assert_eq!(lb(&mut st).live[0].restarts, 1);
        assert!(lb(&mut st).health[0].healthy);
    }

    // A hung backend answers neither probe and drops its work; a draining one is alive but
    // not ready; the restart unsticks the hung one, which answers again once it is up.
    #[test]
    fn a_hung_backend_answers_nothing_until_its_restart_and_a_draining_one_is_alive() {
        let p = proto();
        let probes = |st: &mut NodeState| {
            let mut out = Out::default();
            for live in [false, true] {
                p.on_message(st, &ctx(1, 0), LB, Msg::Probe { seq: 1, live }, &mut out);
            }
            out.sends()
                .into_iter()
                .map(|(_, m)| match m {
                    Msg::ProbeAck { ok, .. } => ok,
                    _ => unreachable!("a backend answers a probe with its ack"),
                })
                .collect::<Vec<bool>>()
        };
        let mut st = p.init(1, 3);
        let mut out = Out::default();
        p.on_verb(&mut st, &ctx(1, 0), "drain", None, &mut out);
        assert_eq!(probes(&mut st), [false, true], "draining: not ready, alive");
        p.on_verb(&mut st, &ctx(1, 0), "heal", None, &mut out);
        let fwd = Msg::Forward {
            job: 0,
            work_us: 10,
            fail_draw: 0,
        };
        p.on_message(&mut st, &ctx(1, 0), LB, fwd.clone(), &mut out);
        p.on_verb(&mut st, &ctx(1, 0), "hang", None, &mut out);
        assert_eq!(st.backend().unwrap().in_service.len(), 0);
        assert_eq!(probes(&mut st), Vec::<bool>::new(), "hung: no answer");
        p.on_message(&mut st, &ctx(1, 0), LB, Msg::Restart, &mut out);
        assert_eq!(probes(&mut st), Vec::<bool>::new(), "restarting: no answer");
        p.on_timer(&mut st, &ctx(1, 500_000), Timer::Restarted, &mut out);
        assert_eq!(probes(&mut st), [true, true], "up again");
        assert_eq!(st.backend().unwrap().restarts, 1);
    }

    // A backend serves `workers` at once, queues `queue_limit` more and refuses the next.
    #[test]
    fn a_full_backend_refuses_at_once() {
        let p = proto();
        let mut st = p.init(1, 3);
        let mut out = Out::default();
        for job in 0..3 {
            let fwd = Msg::Forward {
                job,
                work_us: 10,
                fail_draw: 0,
            };
            p.on_message(&mut st, &ctx(1, 0), LB, fwd, &mut out);
        }
        let b = st.backend().unwrap();
        assert_eq!((b.in_service.len(), b.queue.len(), b.refused), (1, 1, 1));
        assert!(out.effects.contains(&Effect::Send {
            to: LB,
            msg: Msg::Done { job: 2, ok: false }
        }));
    }
}
