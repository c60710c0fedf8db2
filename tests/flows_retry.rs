//! Clients that retry, arrive open-loop, and carry idempotency keys; the flows lab's payments.
//!
//! Backoff bounds follow the definitions of "Exponential Backoff and Jitter" (AWS Architecture
//! Blog); a retry budget is a token bucket over new operations (Finagle, tower).

mod common;
use common::run_link;

use dsplay::labs::flows::{Flows, FlowsMode};
use dsplay::labs::{self, LabProtocol, Sim};
use dsplay::scenario::link::{decode, encode};
use dsplay::scenario::Scenario;
use dsplay::sim::client::{Backoff, ClientPolicy};
use dsplay::sim::{Dist, Duration, Instant, Rng, Stream, World};

fn policy(retry: Backoff, base_us: u64, cap_us: u64) -> ClientPolicy {
    ClientPolicy {
        retry,
        backoff_base_us: base_us,
        backoff_cap_us: cap_us,
        attempts_max: 10,
        ..ClientPolicy::default()
    }
}

/// The first `retries` waits of one operation, as the engine chains them.
fn schedule(p: &ClientPolicy, retries: u32, rng: &mut Rng) -> Vec<u64> {
    let mut prev = p.backoff_base_us;
    (0..retries)
        .map(|k| {
            prev = p.backoff_us(k, prev, rng);
            prev
        })
        .collect()
}

// Fixed waits the base; exponential doubles it from the base and stops at the cap.
#[test]
fn fixed_and_exponential_backoff_follow_their_formulas_up_to_the_cap() {
    let mut rng = Rng::new(1, Stream::Retries);
    let fixed = policy(Backoff::Fixed, 100, 1_000);
    assert_eq!(schedule(&fixed, 4, &mut rng), vec![100; 4]);
    let exp = policy(Backoff::Exponential, 100, 1_000);
    assert_eq!(
        schedule(&exp, 7, &mut rng),
        vec![100, 200, 400, 800, 1_000, 1_000, 1_000]
    );
    // A long run of retries never overflows: the wait stays at the cap.
    assert_eq!(exp.backoff_us(200, 0, &mut rng), 1_000);
}

// Full jitter draws from [0, exp], equal jitter from [exp/2, exp], decorrelated from
// [base, 3 * previous] and never past the cap; each covers its range over many draws.
#[test]
fn jittered_backoffs_stay_within_their_bounds_and_cover_them() {
    let (base, cap) = (1_000u64, 50_000u64);
    for seed in 0..20 {
        let mut rng = Rng::new(seed, Stream::Retries);
        for (retry, lo_of) in [(Backoff::FullJitter, 0.0), (Backoff::EqualJitter, 0.5)] {
            let p = policy(retry, base, cap);
            for k in 0..8u32 {
                let exp = (base << k).min(cap);
                let w = p.backoff_us(k, 0, &mut rng);
                let (lo, hi) = ((exp as f64 * lo_of) as u64, exp);
                assert!(
                    (lo..=hi).contains(&w),
                    "{retry:?} k={k}: {w} not in {lo}..={hi}"
                );
            }
        }
        let p = policy(Backoff::Decorrelated, base, cap);
        let mut prev = base;
        for _ in 0..20 {
            let w = p.backoff_us(1, prev, &mut rng);
            assert!(
                w >= base.min(cap) && w <= cap && w <= 3 * prev,
                "{w} after {prev}"
            );
            prev = w;
        }
    }
    // Over many draws full jitter reaches near both ends of its range.
    let mut rng = Rng::new(7, Stream::Retries);
    let p = policy(Backoff::FullJitter, 1_000, 1_000);
    let draws: Vec<u64> = (0..2_000).map(|_| p.backoff_us(0, 0, &mut rng)).collect();
    assert!(draws.iter().any(|w| *w < 50) && draws.iter().any(|w| *w > 950));
}

