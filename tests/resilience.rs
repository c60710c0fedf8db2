//! The resilience lab against what the literature and the definitions say: retries under
//! contention (Brooker, "Exponential Backoff And Jitter"), load balancing against queueing
//! theory (M/M/1; Mitzenmacher's supermarket model), rate limiters against their definitions,
//! the breaker and health-check properties with teeth, readiness against liveness probes on a
//! hung backend, the window-boundary presets, the distributed limiter against its store's
//! latency and a partition, the breakers' stage, and the retry storm's metastability.
//! `DSPLAY_LB_ARRIVALS` sets the balancing runs' arrivals (default 200,000), `DSPLAY_SEEDS`
//! the rate limiters' seeds (default 5).

mod common;

use dsplay::labs::resilience::experiment::limiter::{self, Algorithm as Limiter, NAMES};
use dsplay::labs::resilience::experiment::{balance_run, theory_mean, RETRIES};
use dsplay::labs::resilience::{self, balance::Algorithm};
use dsplay::labs::{self, experiment::ExperimentSpec};
use dsplay::scenario::link;
use dsplay::sim::Instant;

fn run(e: &ExperimentSpec, args: &[(&str, &str)]) -> serde_json::Value {
    let given: Vec<(String, String)> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = e.values(&given).unwrap();
    e.run_all(&values).unwrap().json
}

// Reference: Brooker, "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015), 100
// contending clients. Capped exponential backoff without jitter keeps the clients in step, so
// it makes the most calls of the exponential family; full and decorrelated jitter spread them
// and make markedly fewer. The busiest 10 ms is the first round of every client's first write
// whatever the policy; from the second retry on, the unjittered retries still come in waves
// higher than full or decorrelated jitter's.
#[test]
fn retries_without_jitter_make_the_most_calls_among_exponential_policies() {
    let mut rows = Vec::new();
    for policy in [
        "none",
        "fixed",
        "exponential",
        "full-jitter",
        "equal-jitter",
        "decorrelated-jitter",
    ] {
        let j = run(
            &RETRIES,
            &[("clients", "100"), ("policy", policy), ("trials", "20")],
        );
        let f = |k: &str| j[k].as_f64().unwrap();
        println!(
            "{policy:>20}: total_calls {:7.1}  completion_ms {:8.1}  peak_calls_per_10ms {:5.1}  waves {:5.1}",
            f("total_calls"),
            f("completion_ms"),
            f("peak_calls_per_10ms"),
            f("peak_wave_calls_per_10ms")
        );
        rows.push((policy, f("total_calls"), f("peak_wave_calls_per_10ms")));
    }
    let get = |p: &str| rows.iter().find(|r| r.0 == p).copied().unwrap();
    let expo = get("exponential");
    for p in ["full-jitter", "equal-jitter", "decorrelated-jitter"] {
        assert!(get(p).1 < expo.1, "{p} makes fewer calls than exponential");
    }
    for p in ["full-jitter", "decorrelated-jitter"] {
        assert!(get(p).1 < 0.7 * expo.1, "{p}: markedly fewer calls");
        assert!(get(p).2 < expo.2, "{p}: lower waves than exponential");
    }
}

