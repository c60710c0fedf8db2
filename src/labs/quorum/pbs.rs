//! The staleness experiment of Bailis et al., "Probabilistically Bounded Staleness for
//! Practical Partial Quorums" (VLDB 2012), run on the lab's own store.
//!
//! Each trial is a run of [`Quorum`] with one key on N nodes, every node a replica. A client
//! writes through a coordinator in a random node; once the write commits (W acknowledgements),
//! one read per chosen t starts t ms later, each through a random coordinator, each an ordinary
//! quorum read of R replies (no read repair, no write-back, so reads do not help each other).
//! A read is consistent when it returns the write. The network draws every message's delay by
//! its kind from the paper's fitted distributions (Table 3): W for the write request (which
//! includes the write), A for its acknowledgement, R for the read request and S for the read
//! response. A coordinator's messages to its own replica take these delays too. In WAN each
//! node is a data centre of its own, and every message between two of them takes 75 ms more.
//!
//! The report: the probability of a consistent read at each t, the t at which it reaches
//! 99.9% (and 90%, 99%), and read and write latency percentiles, beside the paper's curves.

use super::protocol::{Quorum, Reply};
use crate::labs::experiment::{
    report_json, trial_seed, AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle, Trials,
    Values, SEED_PARAM,
};
use crate::labs::{Canonical, ParamKind, ParamSpec};
use crate::sim::net::{Dist, LinkParams};
use crate::sim::rng::{Rng, Stream};
use crate::sim::time::{fixed, Duration};
use crate::sim::world::{World, WorldConfig};
use crate::sim::{Action, Command, Instant};

/// The extra delay between two data centres in WAN.
pub const WAN_EXTRA_US: u64 = 75_000;
/// The most values of t one run takes.
pub const MAX_TS: usize = 64;

/// One of the paper's latency models, or exponential delays with given rates (per ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    LnkdSsd,
    LnkdDisk,
    Ymmr,
    Wan,
    Exp { w_rate: f64, ars_rate: f64 },
}

fn mix(pareto_ppm: u32, xm_us: u64, alpha: f64, exp_rate_per_ms: f64) -> Dist {
    Dist::Mix {
        parts: vec![
            (pareto_ppm, Dist::Pareto { xm_us, alpha }),
            (1_000_000 - pareto_ppm, exp_ms(exp_rate_per_ms)),
        ],
    }
}

fn exp_ms(rate_per_ms: f64) -> Dist {
    Dist::Exponential {
        mean_us: (1000.0 / rate_per_ms).round() as u64,
    }
}

impl Latency {
    pub fn parse(text: &str) -> Result<Latency, String> {
        let t = text.trim().to_ascii_lowercase();
        let bad = || {
            format!(
                "'{}' is not lnkd-ssd, lnkd-disk, ymmr, wan or exp:<W rate>[,<A, R and S rate>] (rates per ms, 0.001 to 1000)",
                t.chars().take(40).collect::<String>()
            )
        };
        let rate = |s: &str| {
            crate::sim::time::parse_decimal_scaled(s.trim(), 1_000_000)
                .map(|v| v as f64 / 1e6)
                .filter(|r| (0.001..=1000.0).contains(r))
                .ok_or_else(bad)
        };
        Ok(match t.as_str() {
            "lnkd-ssd" => Latency::LnkdSsd,
            "lnkd-disk" => Latency::LnkdDisk,
            "ymmr" => Latency::Ymmr,
            "wan" => Latency::Wan,
            _ => {
                let rates = t.strip_prefix("exp:").ok_or_else(bad)?;
                let (w, ars) = rates.split_once(',').unwrap_or((rates, "1"));
                Latency::Exp {
                    w_rate: rate(w)?,
                    ars_rate: rate(ars)?,
                }
            }
        })
    }

    pub fn text(&self) -> String {
        match self {
            Latency::LnkdSsd => "lnkd-ssd".into(),
            Latency::LnkdDisk => "lnkd-disk".into(),
            Latency::Ymmr => "ymmr".into(),
            Latency::Wan => "wan".into(),
            Latency::Exp { w_rate, ars_rate } => {
                format!("exp:{},{}", decimal(*w_rate), decimal(*ars_rate))
            }
        }
    }

