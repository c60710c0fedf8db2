//! Total and long-lived runs: no setting can hang the engine, any moment of a long run reopens
//! from its link, seeking anywhere is exact, and keyframes stay bounded.
//!
//! Stated budgets (see `labs::MIN_CLIENT_LOOP_US`, `sim::world::INSTANT_EVENT_BUDGET`,
//! `labs::REPLAY_EVENT_BUDGET`): a client loop takes at least 1 ms on average or the settings
//! are refused; one virtual instant holds at most 100,000 events or the run stops there with a
//! reason; a replay takes at most 40 million events; any fuzzed scenario that is accepted runs
//! 10 s of virtual time within `TEN_SECONDS_EVENT_BUDGET` events.

mod common;

use dsplay::labs::{self, ParamKind, REGISTRY};
use dsplay::play::session::Session;
use dsplay::scenario::{link, Scenario};
use dsplay::sim::keyframe::{MAX_KEYFRAMES, SPINE_KEYFRAMES};
use dsplay::sim::world::INSTANT_EVENT_BUDGET;
use dsplay::sim::Instant;
use std::process::Command;

/// The most events an accepted scenario may take for 10 s of virtual time.
const TEN_SECONDS_EVENT_BUDGET: u64 = 5_000_000;

const STORM_LINKS: [&str; 2] = [
    "#/flows?n=3&seed=1&lat=0ms&think=0ms&proc=0ms",
    "#/raft?n=5&seed=1&clients=1&think=0ms&lat=0ms",
];

