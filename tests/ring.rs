//! The partitioning lab against the papers: balance of the ring with virtual nodes (the jump
//! consistent hash paper's comparison and the theory sqrt((N-1)/(kN+1))), the keys that move
//! when servers come and go, bounded loads' cap, and the placement's properties over random
//! memberships. The presets show what their descriptions promise.

use dsplay::labs::ring::hash;
use dsplay::labs::ring::placement::{
    loads, ring_theory, Algorithm, Member, Placement, Setup, ALGORITHMS,
};
use dsplay::labs::ring::properties::moves_only_to_newcomers;
use dsplay::labs::ring::{self, PRESETS};
use dsplay::labs::{find_experiment, Sim};
use dsplay::scenario::Scenario;
use dsplay::sim::time::Instant;
use proptest::prelude::*;
use serde_json::Value;

fn experiment(id: &str, args: &[(&str, &str)]) -> Value {
    let e = find_experiment(id).unwrap();
    let given: Vec<(String, String)> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = e.values(&given).unwrap();
    e.run_all(&values).unwrap().json
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("no '{k}' in {v}"))
}

fn members(ids: impl IntoIterator<Item = u32>) -> Vec<Member> {
    ids.into_iter().map(|id| Member { id, weight: 1 }).collect()
}

fn setup(a: Algorithm, vnodes: u32) -> Setup {
    Setup {
        algorithm: a,
        vnodes,
        table: 65_537,
        eps_ppm: 250_000,
        salt: 0,
    }
}

// The jump paper's Table: the ring's standard deviation with 100 servers is about 10% of the
// mean at k = 100 and 3.2% at k = 1,000; jump hash is down at the keys' own sampling spread.
#[test]
fn ring_balance_matches_the_published_figures() {
    let at = |algo: &str, k: &str| {
        experiment(
            "ring-balance",
            &[
                ("algorithm", algo),
                ("servers", "100"),
                ("vnodes", k),
                ("keys", "1000000"),
                ("trials", "3"),
            ],
        )
    };
    let k100 = at("ring", "100");
    let sd = num(&k100, "stddev_over_mean");
    assert!((0.08..0.125).contains(&sd), "k=100: {sd}");
    assert!((num(&k100, "theory_stddev_over_mean") - ring_theory(100.0, 100.0)).abs() < 1e-12);
    let sd = num(&at("ring", "1000"), "stddev_over_mean");
    assert!((0.025..0.042).contains(&sd), "k=1000: {sd}");
    // 10,000 keys a server: the sampling spread alone is 1%.
    let jump = at("jump", "1");
    assert!(num(&jump, "stddev_over_mean") < 0.013, "{jump}");
    assert!(num(&jump, "max_over_mean") < 1.05, "{jump}");
    assert_eq!(num(&jump, "mean"), 10_000.0);
}

// Ten servers to eleven: ring, jump and rendezvous move about 1/11 of the keys, mod-N about
// 10/11; removing a server moves only its keys on the ring and under rendezvous, while jump
// hash, which can only drop its last bucket, shifts every server after a middle one.
#[test]
fn moving_from_ten_to_eleven_servers_moves_what_the_papers_say() {
    let mv = |algo: &str, add: &str, remove: &str| {
        experiment(
            "ring-move",
            &[
                ("algorithm", algo),
                ("servers", "10"),
                ("add", add),
                ("remove", remove),
                ("keys", "200000"),
                ("trials", "2"),
            ],
        )
    };
    for algo in ["ring", "jump", "rendezvous"] {
        let r = mv(algo, "1", "0");
        let moved = num(&r, "moved_fraction");
        assert!((moved - 1.0 / 11.0).abs() < 0.012, "{algo}: {moved}");
        assert!((num(&r, "ideal_fraction") - 1.0 / 11.0).abs() < 1e-9);
        assert_eq!(num(&r, "moved_between_survivors_fraction"), 0.0, "{algo}");
    }
    let m = num(&mv("mod-n", "1", "0"), "moved_fraction");
    assert!((m - 10.0 / 11.0).abs() < 0.01, "mod-n: {m}");
    for algo in ["ring", "rendezvous"] {
        let r = mv(algo, "0", "1");
        assert_eq!(num(&r, "moved_between_survivors_fraction"), 0.0, "{algo}");
        assert!((num(&r, "moved_fraction") - 0.1).abs() < 0.012, "{algo}");
    }
    let jump = mv("jump", "0", "1");
    assert!(
        num(&jump, "moved_between_survivors_fraction") > 0.3,
        "{jump}"
    );
}

