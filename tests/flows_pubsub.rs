//! The flows lab's pub/sub mode: consumer groups over a partitioned topic keep each
//! partition's order and own every partition again after a consumer crashes, under loss and
//! crashes of consumers and the broker; each group gets every message; the properties catch
//! a broker that hands a partition over without revoking it, and one that never rebalances.
//!
//! `DSPLAY_SEEDS` sets the sweeps' size (default 10). A failure prints the seed and the link
//! that replays it.

mod common;

use dsplay::labs::{self, flows};
use dsplay::scenario::link;
use dsplay::sim::{Instant, World};
use flows::pubsub::{self, Handover};

/// Long enough for every message to be consumed after the last fault (virtual time).
const SETTLE_US: u64 = 30_000_000;
const MESSAGES: u64 = 60;

/// A seed's faults (swarm testing): loss up to 10%, two of group A's three consumers crash
/// (the first comes back, the second stays down), one of group B's crashes and comes back,
/// and at some seeds the broker crashes for half a second.
fn faulty_link(seed: u64, variant: &str) -> String {
    let mix = |k: u64| (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (k * 7)) % 1_000;
    let loss = mix(1) % 11;
    let (a, b) = (2 + mix(2) % 3, 5 + mix(3) % 3);
    let other_a = 2 + (a - 2 + 1 + mix(4) % 2) % 3;
    let first_ms = 800 + mix(5) * 3;
    let second_ms = first_ms + 1_000 + mix(6) * 3;
    let mut cmds = vec![
        (first_ms, format!("crash:{a}")),
        (first_ms + 1_500, format!("restart:{a}")),
        (second_ms, format!("crash:{other_a}")),
        (first_ms + 400, format!("crash:{b}")),
        (first_ms + 2_400, format!("restart:{b}")),
    ];
    if mix(7) % 2 == 0 {
        let broker_ms = 1_500 + mix(8) * 4;
        cmds.push((broker_ms, "crash:0".into()));
        cmds.push((broker_ms + 500, "restart:0".into()));
    }
    cmds.sort();
    let script: Vec<String> = cmds.iter().map(|(ms, c)| format!("{ms}ms:{c}")).collect();
    let script = script.join(";");
    format!(
        "#/flows?n=3&seed={seed}&lat=20..80ms&loss={loss}%&dup=0%&proc=5..30ms&mode=pubsub\
         &groups=2&partitions=4&messages={MESSAGES}&every=100ms&rebalance=600ms&variant={variant}&s={script}"
    )
}

fn world(l: &str) -> (World<flows::Flows>, dsplay::scenario::Scenario) {
    let s = link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let w = flows::pubsub_world(&s).unwrap_or_else(|e| panic!("{l}: {e}"));
    (w, s)
}

/// Runs a world to the end and returns the properties it violated.
fn run(
    mut w: World<flows::Flows>,
    s: &dsplay::scenario::Scenario,
) -> (World<flows::Flows>, Vec<&'static str>) {
    w.run_until(Instant(SETTLE_US), &s.script);
    let broken = w
        .properties()
        .iter()
        .filter(|p| !p.holds)
        .map(|p| p.name)
        .collect();
    (w, broken)
}

// The real protocol under consumer and broker crashes and loss: no partition is processed
// out of order or by two consumers of a group at once, every partition is owned again within
// the bound after each crash, every group consumes every message (fan-out) and catches up,
// and the crashes make some redeliveries (at-least-once after a rebalance).
#[test]
fn consumer_groups_keep_partition_order_and_reown_partitions_after_crashes() {
    let mut redeliveries = 0;
    for seed in 1..=common::seeds(10) {
        let l = faulty_link(seed, "none");
        let (w, s) = world(&l);
        let (w, broken) = run(w, &s);
        let (published, groups) = pubsub::tally(&w);
        assert!(broken.is_empty(), "seed {seed}: violated {broken:?}\n  {l}");
        assert_eq!(published, MESSAGES, "seed {seed}\n  {l}");
        for (g, t) in groups.iter().enumerate() {
            assert_eq!(
                (t.consumed, t.lag),
                (MESSAGES, 0),
                "seed {seed}: group {g} {t:?}\n  {l}"
            );
            redeliveries += t.redeliveries;
        }
    }
    assert!(
        redeliveries > 0,
        "no crash made a redelivery over the sweep"
    );
}

// The properties have teeth: the same runs with a broker that gives a partition to its new
// owner without revoking it from the old one (and serves the old one's fetches) break
// partition_order, at every seed: the second consumer to join already takes partitions from
// the first.
#[test]
fn a_broker_that_hands_over_without_revoking_breaks_partition_order() {
    for seed in 1..=common::seeds(10) {
        let l = faulty_link(seed, "no-revoke");
        let (w, s) = world(&l);
        assert_eq!(
            w.proto.pubsub.as_ref().unwrap().handover,
            Handover::NoRevoke
        );
        let (_, broken) = run(w, &s);
        assert!(
            broken.contains(&"partition_order"),
            "seed {seed}: violated only {broken:?}\n  {l}"
        );
    }
}

// A broker that never gives a silent member's partitions away leaves those of a consumer that
// crashed for good unowned: partitions_owned says so, and order is still kept.
#[test]
fn a_broker_that_never_rebalances_leaves_a_crashed_consumers_partitions_unowned() {
    for seed in 1..=common::seeds(10) {
        let l = faulty_link(seed, "none");
        let (mut w, s) = world(&l);
        w.proto.pubsub.as_mut().unwrap().expire = false;
        let (_, broken) = run(w, &s);
        assert_eq!(broken, vec!["partitions_owned"], "seed {seed}\n  {l}");
    }
}

