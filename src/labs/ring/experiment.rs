//! The partitioning experiments, at sizes beyond the lab's (up to 1,000 servers and
//! 10,000,000 keys):
//!
//! - `ring-balance`: keys per server under one algorithm, as standard deviation, most and
//!   99th percentile over the mean (for the ring, beside the theory sqrt((N-1)/(kN+1))).
//! - `ring-move`: the fraction of keys that move when servers are added or removed, beside the
//!   least that must move, and the fraction moved between two servers that both stayed.
//! - `ring-vnodes`: balance against virtual nodes per server, 1 to 1,000, for every algorithm
//!   on one chart, with the theory's curve.
//!
//! Trial `t` hashes other names (a salt derived from the seed and `t`), so trials are
//! independent rings over independent keys.

use super::hash;
use super::placement::{
    balance, ideal_fraction, Algorithm, Balance, Member, Placement, Setup, ALGORITHMS, NAMES,
};
use crate::labs::experiment::{
    report_json, trial_seed, AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle, Trials,
    Values, SEED_PARAM,
};
use crate::labs::{Canonical, ParamKind, ParamSpec};
use crate::sim::time::fixed;

const ALGORITHM: ParamSpec = ParamSpec {
    key: "algorithm",
    label: "Algorithm",
    help: "mod-n, ring, jump, rendezvous, maglev or bounded",
    kind: ParamKind::Choice { options: NAMES },
    default: "ring",
};

const fn servers(default: &'static str) -> ParamSpec {
    ParamSpec {
        key: "servers",
        label: "Servers",
        help: "Servers in the cluster",
        kind: ParamKind::Int { min: 1, max: 1_000 },
        default,
    }
}

const VNODES_PARAM: ParamSpec = ParamSpec {
    key: "vnodes",
    label: "Virtual nodes",
    help: "Points per server on the ring (ring and bounded loads)",
    kind: ParamKind::Int { min: 1, max: 1_000 },
    default: "100",
};

const fn keys(default: &'static str) -> ParamSpec {
    ParamSpec {
        key: "keys",
        label: "Keys",
        help: "Keys placed in each trial",
        kind: ParamKind::Int {
            min: 1,
            max: 10_000_000,
        },
        default,
    }
}

const EPS: ParamSpec = ParamSpec {
    key: "eps",
    label: "Bounded-load ε",
    help: "Bounded loads: no server above (1 + ε) × the mean",
    kind: ParamKind::Fraction {
        min_ppm: 0,
        max_ppm: 2_000_000,
    },
    default: "0.25",
};

const TABLE: ParamSpec = ParamSpec {
    key: "table",
    label: "Maglev table size",
    help: "Slots in Maglev's table: a prime above the number of servers",
    kind: ParamKind::Text {
        canonical: Canonical(prime_text),
        form: "a prime from 7 to 10,000,019",
    },
    default: "65537",
};

const fn trials(default: &'static str) -> ParamSpec {
    ParamSpec {
        key: "trials",
        label: "Trials",
        help: "Independent rings (other server and key names), averaged",
        kind: ParamKind::Int { min: 1, max: 1_000 },
        default,
    }
}

fn prime_text(t: &str) -> Result<String, String> {
    let p: u32 = t
        .trim()
        .parse()
        .map_err(|_| format!("'{t}' is not a whole number"))?;
    if super::is_prime(p) && (7..=10_000_019).contains(&p) {
        Ok(p.to_string())
    } else {
        Err(format!("{p} is not a prime from 7 to 10,000,019"))
    }
}

pub static BALANCE: ExperimentSpec = ExperimentSpec {
    id: "ring-balance",
    title: "Balance: keys per server",
    summary: "Places the keys on the servers and measures how unevenly they spread: the standard deviation, \
              the most and the 99th percentile of keys per server, over the mean. For the ring, the theory's \
              sqrt((N − 1)/(kN + 1)) is beside.",
    params: &[ALGORITHM, servers("100"), VNODES_PARAM, keys("1000000"), EPS, TABLE, trials("3"), SEED_PARAM],
    lists: &[],
    start: |v| Ok(Box::new(BalanceRun::new(v)?)),
};

