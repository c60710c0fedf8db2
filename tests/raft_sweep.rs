//! Seed sweep: many randomised runs of the Raft lab with partitions, one-way cuts, crashes,
//! restarts, loss, duplication and reordering (latency jitter), with PreVote and CheckQuorum
//! switched at random ("swarm testing": the options themselves come from the seed). During the
//! faulty phase every safety property must hold; once the network heals, every server is back
//! and loss stops, a leader must be elected within the lab's bound.
//!
//! `DSPLAY_SEEDS` sets how many seeds run (default 20). A failure prints the seed and the link
//! that replays the run in the browser or with `dsplay run`.

use dsplay::labs::raft::{self, properties, Bug, Raft, Role};
use dsplay::scenario::{link, Scenario};
use dsplay::sim::command::{Action, Command};
use dsplay::sim::net::{Dist, NetSetting};
use dsplay::sim::rng::{Rng, Stream};
use dsplay::sim::time::{format_us, Instant};
use dsplay::sim::World;

/// The faulty phase lasts this long; then everything heals.
const HEAL_AT_US: u64 = 20_000_000;

fn ms(r: &mut Rng, lo: u64, hi: u64) -> u64 {
    r.range_inclusive(lo, hi) * 1_000
}

/// A random grouping of the nodes into two or three sides.
fn groups(r: &mut Rng, n: u32) -> Vec<Vec<u32>> {
    let k = r.range_inclusive(2, 3) as usize;
    let mut g: Vec<Vec<u32>> = vec![Vec::new(); k];
    for id in 0..n {
        g[r.index(k)].push(id);
    }
    g.retain(|x| !x.is_empty());
    if g.len() < 2 {
        let moved = g[0].pop().unwrap_or(0);
        g.push(vec![moved]);
    }
    g
}

/// The scenario of one seed: options and a fault script, all drawn from the seed.
fn scenario(seed: u64) -> Scenario {
    let mut r = Rng::new(seed, Stream::Faults);
    let mut s = Scenario::default_for(&raft::LAB);
    s.seed = seed;
    s.n = [3, 4, 5, 5, 7, 9][r.index(6)];
    let lat_min_us = ms(&mut r, 1, 30);
    let lat_max_us = lat_min_us + ms(&mut r, 0, 90);
    s.net.latency = Dist::Uniform {
        min_us: lat_min_us,
        max_us: lat_max_us,
    };
    s.net.loss_ppm = r.range_inclusive(0, 15) as u32 * 10_000;
    s.net.dup_ppm = r.range_inclusive(0, 10) as u32 * 10_000;
    // Raft's timing requirement: broadcast time well below the election timeout.
    let et_min_us = (4 * lat_max_us).max(150_000);
    let mut set = |key: &str, value: String| {
        let spec = raft::LAB.param(key).unwrap();
        s.params.insert(key.into(), spec.canonical(&value).unwrap());
    };
    set(
        "et",
        format!("{}..{}", format_us(et_min_us), format_us(2 * et_min_us)),
    );
    set("hb", format_us(et_min_us / 3));
    set("prevote", r.range_inclusive(0, 1).to_string());
    set("checkquorum", r.range_inclusive(0, 1).to_string());
    set("clients", r.range_inclusive(1, 3).to_string());
    set("think", format_us(ms(&mut r, 20, 400)));
    let mut times: Vec<u64> = (0..r.range_inclusive(4, 16))
        .map(|_| r.range_inclusive(500_000, HEAL_AT_US - 1))
        .collect();
    times.sort_unstable();
    for at_us in times {
        let node = r.index(s.n as usize) as u32;
        let other = (node + 1 + r.index(s.n as usize - 1) as u32) % s.n;
        let action = match r.range_inclusive(0, 7) {
            0 | 1 => Action::Partition {
                groups: groups(&mut r, s.n),
            },
            2 => Action::CutLink {
                from: node,
                to: other,
                both_ways: false,
            },
            3 => Action::HealAll,
            4 | 5 => Action::Crash { node },
            6 => Action::Restart { node },
            _ => Action::Set {
                link: None,
                setting: NetSetting::LossPpm(r.range_inclusive(0, 30) as u32 * 10_000),
            },
        };
        s.script.push(Command::new(at_us, action));
    }
    s.script.push(Command::new(HEAL_AT_US, Action::HealAll));
    for setting in [NetSetting::LossPpm(0), NetSetting::DupPpm(0)] {
        s.script.push(Command::new(
            HEAL_AT_US,
            Action::Set {
                link: None,
                setting,
            },
        ));
    }
    for node in 0..s.n {
        s.script
            .push(Command::new(HEAL_AT_US, Action::Restart { node }));
    }
    s
}

