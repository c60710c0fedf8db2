//! The Raft paper's leader-election experiment (section 9.3 and Figure 16; chapter 9 of
//! Ongaro's thesis).
//!
//! The paper repeatedly crashed the leader of a five-server cluster and timed how long it took
//! to detect the crash and elect a new leader. To get a worst case, the servers had logs of
//! different lengths, so some could not win, and the leader sent a synchronised round of
//! heartbeats just before it was killed, so the followers' timers started together and split
//! votes were likely. The leader crashed at a uniformly random moment within its heartbeat
//! interval, which was half the minimum election timeout. The cluster's broadcast time (a
//! network round trip plus a durable write) was about 15 ms.
//!
//! Each trial here is a real run of this crate's Raft in the engine:
//!
//! - the world starts at the instant of that synchronised heartbeat: S0 leads term 2 and
//!   sends heartbeats to everyone at time 0; all logs hold four committed entries of term 1,
//!   and the first half of the followers also hold a fifth, uncommitted one. A follower without
//!   it can never collect a majority (the others refuse it: their logs are more up-to-date),
//!   so as in the paper only some servers can win;
//! - the cluster is a [`ClusterModel`]: every message takes a one-way delay drawn uniformly
//!   from 1 to 5 ms (network plus the durable write a server makes before it answers), except
//!   the old leader's synchronised heartbeats, which reach every follower together after 3 ms;
//!   timers fire up to 0.2 ms late, as real timers do;
//! - S0 crashes at a moment drawn uniformly from `[0, heartbeat)`;
//! - the trial ends when every remaining server has accepted an AppendEntries from the new
//!   leader of its current term (the new leader's first heartbeat reached them all). The time
//!   without a leader is that instant minus the crash.
//!
//! The model was fitted to Figure 16, not taken from the paper's prose: a vote round trip here
//! is 2 to 10 ms (6 ms on average), about half the "broadcast time of roughly 15 ms" the paper
//! quotes. With a literal 15 ms round trip the 12-24 ms elections split their votes over and
//! over (median 164 ms, the paper's is 30 ms), because the candidate's requests arrive after the
//! other servers have timed out too. `docs/raft-election.md` has the comparison and the reasons.
//!
//! Trials are independent and deterministic: trial `i` of seed `s` always gives the same
//! number, so the experiment can run in chunks ([`ElectionExperiment`]) while a browser shows
//! progress.

use super::kv::{Cmd, KvOp};
use super::log::{Entry, Log};
use super::paper;
use super::protocol::{Raft, RaftState, Role};
use crate::labs::experiment::{
    AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle, Trials, Values,
};
use crate::labs::{ParamKind, ParamSpec};
use crate::sim::command::{Action, Command};
use crate::sim::net::Dist;
use crate::sim::rng::{Rng, Stream};
use crate::sim::world::{World, WorldConfig};
use serde::{Deserialize, Serialize};

/// The physical model of the paper's cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterModel {
    /// One-way delay of a message, network plus the durable write before it (uniform).
    pub one_way_min_us: u64,
    pub one_way_max_us: u64,
    /// Real timers fire a little late (scheduling); added to the top of the timeout range.
    pub timer_slack_us: u64,
    /// Delay of the old leader's synchronised heartbeats (network only, no durable write).
    pub sync_heartbeat_us: u64,
}

impl ClusterModel {
    pub const PAPER: ClusterModel = ClusterModel {
        one_way_min_us: ONE_WAY_MIN_US,
        one_way_max_us: ONE_WAY_MAX_US,
        timer_slack_us: TIMER_SLACK_US,
        sync_heartbeat_us: SYNC_HEARTBEAT_US,
    };
}