// Bounded loads (Mirrokni et al.): no server above ceil((1 + eps) * mean), even with one
// point per server, where the plain ring's most loaded server holds several times the mean.
#[test]
fn bounded_loads_cap_the_hottest_server_and_the_ring_does_not() {
    let ms = members(1..=20);
    let m = 100_000;
    let hot = |a: Algorithm| {
        let p = Placement::new(setup(a, 1), &ms);
        *loads(&p.assign(m, &|i| hash::key(0, i)), &ms)
            .iter()
            .max()
            .unwrap()
    };
    let cap = (1.25f64 * m as f64 / 20.0).ceil() as u64;
    assert!(hot(Algorithm::Bounded) <= cap);
    assert!(
        hot(Algorithm::Ring) > 2 * cap,
        "one point each leaves a hot server"
    );
}

fn membership() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::btree_set(1u32..200, 1..24).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    // Every key has exactly one owner, a member; preference lists have rf distinct members,
    // starting with the owner; the result does not depend on the order servers were given.
    #[test]
    fn owners_and_preference_lists_are_sound(ids in membership(), algo in 0usize..6, rf in 1usize..6) {
        let a = ALGORITHMS[algo];
        let ms = members(ids.iter().copied());
        let mut reversed = ms.clone();
        reversed.reverse();
        let p = Placement::new(setup(a, 20), &ms);
        let q = Placement::new(setup(a, 20), &reversed);
        let owners = p.assign(500, &|i| hash::key(3, i));
        prop_assert_eq!(&owners, &q.assign(500, &|i| hash::key(3, i)));
        for (i, o) in owners.iter().enumerate() {
            prop_assert!(ids.contains(o));
            let h = hash::key(3, i as u64);
            let list = p.preference(h, rf, Some(*o));
            prop_assert_eq!(list.len(), rf.min(ids.len()));
            prop_assert_eq!(list[0], *o);
            let mut d = list.clone();
            d.sort();
            d.dedup();
            prop_assert_eq!(d.len(), list.len());
            prop_assert!(list.iter().all(|s| ids.contains(s)));
        }
    }

    // Adding a server never moves a key between two old servers (ring, rendezvous, and jump
    // when the newcomer is the last bucket).
    #[test]
    fn a_join_moves_keys_only_to_the_newcomer(ids in membership(), algo in 0usize..3) {
        let a = [Algorithm::Ring, Algorithm::Rendezvous, Algorithm::Jump][algo];
        let old = members(ids.iter().copied());
        let new_id = ids.iter().max().unwrap() + 1;
        let mut new = old.clone();
        new.push(Member { id: new_id, weight: 1 });
        let before = Placement::new(setup(a, 20), &old).assign(800, &|i| hash::key(5, i));
        let after = Placement::new(setup(a, 20), &new).assign(800, &|i| hash::key(5, i));
        prop_assert!(moves_only_to_newcomers(&before, &after, &old, &new));
    }
}

// The join check catches a placement that breaks the promise: mod-N moves keys between old
// servers on almost every join.
#[test]
fn the_join_check_catches_mod_n() {
    let old = members(1..=10);
    let new = members(1..=11);
    let run = |a: Algorithm, ms: &[Member]| {
        Placement::new(setup(a, 20), ms).assign(1_000, &|i| hash::key(0, i))
    };
    let modn = (run(Algorithm::ModN, &old), run(Algorithm::ModN, &new));
    assert!(!moves_only_to_newcomers(&modn.0, &modn.1, &old, &new));
    let ring = (run(Algorithm::Ring, &old), run(Algorithm::Ring, &new));
    assert!(moves_only_to_newcomers(&ring.0, &ring.1, &old, &new));
}

fn preset(part: &str) -> &'static str {
    PRESETS
        .iter()
        .find(|p| p.name.contains(part))
        .unwrap_or_else(|| panic!("no preset '{part}'"))
        .link
}

fn run_link(link: &str, until_s: u64) -> Box<dyn Sim> {
    let s = Scenario::from_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let mut sim = dsplay::labs::build(&s).unwrap();
    let violated = sim.run_until(Instant(until_s * 1_000_000));
    assert!(!violated, "{link}: {:?}", sim.properties());
    sim
}

fn metric(sim: &dyn Sim, key: &str) -> f64 {
    sim.metrics()
        .iter()
        .find(|m| m.key == key)
        .unwrap_or_else(|| panic!("no metric {key}"))
        .value
}

#[test]
fn the_mod_n_and_ring_presets_move_what_they_promise() {
    // The presets leave the join to the teacher's button: here the link's script does it.
    let join = |link: &str| format!("{link}&s=1s:do:add");
    let modn = run_link(&join(preset("Why not hash mod N")), 2);
    assert!(metric(&*modn, "moved_fraction") > 0.85);
    assert!((metric(&*modn, "ideal_fraction") - 1.0 / 11.0).abs() < 1e-6);
    let ring = run_link(&join(preset("Why a ring")), 2);
    let moved = metric(&*ring, "moved_fraction");
    assert!((moved - 1.0 / 11.0).abs() < 0.03, "{moved}");
    assert!(metric(&*ring, "moved_fraction_mod_n") > 0.85);
    assert_eq!(metric(&*ring, "servers"), 11.0);
}

