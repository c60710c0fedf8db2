//! The first election, from a cold start: every server begins as a follower with an empty log,
//! and we time until one leader is followed by every server. When election timeouts are drawn
//! from a narrow range, several servers stand at once, split the votes, time out again and try
//! in a higher term (the Raft paper, §5.2: randomised timeouts make split votes rare, §9.3).
//!
//! Each trial *is* a run of the Raft lab — its scenario is an ordinary link — so the slowest
//! trials open in the page as links, to watch their split votes.

use super::experiment::{settled_leader, trial_seed, SEED_PARAM, SERVERS_PARAM};
use super::protocol::Raft;
use crate::labs::experiment::{
    AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle, TrialLink, Trials, Values,
};
use crate::labs::{ParamKind, ParamSpec};
use crate::scenario::{link, Scenario};
use crate::sim::time::fixed;
use crate::sim::world::World;
use crate::viz::{Cell, Panel};

/// A trial that has no settled leader after this much virtual time stops there.
pub const TRIAL_CAP_US: u64 = 20_000_000;

pub static FIRST_ELECTION: ExperimentSpec = ExperimentSpec {
    id: "raft-first-election",
    title: "First election (split votes)",
    summary: "A cluster starts with no leader, and we time until every server follows one. Narrow \
              timeout ranges split the votes; each trial is a run of this lab, and the slowest \
              open as links.",
    params: &[
        SERVERS_PARAM,
        ParamSpec {
            key: "timeout-ms",
            label: "Election timeout",
            help: "The range election timeouts are drawn from: try 150..170ms against 150..300ms",
            kind: ParamKind::DurationRange {
                min_us: 10_000,
                max_us: 10_000_000,
            },
            default: "150..300ms",
        },
        ParamSpec {
            key: "trials",
            label: "Trials",
            help: "How many cold starts to time",
            kind: ParamKind::Int {
                min: 1,
                max: 10_000,
            },
            default: "200",
        },
        SEED_PARAM,
    ],
    lists: &[],
    start,
};

/// One cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub trial: u32,
    /// When every server followed one leader (or the cap, if none did).
    pub settled_us: u64,
    /// That leader's term: how many elections it took.
    pub term: u64,
    pub settled: bool,
}

struct FirstElection {
    base: Scenario,
    seed: u64,
    trials: u32,
    done: Vec<Outcome>,
}

fn start(v: &Values) -> Result<Box<dyn Trials>, String> {
    let get = |k: &str| v.get(k).map(String::as_str).unwrap_or_default();
    let whole = |k: &str| {
        get(k)
            .parse::<u64>()
            .map_err(|_| format!("'{k}' must be a whole number"))
    };
    let mut base = Scenario::default_for(&super::LAB);
    base.n = whole("nodes")? as u32;
    base.params
        .insert("et".into(), get("timeout-ms").to_string());
    base.params.insert("clients".into(), "0".into());
    base.validate().map_err(|e| e.0)?;
    Ok(Box::new(FirstElection {
        base,
        seed: whole("seed")?,
        trials: whole("trials")? as u32,
        done: Vec::new(),
    }))
}

impl FirstElection {
    /// Trial `k`'s scenario: the lab's, with its own seed.
    fn scenario(&self, k: u32) -> Scenario {
        let mut s = self.base.clone();
        s.seed = trial_seed(self.seed, k);
        s
    }
}

/// Runs the scenario until every server follows one leader, or [`TRIAL_CAP_US`].
pub fn run_trial(s: &Scenario, trial: u32) -> Result<Outcome, String> {
    let mut w: World<Raft> = super::world(s)?;
    loop {
        if let Some(l) = settled_leader(&w) {
            let term = w.state(l).current_term;
            return Ok(Outcome {
                trial,
                settled_us: w.now().0,
                term,
                settled: true,
            });
        }
        if w.now().0 >= TRIAL_CAP_US || w.step(&[]).is_none() {
            return Ok(Outcome {
                trial,
                settled_us: w.now().0,
                term: 0,
                settled: false,
            });
        }
    }
}

impl Trials for FirstElection {
    fn run(&mut self, k: u32) -> u32 {
        let start = self.done.len() as u32;
        let end = start.saturating_add(k).min(self.trials);
        for t in start..end {
            // The scenario was validated when the experiment started.
            if let Ok(o) = run_trial(&self.scenario(t), t) {
                self.done.push(o);
            }
        }
        end - start
    }

    fn progress(&self) -> (u32, u32) {
        (self.done.len() as u32, self.trials)
    }

