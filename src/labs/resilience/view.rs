//! How the resilience lab looks: the shared topology (the LB, its backends, the clients), the
//! figures a service owner watches over the last second, the breakers, and a chart of
//! offered load, goodput and errors per second up to the cursor.

use super::protocol::{Breaker, BreakerState, Resilience, Sample, LB};
use crate::labs::{Lab, LabProtocol, Metric, StageArea, StageSpec};
use crate::sim::time::fixed;
use crate::sim::trace::OutcomeKind;
use crate::sim::world::World;
use crate::viz::chart::{AxisScale, Chart, Series, SeriesStyle};
use crate::viz::colors::{NEUTRAL, PALETTE};
use crate::viz::scene::{Align, Pt, Shape};
use crate::viz::{Cell, NodeView, Panel};

pub static STAGES: &[StageSpec] = &[StageSpec {
    id: "breakers",
    title: "Breakers",
    help: "each client's circuit breaker as its state machine: closed, open, half-open",
    beside: false,
}];

/// A breaker state's colour (the breaker panel's: open in the alert colour, half-open in
/// orange).
pub const CLOSED_COLOUR: &str = PALETTE[2];
pub const OPEN_COLOUR: &str = PALETTE[5];
pub const HALF_OPEN_COLOUR: &str = PALETTE[1];
const INK: &str = "#1f2328";

/// Role classes (the legend's).
pub const CLASS_LB: u8 = 1;
pub const CLASS_BACKEND: u8 = 2;
pub const CLASS_DEGRADED: u8 = 3;
pub const CLASS_OUT: u8 = 4;
pub const CLASS_RESTARTING: u8 = 5;

/// Client operations over a span of virtual time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    /// Operations called in the span.
    pub offered: u64,
    /// Completed in the span: successfully, failed, with unknown outcome (timed out).
    pub ok: u64,
    pub failed: u64,
    pub unknown: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The figures of operations called, and completed, in `[from_us, to_us)`.
pub fn figures(w: &World<Resilience>, from_us: u64, to_us: u64) -> Figures {
    let mut f = Figures::default();
    let mut lat: Vec<u64> = Vec::new();
    let span = from_us..to_us;
    for h in w.history().iter() {
        f.offered += span.contains(&h.invoke_us) as u64;
        let Some(t) = h.complete_us.filter(|t| span.contains(t)) else {
            continue;
        };
        match h.outcome {
            Some(OutcomeKind::Ok) => {
                f.ok += 1;
                lat.push(t - h.invoke_us);
            }
            Some(OutcomeKind::Fail) => f.failed += 1,
            _ => f.unknown += 1,
        }
    }
    crate::sim::order::sort_by_key(&mut lat, |x| *x);
    let q = |p: f64| match lat.len() {
        0 => 0.0,
        n => lat[((n as f64 * p) as usize).min(n - 1)] as f64 / 1e3,
    };
    (f.p50_ms, f.p99_ms) = (q(0.5), q(0.99));
    f
}

fn last_second(w: &World<Resilience>) -> Figures {
    let now = w.now().0;
    figures(w, now.saturating_sub(1_000_000), now + 1)
}

fn breaker_counts(w: &World<Resilience>) -> (usize, usize) {
    let Some(lb) = w.state(LB).lb() else {
        return (0, 0);
    };
    let count = |s| lb.breakers.iter().filter(|b| b.state == s).count();
    (count(BreakerState::Open), count(BreakerState::HalfOpen))
}

