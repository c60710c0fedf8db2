//! Every lab in the registry: its default scenario runs, deterministically, without violating a
//! property. Adding a lab to the registry adds it here.

mod common;

use dsplay::labs::{self, REGISTRY};
use dsplay::scenario::Scenario;
use dsplay::sim::Instant;

#[test]
fn every_lab_runs_its_default_scenario_without_violations() {
    for lab in REGISTRY {
        let s = Scenario::default_for(lab);
        let mut a = labs::build(&s).unwrap_or_else(|e| panic!("{}: {e}", lab.id));
        a.run_until(Instant(60_000_000));
        assert!(a.counters().events > 100, "{}: something happened", lab.id);
        for p in a.properties() {
            assert!(
                p.holds,
                "{}: property {} violated at {:?}",
                lab.id, p.name, p.first_violation_us
            );
        }
        let mut b = labs::build(&s).unwrap();
        b.run_until(Instant(60_000_000));
        assert_eq!(a.trace_hash(), b.trace_hash(), "{}: deterministic", lab.id);
        assert!(!a.nodes().is_empty());
    }
}

// The flows lab's properties have teeth: a server with more requests in service than workers is
// caught. We break the protocol by giving the checker a smaller worker count than the servers use.
#[test]
fn flows_worker_bound_catches_an_overloaded_server() {
    use dsplay::labs::flows::Flows;
    use dsplay::labs::LabProtocol;
    use dsplay::sim::{World, WorldConfig};
    let mut cfg = WorldConfig::new(1, 3);
    cfg.clients = 8;
    cfg.client_think = dsplay::sim::Dist::Constant { us: 0 };
    // The "broken" server ignores its worker limit (workers = 64) while the property is
    // evaluated against a limit of 1 by wrapping the check.
    let broken = Flows {
        proc_min_us: 50_000,
        proc_max_us: 50_000,
        workers: 64,
        clients: 8,
    };
    let mut props = Flows::properties();
    props[0].check =
        |w: &World<Flows>| (w.nodes.iter().all(|n| n.state.in_service.len() <= 1)).into();
    let mut w = World::new(broken, cfg, props);
    w.run_until(Instant(1_000_000), &[]);
    let bounded = &w.properties()[0];
    assert!(!bounded.holds, "an overloaded server must be caught");
}

// Servers that are reachable but never answer in time: the liveness property fires after its
// bound. Cutting the clients off instead owes nothing (its precondition fails), so it holds.
#[test]
fn flows_progress_fires_when_requests_never_succeed() {
    let slow = common::run_link(
        "#/flows?n=2&seed=4&clients=2&proc=10..10s&timeout=1s",
        9_000_000,
    );
    let p = slow
        .properties()
        .into_iter()
        .find(|p| p.name == "clients_progress")
        .unwrap();
    assert!(!p.holds, "every request times out for 9 s");
    let cut = common::run_link("#/flows?n=2&seed=4&clients=2&s=1s:part:0.1/2.3", 9_000_000);
    let p = cut
        .properties()
        .into_iter()
        .find(|p| p.name == "clients_progress")
        .unwrap();
    assert!(
        p.holds,
        "clients cut off from every server are owed nothing"
    );
}