/// One-way message delay, network plus durable write (microseconds), fitted to Figure 16.
pub const ONE_WAY_MIN_US: u64 = 1_000;
pub const ONE_WAY_MAX_US: u64 = 5_000;
/// How late a timer may fire. Without it, identical timeouts (150-150 ms) would repeat the same
/// split vote for ever: only jitter in the servers' timing ever separates them.
pub const TIMER_SLACK_US: u64 = 200;
/// The synchronised heartbeats arrive together, after the mean one-way delay.
pub const SYNC_HEARTBEAT_US: u64 = 3_000;
/// A trial that has not converged after this long stops and counts as this long.
pub const TRIAL_CAP_US: u64 = 1_000_000_000;
/// Entries every server holds (committed, term 1); half the followers hold one more.
const COMMON_ENTRIES: u64 = 4;

/// What to run. The command line reads these from `--nodes`, `--timeout-ms`, `--trials`,
/// `--seed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionParams {
    pub nodes: u32,
    pub timeout_min_ms: u64,
    pub timeout_max_ms: u64,
    pub trials: u32,
    pub seed: u64,
}

impl ElectionParams {
    /// The paper's setup for one timeout range: five servers, 1000 trials.
    pub fn paper(timeout_min_ms: u64, timeout_max_ms: u64) -> Self {
        ElectionParams {
            nodes: 5,
            timeout_min_ms,
            timeout_max_ms,
            trials: 1000,
            seed: 1,
        }
    }

    /// Checks the values; [`election_experiment`] clamps instead of failing.
    pub fn validate(&self) -> Result<(), String> {
        if !(3..=9).contains(&self.nodes) {
            return Err(format!(
                "the election experiment takes 3 to 9 nodes, not {}",
                self.nodes
            ));
        }
        if self.timeout_min_ms < 2
            || self.timeout_min_ms > self.timeout_max_ms
            || self.timeout_max_ms > 60_000
        {
            return Err(format!(
                "the timeout range must satisfy 2 <= min <= max <= 60000 ms, not {}..{}",
                self.timeout_min_ms, self.timeout_max_ms
            ));
        }
        if self.trials == 0 || self.trials > 1_000_000 {
            return Err(format!(
                "trials must be from 1 to 1000000, not {}",
                self.trials
            ));
        }
        Ok(())
    }

    fn clamped(&self) -> ElectionParams {
        let nodes = self.nodes.clamp(3, 9);
        let min = self.timeout_min_ms.clamp(2, 60_000);
        let max = self.timeout_max_ms.clamp(min, 60_000);
        ElectionParams {
            nodes,
            timeout_min_ms: min,
            timeout_max_ms: max,
            trials: self.trials.min(1_000_000),
            seed: self.seed,
        }
    }

    /// The Raft configuration of a trial: heartbeats at half the minimum timeout.
    pub fn raft(&self, model: &ClusterModel) -> Raft {
        let p = self.clamped();
        Raft {
            election_timeout_min_us: p.timeout_min_ms * 1_000,
            election_timeout_max_us: p.timeout_max_ms * 1_000 + model.timer_slack_us,
            heartbeat_us: p.timeout_min_ms * 1_000 / 2,
            ..Raft::default()
        }
    }
}

/// The summary the command line prints (these key names with `--json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ElectionResult {
    pub trials: u32,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Every trial's time without a leader, in trial order.
    pub samples_ms: Vec<f64>,
}

impl ElectionResult {
    pub fn from_samples(samples_ms: Vec<f64>) -> Self {
        let mut sorted = samples_ms.clone();
        crate::sim::order::sort_by(&mut sorted, f64::total_cmp);
        let mean_ms = if sorted.is_empty() {
            0.0
        } else {
            sorted.iter().sum::<f64>() / sorted.len() as f64
        };
        ElectionResult {
            trials: samples_ms.len() as u32,
            mean_ms,
            p50_ms: percentile(&sorted, 0.50),
            p90_ms: percentile(&sorted, 0.90),
            p99_ms: percentile(&sorted, 0.99),
            max_ms: sorted.last().copied().unwrap_or(0.0),
            samples_ms,
        }
    }