    /// The write request's delay (W) and that of the acknowledgement, read request and read
    /// response (A = R = S), as Table 3 fits them.
    pub fn delays(&self) -> (Dist, Dist) {
        let ssd = || mix(912_200, 235, 10.0, 1.66);
        match self {
            Latency::LnkdSsd => (ssd(), ssd()),
            Latency::LnkdDisk | Latency::Wan => (mix(380_000, 1_050, 1.51, 0.183), ssd()),
            Latency::Ymmr => (
                mix(939_000, 3_000, 3.35, 0.0028),
                mix(982_000, 1_500, 3.8, 0.0217),
            ),
            Latency::Exp { w_rate, ars_rate } => (exp_ms(*w_rate), exp_ms(*ars_rate)),
        }
    }

    /// The span of t the paper's figure for this model shows, in ms.
    pub fn figure_span_ms(&self) -> f64 {
        match self {
            Latency::LnkdSsd => 2.4,
            Latency::LnkdDisk => 100.0,
            Latency::Ymmr => 1000.0,
            Latency::Wan => 110.0,
            Latency::Exp { .. } => 10.0,
        }
    }
}

fn decimal(v: f64) -> String {
    let s = fixed(v, 6);
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// One directed link's own parameters.
pub type LinkOverride = ((u32, u32), LinkParams);

/// The network of one trial: per-kind delays on every link between replicas (a node's link to
/// itself included), nothing between clients and coordinators, 75 ms more between data centres.
pub fn network(latency: Latency, n: u32) -> (LinkParams, Vec<LinkOverride>) {
    let (w, ars) = latency.delays();
    let kinds = |shift: u64| {
        let d = |dist: &Dist| match shift {
            0 => dist.clone(),
            by_us => Dist::Shift {
                by_us,
                dist: Box::new(dist.clone()),
            },
        };
        [
            ("write", d(&w)),
            ("ack", d(&ars)),
            ("read", d(&ars)),
            ("read reply", d(&ars)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let link = |shift| LinkParams {
        latency: Dist::Constant { us: 0 },
        by_kind: kinds(shift),
        ..LinkParams::default()
    };
    let far = if latency == Latency::Wan {
        WAN_EXTRA_US
    } else {
        0
    };
    let mut overrides = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a == b {
                overrides.push(((a, a), link(0)));
            } else if far > 0 {
                overrides.push(((a, b), link(far)));
            }
        }
    }
    (link(0), overrides)
}

/// What one trial measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialResult {
    pub write_latency_us: u64,
    /// Per t: whether the read returned the write, and its latency.
    pub reads: Vec<(bool, u64)>,
}

/// One trial: a write, then one read `t` after it commits for each `t` (ascending, in µs).
pub fn trial(
    latency: Latency,
    (n, r, w): (u32, u32, u32),
    ts_us: &[u64],
    seed: u64,
) -> Option<TrialResult> {
    let mut proto = Quorum::new(n, 1, (n, r, w));
    proto.timeout_us = 3_600_000_000;
    proto.handoff_every_us = 0;
    let mut cfg = WorldConfig::new(n, seed);
    let (default, overrides) = network(latency, n);
    cfg.net = default;
    cfg.clients = 1 + ts_us.len() as u32;
    cfg.client_timeout = Duration(3_600_000_000);
    cfg.trace_window = 16;
    // Trials read outcomes, never the diagram: no clocks to keep.
    cfg.logical_clocks = false;
    let mut world = World::new(proto, cfg, Vec::new());
    world.net.overrides.extend(overrides);
    let mut coordinators = Rng::new(seed, Stream::Faults);
    let mut pick = || coordinators.index(n as usize) as u32;
    let op = |client: u32, node: u32, text: &str| Action::ClientOp {
        client,
        node,
        op: text.into(),
    };
    let mut script = vec![Command::new(0, op(0, pick(), "put k0 1"))];
    while world.last_completed().is_none() {
        world.step(&script)?;
    }
    let commit_us = world.last_completed()?.complete_us?;
    for (i, t) in ts_us.iter().enumerate() {
        script.push(Command::new(
            commit_us + t,
            op(1 + i as u32, pick(), "get k0"),
        ));
    }
    world.run_until(Instant(u64::MAX / 2), &script);
    let reads = world
        .history()
        .iter()
        .skip(1)
        .map(|h| {
            let fresh = matches!(h.reply, Some(Reply::Value { got }) if !got.is_empty());
            (fresh, h.complete_us.unwrap_or(h.invoke_us) - h.invoke_us)
        })
        .collect::<Vec<_>>();
    (reads.len() == ts_us.len()).then_some(TrialResult {
        write_latency_us: commit_us,
        reads,
    })
}

/// `auto` or t values in ms (`0,1,2.5`): their canonical text, ascending without repeats.
fn ts_canonical(text: &str) -> Result<String, String> {
    if text.trim() == "auto" {
        return Ok("auto".into());
    }
    parse_ts_us(text).map(|ts| {
        ts.iter()
            .map(|t| decimal(*t as f64 / 1000.0))
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn parse_ts_us(text: &str) -> Result<Vec<u64>, String> {
    let mut ts = Vec::new();
    for part in text.split(',') {
        let t = crate::sim::time::parse_decimal_scaled(part.trim(), 1000)
            .filter(|t| *t <= 3_600_000_000)
            .ok_or_else(|| {
                format!(
                    "'{}' is not a time in ms from 0 to 3600000",
                    part.trim().chars().take(20).collect::<String>()
                )
            })?;
        ts.push(t);
    }
    crate::sim::order::sort_by_key(&mut ts, |&t| t);
    ts.dedup();
    if ts.len() > MAX_TS {
        return Err(format!("at most {MAX_TS} values of t"));
    }
    Ok(ts)
}

/// `auto`: 25 values over the span of the paper's figure, closer together near 0.
pub fn auto_ts_us(latency: Latency) -> Vec<u64> {
    let span_us = latency.figure_span_ms() * 1000.0;
    let mut ts: Vec<u64> = (0..25)
        .map(|i| (span_us * (i as f64 / 24.0).powi(2)).round() as u64)
        .collect();
    ts.dedup();
    ts
}

fn latency_canonical(text: &str) -> Result<String, String> {
    Latency::parse(text).map(|l| l.text())
}

pub static PBS: ExperimentSpec = ExperimentSpec {
    id: "pbs",
    title: "Staleness: how soon a read sees a write (PBS)",
    summary: "Writes a key, then reads it t ms after the write commits, over the store's real protocol \
              with the message delays the PBS paper measured (LinkedIn, Yammer): the chance a read is \
              consistent at each t, and the t at which it reaches 99.9%, beside the paper's curves.",
    params: &[
        super::count("n", "Replicas (N)", "Nodes, each a replica of the key (1 to 10)", 10, "3"),
        super::count("r", "Read quorum (R)", "Replies a read waits for", 10, "1"),
        super::count("w", "Write quorum (W)", "Acknowledgements a write waits for", 10, "1"),
        ParamSpec {
            key: "latency",
            label: "Latency model",
            help: "lnkd-ssd, lnkd-disk, ymmr or wan (the paper's Table 3), or exp:<W rate>[,<A, R and S rate>] per ms (its Figure 4)",
            kind: ParamKind::Text { canonical: Canonical(latency_canonical), form: "lnkd-ssd, lnkd-disk, ymmr, wan or exp:<rate>[,<rate>]" },
            default: "lnkd-disk",
        },
        ParamSpec {
            key: "trials",
            label: "Trials",
            help: "Writes, each followed by one read per t",
            kind: ParamKind::Int { min: 1, max: 1_000_000 },
            default: "10000",
        },
        ParamSpec {
            key: "t-ms",
            label: "Reads after commit (ms)",
            help: "When reads start after the write commits: a list such as 0,1,5,10, or auto (25 values over the paper's figure)",
            kind: ParamKind::Text { canonical: Canonical(ts_canonical), form: "auto, or times in ms such as 0,1,5,10" },
            default: "auto",
        },
        SEED_PARAM,
    ],
    lists: &["latency", "t-ms"],
    start: |v| Ok(Box::new(PbsRun::new(v)?)),
};

/// A run of the experiment.
pub struct PbsRun {
    pub latency: Latency,
    pub nrw: (u32, u32, u32),
    pub ts_us: Vec<u64>,
    planned: u32,
    done: u32,
    seed: u64,
    /// Consistent reads per t.
    pub consistent: Vec<u64>,
    pub write_us: Vec<u64>,
    pub read_us: Vec<u64>,
}

fn get<'a>(v: &'a Values, k: &str) -> &'a str {
    v.get(k).map(String::as_str).unwrap_or_default()
}

impl PbsRun {
    pub fn new(v: &Values) -> Result<PbsRun, String> {
        let num = |k: &str| {
            get(v, k)
                .parse::<u64>()
                .map_err(|_| format!("'{k}' must be a whole number"))
        };
        let (n, r, w) = (num("n")? as u32, num("r")? as u32, num("w")? as u32);
        if r > n || w > n {
            return Err(format!(
                "R and W must be at most N = {n} (R is {r}, W is {w})"
            ));
        }
        let latency = Latency::parse(get(v, "latency"))?;
        let ts_us = match get(v, "t-ms") {
            "auto" => auto_ts_us(latency),
            t => parse_ts_us(t)?,
        };
        Ok(PbsRun {
            latency,
            nrw: (n, r, w),
            consistent: vec![0; ts_us.len()],
            ts_us,
            planned: num("trials")? as u32,
            done: 0,
            seed: num("seed")?,
            write_us: Vec::new(),
            read_us: Vec::new(),
        })
    }

    /// P(consistent) at each t.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        let trials = self.done.max(1) as f64;
        self.ts_us
            .iter()
            .zip(&self.consistent)
            .map(|(t, c)| (*t as f64 / 1000.0, *c as f64 / trials))
            .collect()
    }

    /// The t (ms) at which the curve first reaches `p`, interpolated between the ts.
    pub fn t_visibility_ms(&self, p: f64) -> Option<f64> {
        let c = self.curve();
        let i = c.iter().position(|&(_, q)| q >= p)?;
        if i == 0 {
            return Some(c[0].0);
        }
        let ((t0, p0), (t1, p1)) = (c[i - 1], c[i]);
        Some(t0 + (t1 - t0) * (p - p0) / (p1 - p0).max(1e-12))
    }
}

impl Trials for PbsRun {
    fn run(&mut self, k: u32) -> u32 {
        let todo = k.min(self.planned - self.done);
        for _ in 0..todo {
            let seed = trial_seed(self.seed, self.done);
            self.done += 1;
            let Some(t) = trial(self.latency, self.nrw, &self.ts_us, seed) else {
                continue;
            };
            self.write_us.push(t.write_latency_us);
            for (i, (fresh, us)) in t.reads.iter().enumerate() {
                self.consistent[i] += *fresh as u64;
                self.read_us.push(*us);
            }
        }
        todo
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.planned)
    }

    fn report(&self) -> Report {
        report(self)
    }
}