pub static MOVE: ExperimentSpec = ExperimentSpec {
    id: "ring-move",
    title: "Moved keys: adding and removing servers",
    summary: "Adds or removes servers and counts the keys whose owner changed, beside the least that must \
              move (1/(n + 1) for one server added to n) and the keys moved between two servers that both stayed.",
    params: &[
        ALGORITHM,
        servers("10"),
        ParamSpec {
            key: "add",
            label: "Servers added",
            help: "Servers that join (after the others in id order)",
            kind: ParamKind::Int { min: 0, max: 1_000 },
            default: "1",
        },
        ParamSpec {
            key: "remove",
            label: "Servers removed",
            help: "Servers that leave",
            kind: ParamKind::Int { min: 0, max: 999 },
            default: "0",
        },
        ParamSpec {
            key: "removed",
            label: "Which leave",
            help: "middle: servers from the middle of the id order; last: the last ones (jump hash can only remove the last bucket)",
            kind: ParamKind::Choice { options: &["middle", "last"] },
            default: "middle",
        },
        VNODES_PARAM,
        keys("1000000"),
        EPS,
        TABLE,
        trials("3"),
        SEED_PARAM,
    ],
    lists: &[],
    start: |v| Ok(Box::new(MoveRun::new(v)?)),
};

pub static VNODES: ExperimentSpec = ExperimentSpec {
    id: "ring-vnodes",
    title: "Balance against virtual nodes",
    summary: "Standard deviation of keys per server over the mean, for 1 to 1,000 virtual nodes per server, \
              every algorithm on one chart (those without virtual nodes are flat), with the ring's theory.",
    params: &[servers("100"), keys("100000"), EPS, trials("2"), SEED_PARAM],
    lists: &[],
    start: |v| Ok(Box::new(CurveRun::new(v)?)),
};

fn get<'a>(v: &'a Values, k: &str) -> &'a str {
    v.get(k).map(String::as_str).unwrap_or_default()
}

fn whole(v: &Values, k: &str) -> Result<u64, String> {
    get(v, k)
        .parse()
        .map_err(|_| format!("'{k}' must be a whole number"))
}

/// Runs up to `k` more of `planned` trials, trial `t` with its salt (the trial seed); returns
/// how many ran.
fn run_trials(done: &mut u32, planned: u32, k: u32, seed: u64, mut trial: impl FnMut(u64)) -> u32 {
    let todo = k.min(planned - *done);
    for _ in 0..todo {
        trial(trial_seed(seed, *done));
        *done += 1;
    }
    todo
}

fn members(ids: impl Iterator<Item = u32>) -> Vec<Member> {
    ids.map(|id| Member { id, weight: 1 }).collect()
}

fn setup(v: &Values, algorithm: Algorithm) -> Result<Setup, String> {
    Ok(Setup {
        algorithm,
        vnodes: whole(v, "vnodes").unwrap_or(100) as u32,
        table: whole(v, "table").unwrap_or(65_537) as u32,
        eps_ppm: crate::labs::parse_fraction_ppm(get(v, "eps")).unwrap_or(250_000),
        salt: 0,
    })
}

fn algorithm(v: &Values) -> Result<Algorithm, String> {
    Algorithm::parse(get(v, "algorithm"))
        .ok_or_else(|| format!("no algorithm '{}'", get(v, "algorithm")))
}

fn check_table(s: &Setup, servers: u64) -> Result<(), String> {
    if s.algorithm == Algorithm::Maglev && s.table as u64 <= servers {
        return Err(format!(
            "Maglev's table ({} slots) must be larger than the number of servers ({servers})",
            s.table
        ));
    }
    Ok(())
}