// Placement is the specified hash: a message's key is its id mod 12, its partition
// xxh64(key as 4 little-endian bytes, seed 0) mod P; so each log holds whole keys, and a
// key's messages in the order they were published.
#[test]
fn a_messages_partition_is_the_xxh64_of_its_key_and_a_keys_messages_keep_their_order() {
    let (w, s) = world(&faulty_link(3, "none"));
    let (w, _) = run(w, &s);
    let (q, b) = pubsub::parts(&w).unwrap();
    for (p, log) in b.logs.iter().enumerate() {
        for id in log {
            let key = id % pubsub::KEYS;
            let expect = xxhash_rust::xxh64::xxh64(&key.to_le_bytes(), 0) % q.partitions as u64;
            assert_eq!(p as u64, expect, "message {id}");
        }
        for key in 0..pubsub::KEYS {
            let ids: Vec<u32> = log
                .iter()
                .copied()
                .filter(|id| id % pubsub::KEYS == key)
                .collect();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "key {key} in p{p}: {ids:?}"
            );
        }
    }
    let used = b.logs.iter().filter(|l| !l.is_empty()).count();
    assert!(
        used >= 3,
        "the keys spread over the partitions: {used} of 4 used"
    );
}

// A pub/sub link with every new key away from its default comes back from encoding as it was.
#[test]
fn a_pubsub_link_round_trips() {
    let l = "#/flows?n=2&seed=9&mode=pubsub&groups=3&partitions=6&rebalance=450ms&producers=2&messages=20&variant=no-revoke&view=topic&s=1s:crash:4;2s:restart:4";
    let s = link::decode(l).unwrap();
    let again = link::encode(&s);
    for part in [
        "groups=3",
        "partitions=6",
        "rebalance=450ms",
        "mode=pubsub",
        "view=topic",
    ] {
        assert!(again.contains(part), "{part} in {again}");
    }
    assert_eq!(link::decode(&again).unwrap(), s);
    assert_eq!(
        labs::find("flows").map(|lab| (lab.world_nodes)(&s)),
        Some(1 + 2 + 3 * 2)
    );
    for bad in ["partitions=0", "partitions=9", "groups=4", "rebalance=10ms"] {
        let e = link::decode(&format!("#/flows?n=2&seed=9&mode=pubsub&{bad}"))
            .unwrap_err()
            .0;
        assert!(e.contains("must be between"), "{bad}: {e}");
    }
}

/// The rebalancing preset's link.
fn rebalance_link() -> &'static str {
    flows::PUBSUB_REBALANCE.link
}

// The preset's rebalance: A1 (node 3) crashes at 2.5 s; a rebalance timeout later the broker
// notes it gone, and within the bound every partition of group A is held by A0 or A2 again,
// resumed from A1's last committed offsets (some redeliveries); group B never moves. Its run
// is pinned by its trace hash.
#[test]
fn the_rebalance_preset_reassigns_the_crashed_consumers_partitions_and_is_pinned() {
    let (mut w, s) = world(rebalance_link());
    w.run_until(Instant(2_400_000), &s.script);
    let b_version = pubsub::parts(&w).unwrap().1.groups[1].version;
    w.run_until(Instant(5_000_000), &s.script);
    let (q, b) = pubsub::parts(&w).unwrap();
    let a = &b.groups[0];
    assert_eq!(
        a.members.iter().map(|m| m.node).collect::<Vec<_>>(),
        vec![2, 4]
    );
    for (p, part) in a.parts.iter().enumerate() {
        let owner = part.owner.expect("owned");
        assert!(owner == 2 || owner == 4, "p{p} owned by {}", q.label(owner));
        assert!(pubsub::consumer(&w, owner)
            .unwrap()
            .held
            .iter()
            .any(|h| h.partition == p as u32));
    }
    assert_eq!(b.groups[1].version, b_version, "group B never moved");
    let mut sim = labs::build(&s).unwrap();
    sim.run_until(Instant(10_000_000));
    let notes: Vec<String> = sim
        .records()
        .iter()
        .filter(|r| r.what == "note")
        .map(|r| r.text.clone())
        .collect();
    let left = notes.iter().position(|n| n.contains("A1 left the group"));
    let joined = notes
        .iter()
        .rposition(|n| n.contains("A1 joined the group"));
    assert!(
        left.is_some() && joined > left,
        "A1 left, then joined again: {notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("A1 joined the group")),
        "{notes:?}"
    );
    assert!(sim
        .metrics()
        .iter()
        .any(|m| m.key == "group_a_redeliveries" && m.value > 0.0));
    assert!(sim.properties().iter().all(|p| p.holds));
    assert_eq!(format!("{:016x}", sim.trace_hash()), "fb382543bf9d48cf");
}

// The topic stage draws every box and the counters inside the canvas at a phone's, a
// laptop's and a projector's size.
#[test]
fn the_topic_stage_keeps_its_shapes_inside_at_three_sizes() {
    let link = format!("{}&t=4s", rebalance_link());
    for (w, h, shapes) in common::stage_at_three_sizes(&link, 2) {
        let texts = common::texts(&shapes);
        for who in ["B broker", "A1 crashed", "p0", "p3"] {
            assert!(texts.contains(&who), "{w}x{h}: no '{who}' in {texts:?}");
        }
        assert!(
            texts.iter().any(|t| t.starts_with("A0 owns p")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.starts_with("published ")),
            "{texts:?}"
        );
        for sh in &shapes {
            assert!(
                common::on_canvas(sh, w, h, true),
                "{w}x{h}: {sh:?} leaves the canvas"
            );
        }
    }
}