const VISIBILITY: [f64; 3] = [0.9, 0.99, 0.999];

fn report(run: &PbsRun) -> Report {
    let (n, r, w) = run.nrw;
    let curve = run.curve();
    let first = curve.first().map_or(0.0, |c| c.1);
    let vis = run.t_visibility_ms(0.999);
    let summary = format!(
        "N = {n}, R = {r}, W = {w}, {}: {}% of reads {} ms after commit return the write; 99.9% {} ({} trials)",
        run.latency.text(),
        fixed(first * 100.0, 1),
        decimal(curve.first().map_or(0.0, |c| c.0)),
        vis.map_or("are not reached in the ts given".to_string(), |t| format!("by {} ms", fixed(t, 2))),
        run.done
    );
    let mut series = vec![Series {
        name: "this run".into(),
        style: SeriesStyle::Line,
        points: curve.clone(),
        reference: false,
        colour: None,
    }];
    let paper = paper_curves(run).next();
    series.extend(paper.map(|c| Series {
        name: "paper".into(),
        style: SeriesStyle::Line,
        points: c.points.to_vec(),
        reference: true,
        colour: None,
    }));
    let chart = Chart {
        title: "P(consistent read) against time after commit".into(),
        x_label: "t after the write commits (ms)".into(),
        y_label: "P(read returns the write)".into(),
        x_scale: AxisScale::Linear,
        y_scale: AxisScale::Linear,
        series,
        caption: format!(
            "Each point: the share of trials whose read, started t ms after the write committed, returned it. {}",
            paper.map_or("The paper has no curve for these settings (it plots Figures 4, 6 and 7).".to_string(), |c| {
                format!("The paper's curve: Bailis et al. (VLDB 2012), {}.", c.figure.replace("Fig ", "Fig. "))
            })
        ),
        cursor_x: None,
    };
    let json = report_json(|| json(run, &curve));
    Report {
        summary,
        charts: vec![chart],
        tables: Vec::new(),
        links: Vec::new(),
        json,
    }
}