/// Keys per member of `p` for `m` keys of trial salt `salt`.
fn key_loads(p: &Placement, m: u64, salt: u64) -> Vec<u64> {
    let mut load = vec![0u64; p.n()];
    if p.setup.algorithm == Algorithm::Bounded {
        let owners = p.assign(m, &|i| hash::key(salt, i));
        let index = |id: u32| p.members.binary_search_by_key(&id, |x| x.id).unwrap_or(0);
        for o in owners {
            load[index(o)] += 1;
        }
    } else {
        for i in 0..m {
            if let Some(o) = p.owner_index(hash::key(salt, i)) {
                load[o] += 1;
            }
        }
    }
    load
}

/// Means of balance figures over trials.
#[derive(Clone, Copy, Debug, Default)]
struct Mean {
    n: u32,
    sd: f64,
    max: f64,
    p99: f64,
    mean: f64,
}

impl Mean {
    fn add(&mut self, b: Balance) {
        self.n += 1;
        self.sd += b.stddev_over_mean;
        self.max += b.max_over_mean;
        self.p99 += b.p99_over_mean;
        self.mean += b.mean;
    }
    fn get(&self) -> Balance {
        let d = self.n.max(1) as f64;
        Balance {
            mean: self.mean / d,
            stddev_over_mean: self.sd / d,
            max_over_mean: self.max / d,
            p99_over_mean: self.p99 / d,
        }
    }
}

fn pct(x: f64) -> String {
    format!("{}%", fixed(x * 100.0, 2))
}

// ----- ring-balance ----------------------------------------------------------------------

struct BalanceRun {
    setup: Setup,
    servers: u32,
    keys: u64,
    trials: u32,
    seed: u64,
    done: u32,
    mean: Mean,
    last: Vec<u64>,
}

impl BalanceRun {
    fn new(v: &Values) -> Result<BalanceRun, String> {
        let setup = setup(v, algorithm(v)?)?;
        let servers = whole(v, "servers")? as u32;
        check_table(&setup, servers as u64)?;
        Ok(BalanceRun {
            setup,
            servers,
            keys: whole(v, "keys")?,
            trials: whole(v, "trials")? as u32,
            seed: whole(v, "seed")?,
            done: 0,
            mean: Mean::default(),
            last: Vec::new(),
        })
    }
}

impl Trials for BalanceRun {
    fn run(&mut self, k: u32) -> u32 {
        let (setup, servers, keys) = (self.setup, self.servers, self.keys);
        let (mean, last) = (&mut self.mean, &mut self.last);
        run_trials(&mut self.done, self.trials, k, self.seed, |salt| {
            let p = Placement::new(Setup { salt, ..setup }, &members(1..=servers));
            let load = key_loads(&p, keys, salt);
            mean.add(balance(&load));
            *last = load;
        })
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let b = self.mean.get();
        let a = self.setup.algorithm;
        let theory = a
            .has_ring()
            .then(|| super::placement::ring_theory(self.servers as f64, self.setup.vnodes as f64));
        let mut summary = format!(
            "{}, {} servers{}, {} keys: standard deviation {} of the mean{}, the most {} × the mean, 99th percentile {} × ({})",
            a.name(),
            self.servers,
            if a.has_ring() { format!(" × {} points", self.setup.vnodes) } else { String::new() },
            self.keys,
            pct(b.stddev_over_mean),
            theory.map_or(String::new(), |t| format!(" (theory {})", pct(t))),
            fixed(b.max_over_mean, 3),
            fixed(b.p99_over_mean, 3),
            super::stage::plural(self.done as u64, "trial")
        );
        if a == Algorithm::Ring && self.keys < 100 * self.servers as u64 {
            summary.push_str("; with few keys per server, sampling adds its own spread");
        }
        let mut sorted = self.last.clone();
        crate::sim::order::sort_by(&mut sorted, |x, y| y.cmp(x));
        let chart = Chart {
            title: "Keys per server, most to least (the last trial)".into(),
            x_label: "servers, by load".into(),
            y_label: "keys".into(),
            x_scale: AxisScale::Linear,
            y_scale: AxisScale::Linear,
            series: vec![
                Series {
                    name: "keys".into(),
                    style: SeriesStyle::Bars,
                    points: sorted
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (i as f64 + 1.0, *l as f64))
                        .collect(),
                    reference: false,
                    colour: Some(0),
                },
                Series {
                    name: "mean".into(),
                    style: SeriesStyle::Line,
                    points: vec![(1.0, b.mean), (sorted.len().max(1) as f64, b.mean)],
                    reference: true,
                    colour: None,
                },
            ],
            caption: "An even spread is a flat row of bars at the mean.".into(),
            cursor_x: None,
        };
        let (servers, keys) = (self.servers, self.keys);
        Report {
            summary,
            charts: vec![chart],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "algorithm": a.name(), "servers": servers, "keys": keys,
                    "vnodes": self.setup.vnodes, "trials": self.done,
                    "mean": b.mean, "stddev_over_mean": b.stddev_over_mean,
                    "max_over_mean": b.max_over_mean, "p99_over_mean": b.p99_over_mean,
                    "theory_stddev_over_mean": theory,
                })
            }),
        }
    }
}