/// A flows world for a link, with the protocol and engine settings the lab would build.
fn flows_world(l: &str) -> World<Flows> {
    let s = decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let p = |k: &str| s.param(k).unwrap().to_string();
    let (proc_min_us, proc_max_us) = labs::parse_range(&p("proc")).unwrap();
    let clients: u32 = p("clients").parse().unwrap();
    let proto = Flows {
        mode: match p("mode").as_str() {
            "payment" => FlowsMode::Payment,
            _ => FlowsMode::Rpc,
        },
        idem: p("idem") == "1",
        ttl_s: p("ttl").parse().unwrap(),
        ..Flows::rpc(
            proc_min_us,
            proc_max_us,
            p("workers").parse().unwrap(),
            clients,
        )
    };
    let mut cfg = labs::world_config(&s);
    cfg.clients = clients;
    cfg.client_think = Dist::Constant {
        us: dsplay::sim::time::parse_duration(&p("think")).unwrap(),
    };
    cfg.client_timeout = Duration(dsplay::sim::time::parse_duration(&p("timeout")).unwrap());
    let props = proto.properties();
    World::new(proto, cfg, props)
}

// With every message lost, each operation makes exactly its attempts, spaced by the timeout
// plus the exponential backoff; the history keeps one entry per operation with its attempts.
#[test]
fn an_operation_makes_its_attempts_spaced_by_timeout_and_backoff() {
    let l = "#/flows?n=1&seed=1&lat=10ms&loss=100%&clients=1&timeout=100ms&think=50ms&\
             retry=exponential&backoff=10ms..1s&attempts=4";
    let mut w = flows_world(l);
    w.run_until(Instant(2_000_000), &[]);
    let first = w.history().get(0).unwrap().clone();
    assert_eq!(first.attempts, 4, "{first:?}");
    // Invoked at the think time; attempts after 100ms timeouts and 10, 20, 40ms backoffs.
    let sends: Vec<u64> = w
        .trace
        .window()
        .iter()
        .filter_map(|r| match r.kind {
            dsplay::sim::RecordKind::Send { from: 1, .. } => Some(r.at_us),
            _ => None,
        })
        .take(5)
        .collect();
    assert_eq!(
        sends,
        vec![50_000, 160_000, 280_000, 420_000, 570_000],
        "the fifth send is the next operation, 50ms after the last attempt timed out"
    );
    let finished: Vec<_> = w.history().iter().filter(|h| h.outcome.is_some()).collect();
    assert!(finished.len() > 2);
    assert!(finished.iter().all(|h| h.attempts == 4));
    let retries: u64 = w.history().iter().map(|h| h.attempts as u64 - 1).sum();
    assert_eq!(retries, w.client_retries());
}

// A budget of 10% lets a client retry about one operation in ten (plus the one retry a
// bucket starts with), however many attempts each may make; without it every one retries.
#[test]
fn a_retry_budget_stops_retries_a_dead_service_would_draw() {
    let l = "#/flows?n=1&seed=3&lat=5ms&loss=100%&clients=2&timeout=20ms&think=10ms&\
             retry=fixed&backoff=1ms..1ms&attempts=10";
    let run = |l: &str| {
        let mut w = flows_world(l);
        w.run_until(Instant(20_000_000), &[]);
        (w.history().len() as u64, w.client_retries())
    };
    let (ops, unlimited) = run(l);
    assert!(
        unlimited >= 9 * (ops - 2),
        "{unlimited} retries for {ops} operations"
    );
    let (ops, budgeted) = run(&format!("{l}&budget=10%"));
    assert!(ops > 100);
    // Two clients, each starting with one retry in hand; a little slack for rounding.
    let allowed = 2 + ops / 10 + 2;
    assert!(
        budgeted <= allowed,
        "{budgeted} retries for {ops} operations"
    );
    assert!(
        budgeted >= ops / 10 - 2,
        "the budget is spent: {budgeted} for {ops}"
    );
}

// Open-loop arrivals come as a Poisson process: over a long run the operations invoked
// match the rate within a few percent, whatever the seed.
#[test]
fn poisson_arrivals_keep_their_mean_rate_over_a_long_run() {
    for seed in 1..=3 {
        let l = format!(
            "#/flows?n=3&seed={seed}&lat=1..3ms&clients=4&proc=1..2ms&arrivals=poisson:40/s"
        );
        let mut w = flows_world(&l);
        let secs = 200;
        w.run_until(Instant(secs * 1_000_000), &[]);
        let invoked = w.history().len() as u64 + w.history_dropped();
        let expected = 40 * secs;
        let off = invoked.abs_diff(expected) as f64 / expected as f64;
        assert!(
            off < 0.05,
            "{l}: {invoked} operations, expected about {expected}"
        );
    }
}