impl LabProtocol for Resilience {
    fn lab() -> &'static Lab {
        &super::LAB
    }

    fn properties(&self) -> Vec<crate::sim::Property<Self>> {
        super::properties::all(self)
    }

    fn node_view(&self, w: &World<Self>, id: u32) -> NodeView {
        let up = w.is_up(id);
        let lb = w.state(LB).lb();
        let (label, role, class, lines) = match (w.state(id).backend(), lb) {
            (None, _) => {
                let pool = lb.map_or(0, |lb| lb.health.iter().filter(|h| h.healthy).count());
                let (open, half) = breaker_counts(w);
                let lines = vec![
                    format!("pool: {pool} of {} backends", self.backends),
                    format!("{} requests at backends", lb.map_or(0, |lb| lb.jobs.len())),
                    format!("breakers: {open} open, {half} half-open"),
                ];
                ("LB".to_string(), "balancer", CLASS_LB, lines)
            }
            (Some(b), lb) => {
                let i = id as usize - 1;
                let ready = lb.and_then(|lb| lb.health.get(i));
                let live = lb.and_then(|lb| lb.live.get(i));
                let healthy = self.health.is_none() || ready.is_none_or(|h| h.healthy);
                let (role, class) = match () {
                    _ if b.restarting => ("restarting", CLASS_RESTARTING),
                    _ if !healthy => ("out of the pool", CLASS_OUT),
                    _ if b.hung => ("hung", CLASS_DEGRADED),
                    _ if b.slow => ("slow", CLASS_DEGRADED),
                    _ if b.failing => ("failing", CLASS_DEGRADED),
                    _ if b.draining => ("draining", CLASS_DEGRADED),
                    _ => ("backend", CLASS_BACKEND),
                };
                let mut lines = vec![
                    format!("working on {} of {}", b.in_service.len(), self.workers),
                    format!("{} waiting (limit {})", b.queue.len(), self.queue_limit),
                    format!("{} served, {} refused", b.served, b.refused),
                ];
                if let Some(h) = ready.filter(|_| self.health.is_some()) {
                    let (verdict, run) = match h.healthy {
                        true => ("ready", format!("{} failed in a row", h.fails)),
                        false => ("not ready", format!("{} good in a row", h.oks)),
                    };
                    lines.push(format!("readiness: {verdict}, {run}"));
                }
                if let Some(h) = live.filter(|_| self.liveness.is_some()) {
                    lines.push(format!(
                        "liveness: {} failed in a row, {} restarts",
                        h.fails, h.restarts
                    ));
                }
                (format!("B{id}"), role, class, lines)
            }
        };
        NodeView {
            id,
            label,
            role: if up { role.into() } else { "crashed".into() },
            role_class: if up { class } else { 0 },
            lines,
            timer_fraction: None,
            up,
        }
    }

    fn metrics(&self, w: &World<Self>) -> Vec<Metric> {
        let f = last_second(w);
        let (open, half) = breaker_counts(w);
        let healthy = w
            .state(LB)
            .lb()
            .map_or(0, |lb| lb.health.iter().filter(|h| h.healthy).count());
        let restarts: u32 = w
            .state(LB)
            .lb()
            .map_or(0, |lb| lb.live.iter().map(|h| h.restarts).sum());
        vec![
            Metric::new(
                "offered_per_s",
                "operations called in the last second",
                f.offered as f64,
            ),
            Metric::new(
                "goodput_per_s",
                "operations succeeded in the last second",
                f.ok as f64,
            ),
            Metric::new(
                "errors_per_s",
                "operations failed in the last second",
                f.failed as f64,
            ),
            Metric::new(
                "timeouts_per_s",
                "operations timed out in the last second",
                f.unknown as f64,
            ),
            Metric::new(
                "latency_ms_p50",
                "median latency of the last second's successes (ms)",
                f.p50_ms,
            ),
            Metric::new(
                "latency_ms_p99",
                "99th percentile of the last second's successes (ms)",
                f.p99_ms,
            ),
            Metric::new("breakers_open", "client breakers open", open as f64),
            Metric::new(
                "breakers_half_open",
                "client breakers half-open",
                half as f64,
            ),
            Metric::new("backends_healthy", "backends in the pool", healthy as f64),
            Metric::new(
                "liveness_restarts",
                "restarts the liveness probes ordered",
                restarts as f64,
            ),
        ]
    }

    fn panels(&self, w: &World<Self>) -> Vec<Panel> {
        let f = last_second(w);
        let row = |k: &str, v: String| {
            vec![
                Cell {
                    text: k.into(),
                    style: 0,
                },
                Cell { text: v, style: 0 },
            ]
        };
        let rows = vec![
            row("offered", format!("{}/s", f.offered)),
            row("goodput", format!("{}/s", f.ok)),
            row("errors", format!("{}/s", f.failed)),
            row("timed out", format!("{}/s", f.unknown)),
            row("p50 latency", format!("{} ms", fixed(f.p50_ms, 1))),
            row("p99 latency", format!("{} ms", fixed(f.p99_ms, 1))),
            row("retries (whole run)", w.client_retries().to_string()),
            row(
                "rate-limited (whole run)",
                w.state(LB).lb().map_or(0, |lb| lb.rate_limited).to_string(),
            ),
        ];
        let mut panels = vec![Panel {
            title: "The last second".into(),
            columns: vec!["figure".into(), "value".into()],
            rows,
            caption: "Client operations called or ended in the second before the cursor.".into(),
        }];
        if let (Some(lb), true) = (w.state(LB).lb(), self.breaker.is_some()) {
            let rows = lb
                .breakers
                .iter()
                .enumerate()
                .map(|(c, b)| {
                    let (state, style) = match b.state {
                        BreakerState::Closed => ("closed", 0),
                        BreakerState::Open => ("open", 5),
                        BreakerState::HalfOpen => ("half-open", 1),
                    };
                    vec![
                        Cell {
                            text: format!("C{c}"),
                            style: 0,
                        },
                        Cell {
                            text: state.into(),
                            style,
                        },
                        Cell {
                            text: b.failures.to_string(),
                            style: 0,
                        },
                        Cell {
                            text: b.opened.to_string(),
                            style: 0,
                        },
                    ]
                })
                .collect();
            panels.push(Panel {
                title: "Circuit breakers".into(),
                columns: vec!["client".into(), "state".into(), "failures in a row".into(), "times opened".into()],
                rows,
                caption: "Open: the client's requests fail at once until the cool-down ends; half-open: a few probe requests decide.".into(),
            });
        }
        panels
    }

    fn charts(&self, w: &World<Self>) -> Vec<Chart> {
        charts(w)
    }

    fn stage(&self, w: &World<Self>, _ix: usize, area: &StageArea) -> Vec<Shape> {
        breaker_stage(w, area)
    }

    fn op_text(&self, op: &super::protocol::Op) -> String {
        format!("req {}", op.id)
    }
}