    /// One line for people: `1000 trials: mean 180.3 ms, median 171.0, p90 ...`.
    pub fn summary(&self) -> String {
        let ms = |v: f64| crate::sim::time::fixed(v, 1);
        format!(
            "{} trials: mean {} ms, median {} ms, p90 {} ms, p99 {} ms, max {} ms",
            self.trials,
            ms(self.mean_ms),
            ms(self.p50_ms),
            ms(self.p90_ms),
            ms(self.p99_ms),
            ms(self.max_ms)
        )
    }
}

/// Nearest-rank percentile of sorted values (the smallest value with at least `q` of the
/// samples at or below it), as the paper's summaries are.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// What one trial measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialOutcome {
    /// From the crash until every remaining server heard the new leader.
    pub time_without_leader_us: u64,
    pub crash_us: u64,
    pub new_leader: u32,
    pub term: u64,
    /// False if the trial hit [`TRIAL_CAP_US`].
    pub converged: bool,
}

pub(super) use crate::labs::experiment::trial_seed;

/// The world at the instant of the synchronised heartbeat (see the module documentation).
pub fn trial_world(p: &ElectionParams, model: &ClusterModel, trial: u32) -> World<Raft> {
    let p = p.clamped();
    let raft = p.raft(model);
    let mut cfg = WorldConfig::new(p.nodes, trial_seed(p.seed, trial));
    cfg.net.latency = Dist::Uniform {
        min_us: model.one_way_min_us,
        max_us: model.one_way_max_us,
    };
    cfg.trace_window = 16;
    // Trials read outcomes, never the diagram: no clocks to keep.
    cfg.logical_clocks = false;
    let mut w = World::new(raft, cfg, Vec::new());
    let n = p.nodes;
    // The old leader's last round of heartbeats reaches every follower at the same moment.
    for i in 1..n {
        let mut link = w.net.default.clone();
        link.latency = Dist::Constant {
            us: model.sync_heartbeat_us,
        };
        w.net.overrides.insert((0, i), link);
    }
    let entry = |i: u64| {
        Entry::new(
            1,
            Cmd::internal(KvOp::Put {
                key: "x".into(),
                value: i.to_string(),
            }),
        )
    };
    let mut common = Log::new();
    (1..=COMMON_ENTRIES).for_each(|i| common.push(entry(i)));
    let long_followers = (n - 1) / 2;
    for id in 0..n {
        let st = &mut w.nodes[id as usize].state;
        *st = RaftState::new(n);
        st.current_term = 2;
        st.leader = Some(0);
        st.log = common.clone();
        st.commit_index = COMMON_ENTRIES;
        for i in 1..=COMMON_ENTRIES {
            if let Some(e) = st.log.entry(i).cloned() {
                st.kv.apply(&e.cmd);
            }
        }
        st.last_applied = COMMON_ENTRIES;
        if id == 0 {
            st.role = Role::Leader;
            st.voted_for = Some(0);
            st.next_index = vec![COMMON_ENTRIES + 1; n as usize];
            st.match_index = vec![COMMON_ENTRIES; n as usize];
        } else if id <= long_followers {
            st.log.push(entry(COMMON_ENTRIES + 1));
        } else {
            st.voted_for = Some(0);
        }
    }
    w
}

/// The new leader, once every live server follows it in its term.
pub(super) fn settled_leader(w: &World<Raft>) -> Option<u32> {
    let n = w.n();
    let leader = (0..n).find(|&l| w.is_up(l) && w.state(l).role == Role::Leader)?;
    let term = w.state(leader).current_term;
    let all = (0..n)
        .filter(|&p| p != leader && w.is_up(p))
        .all(|p| w.state(p).current_term == term && w.state(p).leader == Some(leader));
    all.then_some(leader)
}

