//! Seed sweeps: faults drawn from each seed and written into the run's script, every property
//! checked, failures shrunk to links that replay them, and the same report on any number of
//! threads. `DSPLAY_SWEEP_SEEDS` sets how many seeds the correct-protocol sweeps run (default 12).

use dsplay::play::sweep::{self, Faults};
use dsplay::scenario::{link, Scenario};
use dsplay::sim::command::Action;

/// Leader-follower replication, acknowledged once the leader has the write: a failover under
/// faults loses acknowledged writes.
const ASYNC: &str = "#/quorum?n=5&seed=4&lat=10..40ms&clients=4&mode=leader";
const UNTIL_US: u64 = 8_000_000;

fn seeds() -> u64 {
    std::env::var("DSPLAY_SWEEP_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

fn scenario(text: &str) -> Scenario {
    link::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn the_report_does_not_depend_on_the_number_of_threads() {
    let s = scenario(ASYNC);
    let one = sweep::sweep(&s, 8, Faults::Heavy, 1, UNTIL_US).unwrap();
    let two = sweep::sweep(&s, 8, Faults::Heavy, 2, UNTIL_US).unwrap();
    let five = sweep::sweep(&s, 8, Faults::Heavy, 5, UNTIL_US).unwrap();
    assert_eq!(one, two);
    assert_eq!(one, five);
    assert!(
        !one.violations.is_empty(),
        "heavy faults on async replication lose a write"
    );
    assert!(one.events > 0);
}

#[test]
fn every_reported_link_replays_its_violation_and_shrinking_makes_it_small() {
    let s = scenario(ASYNC);
    let report = sweep::sweep(&s, 8, Faults::Heavy, 2, UNTIL_US).unwrap();
    let shrunk: Vec<_> = report.violations.iter().filter(|v| v.shrunk).collect();
    assert!(!shrunk.is_empty());
    for v in &report.violations {
        let replay = scenario(&v.link);
        assert_eq!(
            replay.cursor_us,
            Some(v.at_us),
            "the link opens at the violation"
        );
        let judged = sweep::judge(&replay, sweep::heal_at_us(UNTIL_US), UNTIL_US).unwrap();
        assert_eq!(
            judged.broken,
            Some((v.property.clone(), v.at_us)),
            "{}",
            v.link
        );
        let original = scenario(&v.original_link);
        assert_eq!(original.seed, v.seed);
        assert_eq!(original.script.len(), v.script_before);
    }
    let heal_us = sweep::heal_at_us(UNTIL_US);
    for v in shrunk {
        assert!(v.script_after < v.script_before, "{v:?}");
        let replay = scenario(&v.link);
        let faults = replay.script.iter().filter(|c| c.at_us < heal_us).count();
        assert!(faults <= 3, "{faults} faults left: {}", v.link);
        assert!(
            replay
                .script
                .iter()
                .any(|c| c.at_us == heal_us && c.action == Action::HealAll),
            "the heal stays: {}",
            v.link
        );
    }
}

#[test]
fn shrinking_is_deterministic_and_keeps_the_failure() {
    let s = scenario(ASYNC);
    let report = sweep::sweep(&s, 8, Faults::Heavy, 2, UNTIL_US).unwrap();
    let v = &report.violations[0];
    let run = scenario(&v.original_link);
    let a = sweep::shrink(&run, &v.property, UNTIL_US);
    let b = sweep::shrink(&run, &v.property, UNTIL_US);
    assert_eq!(a, b);
    let judged = sweep::judge(&a, sweep::heal_at_us(UNTIL_US), UNTIL_US).unwrap();
    assert_eq!(judged.broken.map(|(p, _)| p), Some(v.property.clone()));
}

#[test]
fn faults_come_from_the_seed_and_are_followed_by_a_heal() {
    let s = scenario("#/raft?n=5&seed=9");
    let heal_us = sweep::heal_at_us(UNTIL_US);
    let a = sweep::faulty_run(&s, 3, Faults::Default, UNTIL_US);
    assert_eq!(a, sweep::faulty_run(&s, 3, Faults::Default, UNTIL_US));
    assert_ne!(
        a.seed,
        sweep::faulty_run(&s, 4, Faults::Default, UNTIL_US).seed
    );
    assert_eq!(a.seed, sweep::seed_of(9, 3));
    let faults = a.script.iter().filter(|c| c.at_us < heal_us).count();
    assert!((4..=16).contains(&faults), "{faults} faults");
    let healed = a.script.iter().filter(|c| c.at_us == heal_us);
    assert!(healed.clone().any(|c| c.action == Action::HealAll));
    for c in a
        .script
        .iter()
        .filter(|c| matches!(c.action, Action::Crash { .. }))
    {
        let Action::Crash { node } = c.action else {
            unreachable!()
        };
        assert!(
            healed.clone().any(|h| h.action == Action::Restart { node }),
            "crashed S{node} restarts at the heal"
        );
    }
    let quiet = sweep::faulty_run(&s, 3, Faults::None, UNTIL_US);
    assert!(quiet.script.iter().all(|c| c.at_us == heal_us));
    assert!(
        link::decode(&link::encode(&a)).is_ok(),
        "the drawn run is a valid link"
    );
}

#[test]
fn the_correct_raft_keeps_every_property_under_faults() {
    let s = scenario("#/raft?n=5&seed=1");
    let report = sweep::sweep(&s, seeds(), Faults::Default, 2, 20_000_000).unwrap();
    assert_eq!(report.violations, vec![], "{:#?}", report.violations);
    assert_eq!(report.unfinished, 0);
}

#[test]
fn synchronous_replication_never_loses_an_acknowledged_write() {
    let s = scenario(&format!("{ASYNC}&sync=sync"));
    let report = sweep::sweep(&s, seeds(), Faults::Heavy, 2, UNTIL_US).unwrap();
    let lost: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.property == "acknowledged_writes_survive")
        .collect();
    assert!(lost.is_empty(), "{lost:#?}");
}

#[test]
fn fault_profiles_parse_and_unknown_ones_are_explained() {
    for (name, faults) in [
        ("none", Faults::None),
        ("light", Faults::Light),
        ("default", Faults::Default),
        ("heavy", Faults::Heavy),
    ] {
        assert_eq!(name.parse::<Faults>(), Ok(faults));
    }
    let error = "wild".parse::<Faults>().unwrap_err();
    assert!(error.contains("none, light, default or heavy"), "{error}");
}

/// The first of `max_seeds` seeds of `link` (default faults, 30 s runs) whose run breaks a
/// property, and which property.
fn first_broken(link: &str, max_seeds: u64) -> Option<(u64, String)> {
    let base = scenario(link);
    (0..max_seeds).find_map(|k| {
        let run = sweep::faulty_run(&base, k, Faults::Default, 30_000_000);
        let judged = sweep::judge(&run, sweep::heal_at_us(30_000_000), 30_000_000).unwrap();
        judged.broken.map(|(property, _)| (k, property))
    })
}

/// How many seeds the hunt for a teaching variant may take (`DSPLAY_VARIANT_SEEDS`, default
/// 200; Figure 8's sequence of failures is the rarest, found in about 2% of seeds).
fn variant_seeds() -> u64 {
    std::env::var("DSPLAY_VARIANT_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

// Every lab's teaching variants are found by the hunt in the settings each names, breaking the
// property it names, while the correct protocol keeps every property there. Before the sweep
// drew its faults among all of a world's nodes, the queue's consumers (beyond the link's `n`)
// were never crashed and the forgetful consumer was never found.
#[test]
fn each_variant_is_found_breaking_its_property_where_the_protocol_keeps_it() {
    for lab in dsplay::labs::REGISTRY {
        for v in lab.variants {
            let link = format!("{}&variant={}", v.hunt, v.id);
            let found = first_broken(&link, variant_seeds());
            assert_eq!(
                found.as_ref().map(|(_, p)| p.as_str()),
                Some(v.breaks),
                "{} ({}) within {} seeds of {link}: {found:?}",
                v.id,
                v.mistake,
                variant_seeds()
            );
        }
        let hunts: std::collections::BTreeSet<&str> = lab.variants.iter().map(|v| v.hunt).collect();
        for hunt in hunts {
            assert_eq!(
                first_broken(hunt, seeds()),
                None,
                "the correct protocol, {hunt}"
            );
        }
    }
}

#[test]
fn variants_are_lab_parameters_and_name_real_properties() {
    use dsplay::labs::{self, ParamKind};
    for lab in labs::REGISTRY.iter().filter(|lab| !lab.variants.is_empty()) {
        let spec = lab
            .param("variant")
            .expect("a lab with variants has a variant parameter");
        let ParamKind::Choice { options } = spec.kind else {
            panic!("{}: variant is a choice", lab.id)
        };
        let ids: Vec<&str> = lab.variants.iter().map(|v| v.id).collect();
        assert_eq!(options[0], "none");
        assert_eq!(&options[1..], &ids[..], "{}", lab.id);
        assert!(
            lab.quiet.contains(&"variant"),
            "{}: old links keep their form",
            lab.id
        );
        let s = Scenario::default_for(lab);
        for v in lab.variants {
            let sim = labs::build(&scenario(v.hunt)).unwrap();
            let names: Vec<&str> = sim.properties().iter().map(|p| p.name).collect();
            // Linearizability is the checker's verdict on the history, not a property.
            let checked = v.breaks == "linearizable" && sim.check_history().is_some();
            assert!(
                names.contains(&v.breaks) || checked,
                "{}: {} breaks {}, which {} does not check",
                lab.id,
                v.id,
                v.breaks,
                v.hunt
            );
            let broken = scenario(&format!("#/{}?variant={}", lab.id, v.id));
            assert_eq!(labs::variant_of(lab, &broken), Some(v));
        }
        assert_eq!(labs::variant_of(lab, &s), None);
    }
}

/// Seed 445251717 of the Raft sweep: latency spikes up to ten times the link's leave no leader
/// elected when the faults stop at 20 s; one is elected 150 ms after the heal and keeps leading.
const PAID_AFTER_THE_HEAL: &str = "#/raft?n=5&seed=445251717&lat=20..80ms&loss=0%&dup=0%&checkquorum=0&clients=1&et=150..300ms&hb=50ms&prevote=0&think=300ms&s=5941.456ms:set:lat=120..480ms;8638.122ms:set:lat=200..800ms;11082.834ms:set:dup=4%;11130.806ms:set:dup=14%;13226.195ms:cut:2%3E0;15467.425ms:set:lat=60..240ms;18004.391ms:crash:1;19403.137ms:set:lat=120..480ms;20s:heal;20s:set:loss=0%;20s:set:dup=0%;20s:set:lat=20..80ms;20s:restart:1";

// A debt of liveness carried over the heal is owed from the heal: paid within the bound, it is
// no failure (it once was reported, the bound counted from the violation's report); never
// paid, it is one.
#[test]
fn liveness_owed_over_the_heal_counts_from_the_heal() {
    let (heal_us, until_us) = (sweep::heal_at_us(30_000_000), 30_000_000);
    let paid = sweep::judge(&scenario(PAID_AFTER_THE_HEAL), heal_us, until_us).unwrap();
    assert_eq!(paid.broken, None);
    let never = scenario("#/raft?n=5&seed=1&variant=fixed-timeout");
    let never = sweep::faulty_run(&never, 0, Faults::None, until_us);
    let judged = sweep::judge(&never, heal_us, until_us).unwrap();
    let bound_us = 3_000_000;
    assert_eq!(
        judged.broken,
        Some(("leader_elected".to_string(), heal_us + bound_us)),
        "a cluster that never elects owes a leader one bound after the heal"
    );
}

/// The most interventions (the heal's included) a shrunk counterexample of a teaching variant
/// keeps: measured, the first counterexample of each variant on the default profile shrinks
/// to 1 to 6 (before: 12 to 43; the Figure 8 one from 32 to 5). Not every one does: of the
/// first five of each, a few keep 7 to 14 (Figure 8's chains of leader cuts, where dropping
/// any one reshuffles every later delay and the failure is lost).
const SHRUNK_SCRIPT_MAX: usize = 6;

/// How many counterexamples of each variant the shrinking test shrinks
/// (`DSPLAY_SHRINK_EXAMPLES`, default 1).
fn shrink_examples() -> usize {
    std::env::var("DSPLAY_SHRINK_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

// Each teaching variant's first counterexamples shrink to a handful of interventions that
// still break the variant's property. Before a crash was dropped together with its restart
// and the commands of one instant together, shrinking one command at a time left 5 to 15
// (a crash without its restart, or a leader cut without its heal, is a different run).
#[test]
fn each_variant_shrinks_to_a_handful_of_interventions() {
    let until_us = 30_000_000;
    let heal_us = sweep::heal_at_us(until_us);
    let mut too_long = Vec::new();
    for lab in dsplay::labs::REGISTRY {
        for v in lab.variants {
            let link = format!("{}&variant={}", v.hunt, v.id);
            let base = scenario(&link);
            let found: Vec<(Scenario, String)> = (0..variant_seeds())
                .filter_map(|k| {
                    let run = sweep::faulty_run(&base, k, Faults::Default, until_us);
                    let judged = sweep::judge(&run, heal_us, until_us).unwrap();
                    judged.broken.map(|(property, _)| (run, property))
                })
                .take(shrink_examples())
                .collect();
            assert!(!found.is_empty(), "{} is found", v.id);
            for (run, property) in found {
                let shrunk = sweep::shrink(&run, &property, until_us);
                println!(
                    "{}: seed {}, {property}: {} interventions shrunk to {}",
                    v.id,
                    run.seed,
                    run.script.len(),
                    shrunk.script.len()
                );
                let judged = sweep::judge(&shrunk, heal_us, until_us).unwrap();
                assert_eq!(judged.broken.map(|(p, _)| p), Some(property), "{}", v.id);
                if shrunk.script.len() > SHRUNK_SCRIPT_MAX {
                    too_long.push(link::encode(&shrunk));
                }
            }
        }
    }
    assert_eq!(
        too_long,
        Vec::<String>::new(),
        "over {SHRUNK_SCRIPT_MAX} interventions"
    );
}
