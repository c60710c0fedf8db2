//! Hunting for counterexamples: many seeds of one link, each with faults drawn from its seed,
//! every property checked, each failure shrunk to a small link that replays it.
//!
//! Seed k of a sweep is derived from the link's seed and k. Its faults (swarm testing: which
//! kinds are switched on, how often, where) come from that seed alone and are written into the
//! run's script, so every reported link replays on its own. The faulty phase takes the first
//! two thirds of the run; then everything heals (links, loss, duplication, latency, crashed
//! nodes), and liveness properties are judged only on what they owe after the heal.

use crate::labs;
use crate::scenario::{link, Scenario};
use crate::sim::command::{Action, Command};
use crate::sim::net::{Dist, NetSetting};
use crate::sim::rng::{Rng, Stream};
use crate::sim::time::Instant;
use crate::sim::PropKind;
use std::str::FromStr;

/// How hard the faults come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Faults {
    None,
    Light,
    Default,
    Heavy,
}

impl FromStr for Faults {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Faults::None),
            "light" => Ok(Faults::Light),
            "default" => Ok(Faults::Default),
            "heavy" => Ok(Faults::Heavy),
            _ => Err(format!(
                "unknown fault profile '{s}'; expected none, light, default or heavy"
            )),
        }
    }
}

impl Faults {
    /// How many interventions a seed's faulty phase holds, at least and at most.
    fn interventions(self) -> (u64, u64) {
        match self {
            Faults::None => (0, 0),
            Faults::Light => (1, 5),
            Faults::Default => (4, 16),
            Faults::Heavy => (12, 40),
        }
    }

    /// The worst loss or duplication a burst sets, in parts per million.
    fn burst_max_ppm(self) -> u64 {
        match self {
            Faults::Heavy => 500_000,
            _ => 200_000,
        }
    }
}

/// A property that failed: which, when, on which run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub seed: u64,
    pub property: String,
    pub at_us: u64,
    /// The shrunk run, opening at the moment of the violation.
    pub link: String,
    /// The run as the sweep drew it.
    pub original_link: String,
    /// Interventions in the script before and after shrinking (the heal's included).
    pub script_before: usize,
    pub script_after: usize,
    /// Whether it was shrunk (the first [`SHRUNK_PER_PROPERTY`] of each property are).
    pub shrunk: bool,
}

/// What a sweep found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepReport {
    pub seeds: u64,
    pub violations: Vec<Violation>,
    /// Events simulated over every seed (shrinking not counted).
    pub events: u64,
    /// Seeds that made too many events to finish (a run that never settles).
    pub unfinished: u64,
}