/// The charts over the last minute, per second up to the cursor: rate and errors, latency,
/// and what the LB sees inside the tier.
fn charts(w: &World<Resilience>) -> Vec<Chart> {
    let now = w.now().0;
    let secs = now / 1_000_000 + 1;
    let first = secs.saturating_sub(60);
    let n = (secs - first) as usize;
    // Per second: called, succeeded, failed or timed out, retries; the successes' latencies.
    let mut rows = vec![[0u64; 4]; n];
    let mut lat: Vec<Vec<u64>> = vec![Vec::new(); n];
    let bucket = |t: u64| (t / 1_000_000).checked_sub(first).map(|i| i as usize);
    for h in w.history().iter() {
        if let Some(r) = bucket(h.invoke_us).and_then(|i| rows.get_mut(i)) {
            r[0] += 1;
            r[3] += h.attempts.saturating_sub(1) as u64;
        }
        let Some(t) = h.complete_us else { continue };
        let Some(i) = bucket(t).filter(|i| *i < n) else {
            continue;
        };
        if h.outcome == Some(OutcomeKind::Ok) {
            rows[i][1] += 1;
            lat[i].push(t - h.invoke_us);
        } else {
            rows[i][2] += 1;
        }
    }
    let x = |i: usize| (first + i as u64) as f64;
    let line = |name: &str, colour: u8, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        style: SeriesStyle::Steps,
        points,
        reference: false,
        colour: Some(colour),
    };
    let col = |k: usize| {
        rows.iter()
            .enumerate()
            .map(|(i, r)| (x(i), r[k] as f64))
            .collect()
    };
    let rate = [
        ("offered", 4),
        ("goodput", 0),
        ("errors and timeouts", 5),
        ("retries", 1),
    ]
    .iter()
    .enumerate()
    .map(|(k, (name, colour))| line(name, *colour, col(k)))
    .collect();
    let mut quantiles = [Vec::new(), Vec::new()];
    for (i, l) in lat.iter_mut().enumerate().filter(|(_, l)| !l.is_empty()) {
        crate::sim::order::sort_by_key(l, |v| *v);
        for (k, p) in [0.5, 0.99].iter().enumerate() {
            let v = l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
            quantiles[k].push((x(i), v as f64 / 1e3));
        }
    }
    let [p50, p99] = quantiles;
    let samples: Vec<Sample> = w.state(LB).lb().map_or(Vec::new(), |lb| {
        lb.samples
            .iter()
            .filter(|s| s.at_s >= first)
            .copied()
            .collect()
    });
    let inside = |f: fn(&Sample) -> u32| -> Vec<(f64, f64)> {
        samples
            .iter()
            .map(|s| (s.at_s as f64, f(s) as f64))
            .collect()
    };
    let cursor = Some(now as f64 / 1e6);
    let chart = |title: &str, y: &str, series: Vec<Series>, caption: &str| Chart {
        title: title.into(),
        x_label: "virtual time (s)".into(),
        y_label: y.into(),
        x_scale: AxisScale::Linear,
        y_scale: AxisScale::Linear,
        series,
        caption: caption.into(),
        cursor_x: cursor,
    };
    vec![
        chart(
            "Rate, errors",
            "operations per second",
            rate,
            "Each second's operations called (offered), succeeded (goodput), failed or timed out, and the retries of those called.",
        ),
        chart(
            "Duration",
            "latency (ms)",
            vec![line("p50", 0, p50), line("p99", 5, p99)],
            "The median and 99th percentile latency of each second's successes.",
        ),
        chart(
            "Inside the tier",
            "count",
            vec![
                line("requests at backends", 4, inside(|s| s.outstanding)),
                line("breakers open", 5, inside(|s| s.breakers_open)),
                line("breakers half-open", 1, inside(|s| s.breakers_half_open)),
            ],
            "What the LB sees at each second: requests it has outstanding, and its clients' breakers.",
        ),
    ]
}