    fn report(&self) -> Report {
        report(self)
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

fn report(e: &FirstElection) -> Report {
    let mut by_time = e.done.clone();
    // The project's one compiled sort (each sort instantiation costs the download).
    crate::sim::order::sort_by(&mut by_time, |a, b| {
        (a.settled_us, a.trial).cmp(&(b.settled_us, b.trial))
    });
    let n = by_time.len().max(1);
    let quantile = |q: f64| {
        by_time
            .get(((n - 1) as f64 * q).round() as usize)
            .map(|o| ms(o.settled_us))
    };
    let split = e.done.iter().filter(|o| !o.settled || o.term > 1).count();
    let unsettled = e.done.iter().filter(|o| !o.settled).count();
    let cdf: Vec<(f64, f64)> = by_time
        .iter()
        .enumerate()
        .map(|(i, o)| (ms(o.settled_us), (i + 1) as f64 / n as f64))
        .collect();
    let text = |v: Option<f64>| v.map_or("—".into(), |v| fixed(v, 1));
    let et = e.base.param("et").unwrap_or_default().to_string();
    let summary = format!(
        "First election, {} servers, election timeout {et}, {} trials (seed {}): every server \
         followed one leader after a median {} ms (p90 {} ms, max {} ms); {} of the trials \
         needed more than one election{}",
        e.base.n,
        e.done.len(),
        e.seed,
        text(quantile(0.5)),
        text(quantile(0.9)),
        text(quantile(1.0)),
        split,
        if unsettled > 0 {
            format!(
                ", {unsettled} had no leader after {} s",
                TRIAL_CAP_US / 1_000_000
            )
        } else {
            String::new()
        }
    );
    let chart = Chart {
        title: "Time to the first leader".into(),
        x_label: "ms from the start".into(),
        y_label: "fraction of trials".into(),
        x_scale: AxisScale::Auto,
        y_scale: AxisScale::Linear,
        series: vec![Series {
            name: "dsplay".into(),
            style: SeriesStyle::Steps,
            points: cdf,
            reference: false,
            colour: None,
        }],
        caption: "Open the slowest trials below to watch their split votes.".into(),
        cursor_x: None,
    };
    Report {
        summary,
        charts: vec![chart],
        tables: vec![elections_table(&e.done)],
        links: links(e, &by_time),
        json: crate::labs::experiment::report_json(|| {
            serde_json::json!({
                "trials": e.done.len(),
                "median_ms": quantile(0.5),
                "p90_ms": quantile(0.9),
                "max_ms": quantile(1.0),
                "more_than_one_election": split,
                "no_leader": unsettled,
                "slowest": by_time.iter().rev().take(3).map(|o| serde_json::json!({
                    "trial": o.trial, "ms": ms(o.settled_us), "term": o.term,
                    "link": link::encode(&e.scenario(o.trial)),
                })).collect::<Vec<_>>(),
            })
        }),
    }
}

/// How many trials needed 1, 2, 3, ... elections (the leader's term).
fn elections_table(done: &[Outcome]) -> Panel {
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for o in done {
        let k = if o.settled { o.term } else { 0 };
        match counts.iter_mut().find(|(t, _)| *t == k) {
            Some((_, c)) => *c += 1,
            None => counts.push((k, 1)),
        }
    }
    crate::sim::order::sort_by(&mut counts, |a, b| a.cmp(b));
    let rows = counts
        .iter()
        .map(|(term, count)| {
            let what = if *term == 0 {
                "no leader yet".to_string()
            } else {
                term.to_string()
            };
            vec![Cell::plain(what), Cell::plain(count.to_string())]
        })
        .collect();
    Panel {
        title: "Elections needed".into(),
        columns: vec!["elections (the leader's term)".into(), "trials".into()],
        rows,
        caption: "More than one: the votes were split, and the candidates tried again.".into(),
    }
}

/// The median trial and the three slowest, as links to the lab.
fn links(e: &FirstElection, by_time: &[Outcome]) -> Vec<TrialLink> {
    let mut picked: Vec<(&Outcome, &str)> =
        by_time.iter().rev().take(3).map(|o| (o, "slow")).collect();
    if let Some(m) = by_time.get(by_time.len() / 2) {
        if !picked.iter().any(|(o, _)| o.trial == m.trial) {
            picked.push((m, "the median"));
        }
    }
    picked
        .into_iter()
        .map(|(o, why)| {
            let when = if o.settled {
                format!("{} ms, term {}", fixed(ms(o.settled_us), 0), o.term)
            } else {
                "no leader".into()
            };
            let why = if why == "slow" { "" } else { " (the median)" };
            TrialLink {
                label: format!("trial {}: {when}{why}", o.trial),
                link: link::encode(&e.scenario(o.trial)),
            }
        })
        .collect()
}