fn json(run: &PbsRun, curve: &[(f64, f64)]) -> serde_json::Value {
    let pct = |v: &[u64]| {
        let mut s = v.to_vec();
        s.sort_unstable();
        let q = |p| super::quantile_ms(&s, p);
        serde_json::json!({ "p50": q(0.5), "p99": q(0.99), "p999": q(0.999) })
    };
    let vis: serde_json::Map<String, serde_json::Value> = VISIBILITY
        .iter()
        .map(|p| (p.to_string(), serde_json::json!(run.t_visibility_ms(*p))))
        .collect();
    serde_json::json!({
        "n": run.nrw.0, "r": run.nrw.1, "w": run.nrw.2,
        "latency": run.latency.text(),
        "trials": run.done,
        "p_consistent": curve.iter().map(|(t, p)| serde_json::json!({"t_ms": t, "p": p})).collect::<Vec<_>>(),
        "t_visibility_ms": vis,
        "read_latency_ms": pct(&run.read_us),
        "write_latency_ms": pct(&run.write_us),
    })
}

/// A curve of the paper's, as a few points (a small excerpt, for the page).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    pub figure: &'static str,
    pub latency: &'static str,
    pub n: u32,
    pub r: u32,
    pub w: u32,
    /// (t ms, P(consistent))
    pub points: &'static [(f64, f64)],
}