// The same link gives the same run, and running in frames equals running at once.
#[test]
fn retrying_open_loop_payments_replay_identically() {
    let l = "#/flows?n=2&seed=9&lat=5..60ms&loss=15%&dup=2%&clients=3&timeout=200ms&\
             retry=decorrelated&backoff=20ms..1s&attempts=5&budget=50%&arrivals=poisson:8/s&\
             mode=payment&ttl=2";
    let a = run_link(l, 30_000_000);
    let b = run_link(l, 30_000_000);
    assert_eq!(a.trace_hash(), b.trace_hash());
    let mut c = run_link(l, 0);
    let mut t = 0;
    while t < 30_000_000 {
        t += 16_667;
        c.run_until(Instant(t.min(30_000_000)));
    }
    assert_eq!(a.trace_hash(), c.trace_hash());
    let mut d = run_link(l, 30_000_000);
    d.seek(Instant(12_000_000));
    d.run_until(Instant(30_000_000));
    assert_eq!(a.trace_hash(), d.trace_hash());
}

fn metric(sim: &dyn Sim, key: &str) -> f64 {
    sim.metrics()
        .iter()
        .find(|m| m.key == key)
        .unwrap_or_else(|| panic!("no figure {key}"))
        .value
}

fn violated(sim: &dyn Sim, name: &str) -> bool {
    sim.properties().iter().any(|p| p.name == name && !p.holds)
}