/// A live leader whose term a majority of live servers share.
fn has_leader(w: &World<Raft>) -> bool {
    let n = w.n();
    (0..n).any(|l| {
        let t = w.state(l).current_term;
        w.is_up(l)
            && w.state(l).role == Role::Leader
            && (0..n)
                .filter(|&p| w.is_up(p) && w.state(p).current_term == t)
                .count()
                > n as usize / 2
    })
}

/// Runs one seed; `Err` says what went wrong.
fn check_seed(seed: u64, bug: Option<Bug>) -> Result<(), String> {
    let s = scenario(seed);
    s.validate()
        .map_err(|e| format!("generated scenario invalid: {e}"))?;
    let mut w = raft::world(&s)?;
    w.proto.bug = bug;
    let bound_us = properties::leader_bound(&w.proto).0;
    let end_us = HEAL_AT_US + bound_us + 1_000_000;
    let mut elected_us = None;
    while let Some(due) = w.next_due_us(&s.script).filter(|t| *t <= end_us) {
        let _ = due;
        w.step(&s.script);
        if elected_us.is_none()
            && w.now().0 >= HEAL_AT_US
            && w.next_command_index() == s.script.len()
            && has_leader(&w)
        {
            elected_us = Some(w.now().0);
        }
    }
    w.run_until(Instant(end_us), &s.script);
    let broken: Vec<String> = w
        .property_defs()
        .iter()
        .zip(w.properties())
        .filter(|(d, st)| matches!(d.kind, dsplay::sim::PropKind::Always) && st.violations > 0)
        .map(|(d, st)| {
            format!(
                "{} at {}",
                d.name,
                format_us(st.first_violation_us.unwrap_or(0))
            )
        })
        .collect();
    if !broken.is_empty() {
        return Err(format!("safety violated: {}", broken.join(", ")));
    }
    match elected_us {
        Some(t) if t - HEAL_AT_US <= bound_us => Ok(()),
        Some(t) => Err(format!(
            "leader only {} after the heal (bound {})",
            format_us(t - HEAL_AT_US),
            format_us(bound_us)
        )),
        None => Err(format!(
            "no leader within {} of the heal",
            format_us(end_us - HEAL_AT_US)
        )),
    }
}

// Safety under random faults, liveness after the heal, over DSPLAY_SEEDS seeds.
#[test]
fn raft_keeps_every_safety_property_under_random_faults_and_elects_after_healing() {
    let seeds: u64 = std::env::var("DSPLAY_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let failures: Vec<String> = (1..=seeds)
        .filter_map(|seed| {
            check_seed(seed, None).err().map(|e| {
                format!(
                    "seed {seed}: {e}\n  replay: {}",
                    link::encode(&scenario(seed))
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// The generated scenarios survive the link round trip, so a printed link replays exactly.
#[test]
fn raft_sweep_links_replay_the_same_run() {
    for seed in 1..=5 {
        let s = scenario(seed);
        let back =
            Scenario::from_link(&link::encode(&s)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(back, s, "seed {seed}");
        let (mut a, mut b) = (raft::world(&s).unwrap(), raft::world(&back).unwrap());
        a.run_until(Instant(3_000_000), &s.script);
        b.run_until(Instant(3_000_000), &back.script);
        assert_eq!(a.trace_hash(), b.trace_hash(), "seed {seed}");
    }
}

// The sweep has teeth: against a Raft that votes without the log check, some seeds fail.
#[test]
fn raft_sweep_catches_a_raft_that_votes_without_the_log_check() {
    let failed = (1..=20)
        .filter(|&seed| check_seed(seed, Some(Bug::VoteWithoutLogCheck)).is_err())
        .count();
    assert!(failed > 0, "no seed of 20 caught the broken Raft");
}