/// Runs trial `trial`: crash the leader, time the election.
pub fn run_trial(p: &ElectionParams, model: &ClusterModel, trial: u32) -> TrialOutcome {
    let mut w = trial_world(p, model, trial);
    let heartbeat_us = w.proto.heartbeat_us;
    let mut faults = Rng::new(trial_seed(p.seed, trial), Stream::Faults);
    let crash_us = faults.range_inclusive(0, heartbeat_us.saturating_sub(1));
    let script = [Command::new(crash_us, Action::Crash { node: 0 })];
    let outcome = |w: &World<Raft>, leader: u32, converged: bool| TrialOutcome {
        time_without_leader_us: w.now().0.saturating_sub(crash_us),
        crash_us,
        new_leader: leader,
        term: w.state(leader).current_term,
        converged,
    };
    while w.step(&script).is_some() {
        if w.is_up(0) {
            continue;
        }
        if let Some(l) = settled_leader(&w) {
            return outcome(&w, l, true);
        }
        if w.now().0 - crash_us > TRIAL_CAP_US {
            break;
        }
    }
    outcome(&w, 0, false)
}

/// The experiment in chunks, for a page that shows progress.
#[derive(Clone, Debug)]
pub struct ElectionExperiment {
    params: ElectionParams,
    model: ClusterModel,
    samples_ms: Vec<f64>,
}

impl ElectionExperiment {
    pub fn new(params: ElectionParams) -> Self {
        Self::with_model(params, ClusterModel::PAPER)
    }

    /// The same experiment on another cluster (for calibration and what-if questions).
    pub fn with_model(params: ElectionParams, model: ClusterModel) -> Self {
        ElectionExperiment {
            samples_ms: Vec::with_capacity(params.trials.min(100_000) as usize),
            params,
            model,
        }
    }

    /// Runs up to `k` more trials; returns how many it ran.
    pub fn run_trials(&mut self, k: u32) -> u32 {
        let total = self.params.clamped().trials;
        let start = self.samples_ms.len() as u32;
        let end = start.saturating_add(k).min(total);
        for t in start..end {
            let o = run_trial(&self.params, &self.model, t);
            self.samples_ms
                .push(o.time_without_leader_us as f64 / 1_000.0);
        }
        end - start
    }

    /// Trials done and trials planned.
    pub fn progress(&self) -> (u32, u32) {
        (self.samples_ms.len() as u32, self.params.clamped().trials)
    }

    pub fn is_finished(&self) -> bool {
        let (done, total) = self.progress();
        done >= total
    }

    /// The summary of the trials run so far.
    pub fn result(&self) -> ElectionResult {
        ElectionResult::from_samples(self.samples_ms.clone())
    }
}

/// The cluster's size, as the Raft experiments take it.
pub const SERVERS_PARAM: ParamSpec = ParamSpec {
    key: "nodes",
    label: "Servers",
    help: "How many servers the cluster has",
    kind: ParamKind::Int { min: 3, max: 9 },
    default: "5",
};

pub use crate::labs::experiment::SEED_PARAM;

/// The experiment as the registry lists it (`dsplay experiment raft-election`, the page's
/// experiment panel).
pub static ELECTION: ExperimentSpec = ExperimentSpec {
    id: "raft-election",
    title: "Election experiment (Raft paper §9.3, Figure 16)",
    summary: "The leader of a cluster crashes, and we time until a new one is heard by all. \
              Each trial is a real run of this Raft; the paper's quantiles are drawn beside ours.",
    params: &[
        SERVERS_PARAM,
        ParamSpec {
            key: "timeout-ms",
            label: "Election timeout",
            help: "The range election timeouts are drawn from (the paper's ranges have its data beside)",
            kind: ParamKind::DurationRange {
                min_us: 2_000,
                max_us: 60_000_000,
            },
            default: "150..300ms",
        },
        ParamSpec {
            key: "trials",
            label: "Trials",
            help: "How many leader crashes to time",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "1000",
        },
        SEED_PARAM,
    ],
    lists: &[],
    start: start_election,
};