fn arrivals() -> u64 {
    std::env::var("DSPLAY_LB_ARRIVALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

// Reference: with random assignment each of the servers is an M/M/1 queue, mean time in system
// 1/(μ(1 − ρ)); with power of two choices the supermarket model (Mitzenmacher 2001) predicts
// Σ_{i≥1} ρ^(2^i − 2) service times as the servers grow many. 100 servers, within 15%.
#[test]
fn random_and_power_of_two_match_queueing_theory_with_100_servers() {
    let service_ns = 10_000_000;
    for rho in [0.5, 0.9] {
        for algo in [Algorithm::Random, Algorithm::PowerOfTwo] {
            let r = balance_run(algo, 100, rho, service_ns, arrivals(), 7);
            let mean = r.times_ns.iter().map(|t| *t as f64).sum::<f64>() / r.times_ns.len() as f64;
            let theory = theory_mean(algo, rho).unwrap() * service_ns as f64;
            println!(
                "{algo:?} at rho {rho}: mean {:.3} ms, theory {:.3} ms, max queue {}",
                mean / 1e6,
                theory / 1e6,
                r.max_queue
            );
            assert!(
                (mean / theory - 1.0).abs() < 0.15,
                "{algo:?} at {rho}: {mean} against {theory}"
            );
        }
    }
}

// Power of two choices is far better than random at high load (the whole point).
#[test]
fn power_of_two_beats_random_and_round_robin_at_high_load() {
    let mean = |a| {
        let r = balance_run(a, 100, 0.9, 10_000_000, 50_000, 3);
        r.times_ns.iter().sum::<u64>() / r.times_ns.len() as u64
    };
    let (random, p2c) = (mean(Algorithm::Random), mean(Algorithm::PowerOfTwo));
    assert!(p2c * 2 < random, "{p2c} against {random}");
    assert!(mean(Algorithm::LeastConnections) <= p2c);
}

// Over a seed sweep, steady and bursty traffic: no limiter admits more in any one second than
// its definition allows (a fixed window, and the sliding counter's weighting at worst, twice
// the limit; the others the limit plus the burst), and the bursts across a boundary do take a
// fixed window past the others' bound while the sliding log stays at its limit.
#[test]
fn rate_limiters_never_admit_more_than_their_definition_allows() {
    let seeds = common::seeds(5);
    let mut fixed_over = false;
    for name in NAMES {
        let algo = Limiter::parse(name).unwrap();
        for (limit, burst, rate) in [(10, 5, 40), (100, 20, 400), (50, 1, 51)] {
            for bursts in [true, false] {
                for seed in 0..seeds {
                    let times = limiter::arrivals(rate, 12, bursts, seed);
                    let admitted = limiter::admit(algo, limit, burst, &times);
                    let most = limiter::max_in_window(&admitted, 1_000_000);
                    let bound = limiter::bound(algo, limit, burst);
                    assert!(
                        most <= bound,
                        "{name} limit {limit} burst {burst} seed {seed}: {most} in one second"
                    );
                    if algo == Limiter::SlidingLog {
                        assert!(most <= limit);
                    }
                    if algo == Limiter::FixedWindow && bursts && most > limit + burst {
                        fixed_over = true;
                    }
                }
            }
        }
    }
    assert!(
        fixed_over,
        "a fixed window lets a burst across its boundary through twice"
    );
}

fn scenario(l: &str) -> dsplay::scenario::Scenario {
    link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"))
}

fn broken(l: &str, until_s: u64) -> Vec<&'static str> {
    let mut sim = labs::build(&scenario(l)).unwrap();
    sim.run_until(Instant(until_s * 1_000_000));
    sim.properties()
        .into_iter()
        .filter(|p| !p.holds)
        .map(|p| p.name)
        .collect()
}

// The properties hold on the protocol as described and have teeth: the LB that ignores the
// health checks routes to a backend they took out, and the breaker that skips its cool-down
// sends while it should be open. Each variant's hunt link is the scene.
#[test]
fn breaker_and_health_properties_hold_and_catch_the_broken_variants() {
    for v in resilience::VARIANTS {
        assert_eq!(broken(v.hunt, 20), Vec::<&str>::new(), "{}", v.hunt);
        let with = format!("{}&variant={}", v.hunt, v.id);
        assert_eq!(broken(&with, 20), vec![v.breaks], "{with}");
    }
    for p in resilience::PRESETS {
        assert_eq!(broken(p.link, 12), Vec::<&str>::new(), "{}", p.name);
    }
}

// Health checks take a crashed backend out of the pool (after two failed probes), put it
// back after it restarts, and meanwhile nothing is lost to it.
#[test]
fn a_crashed_backend_leaves_the_pool_and_rejoins_after_its_restart() {
    let s = scenario("#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&s=2s:crash:1;6s:restart:1");
    let mut w = resilience::world(&s).unwrap();
    let healthy =
        |w: &dsplay::sim::World<resilience::Resilience>| w.state(0).lb().unwrap().health[0].healthy;
    w.run_until(Instant(3_000_000), &s.script);
    assert!(!healthy(&w), "out within a second");
    let out = resilience::figures(&w, 3_000_000, 3_000_000);
    assert_eq!(out.ok, 0);
    w.run_until(Instant(8_000_000), &s.script);
    assert!(healthy(&w), "back within two seconds of the restart");
    let f = resilience::figures(&w, 3_000_000, 6_000_000);
    assert_eq!(
        f.unknown + f.failed,
        0,
        "no request lost to the dead backend: {f:?}"
    );
}

// The retry-storm preset: both backends are down from 2 s to 4 s. Retrying at once without a
// budget, the clients keep the queues full of work nobody waits for and goodput stays near
// zero long after the outage (a metastable failure); with full jitter and a 10% budget the
// service is back to its offered load within two seconds of the restart.
#[test]
fn the_retry_storm_stays_down_without_jitter_and_budget_and_recovers_with_them() {
    let goodput = |l: &str| {
        let s = scenario(l);
        let mut w = resilience::world(&s).unwrap();
        w.run_until(Instant(16_000_000), &s.script);
        let before = resilience::figures(&w, 0, 2_000_000).ok as f64 / 2.0;
        let after = resilience::figures(&w, 6_000_000, 16_000_000).ok as f64 / 10.0;
        (before, after)
    };
    let (before, storm) = goodput(resilience::RETRY_STORM);
    let (_, fixed) = goodput(resilience::RETRY_STORM_FIXED);
    println!(
        "goodput/s before {before}, after the outage: storm {storm}, jitter and budget {fixed}"
    );
    assert!(before > 80.0);
    assert!(
        storm < 0.1 * before,
        "the storm keeps goodput down: {storm}"
    );
    assert!(fixed > 0.9 * before, "jitter and a budget recover: {fixed}");
}

// The lab's entry limiter is the experiment's: over 2 s of twice the limit offered, no
// limiter forwards more in any one second than its definition allows, and the token bucket
// forwards about its limit.
#[test]
fn the_entry_rate_limiter_forwards_no_more_than_its_definition_allows() {
    for name in NAMES {
        let l = format!(
            "#/resilience?n=3&seed=2&lat=1..2ms&loss=0%&dup=0%&clients=32&rate=200&limiter={name}&limit=100&burst=10"
        );
        let mut sim = labs::build(&scenario(&l)).unwrap();
        // Two seconds of records fit in the trace's window.
        sim.run_until(Instant(2_000_000));
        let forwards: Vec<u64> = sim
            .records()
            .into_iter()
            .filter(|r| r.what == "send" && r.text == "forward")
            .map(|r| r.at_us)
            .collect();
        let most = limiter::max_in_window(&forwards, 1_000_000);
        let bound = limiter::bound(Limiter::parse(name).unwrap(), 100, 10);
        assert!(most <= bound, "{name}: {most} forwarded in one second");
        assert!(forwards.len() > 150, "{name}: {} forwarded", forwards.len());
    }
}

// Total on input: out-of-range settings of the lab and its experiments are refused with a
// message that names them, never a panic.
#[test]
fn bad_settings_are_refused_with_a_message() {
    for (q, says) in [
        ("weights=0-1", "weight"),
        ("weights=1-x", "weight"),
        ("algorithm=fastest", "Balancing"),
        ("limiter=nope", "Rate limiter"),
        ("queue=-1", "Queue limit"),
        ("fail-fraction=2", "Failing fraction"),
        ("clients=0", "Clients"),
    ] {
        let l = format!("#/resilience?n=3&seed=1&{q}");
        let e = link::decode(&l).map(|_| ()).unwrap_err().0;
        assert!(e.contains(says), "{q}: {e}");
    }
    let lb = labs::find_experiment("load-balancing").unwrap();
    let rl = labs::find_experiment("rate-limit").unwrap();
    let dl = labs::find_experiment("distributed-limit").unwrap();
    for (e, args, says) in [
        (&RETRIES, vec![("base-ms", "3s"), ("cap-ms", "1s")], "base"),
        (&RETRIES, vec![("policy", "forever")], "Policy"),
        (lb, vec![("load", "1")], "Load"),
        (lb, vec![("servers", "0")], "Servers"),
        (
            rl,
            vec![("rate", "1000000"), ("seconds", "3600")],
            "10 million",
        ),
        (rl, vec![("algorithm", "gcra")], "Limiter"),
        (dl, vec![("sync", "500us")], "sync interval"),
        (dl, vec![("instances", "0")], "Instances"),
        (
            dl,
            vec![("instances", "32"), ("sync", "1ms"), ("seconds", "600")],
            "5 million syncs",
        ),
        (dl, vec![("fail", "maybe")], "Store unreachable"),
    ] {
        let given: Vec<(String, String)> = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let err = e
            .values(&given)
            .and_then(|v| (e.start)(&v).map(drop))
            .unwrap_err();
        assert!(err.contains(says), "{}: {err}", e.id);
    }
}

fn world_at(l: &str, until_s: u64) -> dsplay::sim::World<resilience::Resilience> {
    let s = scenario(l);
    let mut w = resilience::world(&s).unwrap();
    w.run_until(Instant(until_s * 1_000_000), &s.script);
    w
}

// Readiness and liveness apart. B1 hangs at 2 s: up, answering nothing. Without any probe a
// third of the requests keep timing out in it; readiness probes take it out of the pool, where
// it stays hung for good; with liveness probes too the LB restarts it once, after three failed
// ones (by 4 s), and readiness brings it back: it serves again and nothing fails any more.
#[test]
fn a_hung_backend_is_taken_out_by_readiness_and_restarted_by_liveness() {
    let blind = world_at(&format!("{}&health=0", resilience::HUNG), 10);
    let f = resilience::figures(&blind, 4_000_000, 10_000_000);
    assert!(
        f.unknown * 4 > f.offered,
        "no probes: timeouts go on: {f:?}"
    );

    let w = world_at(resilience::HUNG, 10);
    let (lb, b1) = (w.state(0).lb().unwrap(), w.state(1).backend().unwrap());
    assert!(!lb.health[0].healthy, "readiness took B1 out");
    assert!(b1.hung && b1.restarts == 0, "and nothing restarts it");
    let f = resilience::figures(&w, 4_000_000, 10_000_000);
    assert_eq!(f.unknown + f.failed, 0, "no request lost to it: {f:?}");

    let early = world_at(resilience::HUNG_LIVENESS, 4);
    let b1 = early.state(1).backend().unwrap();
    assert_eq!(
        b1.restarts, 1,
        "restarted after three failed liveness probes"
    );
    assert!(!early.state(0).lb().unwrap().health[0].healthy);
    let w = world_at(resilience::HUNG_LIVENESS, 10);
    let (lb, b1) = (w.state(0).lb().unwrap(), w.state(1).backend().unwrap());
    assert!(lb.health[0].healthy, "back in the pool");
    assert!(!b1.hung && !b1.restarting && b1.restarts == 1);
    assert!(b1.served > early.state(1).backend().unwrap().served + 100);
    let f = resilience::figures(&w, 6_000_000, 10_000_000);
    assert_eq!(f.unknown + f.failed, 0, "{f:?}");
}

// The window-boundary presets: 20 requests at 0.95 s and 20 at 1.05 s against a limit of 20 a
// second. The fixed window forwards near twice its limit in the one second straddling the
// boundary (each window lets its 20 through); the sliding window log at most its limit plus
// its burst, turning the second burst away.
#[test]
fn a_fixed_window_admits_twice_its_limit_across_a_boundary_and_a_sliding_log_does_not() {
    let straddling = |l: &str| {
        let mut sim = labs::build(&scenario(l)).unwrap();
        sim.run_until(Instant(2_000_000));
        sim.records()
            .into_iter()
            .filter(|r| r.what == "send" && r.text == "forward")
            .filter(|r| (500_000..1_500_000).contains(&r.at_us))
            .count() as u64
    };
    let (fixed, sliding) = (
        straddling(resilience::BOUNDARY_FIXED),
        straddling(resilience::BOUNDARY_SLIDING),
    );
    println!("forwarded from 0.5 s to 1.5 s: fixed window {fixed}, sliding log {sliding}");
    assert!((36..=42).contains(&fixed), "fixed window: {fixed}");
    assert!(sliding <= 20 + 1, "sliding log: {sliding}");
}

fn distributed(args: &[(&str, &str)]) -> serde_json::Value {
    let e = labs::find_experiment("distributed-limit").unwrap();
    run(e, args)
}

// The distributed limiter: 4 instances share 100 a second through a store, 300 a second
// offered. Syncing every 10 ms, the tier over-admits more the farther the store is (each
// instance is blind to the others' admissions for a sync interval and a round trip); with the
// store next door it stays within 5% of the limit; asking the store on every request is exact
// whatever the latency.
#[test]
fn distributed_over_admission_grows_with_store_latency() {
    let mut over = Vec::new();
    for lat in ["0ms", "2ms", "10ms", "40ms"] {
        let j = distributed(&[("store-latency", lat), ("trials", "3")]);
        let (a, o) = (
            j["admitted_per_s"].as_f64().unwrap(),
            j["over_limit_per_s"].as_f64().unwrap(),
        );
        let exact = distributed(&[("store-latency", lat), ("sync", "0s"), ("trials", "3")]);
        let e = exact["admitted_per_s"].as_f64().unwrap();
        println!("store {lat:>5} away: synced every 10 ms {a:6.1}/s ({o:5.1} over the limit of 100); asked per request {e:6.1}/s");
        assert!(e <= 100.0 && e > 95.0, "asking per request is exact: {e}");
        over.push(o);
    }
    assert!(
        over[0] <= 5.0,
        "next door: within 5% of the limit: {over:?}"
    );
    assert!(
        over.windows(2).all(|w| w[0] < w[1]),
        "grows with latency: {over:?}"
    );
    assert!(over[3] > 4.0 * over[0].max(1.0), "{over:?}");
}

// Cut off from the store from 2 s to 5 s, instances that fail open admit everything offered
// (three times the limit), and those that fail closed nothing; both are back at the limit
// once the store is reachable again.
#[test]
fn cut_off_from_the_store_instances_fail_open_or_closed() {
    for (fail, lo, hi) in [("open", 250.0, 350.0), ("closed", 0.0, 0.0)] {
        let j = distributed(&[
            ("partition", "3s"),
            ("fail", fail),
            ("sync", "0s"),
            ("trials", "2"),
        ]);
        let during = j["admitted_per_s_partitioned"].as_f64().unwrap();
        println!("failing {fail}: {during:.1} a second while cut off; {j}");
        assert!((lo..=hi).contains(&during), "{fail}: {during}");
    }
}

// The "Breakers" stage draws each client's breaker as its state machine with the current
// state filled: over the breaker preset (closed, then open and half-open while the backends
// fail, then closed again) the filled circles of each colour are exactly the breakers in that
// state, every client has its three states and four transitions, and an open breaker shows
// its cool-down as an arc.
#[test]
fn the_breaker_stage_fills_each_clients_current_state() {
    use dsplay::labs::resilience::view::{
        CLOSED_COLOUR as CLOSED, HALF_OPEN_COLOUR as HALF_OPEN, OPEN_COLOUR as OPEN,
    };
    use dsplay::viz::scene::Shape;
    let l = resilience::PRESETS
        .iter()
        .find(|p| p.name.starts_with("Circuit breakers"))
        .unwrap()
        .link;
    let mut sim = labs::build(&scenario(l)).unwrap();
    let area = dsplay::labs::StageArea {
        w: 800.0,
        h: 500.0,
        style: Default::default(),
        selected: Default::default(),
        hover: Default::default(),
    };
    let mut seen_open = false;
    for t_ms in [1_000, 2_500, 3_000, 3_500, 4_000, 5_000, 8_000] {
        sim.run_until(Instant(t_ms * 1_000));
        let shapes = sim.stage(0, &area);
        let metric = |k: &str| {
            sim.metrics()
                .iter()
                .find(|m| m.key == k)
                .map_or(0, |m| m.value as usize)
        };
        let filled = |c: &str| {
            shapes
                .iter()
                .filter(|s| matches!(s, Shape::Circle { fill: Some(f), .. } if *f == c))
                .count()
        };
        let circles = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Circle { .. }))
            .count();
        let arrows = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Arrow { .. }))
            .count();
        let (open, half) = (metric("breakers_open"), metric("breakers_half_open"));
        let clients = circles / 3;
        assert_eq!(
            (filled(OPEN), filled(HALF_OPEN)),
            (open, half),
            "at {t_ms} ms"
        );
        assert_eq!(filled(CLOSED), clients - open - half, "at {t_ms} ms");
        assert_eq!((circles, arrows), (3 * clients, 4 * clients));
        let arcs = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Arc { .. }))
            .count();
        assert_eq!(arcs, open);
        seen_open |= open > 0;
        assert!(
            clients == 8 || t_ms < 2_000,
            "all eight clients drawn by then"
        );
    }
    assert!(seen_open, "the preset opens breakers");
}