// ----- ring-move -------------------------------------------------------------------------

struct MoveRun {
    setup: Setup,
    before: Vec<Member>,
    after: Vec<Member>,
    keys: u64,
    trials: u32,
    seed: u64,
    done: u32,
    moved: f64,
    between: f64,
    /// Each trial's moved fraction.
    per_trial: Vec<f64>,
}

impl MoveRun {
    fn new(v: &Values) -> Result<MoveRun, String> {
        let setup = setup(v, algorithm(v)?)?;
        let n = whole(v, "servers")? as u32;
        let (add, remove) = (whole(v, "add")? as u32, whole(v, "remove")? as u32);
        if remove >= n {
            return Err(format!("removing {remove} of {n} servers would leave none"));
        }
        if add == 0 && remove == 0 {
            return Err("add or remove at least one server".into());
        }
        let before = members(1..=n);
        let gone: Vec<u32> = match get(v, "removed") {
            "last" => (n - remove + 1..=n).collect(),
            _ => {
                let start = (n - remove) / 2 + 1;
                (start..start + remove).collect()
            }
        };
        let after = members((1..=n + add).filter(|id| !gone.contains(id)));
        check_table(&setup, (n + add) as u64)?;
        Ok(MoveRun {
            setup,
            before,
            after,
            keys: whole(v, "keys")?,
            trials: whole(v, "trials")? as u32,
            seed: whole(v, "seed")?,
            done: 0,
            moved: 0.0,
            between: 0.0,
            per_trial: Vec::new(),
        })
    }

    /// One trial: (moved, moved between two servers that both stayed), as fractions.
    fn trial(&self, salt: u64) -> (f64, f64) {
        let s = Setup { salt, ..self.setup };
        let (a, b) = (
            Placement::new(s, &self.before),
            Placement::new(s, &self.after),
        );
        let old = |id: u32| self.before.iter().any(|m| m.id == id);
        let stayed = |id: u32| old(id) && self.after.iter().any(|m| m.id == id);
        let (mut moved, mut between) = (0u64, 0u64);
        let mut count = |x: u32, y: u32| {
            if x != y {
                moved += 1;
                if stayed(x) && stayed(y) {
                    between += 1;
                }
            }
        };
        if s.algorithm == Algorithm::Bounded {
            let hash_of = |i| hash::key(salt, i);
            let (oa, ob) = (a.assign(self.keys, &hash_of), b.assign(self.keys, &hash_of));
            oa.iter().zip(&ob).for_each(|(x, y)| count(*x, *y));
        } else {
            for i in 0..self.keys {
                let h = hash::key(salt, i);
                count(a.owner(h).unwrap_or(0), b.owner(h).unwrap_or(0));
            }
        }
        let m = self.keys.max(1) as f64;
        (moved as f64 / m, between as f64 / m)
    }
}