/// Reads the registry's values into [`ElectionParams`].
pub fn election_params(v: &Values) -> Result<ElectionParams, String> {
    let get = |k: &str| v.get(k).map(String::as_str).unwrap_or_default();
    let whole = |k: &str| -> Result<u64, String> {
        get(k)
            .parse()
            .map_err(|_| format!("'{k}' must be a whole number"))
    };
    let (lo_us, hi_us) = crate::labs::parse_range(get("timeout-ms"))?;
    if lo_us % 1_000 != 0 || hi_us % 1_000 != 0 {
        return Err("the election timeout must be whole milliseconds".into());
    }
    let p = ElectionParams {
        nodes: whole("nodes")? as u32,
        timeout_min_ms: lo_us / 1_000,
        timeout_max_ms: hi_us / 1_000,
        trials: whole("trials")? as u32,
        seed: whole("seed")?,
    };
    p.validate()?;
    Ok(p)
}

fn start_election(v: &Values) -> Result<Box<dyn Trials>, String> {
    Ok(Box::new(ElectionExperiment::new(election_params(v)?)))
}

impl Trials for ElectionExperiment {
    fn run(&mut self, k: u32) -> u32 {
        self.run_trials(k)
    }
    fn progress(&self) -> (u32, u32) {
        ElectionExperiment::progress(self)
    }
    fn report(&self) -> Report {
        let r = self.result();
        let p = &self.params;
        let ms = |v: f64| crate::sim::time::fixed(v, 1);
        let mut series = vec![Series {
            name: "dsplay".into(),
            style: SeriesStyle::Steps,
            points: paper::cdf(&r.samples_ms),
            reference: false,
            colour: None,
        }];
        let paper_row = paper::fig16(p.timeout_min_ms, p.timeout_max_ms);
        if let Some(row) = paper_row {
            series.push(Series {
                name: "the paper (Figure 16)".into(),
                style: SeriesStyle::Dots,
                points: row.quantiles.iter().map(|(q, ms)| (*ms, *q)).collect(),
                reference: true,
                colour: None,
            });
        }
        Report {
            summary: format!(
                "Raft election, {} servers, election timeout {}..{} ms, {} trials (seed {})\n  \
                 time without a leader: mean {} ms, median {} ms, p90 {} ms, p99 {} ms, max {} ms",
                p.nodes,
                p.timeout_min_ms,
                p.timeout_max_ms,
                r.trials,
                p.seed,
                ms(r.mean_ms),
                ms(r.p50_ms),
                ms(r.p90_ms),
                ms(r.p99_ms),
                ms(r.max_ms)
            ),
            charts: vec![Chart {
                title: "Time without a leader".into(),
                x_label: "ms after the leader crashed".into(),
                y_label: "fraction of trials".into(),
                // Linear over a narrow range of timeouts, logarithmic over a wide one.
                x_scale: AxisScale::Auto,
                y_scale: AxisScale::Linear,
                series,
                caption: match paper_row {
                    Some(row) => format!("The paper measured {} trials of this range.", row.trials),
                    None => "The paper did not measure this range.".into(),
                },
                cursor_x: None,
            }],
            tables: vec![election_table(&r, p, paper_row)],
            // A trial starts from a prepared cluster (logs, a synchronised heartbeat), not
            // from a lab scenario: none is a link.
            links: Vec::new(),
            json: crate::labs::experiment::report_json(|| {
                serde_json::to_value(&r).unwrap_or_default()
            }),
        }
    }
}