#[test]
fn virtual_nodes_and_bounded_loads_even_out_the_preset_loads() {
    let one = run_link(preset("One point per server"), 1);
    let many = run_link(preset("Virtual nodes even out"), 1);
    let bounded = run_link(preset("Bounded loads"), 1);
    let sd = |s: &dyn Sim| metric(s, "keys_stddev_over_mean");
    assert!(
        sd(&*one) > 0.4 && sd(&*many) < 0.15,
        "{} {}",
        sd(&*one),
        sd(&*many)
    );
    assert!(metric(&*bounded, "keys_max_over_mean") <= 1.25 + 1e-3);
    assert!(metric(&*one, "keys_max_over_mean") > 1.5);
}

#[test]
fn jump_removal_from_the_middle_moves_most_keys() {
    let sim = run_link(preset("Jump hash"), 2);
    assert!(metric(&*sim, "moved_fraction") > 0.4);
    assert!((metric(&*sim, "ideal_fraction") - 0.1).abs() < 1e-6);
}

#[test]
fn a_cut_off_server_s_reads_fall_back_along_the_preference_list() {
    let sim = run_link(preset("A server cut off"), 6);
    assert!(metric(&*sim, "reads_fallback") > 0.0);
    assert_eq!(
        metric(&*sim, "reads_unavailable"),
        0.0,
        "rf = 3 leaves two more"
    );
}

// The fallbacks of a server cut off go to its keys' replicas; a coordinator that falls back to
// the servers numbered after the owner (the `fallback-by-number` variant) sends some reads to
// a server that holds no copy of the key, and the property says so.
#[test]
fn reads_answered_by_replicas_catches_fallbacks_by_server_number() {
    let broken = |sim: &dyn Sim| {
        let props = sim.properties();
        let p = props
            .iter()
            .find(|p| p.name == "reads_answered_by_replicas");
        p.expect("the lab checks it").violations
    };
    let correct = run_link(preset("A server cut off"), 6);
    assert!(metric(&*correct, "reads_fallback") > 0.0);
    assert_eq!(broken(&*correct), 0);
    let link = format!("{}&variant=fallback-by-number", preset("A server cut off"));
    let s = Scenario::from_link(&link).unwrap();
    let mut sim = dsplay::labs::build(&s).unwrap();
    sim.run_until(Instant(6_000_000));
    assert!(broken(&*sim) > 0, "{:?}", sim.properties());
}

// Salting k0 spreads its reads: the most loaded server's share of new reads falls.
#[test]
fn salting_the_hot_key_evens_out_the_reads() {
    let s = Scenario::from_link(preset("A hot key")).unwrap();
    let mut w = ring::world(&s).unwrap();
    let served = |w: &dsplay::sim::World<ring::RingLab>| -> Vec<u64> {
        (1..=8).map(|id| w.state(id).served()).collect()
    };
    w.run_until(Instant(3_000_000), &s.script);
    let before = served(&w);
    w.run_until(Instant(8_000_000), &s.script);
    let after: Vec<u64> = served(&w).iter().zip(&before).map(|(a, b)| a - b).collect();
    let max_over_mean = |v: &[u64]| {
        *v.iter().max().unwrap() as f64 / (v.iter().sum::<u64>() as f64 / v.len() as f64)
    };
    let (hot, salted) = (max_over_mean(&before), max_over_mean(&after));
    assert!(hot > 2.0 && salted < hot * 0.7, "{hot} -> {salted}");
}

// A link's run is fixed: if this hash changes, every shared link of the lab plays differently.
#[test]
fn a_ring_link_replays_its_golden_trace() {
    let sim = run_link(
        "#/ring?n=6&seed=4&lat=20..80ms&loss=5%&dup=0%&clients=3&s=1s:do:add;2s:crash:2;3s:do:remove@4",
        5,
    );
    assert_eq!(format!("{:016x}", sim.trace_hash()), "3c61e11c54b3d9ad");
}

// A change of the map that a link asks for is refused plainly when it cannot be done.
#[test]
fn ring_links_are_total() {
    for bad in [
        "#/ring?n=3&table=8&algo=maglev",
        "#/ring?n=3&dist=zipf:9",
        "#/ring?n=3&dist=pareto",
        "#/ring?n=65",
        "#/ring?n=3&s=1s:do:remove",
        "#/ring?n=3&spares=0&s=1s:crash:4",
    ] {
        let e = Scenario::from_link(bad)
            .map_err(|e| e.to_string())
            .and_then(|s| dsplay::labs::build(&s).map(|_| ()));
        assert!(e.is_err(), "{bad} should be refused");
    }
    // No spare left: the run goes on and says so on the diagram.
    let sim = run_link("#/ring?n=2&spares=0&s=1s:do:add;2s:do:add", 3);
    assert_eq!(metric(&*sim, "servers"), 2.0);
    assert!(sim
        .records()
        .iter()
        .any(|r| r.text.contains("no spare server left")));
}