/// The paper's curves for a run's latency model and N, R, W.
pub fn paper_curves(run: &PbsRun) -> impl Iterator<Item = &'static Curve> + '_ {
    let (n, r, w) = run.nrw;
    let name = run.latency.text();
    PAPER
        .iter()
        .filter(move |c| {
            let model = Latency::parse(c.latency)
                .map(|l| l.text())
                .unwrap_or_default();
            model == name && c.n == n && c.r == r && c.w == w
        })
        .take(1)
}

/// Points of every curve of Bailis et al. (VLDB 2012) Figures 4, 6 and 7, taken from
/// `refdata/pbs/pbs_figures_extracted.csv` (the nearest plotted point to 0, 2, 5, 10, 20, 40,
/// 70 and 100% of each figure's span); `tests/quorum_pbs.rs` checks them against the file.
pub static PAPER: &[Curve] = &[
    Curve {
        figure: "Fig 6",
        latency: "lnkd-ssd",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9739),
            (0.05, 0.9751),
            (0.12, 0.9788),
            (0.24, 0.9822),
            (0.48, 0.9887),
            (0.96, 0.9948),
            (1.69, 0.9985),
            (2.41, 0.9994),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "lnkd-ssd",
        n: 3,
        r: 1,
        w: 2,
        points: &[
            (0.0, 0.9780),
            (0.05, 0.9805),
            (0.12, 0.9825),
            (0.24, 0.9861),
            (0.48, 0.9900),
            (0.96, 0.9954),
            (1.69, 0.9987),
            (2.41, 0.9995),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "lnkd-ssd",
        n: 3,
        r: 2,
        w: 1,
        points: &[
            (0.0, 0.9994),
            (0.05, 0.9996),
            (0.12, 0.9996),
            (0.24, 0.9998),
            (0.48, 0.9999),
            (0.96, 1.0000),
            (1.38, 1.0000),
            (2.41, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "lnkd-disk",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.4375),
            (2.0, 0.6707),
            (5.0, 0.8175),
            (10.0, 0.9237),
            (20.0, 0.9860),
            (40.0, 0.9984),
            (71.0, 0.9994),
            (101.0, 0.9998),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "lnkd-disk",
        n: 3,
        r: 1,
        w: 2,
        points: &[
            (0.0, 0.7139),
            (2.0, 0.8139),
            (5.0, 0.8929),
            (10.0, 0.9557),
            (20.0, 0.9911),
            (40.0, 0.9986),
            (71.0, 0.9995),
            (101.0, 0.9996),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "lnkd-disk",
        n: 3,
        r: 2,
        w: 1,
        points: &[
            (0.0, 0.7630),
            (2.0, 0.9178),
            (5.0, 0.9747),
            (10.0, 0.9956),
            (20.0, 0.9998),
            (40.0, 1.0000),
            (71.0, 1.0000),
            (101.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "wan",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.3346),
            (2.0, 0.3348),
            (6.0, 0.3331),
            (11.0, 0.3347),
            (22.0, 0.3340),
            (44.0, 0.3379),
            (78.0, 0.8629),
            (111.0, 0.9987),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "wan",
        n: 3,
        r: 1,
        w: 2,
        points: &[
            (0.0, 0.9996),
            (2.0, 0.9996),
            (6.0, 0.9997),
            (11.0, 0.9996),
            (22.0, 0.9996),
            (44.0, 0.9998),
            (78.0, 0.9999),
            (111.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "wan",
        n: 3,
        r: 2,
        w: 1,
        points: &[
            (0.0, 0.8560),
            (2.0, 0.9144),
            (6.0, 0.9605),
            (11.0, 0.9835),
            (22.0, 0.9972),
            (44.0, 0.9996),
            (78.0, 1.0000),
            (111.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "ymmr",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.8909),
            (20.0, 0.9429),
            (50.0, 0.9481),
            (100.0, 0.9546),
            (200.0, 0.9662),
            (400.0, 0.9803),
            (700.0, 0.9920),
            (1001.0, 0.9965),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "ymmr",
        n: 3,
        r: 1,
        w: 2,
        points: &[
            (0.0, 0.9186),
            (20.0, 0.9471),
            (50.0, 0.9519),
            (100.0, 0.9591),
            (200.0, 0.9681),
            (400.0, 0.9813),
            (701.0, 0.9923),
            (1001.0, 0.9968),
        ],
    },
    Curve {
        figure: "Fig 6",
        latency: "ymmr",
        n: 3,
        r: 2,
        w: 1,
        points: &[
            (0.0, 0.9911),
            (20.0, 0.9974),
            (50.0, 0.9974),
            (100.0, 0.9978),
            (200.0, 0.9990),
            (400.0, 0.9996),
            (699.0, 1.0000),
            (1001.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-disk",
        n: 2,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.5756),
            (0.5, 0.6320),
            (1.1, 0.6872),
            (2.4, 0.7640),
            (4.7, 0.8489),
            (10.0, 0.9414),
            (16.6, 0.9805),
            (23.7, 0.9932),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-disk",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.4362),
            (0.5, 0.5179),
            (1.2, 0.6040),
            (2.4, 0.6982),
            (4.7, 0.8080),
            (9.5, 0.9193),
            (16.6, 0.9756),
            (23.7, 0.9917),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-disk",
        n: 5,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.3203),
            (0.5, 0.4249),
            (1.1, 0.5257),
            (2.3, 0.6443),
            (4.7, 0.7805),
            (9.5, 0.9089),
            (16.5, 0.9724),
            (23.7, 0.9909),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-disk",
        n: 10,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.2101),
            (0.5, 0.3327),
            (1.2, 0.4806),
            (2.4, 0.6183),
            (4.7, 0.7611),
            (9.5, 0.9010),
            (15.8, 0.9670),
            (23.7, 0.9902),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-ssd",
        n: 2,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9763),
            (0.04, 0.9779),
            (0.11, 0.9802),
            (0.21, 0.9831),
            (0.42, 0.9882),
            (0.84, 0.9942),
            (1.46, 0.9979),
            (2.08, 0.9993),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-ssd",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9736),
            (0.04, 0.9755),
            (0.1, 0.9777),
            (0.21, 0.9813),
            (0.42, 0.9869),
            (0.83, 0.9933),
            (1.46, 0.9977),
            (2.08, 0.9992),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-ssd",
        n: 5,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9717),
            (0.04, 0.9738),
            (0.1, 0.9765),
            (0.21, 0.9803),
            (0.42, 0.9860),
            (0.83, 0.9929),
            (1.46, 0.9975),
            (2.08, 0.9991),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "lnkd-ssd",
        n: 10,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9677),
            (0.04, 0.9706),
            (0.1, 0.9742),
            (0.21, 0.9788),
            (0.42, 0.9851),
            (0.83, 0.9923),
            (1.46, 0.9973),
            (2.08, 0.9991),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "wan",
        n: 2,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.5006),
            (2.0, 0.4999),
            (4.7, 0.4996),
            (9.3, 0.5002),
            (19.2, 0.5005),
            (38.2, 0.5008),
            (66.7, 0.5485),
            (95.3, 0.9944),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "wan",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.3342),
            (2.0, 0.3337),
            (4.8, 0.3336),
            (9.6, 0.3348),
            (19.2, 0.3331),
            (38.1, 0.3338),
            (66.8, 0.3989),
            (95.3, 0.9926),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "wan",
        n: 5,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.2003),
            (1.9, 0.2006),
            (4.9, 0.2011),
            (9.5, 0.2009),
            (19.1, 0.1999),
            (38.2, 0.2007),
            (66.6, 0.2763),
            (95.3, 0.9913),
        ],
    },
    Curve {
        figure: "Fig 7",
        latency: "wan",
        n: 10,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.1006),
            (1.9, 0.1009),
            (4.8, 0.1006),
            (9.5, 0.1001),
            (18.8, 0.1010),
            (38.2, 0.1015),
            (66.7, 0.1870),
            (95.3, 0.9900),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:4",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.9422),
            (0.08, 0.9613),
            (0.2, 0.9751),
            (0.41, 0.9889),
            (0.8, 0.9976),
            (1.62, 0.9998),
            (4.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:2",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.8624),
            (0.08, 0.8879),
            (0.2, 0.9107),
            (0.4, 0.9422),
            (0.8, 0.9737),
            (1.6, 0.9938),
            (2.8, 0.9992),
            (4.0, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:1",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.7467),
            (1.0, 0.9100),
            (2.0, 0.9638),
            (4.0, 0.9953),
            (7.0, 0.9996),
            (10.38, 1.0000),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:0.5",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.6233),
            (1.0, 0.7734),
            (2.0, 0.8605),
            (4.0, 0.9504),
            (7.0, 0.9894),
            (10.38, 0.9977),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:0.2",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.4900),
            (1.0, 0.5876),
            (2.0, 0.6503),
            (4.0, 0.7732),
            (7.0, 0.8773),
            (10.38, 0.9366),
        ],
    },
    Curve {
        figure: "Fig 4",
        latency: "exp:0.1",
        n: 3,
        r: 1,
        w: 1,
        points: &[
            (0.0, 0.4201),
            (1.0, 0.4707),
            (2.0, 0.5251),
            (4.0, 0.6123),
            (7.0, 0.7109),
            (10.38, 0.7957),
        ],
    },
];