impl Trials for MoveRun {
    fn run(&mut self, k: u32) -> u32 {
        let (mut done, planned, seed) = (self.done, self.trials, self.seed);
        let ran = run_trials(&mut done, planned, k, seed, |salt| {
            let (m, b) = self.trial(salt);
            self.moved += m;
            self.between += b;
            self.per_trial.push(m);
        });
        self.done = done;
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let d = self.done.max(1) as f64;
        let (moved, between) = (self.moved / d, self.between / d);
        let ideal = ideal_fraction(self.setup.algorithm, &self.before, &self.after);
        let summary = format!(
            "{}, {} → {} servers, {} keys: {} of the keys moved (an even split of the servers moves {}); {} moved between two servers that both stayed ({})",
            self.setup.algorithm.name(),
            self.before.len(),
            self.after.len(),
            self.keys,
            pct(moved),
            pct(ideal),
            pct(between),
            super::stage::plural(self.done as u64, "trial")
        );
        let last = self.per_trial.len().max(1) as f64;
        let chart = Chart {
            title: "Keys moved, trial by trial".into(),
            x_label: "trial".into(),
            y_label: "fraction of the keys moved".into(),
            x_scale: AxisScale::Linear,
            y_scale: AxisScale::Linear,
            series: vec![
                Series {
                    name: "moved".into(),
                    style: SeriesStyle::Bars,
                    points: self
                        .per_trial
                        .iter()
                        .enumerate()
                        .map(|(i, m)| (i as f64 + 1.0, *m))
                        .collect(),
                    reference: false,
                    colour: Some(0),
                },
                Series {
                    name: "an even split".into(),
                    style: SeriesStyle::Line,
                    points: vec![(0.5, ideal), (last + 0.5, ideal)],
                    reference: true,
                    colour: None,
                },
            ],
            caption:
                "Consistent schemes stay near what an even split of the servers moves (a server's actual share varies); mod-N moves nearly everything."
                    .into(),
            cursor_x: None,
        };
        Report {
            summary,
            charts: vec![chart],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                serde_json::json!({
                    "algorithm": self.setup.algorithm.name(),
                    "servers_before": self.before.len(), "servers_after": self.after.len(),
                    "keys": self.keys, "trials": self.done,
                    "moved_fraction": moved, "ideal_fraction": ideal,
                    "moved_between_survivors_fraction": between,
                })
            }),
        }
    }
}

// ----- ring-vnodes -----------------------------------------------------------------------

/// The virtual-node counts the curve measures.
pub const KS: [u32; 10] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000];

struct CurveRun {
    servers: u32,
    keys: u64,
    eps_ppm: u32,
    trials: u32,
    seed: u64,
    done: u32,
    /// Sums of standard deviation over mean: per algorithm, per k.
    sums: Vec<[f64; KS.len()]>,
}

impl CurveRun {
    fn new(v: &Values) -> Result<CurveRun, String> {
        Ok(CurveRun {
            servers: whole(v, "servers")? as u32,
            keys: whole(v, "keys")?,
            eps_ppm: crate::labs::parse_fraction_ppm(get(v, "eps")).unwrap_or(250_000),
            trials: whole(v, "trials")? as u32,
            seed: whole(v, "seed")?,
            done: 0,
            sums: vec![[0.0; KS.len()]; ALGORITHMS.len()],
        })
    }