/// The seed of run `k` of a sweep of a link with seed `base` (SplitMix64 of the pair, cut to
/// 32 bits so that links stay short).
pub fn seed_of(base: u64, k: u64) -> u64 {
    let mut z = base.wrapping_add(k.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 32
}

/// When the faulty phase of a run ending at `until_us` heals.
pub fn heal_at_us(until_us: u64) -> u64 {
    until_us / 3 * 2
}

/// Run `k` of a sweep of `base`: its own seed, and faults from that seed before the heal.
pub fn faulty_run(base: &Scenario, k: u64, faults: Faults, until_us: u64) -> Scenario {
    let mut s = base.clone();
    s.seed = seed_of(base.seed, k);
    s.cursor_us = None;
    let heal_us = heal_at_us(until_us);
    let mut r = Rng::new(s.seed, Stream::Faults);
    let (lo, hi) = faults.interventions();
    let nodes = world_nodes(&s);
    if hi > 0 && nodes > 0 {
        // Swarm testing: each seed switches on its own subset of the fault kinds.
        let kinds: Vec<u64> = (0..KINDS)
            .filter(|_| r.range_inclusive(0, 1) == 1)
            .collect();
        let kinds = if kinds.is_empty() {
            vec![r.range_inclusive(0, KINDS - 1)]
        } else {
            kinds
        };
        let mut times: Vec<u64> = (0..r.range_inclusive(lo, hi))
            .map(|_| r.range_inclusive(heal_us / 20, heal_us.saturating_sub(1)))
            .collect();
        times.sort_unstable();
        for at_us in times {
            let kind = kinds[r.index(kinds.len())];
            let commands = match kind {
                RESTART => crashed_at(&s, at_us)
                    .map(|node| vec![Command::new(at_us, Action::Restart { node })])
                    .unwrap_or_default(),
                LEADER_CRASH | LEADER_CUT => leader_faults(&mut r, kind, &s, at_us, heal_us),
                _ => vec![Command::new(
                    at_us,
                    fault(&mut r, kind, nodes, faults, &s.net.latency),
                )],
            };
            s.script.extend(commands);
            s.script.sort_by_key(|c| c.at_us);
        }
    }
    s.script.extend(heal(&s, heal_us));
    // The shared sort: a sort of its own would add kilobytes to the download.
    crate::sim::order::sort_by_key(&mut s.script, |c| c.at_us);
    s
}

/// Fault kinds: partition, one-way cut, crash, restart (of a crashed node), loss burst,
/// duplication burst, latency spike, heal, the leader's crash (and restart soon after), the
/// leader cut off. The last two look at the run so far (who leads at that instant) and write
/// the node they chose into the script, so the run still replays from its link alone: they
/// make the rarer sequences, such as Figure 8's crashes and re-elections of leaders in quick
/// succession, common enough to find.
const KINDS: u64 = 10;
const RESTART: u64 = 3;
const LEADER_CRASH: u64 = 8;
const LEADER_CUT: u64 = 9;

/// Every node of the run's world: a lab whose world has more nodes than the link's `n` (the
/// queue's broker and producers, the ring's coordinator and spares) has its faults among all
/// of them.
fn world_nodes(s: &Scenario) -> u32 {
    labs::find(&s.lab).map_or(s.n, |lab| (lab.world_nodes)(s))
}

/// A node crashed before `at_us` (and not restarted since), if any: the latest crashed.
fn crashed_at(s: &Scenario, at_us: u64) -> Option<u32> {
    let mut down: Vec<u32> = Vec::new();
    for c in s.script.iter().take_while(|c| c.at_us <= at_us) {
        match c.action {
            Action::Crash { node } if !down.contains(&node) => down.push(node),
            Action::Restart { node } => down.retain(|&d| d != node),
            _ => {}
        }
    }
    down.last().copied()
}

/// The newest leader at `at_us` of the run `s` scripts so far (the node that says "leader"
/// with the highest term), or a node drawn at random when none leads or the lab has none.
fn leader_at(r: &mut Rng, s: &Scenario, at_us: u64) -> u32 {
    let nodes = world_nodes(s);
    let drawn = r.index(nodes as usize) as u32;
    let Ok(mut sim) = labs::build_unpaced(s) else {
        return drawn;
    };
    sim.forget_clocks();
    sim.run_until_within(Instant(at_us), labs::REPLAY_EVENT_BUDGET);
    let term = |role: &str| -> u64 {
        role.rsplit("term ")
            .next()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    sim.nodes()
        .into_iter()
        .filter(|v| v.up && v.id < nodes && v.role.starts_with("leader"))
        .max_by_key(|v| (term(&v.role), v.id))
        .map_or(drawn, |v| v.id)
}

/// A burst of one to three leader faults 0.3 to 1.5 s apart, each aimed at whoever leads by
/// then (the first of kind `kind`, the others of either kind).
fn leader_faults(r: &mut Rng, kind: u64, s: &Scenario, at_us: u64, heal_us: u64) -> Vec<Command> {
    let mut run = s.clone();
    let mut cmds = Vec::new();
    let (mut kind, mut t_us) = (kind, at_us);
    for _ in 0..r.range_inclusive(1, 3) {
        if t_us >= heal_us {
            break;
        }
        let fault = leader_fault(r, kind, &run, t_us, heal_us);
        run.script.extend(fault.iter().cloned());
        run.script.sort_by_key(|c| c.at_us);
        cmds.extend(fault);
        kind = [LEADER_CRASH, LEADER_CUT][r.index(2)];
        t_us += r.range_inclusive(300, 1_500) * 1_000;
    }
    cmds
}

/// The leader's crash, with its restart 0.2 to 3 s later (if before the heal), or the leader
/// cut off from the rest (alone or with one other node; any earlier cut healed).
fn leader_fault(r: &mut Rng, kind: u64, s: &Scenario, at_us: u64, heal_us: u64) -> Vec<Command> {
    let leader = leader_at(r, s, at_us);
    if kind == LEADER_CRASH {
        let back_us = at_us + r.range_inclusive(200, 3_000) * 1_000;
        let mut cmds = vec![Command::new(at_us, Action::Crash { node: leader })];
        if back_us < heal_us {
            cmds.push(Command::new(back_us, Action::Restart { node: leader }));
        }
        return cmds;
    }
    let mut side = vec![leader];
    let nodes = world_nodes(s);
    let other = r.index(nodes as usize) as u32;
    if r.range_inclusive(0, 1) == 1 && other != leader {
        side.push(other);
    }
    let rest: Vec<u32> = (0..nodes).filter(|id| !side.contains(id)).collect();
    if rest.is_empty() {
        return Vec::new();
    }
    let groups = vec![side, rest];
    vec![
        Command::new(at_us, Action::HealAll),
        Command::new(at_us, Action::Partition { groups }),
    ]
}

fn fault(r: &mut Rng, kind: u64, n: u32, faults: Faults, latency: &Dist) -> Action {
    let node = r.index(n as usize) as u32;
    let other = if n > 1 {
        (node + 1 + r.index(n as usize - 1) as u32) % n
    } else {
        node
    };
    let ppm = |r: &mut Rng| r.range_inclusive(1, faults.burst_max_ppm() / 10_000) as u32 * 10_000;
    match kind {
        0 => Action::Partition {
            groups: groups(r, n),
        },
        1 => Action::CutLink {
            from: node,
            to: other,
            both_ways: false,
        },
        2 => Action::Crash { node },
        3 => Action::Restart { node },
        4 => Action::Set {
            link: None,
            setting: NetSetting::LossPpm(ppm(r)),
        },
        5 => Action::Set {
            link: None,
            setting: NetSetting::DupPpm(ppm(r)),
        },
        6 => Action::Set {
            link: None,
            setting: NetSetting::Latency(spike(r, latency)),
        },
        _ => Action::HealAll,
    }
}

/// The link's latency, made 2 to 10 times slower.
fn spike(r: &mut Rng, latency: &Dist) -> Dist {
    let factor = r.range_inclusive(2, 10);
    match latency {
        Dist::Uniform { min_us, max_us } => Dist::Uniform {
            min_us: min_us.saturating_mul(factor),
            max_us: max_us.saturating_mul(factor),
        },
        _ => Dist::Uniform {
            min_us: 10_000 * factor,
            max_us: 50_000 * factor,
        },
    }
}

/// A random grouping of the nodes into two or three sides, none empty.
fn groups(r: &mut Rng, n: u32) -> Vec<Vec<u32>> {
    let k = (r.range_inclusive(2, 3) as usize).min(n.max(2) as usize);
    let mut g: Vec<Vec<u32>> = vec![Vec::new(); k];
    for id in 0..n {
        g[r.index(k)].push(id);
    }
    g.retain(|side| !side.is_empty());
    if g.len() < 2 {
        let moved = g[0].pop().unwrap_or(0);
        g.push(vec![moved]);
    }
    g
}

/// Everything back as the link began, at `heal_us`.
fn heal(s: &Scenario, heal_us: u64) -> Vec<Command> {
    let set = |setting| {
        Command::new(
            heal_us,
            Action::Set {
                link: None,
                setting,
            },
        )
    };
    let mut cmds = vec![
        Command::new(heal_us, Action::HealAll),
        set(NetSetting::LossPpm(s.net.loss_ppm)),
        set(NetSetting::DupPpm(s.net.dup_ppm)),
        set(NetSetting::Latency(s.net.latency.clone())),
    ];
    let crashed = |node: u32| s.script.iter().any(|c| c.action == Action::Crash { node });
    for node in (0..world_nodes(s)).filter(|&node| crashed(node)) {
        cmds.push(Command::new(heal_us, Action::Restart { node }));
    }
    cmds
}

/// The first property a run breaks, and the events it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    pub broken: Option<(String, u64)>,
    pub events: u64,
    pub finished: bool,
}

/// How finely the healed phase is watched for liveness owed after the heal (at most: never
/// more coarsely than the shortest liveness bound).
const WATCH_US: u64 = 250_000;

/// Runs `s` to `until_us`: the first safety property broken at any time, or liveness
/// property broken after `heal_us`, or (at the end) linearizability of the client history.
pub fn judge(s: &Scenario, heal_us: u64, until_us: u64) -> Result<Judged, String> {
    let mut sim = labs::build_unpaced(s)?;
    // A sweep judges properties, never draws the diagram: no clocks to keep.
    sim.forget_clocks();
    let budget = labs::REPLAY_EVENT_BUDGET;
    let mut judged = Judged {
        broken: None,
        events: 0,
        finished: true,
    };
    let (reached, _) = sim.run_until_within(Instant(heal_us.min(until_us)), budget);
    let mut before = sim.properties();
    judged.broken = first_safety(&before);
    for t in watch_points(&before, heal_us, until_us) {
        if !reached || judged.broken.is_some() {
            break;
        }
        let (ok, _) = sim.run_until_within(Instant(t), budget);
        judged.finished &= ok;
        let now = sim.properties();
        judged.broken = first_safety(&now).or_else(|| owed_after_heal(&before, &now, heal_us, t));
        before = now;
        if !ok {
            break;
        }
    }
    judged.finished &= reached;
    judged.events = sim.counters().events;
    if judged.broken.is_none() && judged.finished {
        judged.broken = linearizability(&*sim).map(|()| ("linearizable".to_string(), until_us));
    }
    Ok(judged)
}

/// The instants after the heal at which liveness is judged: every [`WATCH_US`] (or the
/// shortest bound, if shorter), and just past each bound after the heal, when a debt carried
/// over the heal falls due.
fn watch_points(props: &[labs::PropReport], heal_us: u64, until_us: u64) -> Vec<u64> {
    let bounds: Vec<u64> = props
        .iter()
        .filter_map(|p| match p.kind {
            PropKind::Eventually { within } => Some(within.0),
            PropKind::Always => None,
        })
        .collect();
    let step = bounds.iter().fold(WATCH_US, |m, &b| m.min(b)).max(1);
    let mut points: Vec<u64> = (1..)
        .map(|k| heal_us.saturating_add(k * step))
        .take_while(|&t| t < until_us)
        .chain(bounds.iter().map(|b| heal_us.saturating_add(b + 1)))
        .filter(|&t| t < until_us)
        .chain(std::iter::once(until_us))
        .filter(|&t| t > heal_us)
        .collect();
    points.sort_unstable();
    points.dedup();
    points
}

fn first_safety(props: &[labs::PropReport]) -> Option<(String, u64)> {
    props
        .iter()
        .filter(|p| p.kind == PropKind::Always && p.violations > 0)
        .map(|p| (p.name.to_string(), p.first_violation_us.unwrap_or(0)))
        .min_by_key(|(_, at_us)| *at_us)
}

/// A liveness property that the healed run owes and has not paid within its bound, judged at
/// `t_us` from the properties then (`now`) and at the previous watch point (`before`). A debt
/// is owed from when it began, or from the heal if it began before: a debt carried over the
/// heal and paid within the bound of it is no failure (the faults may well have delayed it),
/// one still unpaid is. So a debt counts when it is still owed more than the bound after that,
/// or when it began after the heal and its bound ran out since the last watch point (it may be
/// paid by now). The watch points are never further apart than the bound, so that debt was
/// already owed at the previous one.
fn owed_after_heal(
    before: &[labs::PropReport],
    now: &[labs::PropReport],
    heal_us: u64,
    t_us: u64,
) -> Option<(String, u64)> {
    before.iter().zip(now).find_map(|(before, after)| {
        let PropKind::Eventually { within } = after.kind else {
            return None;
        };
        let unpaid = after
            .pending_since_us
            .map(|since| since.max(heal_us))
            .filter(|&owed_us| t_us.saturating_sub(owed_us) > within.0);
        let ran_out = before
            .pending_since_us
            .filter(|&since| since >= heal_us && after.violations > before.violations);
        unpaid
            .or(ran_out)
            .map(|owed_us| (after.name.to_string(), owed_us + within.0))
    })
}

/// `Some(())` when the lab's client history is checkable and not linearizable.
fn linearizability(sim: &dyn labs::Sim) -> Option<()> {
    let (history, kind) = sim.check_history()?;
    let model = crate::check::Model::new(kind, None);
    let verdict = crate::check::check(&history, &model).ok()?.verdict;
    (verdict == crate::check::Verdict::NotLinearizable).then_some(())
}

/// Whether `s` still breaks `property` (a scenario that no longer builds does not).
fn still_breaks(s: &Scenario, property: &str, until_us: u64) -> bool {
    let valid = link::decode(&link::encode(s)).is_ok();
    valid
        && judge(s, heal_at_us(until_us), until_us)
            .is_ok_and(|j| j.broken.is_some_and(|(name, _)| name == property))
}

/// The smallest run found that still breaks `property`, deterministically (the same input
/// gives the same output):
///
/// 1. the faulty phase's interventions dropped by delta debugging (Zeller's ddmin: keep one
///    chunk, or drop one, halving the chunks while neither fails), over *units* first, so that
///    a fault goes with what undoes it (a crash with the node's next restart, the commands of
///    one instant together, such as a leader cut's heal and partition): dropping only one of
///    such a pair changes the run so much that the failure is lost, and one at a time the pair
///    would never go; then over single commands; then, while a few units are left, any two
///    that go only together (and single commands again after them);
/// 2. the faults after the failure dropped (the run's horizon, as far as the failure cares);
/// 3. loss and duplication off, fewer clients, fewer nodes, bursts and spikes made gentler;
/// 4. the heal reduced to what still needs healing (a restart only for a node still down, a
///    setting put back only if a fault changed it); the heal itself stays, since liveness is
///    judged after it.
pub fn shrink(s: &Scenario, property: &str, until_us: u64) -> Scenario {
    let heal_us = heal_at_us(until_us);
    let breaks = |t: &Scenario| still_breaks(t, property, until_us);
    let mut best = s.clone();
    for grouped in [true, false] {
        best = ddmin(best, heal_us, grouped, &breaks);
    }
    while let Some(fewer) = without_a_pair(&best, heal_us, &breaks) {
        best = ddmin(fewer, heal_us, false, &breaks);
    }
    best = before_the_failure(best, heal_us, until_us, &breaks);
    best = try_each(
        best,
        property,
        until_us,
        &[quiet_network, fewer_clients, fewer_nodes],
    );
    best = gentler_faults(best, heal_us, &breaks);
    let tidy = tidy_heal(&best, heal_us);
    if tidy != best && breaks(&tidy) {
        best = tidy;
    }
    best
}

/// The faulty phase's commands of `s` in units dropped together: one command each, or
/// (`grouped`) the commands of one instant with, for each crash among them, the node's next
/// restart. Indices into `s.script`, each unit in script order.
fn units(s: &Scenario, heal_us: u64, grouped: bool) -> Vec<Vec<usize>> {
    let faulty: Vec<usize> = (0..s.script.len())
        .filter(|&i| s.script[i].at_us < heal_us)
        .collect();
    if !grouped {
        return faulty.into_iter().map(|i| vec![i]).collect();
    }
    let mut taken = vec![false; s.script.len()];
    let mut units = Vec::new();
    for &i in &faulty {
        if taken[i] {
            continue;
        }
        let at_us = s.script[i].at_us;
        let mut unit: Vec<usize> = faulty
            .iter()
            .copied()
            .filter(|&j| !taken[j] && s.script[j].at_us == at_us)
            .collect();
        let crashed: Vec<u32> = unit
            .iter()
            .filter_map(|&j| match s.script[j].action {
                Action::Crash { node } => Some(node),
                _ => None,
            })
            .collect();
        for node in crashed {
            let restart = faulty
                .iter()
                .copied()
                .find(|&j| j > i && !taken[j] && s.script[j].action == Action::Restart { node });
            unit.extend(restart.filter(|j| !unit.contains(j)));
        }
        crate::sim::order::sort_by_key(&mut unit, |&j| j);
        unit.iter().for_each(|&j| taken[j] = true);
        units.push(unit);
    }
    units
}

/// `s` with only the faulty-phase commands of `kept` (units of [`units`]), the rest as it was.
fn keeping(s: &Scenario, heal_us: u64, kept: &[&Vec<usize>]) -> Scenario {
    let mut keep: Vec<bool> = s.script.iter().map(|c| c.at_us >= heal_us).collect();
    kept.iter()
        .flat_map(|u| u.iter())
        .for_each(|&i| keep[i] = true);
    let mut t = s.clone();
    t.script = s
        .script
        .iter()
        .zip(keep)
        .filter(|&(_, k)| k)
        .map(|(c, _)| c.clone())
        .collect();
    t
}

/// Delta debugging over the units of the faulty phase: a subset of the units that still
/// breaks, from which no single unit can be dropped (ddmin's 1-minimality).
fn ddmin(s: Scenario, heal_us: u64, grouped: bool, breaks: &dyn Fn(&Scenario) -> bool) -> Scenario {
    let all = units(&s, heal_us, grouped);
    let mut kept: Vec<&Vec<usize>> = all.iter().collect();
    let mut best = s.clone();
    let mut parts = 2usize;
    while !kept.is_empty() {
        let size = kept.len().div_ceil(parts.min(kept.len()));
        let chunks: Vec<Vec<&Vec<usize>>> = kept.chunks(size).map(<[_]>::to_vec).collect();
        let complement = |c: usize| -> Vec<&Vec<usize>> {
            let other = chunks.iter().enumerate().filter(|&(i, _)| i != c);
            other.flat_map(|(_, ch)| ch.iter().copied()).collect()
        };
        // A chunk alone (when there are several), then everything but one chunk.
        let subsets = (0..chunks.len())
            .filter(|_| chunks.len() > 1)
            .map(|c| (chunks[c].clone(), 2))
            .chain((0..chunks.len()).map(|c| (complement(c), parts.saturating_sub(1).max(2))));
        let found = subsets
            .map(|(subset, next)| (keeping(&s, heal_us, &subset), subset, next))
            .find(|(trial, _, _)| breaks(trial));
        if let Some((trial, subset, next)) = found {
            best = trial;
            kept = subset;
            parts = next;
        } else if size > 1 {
            parts = (parts * 2).min(kept.len());
        } else {
            break;
        }
    }
    best
}

/// The most units among which [`without_a_pair`] tries every pair.
const PAIRS_UNITS_MAX: usize = 16;

/// `s` without two units that go only together (ddmin leaves none that goes alone), the
/// first such pair in order, if a few units are left.
fn without_a_pair(
    s: &Scenario,
    heal_us: u64,
    breaks: &dyn Fn(&Scenario) -> bool,
) -> Option<Scenario> {
    let all = units(s, heal_us, true);
    if all.len() > PAIRS_UNITS_MAX {
        return None;
    }
    let pairs = (0..all.len()).flat_map(|i| (i + 1..all.len()).map(move |j| (i, j)));
    pairs
        .map(|(i, j)| {
            let kept: Vec<&Vec<usize>> = (0..all.len())
                .filter(|&k| k != i && k != j)
                .map(|k| &all[k])
                .collect();
            keeping(s, heal_us, &kept)
        })
        .find(|trial| breaks(trial))
}

/// `s` without the faults after the failure it shows (they cannot have caused it), if it
/// still fails so.
fn before_the_failure(
    s: Scenario,
    heal_us: u64,
    until_us: u64,
    breaks: &dyn Fn(&Scenario) -> bool,
) -> Scenario {
    let Some((_, at_us)) = judge(&s, heal_us, until_us).ok().and_then(|j| j.broken) else {
        return s;
    };
    let mut t = s.clone();
    t.script.retain(|c| c.at_us <= at_us || c.at_us >= heal_us);
    if t != s && breaks(&t) {
        t
    } else {
        s
    }
}

/// Each loss or duplication burst of the faulty phase halved (to 1%), and each latency spike
/// halved towards the link's latency, over and over while the run still breaks.
fn gentler_faults(
    mut best: Scenario,
    heal_us: u64,
    breaks: &dyn Fn(&Scenario) -> bool,
) -> Scenario {
    for i in 0..best.script.len() {
        if best.script[i].at_us >= heal_us {
            continue;
        }
        loop {
            let mut trial = best.clone();
            let Action::Set { setting, .. } = &mut trial.script[i].action else {
                break;
            };
            if !gentler(setting, &best.net.latency) || !breaks(&trial) {
                break;
            }
            best = trial;
        }
    }
    best
}

/// Makes a fault's setting gentler; false when it is as gentle as it goes.
fn gentler(setting: &mut NetSetting, latency: &Dist) -> bool {
    let halve_ppm = |ppm: &mut u32| {
        let half = (*ppm / 2 / 10_000 * 10_000).max(10_000);
        let changed = half < *ppm;
        *ppm = half;
        changed
    };
    match (setting, latency) {
        (NetSetting::LossPpm(ppm) | NetSetting::DupPpm(ppm), _) => halve_ppm(ppm),
        (
            NetSetting::Latency(Dist::Uniform { min_us, max_us }),
            Dist::Uniform {
                min_us: base_min_us,
                max_us: base_max_us,
            },
        ) if *max_us > *base_max_us * 2 => {
            *min_us = (*min_us / 2).max(*base_min_us);
            *max_us = (*max_us / 2).max(*base_max_us);
            true
        }
        _ => false,
    }
}

/// `s` with its heal (the commands at `heal_us` that heal) reduced to what the faults before
/// it broke: everything healed, a setting put back only if a fault changed it, a node
/// restarted only if it is down.
fn tidy_heal(s: &Scenario, heal_us: u64) -> Scenario {
    let before = || s.script.iter().filter(|c| c.at_us < heal_us);
    let changed = |setting: &NetSetting| {
        before().any(|c| match &c.action {
            Action::Set { setting: other, .. } => {
                std::mem::discriminant(other) == std::mem::discriminant(setting)
            }
            _ => false,
        })
    };
    // Down at the heal: crashed, and not restarted since.
    let down = |node: u32| {
        before().fold(false, |down, c| match c.action {
            Action::Crash { node: n } if n == node => true,
            Action::Restart { node: n } if n == node => false,
            _ => down,
        })
    };
    let mut t = s.clone();
    t.script.retain(|c| {
        c.at_us != heal_us
            || match &c.action {
                Action::Set {
                    link: None,
                    setting,
                } => changed(setting),
                Action::Restart { node } => down(*node),
                _ => true,
            }
    });
    t
}

/// Applies each simplification over and over while the property still breaks.
fn try_each(
    mut best: Scenario,
    property: &str,
    until_us: u64,
    steps: &[fn(&Scenario) -> Option<Scenario>],
) -> Scenario {
    for step in steps {
        while let Some(trial) = step(&best) {
            if !still_breaks(&trial, property, until_us) {
                break;
            }
            best = trial;
        }
    }
    best
}

fn quiet_network(s: &Scenario) -> Option<Scenario> {
    let mut t = s.clone();
    t.net.loss_ppm = 0;
    t.net.dup_ppm = 0;
    (t.net != s.net).then_some(t)
}

fn fewer_clients(s: &Scenario) -> Option<Scenario> {
    let clients: u32 = s.params.get("clients")?.parse().ok()?;
    let uses = |c: u32| {
        s.script
            .iter()
            .any(|cmd| matches!(&cmd.action, Action::ClientOp { client, .. } if *client == c))
    };
    let fewer = clients.checked_sub(1).filter(|&k| k >= 1 && !uses(k))?;
    let mut t = s.clone();
    t.params.insert("clients".into(), fewer.to_string());
    Some(t)
}

fn fewer_nodes(s: &Scenario) -> Option<Scenario> {
    let lab = labs::find(&s.lab)?;
    let n = s.n.checked_sub(1).filter(|&n| n >= lab.nodes_min.max(1))?;
    let mut t = s.clone();
    t.n = n;
    t.script.retain(|c| !names_node(&c.action, n));
    for c in &mut t.script {
        if let Action::Partition { groups } = &mut c.action {
            groups.iter_mut().for_each(|g| g.retain(|&id| id < n));
            groups.retain(|g| !g.is_empty());
        }
    }
    t.script
        .retain(|c| !matches!(&c.action, Action::Partition { groups } if groups.len() < 2));
    Some(t)
}

/// Whether an intervention names node `id` (other than in a partition's groups).
fn names_node(action: &Action, id: u32) -> bool {
    match action {
        Action::Crash { node } | Action::Restart { node } => *node == id,
        Action::CutLink { from, to, .. } | Action::HealLink { from, to, .. } => {
            *from == id || *to == id
        }
        Action::Set {
            link: Some((a, b)), ..
        } => *a == id || *b == id,
        Action::ClientOp { node, .. } => *node == id,
        Action::Lab {
            node: Some(node), ..
        } => *node == id,
        _ => false,
    }
}

/// The links of a violation: the shrunk one opening at the moment it broke, and the original.
pub fn violation(seed: u64, run: &Scenario, property: &str, until_us: u64) -> Violation {
    let shrunk = shrink(run, property, until_us);
    let at_us = judge(&shrunk, heal_at_us(until_us), until_us)
        .ok()
        .and_then(|j| j.broken)
        .map_or(until_us, |(_, at_us)| at_us);
    report(seed, run, (&shrunk, true), property, at_us)
}

/// A violation of `property` at `at_us`, shown on `shown`: `run` itself, or (`true`) its
/// shrunk form.
fn report(
    seed: u64,
    run: &Scenario,
    (shown, shrunk): (&Scenario, bool),
    property: &str,
    at_us: u64,
) -> Violation {
    let opened = Scenario {
        cursor_us: Some(at_us),
        ..shown.clone()
    };
    Violation {
        seed,
        property: property.to_string(),
        at_us,
        link: link::encode(&opened),
        original_link: link::encode(run),
        script_before: run.script.len(),
        script_after: shown.script.len(),
        shrunk,
    }
}

/// How many violations of one property are shrunk; later ones keep their original link.
pub const SHRUNK_PER_PROPERTY: usize = 3;

/// Sweeps `seeds` runs of `base` on `jobs` threads. The report does not depend on `jobs`.
pub fn sweep(
    base: &Scenario,
    seeds: u64,
    faults: Faults,
    jobs: usize,
    until_us: u64,
) -> Result<SweepReport, String> {
    labs::build_unpaced(base)?;
    let jobs = jobs.clamp(1, 256) as u64;
    let runs: Vec<(u64, Scenario, Judged)> = parallel(jobs, seeds, |k| {
        let run = faulty_run(base, k, faults, until_us);
        let judged = judge(&run, heal_at_us(until_us), until_us);
        judged.map(|j| (run.seed, run, j))
    })?;
    let events = runs.iter().map(|(_, _, j)| j.events).sum();
    let unfinished = runs.iter().filter(|(_, _, j)| !j.finished).count() as u64;
    let failed: Vec<(u64, Scenario, (String, u64))> = runs
        .into_iter()
        .filter_map(|(seed, run, j)| j.broken.map(|broken| (seed, run, broken)))
        .collect();
    let shrink_it = |i: usize| {
        let (_, _, (name, _)) = &failed[i];
        failed[..i]
            .iter()
            .filter(|(_, _, (other, _))| other == name)
            .count()
            < SHRUNK_PER_PROPERTY
    };
    let violations = parallel(jobs, failed.len() as u64, |i| {
        let (seed, run, (name, at_us)) = &failed[i as usize];
        Ok::<_, String>(if shrink_it(i as usize) {
            violation(*seed, run, name, until_us)
        } else {
            // The sweep's own judgement already found when it broke.
            report(*seed, run, (run, false), name, *at_us)
        })
    })?;
    Ok(SweepReport {
        seeds,
        violations,
        events,
        unfinished,
    })
}

/// `f(0..count)` in order (the browser has no threads: its pool is of Web Workers).
#[cfg(target_arch = "wasm32")]
fn parallel<T, E>(_jobs: u64, count: u64, f: impl Fn(u64) -> Result<T, E>) -> Result<Vec<T>, E> {
    (0..count).map(f).collect()
}

/// `f(0..count)` on `jobs` threads, the results in index order.
#[cfg(not(target_arch = "wasm32"))]
fn parallel<T: Send, E: Send>(
    jobs: u64,
    count: u64,
    f: impl Fn(u64) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let f = &f;
    let mut results: Vec<(u64, Result<T, E>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.min(count.max(1)))
            .map(|j| {
                scope.spawn(move || {
                    (j..count)
                        .step_by(jobs as usize)
                        .map(|k| (k, f(k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.sort_by_key(|(k, _)| *k);
    results.into_iter().map(|(_, r)| r).collect()
}