fn sweep_seeds() -> u64 {
    std::env::var("DSPLAY_FLOWS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

const RETRYING: &str = "#/flows?n=2&lat=20..80ms&loss=20%&dup=1%&clients=3&retry=full-jitter&\
                        backoff=50ms..1s&attempts=5&proc=20..200ms&timeout=300ms&mode=payment";

// With idempotency keys no payment is charged twice, over a sweep of seeds with loss and
// duplication; without them some are, and the property says so.
#[test]
fn with_keys_no_payment_is_charged_twice_and_without_some_are() {
    let mut twice_without = 0.0;
    for seed in 0..sweep_seeds() {
        let with = format!("{RETRYING}&seed={seed}&idem=1");
        let sim = run_link(&with, 60_000_000);
        assert_eq!(metric(&*sim, "payments_charged_twice"), 0.0, "{with}");
        assert!(!violated(&*sim, "no_double_charge"), "{with}");
        assert!(
            metric(&*sim, "client_retries") > 0.0,
            "{with}: no retries to test"
        );
        let without = format!("{RETRYING}&seed={seed}&idem=0");
        let sim = run_link(&without, 60_000_000);
        let twice = metric(&*sim, "payments_charged_twice");
        assert_eq!(
            violated(&*sim, "no_double_charge"),
            twice > 0.0,
            "{without}"
        );
        twice_without += twice;
    }
    assert!(
        twice_without > 0.0,
        "retries without keys never charged twice"
    );
}

// A key that expires before the clients stop retrying lets a late retry charge again; the
// same run with a key lifetime longer than the retry window charges nothing twice.
#[test]
fn a_ttl_shorter_than_the_retry_window_lets_a_duplicate_charge_through() {
    let short = labs::flows::payment::SHORT_TTL.link;
    let sim = run_link(short, 60_000_000);
    assert!(metric(&*sim, "payments_charged_twice") > 0.0, "{short}");
    assert!(violated(&*sim, "no_double_charge"), "{short}");
    let long = short.replace("ttl=1", "ttl=30");
    let sim = run_link(&long, 60_000_000);
    assert_eq!(metric(&*sim, "payments_charged_twice"), 0.0, "{long}");
}

// The property has teeth: the preset without keys is caught charging a payment twice, and
// the preset with keys is not.
#[test]
fn no_double_charge_is_violated_by_retries_without_keys() {
    let sim = run_link(labs::flows::payment::NO_KEYS.link, 60_000_000);
    assert!(violated(&*sim, "no_double_charge"));
    let sim = run_link(labs::flows::payment::WITH_KEYS.link, 60_000_000);
    assert!(!violated(&*sim, "no_double_charge"));
    assert!(metric(&*sim, "idempotency_keys") > 0.0);
    assert!(!sim.panels().is_empty(), "the idempotency table is shown");
}

// Zero latency, processing and backoff with retries on (and open-loop arrivals) never hold a
// run at one instant: every attempt waits for its timeout, every arrival for its gap.
#[test]
fn zero_delays_with_zero_backoff_stay_within_the_event_budget() {
    for l in [
        "#/flows?n=2&seed=1&lat=0ms&loss=50%&clients=8&think=1ms&proc=0ms..0ms&timeout=1ms&\
         retry=fixed&backoff=0ms..0ms&attempts=10",
        "#/flows?n=2&seed=1&lat=0ms&loss=50%&clients=1&think=0ms&proc=0ms..0ms&timeout=1ms&\
         retry=full-jitter&backoff=0ms..0ms&attempts=10&arrivals=poisson:1000/s&mode=payment",
    ] {
        let sim = run_link(l, 5_000_000);
        assert!(sim.stall().is_none(), "{l}: {:?}", sim.stall());
        assert_eq!(sim.now(), Instant(5_000_000), "{l}");
    }
}

// The client keys round-trip through links and JSON, are left out at their defaults, and bad
// values get an error naming the key.
#[test]
fn client_settings_round_trip_and_bad_values_are_refused_by_name() {
    let l = "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%&retry=equal-jitter&\
             backoff=50ms..2.5s&attempts=6&budget=12.5%&arrivals=poisson:2.5/s";
    let s = decode(l).unwrap();
    let again = decode(&encode(&s)).unwrap();
    assert_eq!(again, s);
    assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    assert!(encode(&s).contains("retry=equal-jitter&backoff=50ms..2.5s&attempts=6"));
    let plain = decode("#/flows?n=3&seed=7").unwrap();
    assert!(plain.client_policy.is_default());
    assert!(!encode(&plain).contains("retry"), "{}", encode(&plain));
    assert!(!plain.to_json().contains("client_policy"));
    for (bad, words) in [
        (
            "retry=sometimes",
            "retry: 'sometimes' is not one of none, fixed",
        ),
        ("backoff=5s..1s", "backoff: '5s..1s'"),
        ("backoff=1s", "backoff: '1s'"),
        ("backoff=1s..2h", "backoff"),
        (
            "attempts=0",
            "attempts: '0' is not a whole number from 1 to 10",
        ),
        ("attempts=11", "attempts"),
        ("budget=150%", "budget: '150%' is not off or 0% to 100%"),
        ("arrivals=poisson:0", "arrivals"),
        ("arrivals=poisson:5000/s", "arrivals"),
        ("arrivals=fast", "arrivals: 'fast'"),
    ] {
        let e = decode(&format!("#/flows?n=3&{bad}")).unwrap_err().0;
        assert!(e.contains(words), "{bad}: {e}");
    }
    let mut json = s.clone();
    json.client_policy.attempts_max = 0;
    let e = Scenario::from_json(&json.to_json()).unwrap_err().0;
    assert!(e.contains("attempts"), "{e}");
}

// Every request of one operation carries that operation's key, and no other operation's.
#[test]
fn every_attempt_carries_its_operations_idempotency_key() {
    let l = "#/flows?n=1&seed=5&lat=10..30ms&loss=40%&clients=2&timeout=100ms&\
             retry=exponential&backoff=10ms..100ms&attempts=5";
    let mut w = flows_world(l);
    w.run_until(Instant(5_000_000), &[]);
    let mut by_key = std::collections::BTreeMap::new();
    let mut requests = 0;
    for r in w.trace.window() {
        let dsplay::sim::RecordKind::Send { msg, .. } = r.kind else {
            continue;
        };
        if let Some(dsplay::sim::Wire::Request { key, op, .. }) = w.sent_message(msg) {
            requests += 1;
            let value = by_key.entry(*key).or_insert(op.value);
            assert_eq!(*value, op.value, "key {key} carried by two operations");
        }
    }
    let values: std::collections::BTreeSet<u64> = by_key.values().copied().collect();
    assert_eq!(values.len(), by_key.len(), "an operation with two keys");
    assert!(requests > by_key.len() + 10, "too few retries to test");
    for h in w.history().iter().filter(|h| by_key.contains_key(&h.id)) {
        assert_eq!(by_key[&h.id], h.op.value, "a key is its operation's id");
    }
}

mod fuzz {
    use super::*;
    use dsplay::sim::client::CLIENT_KEYS;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        // Any text for a client setting decodes or is refused with a message; what decodes
        // builds and runs.
        #[test]
        fn client_settings_of_any_text_decode_or_fail_cleanly(
            key in 0usize..CLIENT_KEYS.len(), value in "[-0-9a-z.:/]{0,14}%?"
        ) {
            let l = format!("#/flows?n=2&seed=1&loss=20%&mode=payment&{}={value}", CLIENT_KEYS[key]);
            match decode(&l) {
                Ok(s) => {
                    if let Ok(mut sim) = labs::build(&s) {
                        sim.run_until(Instant(2_000_000));
                    }
                }
                Err(e) => prop_assert!(e.0.contains(CLIENT_KEYS[key]), "{l}: {e}"),
            }
        }
    }
}

mod handlers {
    use dsplay::labs::flows::protocol::{ServerState, Work};
    use dsplay::labs::flows::{Flows, FlowsMode, Op, Reply};
    use dsplay::sim::{ClientRequest, Ctx, Effect, Instant, Out, Protocol};

    fn payments(idem: bool) -> Flows {
        Flows {
            mode: FlowsMode::Payment,
            idem,
            ttl_s: 2,
            ..Flows::rpc(10, 10, 4, 1)
        }
    }

    fn ctx(now_us: u64) -> Ctx {
        Ctx {
            id: 0,
            n: 1,
            now: Instant(now_us),
        }
    }

    fn pay(request_id: u64, key: u64) -> ClientRequest<Op> {
        ClientRequest {
            client: 1,
            request_id,
            key,
            op: Op { value: 70 },
        }
    }

    /// Delivers a payment at `now_us` and, if the server took it on, finishes its processing.
    fn deliver(
        p: &Flows,
        st: &mut ServerState,
        now_us: u64,
        req: ClientRequest<Op>,
    ) -> Vec<Effect<Flows>> {
        let mut out = Out::default();
        let work = Work {
            client: req.client,
            request_id: req.request_id,
        };
        p.on_client(st, &ctx(now_us), req, &mut out);
        if st
            .in_service
            .iter()
            .any(|r| r.request_id == work.request_id)
        {
            p.on_timer(
                st,
                &ctx(now_us + 10),
                dsplay::labs::flows::protocol::FlowsTimer::Work(work),
                &mut out,
            );
        }
        out.effects
    }

    // A retry of a paid key is answered from the table, with no processing and no charge;
    // once the key has expired the same retry is charged again.
    #[test]
    fn a_stored_key_answers_a_retry_until_it_expires() {
        let p = payments(true);
        let mut st = p.init(0, 1);
        deliver(&p, &mut st, 0, pay(1, 5));
        assert_eq!((st.payments.charges, st.payments.charged_again), (1, 0));
        let effects = deliver(&p, &mut st, 1_000_000, pay(2, 5));
        assert_eq!(
            effects[0],
            Effect::Reply {
                client: 1,
                request_id: 2,
                reply: Reply { value: 70 }
            }
        );
        assert!(matches!(effects[1], Effect::Note(_)));
        assert_eq!(effects.len(), 2, "no processing timer: {effects:?}");
        assert_eq!(st.payments.charges, 1);
        deliver(&p, &mut st, 2_000_011, pay(3, 5));
        assert_eq!((st.payments.charges, st.payments.charged_again), (2, 1));
    }

    // A retry that comes while its key is still being processed is dropped: the first
    // attempt's answer will serve it.
    #[test]
    fn a_retry_of_a_key_in_processing_is_dropped() {
        let p = payments(true);
        let mut st = p.init(0, 1);
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(0), pay(1, 5), &mut out);
        out.effects.clear();
        p.on_client(&mut st, &ctx(5), pay(2, 5), &mut out);
        assert!(out.effects.is_empty(), "{:?}", out.effects);
        assert_eq!(st.in_service.len() + st.queue.len(), 1);
    }

    // Without keys every copy of a payment is charged.
    #[test]
    fn without_keys_a_retried_payment_is_charged_twice() {
        let p = payments(false);
        let mut st = p.init(0, 1);
        deliver(&p, &mut st, 0, pay(1, 5));
        deliver(&p, &mut st, 100, pay(2, 5));
        assert_eq!((st.payments.charges, st.payments.charged_again), (2, 1));
        assert!(st.payments.table.is_empty());
    }

    // The table and the charges survive a crash; a payment never charged loses its key.
    #[test]
    fn a_crash_keeps_the_charges_and_the_stored_keys() {
        let p = payments(true);
        let mut st = p.init(0, 1);
        deliver(&p, &mut st, 0, pay(1, 5));
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(20), pay(2, 6), &mut out);
        assert_eq!(st.payments.table.len(), 2);
        let back = p.recover(0, 1, &st);
        assert_eq!(back.payments.charges, 1);
        let keys: Vec<u64> = back.payments.table.iter().map(|e| e.key).collect();
        assert_eq!(keys, vec![5]);
        assert!(back.in_service.is_empty());
    }
}