    fn trial(&mut self, salt: u64) {
        let ms = members(1..=self.servers);
        for (ai, &a) in ALGORITHMS.iter().enumerate() {
            let mut flat = None;
            for (ki, &k) in KS.iter().enumerate() {
                let sd = match flat {
                    Some(sd) => sd,
                    None => {
                        // The paper's table size: larger than any cluster here.
                        let s = Setup {
                            algorithm: a,
                            vnodes: k,
                            table: 65_537,
                            eps_ppm: self.eps_ppm,
                            salt,
                        };
                        balance(&key_loads(&Placement::new(s, &ms), self.keys, salt))
                            .stddev_over_mean
                    }
                };
                if !a.has_ring() {
                    flat = Some(sd);
                }
                self.sums[ai][ki] += sd;
            }
        }
    }
}

impl Trials for CurveRun {
    fn run(&mut self, k: u32) -> u32 {
        let (mut done, planned, seed) = (self.done, self.trials, self.seed);
        let ran = run_trials(&mut done, planned, k, seed, |salt| self.trial(salt));
        self.done = done;
        ran
    }

    fn progress(&self) -> (u32, u32) {
        (self.done, self.trials)
    }

    fn report(&self) -> Report {
        let d = self.done.max(1) as f64;
        let n = self.servers as f64;
        let mut series: Vec<Series> = ALGORITHMS
            .iter()
            .enumerate()
            .map(|(ai, a)| Series {
                name: a.name().into(),
                style: SeriesStyle::Line,
                points: KS
                    .iter()
                    .zip(&self.sums[ai])
                    .map(|(k, s)| (*k as f64, (s / d).max(1e-6)))
                    .collect(),
                reference: false,
                // Distinct colours: the ring orange, bounded loads black, Maglev (on the floor) yellow.
                colour: Some([0, 1, 2, 3, 6, 7][ai]),
            })
            .collect();
        series.push(Series {
            name: "theory sqrt((N−1)/(kN+1))".into(),
            style: SeriesStyle::Line,
            points: KS
                .iter()
                .map(|&k| (k as f64, super::placement::ring_theory(n, k as f64)))
                .collect(),
            reference: true,
            colour: Some(5),
        });
        let floor = f64::sqrt(n / self.keys.max(1) as f64);
        series.push(Series {
            name: "sampling floor sqrt(N/m)".into(),
            style: SeriesStyle::Line,
            points: vec![(1.0, floor), (1_000.0, floor)],
            reference: true,
            colour: Some(4),
        });
        let ring_at = |k: usize| self.sums[1][k] / d;
        let summary = format!(
            "{} servers, {} keys: the ring's standard deviation over the mean is {} with 1 point per server, {} with 100 and {} with 1,000; jump hash {} ({})",
            self.servers,
            self.keys,
            pct(ring_at(0)),
            pct(ring_at(6)),
            pct(ring_at(9)),
            pct(self.sums[2][0] / d),
            super::stage::plural(self.done as u64, "trial")
        );
        let sums = self.sums.clone();
        Report {
            summary,
            charts: vec![Chart {
                title: "Balance against virtual nodes".into(),
                x_label: "virtual nodes per server (k)".into(),
                y_label: "standard deviation / mean of keys per server".into(),
                x_scale: AxisScale::Log,
                y_scale: AxisScale::Log,
                series,
                caption: "Only the ring and bounded loads have virtual nodes; the others are flat lines. Below the sampling \
                          floor no placement can go: it is the spread of a finite number of keys."
                    .into(),
                cursor_x: None,
            }],
            tables: Vec::new(),
            links: Vec::new(),
            json: report_json(|| {
                let by: serde_json::Map<String, serde_json::Value> = ALGORITHMS
                    .iter()
                    .enumerate()
                    .map(|(ai, a)| (a.name().to_string(), serde_json::json!(sums[ai].iter().map(|s| s / d).collect::<Vec<f64>>())))
                    .collect();
                serde_json::json!({"servers": self.servers, "keys": self.keys, "k": KS, "stddev_over_mean": by})
            }),
        }
    }
}