/// Where a breaker's three states sit in its cell of 160 by 100 (before scaling): closed at
/// the left, open at the right, half-open above between them.
const STATES: [(BreakerState, f64, f64, &str); 3] = [
    (BreakerState::Closed, 30.0, 68.0, "closed"),
    (BreakerState::Open, 130.0, 68.0, "open"),
    (BreakerState::HalfOpen, 80.0, 30.0, "half-open"),
];

/// The transitions, from and to (indices into [`STATES`]), and an offset across the line so
/// the two between open and half-open do not overlap.
const EDGES: [(usize, usize, f64); 4] = [(0, 1, 0.0), (1, 2, -4.0), (2, 1, 4.0), (2, 0, 0.0)];

/// The "Breakers" stage: one small state machine per client, its current state filled; an
/// open breaker's cool-down runs round its circle, a closed one counts its failures in a row.
pub fn breaker_stage(w: &World<Resilience>, area: &StageArea) -> Vec<Shape> {
    let st = area.style;
    let note = |text: &str| {
        let at = Pt::new(area.w / 2.0, area.h / 2.0);
        vec![Shape::text(
            at,
            text.into(),
            NEUTRAL,
            st.font(14.0),
            Align::Center,
            false,
        )]
    };
    let (Some(cfg), Some(lb)) = (w.proto.breaker, w.state(LB).lb()) else {
        return note("Circuit breakers are off: breaker=1 turns them on");
    };
    if lb.breakers.is_empty() {
        return note("No client has sent a request yet");
    }
    let n = lb.breakers.len().max(1);
    // The most columns whose cells, 1.6 times as wide as high, fill the area best.
    let (mut cols, mut k) = (1, 0.0);
    for c in 1..=n {
        let rows = n.div_ceil(c);
        let fit = (area.w / (c as f64 * 160.0)).min(area.h / (rows as f64 * 100.0));
        if fit > k {
            (cols, k) = (c, fit);
        }
    }
    let mut out = Vec::new();
    let now_us = w.now().0;
    for (c, b) in lb.breakers.iter().enumerate() {
        let origin = Pt::new((c % cols) as f64 * 160.0 * k, (c / cols) as f64 * 100.0 * k);
        let at = |x: f64, y: f64| Pt::new(origin.x + x * k, origin.y + y * k);
        let r = 13.0 * k;
        for (from, to, off) in EDGES {
            let (a, z) = (STATES[from], STATES[to]);
            let (dx, dy) = (z.1 - a.1, z.2 - a.2);
            let len = libm::sqrt(dx * dx + dy * dy).max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let (ox, oy) = (-uy * off, ux * off);
            let gap = 15.0;
            out.push(Shape::Arrow {
                a: at(a.1 + ux * gap + ox, a.2 + uy * gap + oy),
                b: at(z.1 - ux * gap + ox, z.2 - uy * gap + oy),
                color: NEUTRAL,
                width: st.line(1.0),
                head: 5.0 * k,
            });
        }
        for (state, x, y, name) in STATES {
            let colour = state_colour(state);
            let on = b.state == state;
            out.push(Shape::Circle {
                c: at(x, y),
                r,
                fill: on.then_some(colour),
                stroke: Some(colour),
                width: st.line(if on { 2.0 } else { 1.0 }),
                dash: false,
            });
            let label = Shape::text(
                at(x, y + 22.0),
                name.into(),
                INK,
                9.0 * k,
                Align::Center,
                on,
            );
            out.push(label);
        }
        out.push(Shape::text(
            at(6.0, 10.0),
            format!("C{c}"),
            INK,
            11.0 * k,
            Align::Left,
            true,
        ));
        out.push(Shape::text(
            at(154.0, 10.0),
            breaker_line(b, cfg.failures, cfg.probes),
            INK,
            9.0 * k,
            Align::Right,
            false,
        ));
        if b.state == BreakerState::Open {
            let done = now_us.saturating_sub(b.opened_us) as f64 / cfg.cool_down_us.max(1) as f64;
            out.push(Shape::Arc {
                c: at(130.0, 68.0),
                r: r + 3.0 * k,
                start: 0.0,
                sweep: done.clamp(0.0, 1.0) * 2.0 * std::f64::consts::PI,
                color: OPEN_COLOUR,
                width: st.line(2.0),
            });
        }
    }
    out
}

fn state_colour(s: BreakerState) -> &'static str {
    match s {
        BreakerState::Closed => CLOSED_COLOUR,
        BreakerState::Open => OPEN_COLOUR,
        BreakerState::HalfOpen => HALF_OPEN_COLOUR,
    }
}

/// A breaker's counter in its state: failures towards opening, probes towards closing.
fn breaker_line(b: &Breaker, failures: u32, probes: u32) -> String {
    match b.state {
        BreakerState::Closed => format!("{} of {failures} failures", b.failures),
        BreakerState::Open => format!("opened {} times", b.opened),
        BreakerState::HalfOpen => format!("probes {} of {probes} ok", b.probes_ok),
    }
}