// The history keeps one entry per logical operation, its attempts counted, so the checker
// judges operations, not requests. Raft's state machine keeps each client's last operation and
// its result (section 8 of the paper): a retry of an operation already applied, the same key
// in a new request, is answered from that session, not applied again, so the run stays
// linearizable where retries (appends among them) crossed a partition and a crash.
#[test]
fn retried_operations_are_one_history_entry_each_and_raft_applies_each_once() {
    use dsplay::check::{check, Model, ModelKind, Verdict};
    let verdict = |l: &str| {
        let s = Scenario::from_link(l).unwrap();
        let mut w = labs::raft::world(&s).unwrap();
        w.run_until(Instant(12_000_000), &s.script);
        let h = labs::to_check_history(&w);
        assert_eq!(h.operations.len(), w.history().len(), "{l}");
        let retried = w.history().iter().filter(|h| h.attempts > 1).count();
        let r = check(&h, &Model::new(ModelKind::Kv, None)).unwrap();
        (r.verdict, retried)
    };
    let faults = "#/raft?n=5&seed=2&lat=10..60ms&loss=10%&dup=1%&clients=3&think=50ms&\
                  s=2s:part:0.1/2.3.4;4s:crash:2;6s:heal;7s:restart:2";
    assert_eq!(verdict(faults), (Verdict::Linearizable, 0));
    for seed in 1..=4 {
        let retrying = format!("{faults}&retry=full-jitter&backoff=50ms..1s&attempts=4")
            .replace("seed=2", &format!("seed={seed}"));
        let (v, retried) = verdict(&retrying);
        assert!(retried > 0, "{retrying}");
        assert_eq!(v, Verdict::Linearizable, "{retrying}");
    }
}

// An open-loop load past what the service can answer fills the clients' backlogs, and the
// arrivals beyond them are turned away and counted; a light load turns none away.
#[test]
fn an_overload_of_open_loop_arrivals_is_turned_away_and_counted() {
    let heavy = "#/flows?n=1&seed=1&lat=1ms&clients=1&workers=1&proc=100ms..100ms&\
                 arrivals=poisson:100/s";
    let sim = run_link(heavy, 20_000_000);
    // About 2,000 arrivals, 200 served, 64 waiting: the rest turned away.
    let away = metric(&*sim, "client_arrivals_turned_away");
    assert!((1_500.0..1_900.0).contains(&away), "{away}");
    let light = heavy.replace("100/s", "2/s");
    let sim = run_link(&light, 20_000_000);
    assert_eq!(metric(&*sim, "client_arrivals_turned_away"), 0.0);
}