fn dsplay(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .args(args)
        .output()
        .expect("run dsplay");
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

// The links that hung the engine are refused when decoded into a run, with a message that
// names the settings to change; `dsplay run` on them returns at once with status 2.
#[test]
fn zero_delay_links_are_refused_naming_their_settings() {
    for l in STORM_LINKS {
        let s = link::decode(l).expect("the link itself reads");
        let err = labs::build(&s)
            .err()
            .unwrap_or_else(|| panic!("{l} must be refused"));
        assert!(
            err.contains("think time") && err.contains("latency"),
            "{l}: {err}"
        );
        let (code, stderr) = dsplay(&["run", l, "--until", "2s"]);
        assert_eq!(code, 2, "{l}: {stderr}");
        assert!(stderr.contains("no time between operations"), "{stderr}");
        let (session, why) = Session::open(l);
        assert!(why.is_some_and(|w| w.contains("latency")), "{l}");
        assert_eq!(session.now_us(), 0, "the lab's default opens instead");
    }
    let flows = labs::build(&link::decode(STORM_LINKS[0]).unwrap())
        .err()
        .unwrap();
    assert!(flows.contains("processing time"), "{flows}");
}

// A script that makes latency zero later counts too: the link is refused, and the same change
// made live is refused where it is made.
#[test]
fn a_latency_of_zero_set_by_the_script_or_live_is_refused() {
    let l = "#/flows?n=3&seed=1&lat=5ms&think=0ms&proc=0ms";
    assert!(labs::build(&link::decode(&format!("{l}&s=1s:set:lat=0ms")).unwrap()).is_err());
    assert!(labs::build(&link::decode(&format!("{l}&s=1s:set:0>3:lat=0ms")).unwrap()).is_err());
    let (mut s, why) = Session::open(l);
    assert_eq!(why, None);
    s.seek(1_000_000);
    let err = s
        .set_net(dsplay::sim::NetSetting::Latency(
            dsplay::sim::Dist::Constant { us: 0 },
        ))
        .expect_err("refused live");
    assert!(err.contains("latency"), "{err}");
    assert!(s.sim().script().is_empty(), "nothing was recorded");
    // Think time set to zero after the latency: refused as well, and the run is unchanged.
    let (mut s, _) =
        Session::open("#/flows?n=3&seed=1&lat=5ms&think=5ms&proc=0ms&s=0ms:set:lat=0ms");
    assert!(s.set_param("think", "0ms").is_err());
    assert_eq!(s.base().param("think"), Some("5ms"));
}

// The engine's backstop: a run that gets past the labs' checks but still makes events without
// time passing stops at that instant, within the per-instant budget, and says why.
#[test]
fn a_run_that_cannot_move_on_stops_at_the_instant_with_a_reason() {
    let s = link::decode(STORM_LINKS[0]).unwrap();
    let mut sim = labs::build_unpaced(&s).expect("builds without the pace rule");
    let (reached, _) = sim.run_until_within(Instant(2_000_000), 10 * INSTANT_EVENT_BUDGET as u64);
    assert!(reached, "a stalled run can go no further: the replay ends");
    let why = sim.stall().expect("stalled");
    assert!(why.contains("at that one instant"), "{why}");
    assert_eq!(sim.now().0, 0, "the clock stays where the run stopped");
    assert!(sim.counters().events <= INSTANT_EVENT_BUDGET as u64 + 10);
    assert_eq!(sim.next_due(), None);
}

/// A small generator for the fuzzed scenarios (splitmix64).
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const LATENCIES: [&str; 9] = [
    "0ms", "1us", "10us", "0..1ms", "0..100us", "exp(1us)", "1ms", "0..2ms", "20..80ms",
];

/// A value for a lab parameter, biased towards its smallest (fastest) settings.
fn fuzz_value(kind: ParamKind, default: &str, g: &mut Gen) -> String {
    match kind {
        ParamKind::Int { min, max } => match g.below(3) {
            0 => min.to_string(),
            1 => max.to_string(),
            _ => (min + g.below((max - min + 1) as u64) as i64).to_string(),
        },
        ParamKind::Duration { min_us, .. } => match g.below(4) {
            0 | 1 => format!("{min_us}us"),
            2 => format!("{}us", min_us + g.below(2_000)),
            _ => default.to_string(),
        },
        ParamKind::DurationRange { min_us, .. } => match g.below(3) {
            0 => format!("{min_us}us..{min_us}us"),
            1 => format!("{min_us}us..{}us", min_us + g.below(2_000)),
            _ => default.to_string(),
        },
        ParamKind::Bool => g.pick(&["0", "1"]).to_string(),
        ParamKind::Choice { options } => g.pick(options).to_string(),
        ParamKind::Fraction { min_ppm, max_ppm } => {
            labs::fraction_text(min_ppm + g.below((max_ppm - min_ppm) as u64 + 1) as u32)
        }
        // A form only the lab reads: its default, or text it must refuse with a message.
        ParamKind::Text { .. } => g
            .pick(&[default, default, "", "zipf:", "zipf:9"])
            .to_string(),
    }
}

/// A scenario of `lab` with zero and near-zero delays, sometimes with a script that changes
/// the latency later.
fn fuzz_scenario(lab: &'static labs::Lab, g: &mut Gen) -> Scenario {
    let mut s = Scenario::default_for(lab);
    s.seed = g.next() % 1_000;
    s.n = lab.nodes_min + g.below((lab.nodes_max - lab.nodes_min + 1) as u64) as u32;
    s.net.latency = dsplay::sim::Dist::parse(g.pick(&LATENCIES)).unwrap();
    for p in lab.params {
        s.params
            .insert(p.key.to_string(), fuzz_value(p.kind, p.default, g));
    }
    if g.below(3) == 0 {
        let at = g.below(5_000_000);
        let lat = g.pick(&LATENCIES);
        let script = format!("#/x?s={at}us:set:lat={lat}");
        if let Ok(sc) = link::decode(&script.replace("#/x", &format!("#/{}", lab.id))) {
            s.script = sc.script;
        }
    }
    s
}

// Scenarios of every lab in the registry with zero and near-zero delays: each is either refused
// with a message, or runs 10 s of virtual time within the stated budget without stalling.
// `DSPLAY_SEEDS` raises the number per lab.
#[test]
fn fuzzed_fast_scenarios_of_every_lab_are_refused_or_run_within_budget() {
    let per_lab = common::seeds(12);
    let mut g = Gen(0x5eed);
    let (mut refused, mut ran, mut most) = (0, 0, 0);
    for lab in REGISTRY {
        for _ in 0..per_lab {
            let s = fuzz_scenario(lab, &mut g);
            let l = link::encode(&s);
            let mut sim = match labs::build(&s) {
                Ok(sim) => sim,
                Err(e) => {
                    // The refusal names the setting to change: a parameter or the latency.
                    let lower = e.to_lowercase();
                    let names_one = lower.contains("latency")
                        || lab
                            .params
                            .iter()
                            .any(|p| lower.contains(&p.label.to_lowercase()) || e.contains(p.key));
                    assert!(names_one, "{l}: '{e}' names no setting");
                    refused += 1;
                    continue;
                }
            };
            let (reached, _) = sim.run_until_within(Instant(10_000_000), TEN_SECONDS_EVENT_BUDGET);
            let events = sim.counters().events;
            assert!(
                reached && sim.stall().is_none(),
                "{l} made {events} events and stood at {} µs ({:?})",
                sim.now().0,
                sim.stall()
            );
            assert_eq!(sim.now().0, 10_000_000, "{l}");
            most = most.max(events);
            ran += 1;
        }
    }
    println!("fuzzed: {ran} ran 10 s (at most {most} events), {refused} refused");
    assert!(ran > 0 && refused > 0, "the fuzz reaches both outcomes");
}

// `dsplay run` returns on fuzzed fast scenarios too (status 0, or 2 with a message).
#[test]
fn dsplay_run_returns_on_fuzzed_fast_scenarios() {
    let mut g = Gen(0xc11);
    for lab in REGISTRY {
        for _ in 0..3 {
            let l = link::encode(&fuzz_scenario(lab, &mut g));
            let (code, stderr) = dsplay(&["run", &l, "--until", "2s"]);
            assert!(
                code == 0 || (code == 2 && !stderr.is_empty()),
                "{l}: {code} {stderr}"
            );
        }
    }
}

/// What must agree between a run that sought and a fresh one.
fn fingerprint(sim: &dyn labs::Sim) -> String {
    format!(
        "{} {:016x} {:?} {:?} {:?} {:?}",
        sim.now().0,
        sim.trace_hash(),
        sim.counters(),
        sim.records(),
        sim.in_flight(),
        sim.nodes()
    )
}

const LONG: &str = "#/raft?n=3&seed=2&lat=20..80ms&loss=2%&dup=0%&clients=1";

// Seeking to random instants of a 3-hour run, backwards and forwards, gives exactly the state
// of a fresh run to that instant, trace window included.
#[test]
fn seeking_anywhere_in_a_three_hour_run_equals_a_fresh_run() {
    let s = link::decode(LONG).unwrap();
    let mut sim = labs::build(&s).unwrap();
    let end = 3 * 3_600_000_000u64;
    sim.run_until(Instant(end));
    let mut g = Gen(7);
    for _ in 0..common::seeds(3) {
        let t = g.below(end);
        sim.seek(Instant(t));
        let mut fresh = labs::build(&s).unwrap();
        fresh.run_until(Instant(t));
        assert_eq!(fingerprint(&*sim), fingerprint(&*fresh), "seek to {t} µs");
        // A little later and a little earlier: the local keyframes serve these.
        for dt in [1_500_000i64, -700_000] {
            let t2 = (t as i64 + dt).max(0) as u64;
            sim.seek(Instant(t2));
            let mut fresh = labs::build(&s).unwrap();
            fresh.run_until(Instant(t2));
            assert_eq!(fingerprint(&*sim), fingerprint(&*fresh), "seek to {t2} µs");
        }
    }
}

// A link to the moment 8 hours into a run reopens at that instant with the trace hash of the
// same run played straight through, and keyframes stay within their bound all the way.
#[test]
fn a_link_eight_hours_into_a_run_reopens_with_the_same_hash() {
    let eight_h = 8 * 3_600_000_000u64;
    let mut sim = labs::build(&link::decode(LONG).unwrap()).unwrap();
    for h in 1..=8u64 {
        sim.run_until(Instant(h * 3_600_000_000));
        assert!(
            sim.keyframes() <= MAX_KEYFRAMES,
            "{} keyframes",
            sim.keyframes()
        );
    }
    let (opened, why) = Session::open(&format!("{LONG}&t={}s", eight_h / 1_000_000));
    assert_eq!(why, None);
    assert_eq!(opened.now_us(), eight_h);
    assert_eq!(opened.sim().trace_hash(), sim.trace_hash());
    assert_eq!(opened.sim().counters(), sim.counters());
    assert!(
        sim.counters().events > 1_000_000,
        "a long run: {:?}",
        sim.counters()
    );
}

// Keyframes are spaced by events and evenly spread over the whole run: a seek anywhere
// replays at most two spine spacings, whatever the run's length.
#[test]
fn spine_keyframes_spread_evenly_over_a_long_run() {
    let s = link::decode("#/flows?n=8&seed=4&lat=1..5ms&clients=16&think=0ms&proc=1..3ms").unwrap();
    let mut run = dsplay::sim::Run::new(
        dsplay::sim::World::new(
            dsplay::labs::flows::Flows {
                proc_min_us: 1_000,
                proc_max_us: 3_000,
                workers: 4,
                clients: 16,
                queue: None,
            },
            {
                let mut cfg = labs::world_config(&s);
                cfg.clients = 16;
                cfg.client_think = dsplay::sim::Dist::Constant { us: 0 };
                cfg
            },
            Vec::new(),
        ),
        Vec::new(),
    );
    run.run_until(Instant(600_000_000));
    let marks = run.keyframe_marks();
    let total = run.world().counters().events;
    assert!(marks.len() <= SPINE_KEYFRAMES);
    assert!(
        marks.len() >= SPINE_KEYFRAMES / 2,
        "{} spine keyframes",
        marks.len()
    );
    let widest = marks.windows(2).map(|w| w[1].1 - w[0].1).max().unwrap();
    let even = total / (SPINE_KEYFRAMES as u64 / 2);
    assert!(
        widest <= 2 * even,
        "the widest gap is {widest} events of {total} ({} keyframes)",
        marks.len()
    );
    let tail = total - marks.last().unwrap().1;
    assert!(
        tail <= 2 * even,
        "the end of the run is {tail} events past the spine"
    );
}

// A run played event by event, as the page's frames play it, keeps keyframes as it goes, so a
// seek back from the live edge replays little.
#[test]
fn a_run_played_step_by_step_keeps_keyframes() {
    let s = link::decode(LONG).unwrap();
    let mut sim = labs::build(&s).unwrap();
    while sim.counters().events < 300_000 {
        sim.step();
    }
    let spacing = dsplay::sim::keyframe::SPINE_SPACING_EVENTS;
    assert!(
        sim.keyframes() as u64 >= 300_000 / spacing,
        "{} keyframes after 300,000 events",
        sim.keyframes()
    );
    // And the state it reaches equals a run to the same instant.
    let t = sim.now();
    let mut fresh = labs::build(&s).unwrap();
    fresh.run_until(t);
    sim.run_until(t);
    assert_eq!(fingerprint(&*sim), fingerprint(&*fresh));
}