/// Our figures beside the paper's, in milliseconds.
fn election_table(
    r: &ElectionResult,
    p: &ElectionParams,
    paper_row: Option<&paper::PaperRange>,
) -> crate::viz::Panel {
    use crate::viz::{Cell, Panel};
    let ms = |v: f64| Cell::plain(crate::viz::chart::fmt_ms(v));
    let rows = [
        ("median", r.p50_ms, paper_row.map(|p| p.quantiles[3].1)),
        ("p90", r.p90_ms, paper_row.map(|p| p.quantiles[5].1)),
        ("mean", r.mean_ms, paper_row.map(|p| p.mean_ms)),
        ("max", r.max_ms, paper_row.map(|p| p.quantiles[8].1)),
    ];
    let mut columns = vec!["ms".to_string(), "dsplay".to_string()];
    if paper_row.is_some() {
        columns.push("paper".into());
    }
    Panel {
        title: "Time without a leader, ms: dsplay and the paper".into(),
        columns,
        rows: rows
            .iter()
            .map(|(name, ours, paper)| {
                let mut row = vec![Cell::plain(*name), ms(*ours)];
                row.extend(paper.map(ms));
                row
            })
            .collect(),
        caption: format!(
            "{} trials of {}–{} ms, seed {}; {}",
            r.trials,
            p.timeout_min_ms,
            p.timeout_max_ms,
            p.seed,
            match paper_row {
                Some(row) => format!("the paper measured {} trials.", row.trials),
                None => "the paper did not measure this range.".into(),
            }
        ),
    }
}

/// Runs every trial and summarises them. Out-of-range parameters are clamped (3 to 9 nodes,
/// timeouts from 2 ms to 60 s, at most a million trials); call [`ElectionParams::validate`]
/// first to refuse them instead.
pub fn election_experiment(p: &ElectionParams) -> ElectionResult {
    let mut e = ElectionExperiment::new(p.clone());
    e.run_trials(u32::MAX);
    e.result()
}

/// The paper's published numbers (`refdata/raft/fig16_summary_extracted.csv`), read from
/// `DSPLAY_REFDATA` or `../shared/refdata` next to the crate. Native only.
#[cfg(not(target_arch = "wasm32"))]
pub mod reference {
    use std::path::PathBuf;

    /// One row of the paper's Figure 16 summary (milliseconds).
    #[derive(Clone, Debug, PartialEq)]
    pub struct PaperRow {
        pub figure: String,
        pub timeout_min_ms: u64,
        pub timeout_max_ms: u64,
        pub trials: u32,
        pub min_ms: f64,
        pub p50_ms: f64,
        pub mean_ms: f64,
        pub p90_ms: f64,
        pub p99_ms: f64,
        pub max_ms: f64,
    }

    /// Where the reference data lives.
    pub fn refdata_dir() -> PathBuf {
        match std::env::var_os("DSPLAY_REFDATA") {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/refdata"),
        }
    }

    fn parse_range(text: &str) -> Option<(u64, u64)> {
        let (a, b) = text.strip_suffix("ms")?.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    }

    /// The Figure 16 summary rows; an error names the missing or bad file.
    pub fn fig16_summary() -> Result<Vec<PaperRow>, String> {
        let path = refdata_dir().join("raft/fig16_summary_extracted.csv");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "the paper's reference data is missing ({}: {e})",
                path.display()
            )
        })?;
        let mut rows = Vec::new();
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || format!("{}: bad line '{line}'", path.display());
            if f.len() < 13 {
                return Err(bad());
            }
            let num = |i: usize| f[i].trim().parse::<f64>().map_err(|_| bad());
            let (lo, hi) = parse_range(f[1].trim()).ok_or_else(bad)?;
            rows.push(PaperRow {
                figure: f[0].to_string(),
                timeout_min_ms: lo,
                timeout_max_ms: hi,
                trials: f[2].trim().parse().map_err(|_| bad())?,
                min_ms: num(3)?,
                p50_ms: num(6)?,
                mean_ms: num(7)?,
                p90_ms: num(9)?,
                p99_ms: num(10)?,
                max_ms: num(12)?,
            });
        }
        Ok(rows)
    }
}
