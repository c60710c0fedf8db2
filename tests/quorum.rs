//! The replication lab: quorums, stale reads, write-back, sloppy quorums and hinted handoff,
//! last-write-wins under clock skew, and the session guarantees, each shown on a run that
//! keeps it and one that breaks it.

mod common;

use dsplay::labs::quorum::consistency::{judge, linearizable};
use dsplay::labs::quorum::protocol::{Msg, Quorum, Stamp, Versioned, Vv};
use dsplay::labs::quorum::{world, PRESETS};
use dsplay::scenario::link;
use dsplay::sim::process::{ClientRequest, Ctx, Out, Protocol};
use dsplay::sim::{Instant, World};

fn run(l: &str, until_us: u64) -> World<Quorum> {
    let s = link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let mut w = world(&s).unwrap_or_else(|e| panic!("{l}: {e}"));
    w.run_until(Instant(until_us), &s.script);
    w
}

fn preset(name: &str) -> &'static str {
    PRESETS
        .iter()
        .find(|p| p.name.starts_with(name))
        .unwrap_or_else(|| panic!("a preset named {name}"))
        .link
}

fn violations(w: &World<Quorum>, name: &str) -> u32 {
    w.properties()
        .iter()
        .find(|p| p.name == name)
        .map_or_else(|| panic!("no property {name}"), |p| p.violations)
}

// ----- handlers ----------------------------------------------------------------------------

fn ctx(id: u32, now_us: u64) -> Ctx {
    Ctx {
        id,
        n: 3,
        now: Instant(now_us),
    }
}

#[test]
fn a_put_goes_to_the_n_replicas_stamped_with_the_coordinators_clock() {
    let mut q = Quorum::new(3, 1, (3, 2, 2));
    q.skew_us = vec![0, -300_000];
    let mut st = q.init(1, 3);
    let mut out = Out::default();
    let req = ClientRequest {
        client: 3,
        request_id: 1,
        key: 1,
        op: dsplay::labs::quorum::Op::Put { key: 0, value: 7 },
    };
    q.on_client(&mut st, &ctx(1, 1_000_000), req, &mut out);
    let s = out.sends();
    let mut to: Vec<u32> = s.iter().map(|x| x.0).collect();
    to.sort();
    assert_eq!(to, vec![0, 1, 2]);
    let stamp = Stamp {
        ts_us: 700_000,
        node: 1,
    };
    assert!(s.iter().all(|(_, m)| matches!(m, Msg::Write { item: Versioned { value: 7, stamp: st, .. }, hint: None, .. } if *st == stamp)));
}

#[test]
fn a_replica_keeps_the_newer_version_and_acknowledges_either_way() {
    let q = Quorum::new(3, 1, (3, 2, 2));
    let mut st = q.init(0, 3);
    let item = |ts_us, value| Versioned {
        value,
        stamp: Stamp { ts_us, node: 1 },
        vv: Vv::default(),
    };
    for (op, it) in [(1, item(50, 5)), (2, item(10, 1))] {
        let mut out = Out::default();
        let msg = Msg::Write {
            op,
            key: 0,
            item: it,
            hint: None,
        };
        q.on_message(&mut st, &ctx(0, 100), 1, msg, &mut out);
        assert_eq!(out.sends(), vec![(1, Msg::WriteAck { op })]);
    }
    assert_eq!(st.store.get(&0), Some(&vec![item(50, 5)]));
}

// ----- the presets -------------------------------------------------------------------------

#[test]
fn with_r_plus_w_at_most_n_a_read_misses_an_acknowledged_write() {
    let w = run(preset("R = W = 1"), 10_000_000);
    let j = judge(&w);
    assert!(!j.stale.is_empty(), "a stale read");
    let s = &j.stale[0];
    assert!(s.got.iter().all(|g| g.stamp < s.missed.stamp));
    // The same traffic with R = W = 2 of 3 misses nothing.
    let strict = preset("R = W = 1").replace("&r=1&w=1", "&r=2&w=2");
    assert!(judge(&run(&strict, 10_000_000)).stale.is_empty());
}

#[test]
fn overlapping_quorums_without_write_back_are_not_linearizable_and_with_it_are() {
    let w = run(preset("R + W > N"), 2_000_000);
    assert!(
        judge(&w).stale.is_empty(),
        "no read misses a finished write"
    );
    assert_eq!(linearizable(&w).0, Some(false), "{}", linearizable(&w).1);
    let w = run(preset("Write-back"), 2_000_000);
    assert_eq!(linearizable(&w).0, Some(true), "{}", linearizable(&w).1);
}

fn random_link(seed: u64, write_back: bool) -> String {
    format!(
        "#/quorum?n=3&seed={seed}&lat=pareto(5ms,1.2)&loss=0%&dup=0%&clients=6&think=5ms&timeout=5s&writeback={}",
        write_back as u8
    )
}

// A seed sweep of random traffic with heavy-tailed delays: with write-back every history is
// linearizable.
#[test]
fn with_write_back_every_generated_history_is_linearizable() {
    for seed in 1..=common::seeds(6) {
        let l = random_link(seed, true);
        let w = run(&l, 10_000_000);
        assert_eq!(
            linearizable(&w).0,
            Some(true),
            "{l}: {}",
            linearizable(&w).1
        );
    }
}

// Without write-back the same traffic is not linearizable for some seed (pinned here).
#[test]
fn without_write_back_a_generated_history_is_not_linearizable() {
    let l = random_link(7, false);
    let w = run(&l, 20_000_000);
    assert_eq!(linearizable(&w).0, Some(false), "{l}");
}

#[test]
fn a_partition_strict_quorums_refuse_sloppy_quorums_accept_and_hand_off_on_heal() {
    let strict = run(preset("Partition, strict"), 5_000_000);
    let j = judge(&strict);
    assert!(
        j.ok < j.finished,
        "some operations fail: {} of {}",
        j.ok,
        j.finished
    );
    assert_eq!(linearizable(&strict).0, Some(true));

    let sloppy_link = preset("Partition, sloppy");
    let during = run(sloppy_link, 5_000_000);
    let j = judge(&during);
    assert_eq!(j.ok, j.finished, "every operation succeeds");
    let hints: usize = (0..5).map(|i| during.state(i).hints.len()).sum();
    assert!(hints > 0, "stand-ins hold hints during the partition");
    assert_eq!(linearizable(&during).0, Some(false));

    // After the heal at 6 s every hint reaches its replica, and no acknowledged write is lost:
    // each key's replicas all hold the newest acknowledged version or a newer one.
    let after = run(sloppy_link, 12_000_000);
    assert!(
        (0..5).all(|i| after.state(i).hints.is_empty()),
        "hints handed back"
    );
    assert_eq!(violations(&after, "hints_handed_back"), 0);
    let newest = after
        .history()
        .iter()
        .filter_map(|h| match h.reply {
            Some(dsplay::labs::quorum::Reply::Written { item }) => Some(item.stamp),
            _ => None,
        })
        .max()
        .expect("writes were acknowledged");
    for &r in after.proto.replicas(0) {
        let held = after
            .state(r)
            .store
            .get(&0)
            .and_then(|v| v.last())
            .map(|v| v.stamp);
        assert!(
            held >= Some(newest),
            "S{r} holds {held:?}, behind {newest:?}"
        );
    }
}

#[test]
fn last_write_wins_under_clock_skew_loses_acknowledged_writes() {
    let l = preset("Clock skew");
    let w = run(l, 10_000_000);
    assert!(!judge(&w).lost.is_empty(), "writes lost");
    assert!(violations(&w, "acknowledged_writes_survive") > 0);
    let even = run(&l.replace("&skew=0,-300ms", ""), 10_000_000);
    assert!(judge(&even).lost.is_empty(), "no writes lost without skew");
    assert_eq!(violations(&even, "acknowledged_writes_survive"), 0);
}

#[test]
fn version_vectors_keep_both_concurrent_writes_and_last_write_wins_loses_one() {
    let l = preset("Version vectors");
    let w = run(l, 2_000_000);
    let read = w.history().iter().last().expect("the read").reply;
    let Some(dsplay::labs::quorum::Reply::Value { got }) = read else {
        panic!("a read: {read:?}");
    };
    assert_eq!(got.text(), "8 | 7", "both siblings, in stamp order");
    assert!(judge(&w).lost.is_empty());
    assert_eq!(violations(&w, "acknowledged_writes_survive"), 0);
    let lww = run(&l.replace("versions=vv", "versions=lww"), 2_000_000);
    let read = lww.history().iter().last().expect("the read").reply;
    assert!(matches!(read, Some(dsplay::labs::quorum::Reply::Value { got }) if got.text() == "7"));
    assert_eq!(judge(&lww).lost.len(), 1, "8 is lost");
}

#[test]
fn a_write_with_a_context_supersedes_the_siblings_it_read() {
    // Version vectors: with R = W = 2 of 3 a put's context holds the write before it, so the
    // new version dominates and no siblings remain.
    let l = "#/quorum?n=3&seed=1&lat=10ms&loss=0%&dup=0%&clients=2&think=1h&versions=vv&s=1ms:op:0@0:put%20k0%207;200ms:op:1@1:put%20k0%208;400ms:op:0@2:get%20k0";
    let w = run(l, 1_000_000);
    let read = w.history().iter().last().expect("the read").reply;
    assert!(
        matches!(read, Some(dsplay::labs::quorum::Reply::Value { got }) if got.text() == "8"),
        "{read:?}"
    );
}

// ----- the session guarantees, each caught on a run that breaks it ------------------------------

/// Scripted operations of clients on three nodes with fast links, S0's writes slow to S1.
fn scripted(ops: &str, extra: &str) -> World<Quorum> {
    let l = format!(
        "#/quorum?n=3&seed=1&lat=10ms&loss=0%&dup=0%&clients=2&think=1h&r=1&w=1{extra}&s=0s:set:0>1:lat=500ms;0s:set:0>2:lat=500ms;{ops}"
    );
    run(&l, 3_000_000)
}

#[test]
fn read_your_writes_catches_a_read_of_an_older_version() {
    // C0 writes through S0 (acknowledged by S0 alone), then reads through S1, which has nothing.
    let w = scripted("1ms:op:0@0:put%20k0%207;100ms:op:0@1:get%20k0", "");
    assert_eq!(violations(&w, "read_your_writes"), 1);
    let w = scripted("1ms:op:0@0:put%20k0%207;100ms:op:0@0:get%20k0", "");
    assert_eq!(violations(&w, "read_your_writes"), 0, "read back at S0");
}

#[test]
fn monotonic_reads_catches_a_read_that_goes_back() {
    let ops = "1ms:op:1@0:put%20k0%207;100ms:op:0@0:get%20k0;200ms:op:0@1:get%20k0";
    assert_eq!(violations(&scripted(ops, ""), "monotonic_reads"), 1);
    let ops = "1ms:op:1@0:put%20k0%207;100ms:op:0@0:get%20k0;800ms:op:0@1:get%20k0";
    assert_eq!(
        violations(&scripted(ops, ""), "monotonic_reads"),
        0,
        "S1 has caught up"
    );
}

#[test]
fn monotonic_writes_catches_a_write_ordered_before_the_clients_earlier_one() {
    // S1's clock is 300 ms behind: C0's second write, through S1, gets the older stamp.
    let ops = "1ms:op:0@0:put%20k0%201;100ms:op:0@1:put%20k0%202";
    assert_eq!(
        violations(&scripted(ops, "&skew=0,-300ms"), "monotonic_writes"),
        1
    );
    assert_eq!(violations(&scripted(ops, ""), "monotonic_writes"), 0);
}

#[test]
fn writes_follow_reads_catches_a_write_ordered_before_what_the_client_read() {
    let ops = "1ms:op:1@0:put%20k0%201;100ms:op:0@0:get%20k0;200ms:op:0@1:put%20k0%202";
    assert_eq!(
        violations(&scripted(ops, "&skew=0,-300ms"), "writes_follow_reads"),
        1
    );
    assert_eq!(violations(&scripted(ops, ""), "writes_follow_reads"), 0);
}

// ----- links -------------------------------------------------------------------------------

#[test]
fn bad_quorum_settings_are_refused_with_a_reason() {
    for (l, want) in [
        ("#/quorum?n=2&rf=3", "only 2 nodes"),
        ("#/quorum?n=5&rf=3&r=4", "at most N"),
        ("#/quorum?n=3&skew=0,0,0,5ms", "clock offsets for 3 nodes"),
        ("#/quorum?n=3&skew=fast", "not a clock offset"),
        ("#/quorum?n=3&s=1s:op:0@0:put%20k9%201", "no key k9"),
    ] {
        let s = link::decode(l);
        let err = match s {
            Err(e) => e.to_string(),
            Ok(s) => dsplay::labs::build(&s).err().unwrap_or_default(),
        };
        assert!(err.contains(want), "{l}: {err}");
    }
}

#[test]
fn skew_links_are_canonical() {
    let s = link::decode("#/quorum?n=3&skew=0,-300ms,0").expect("decodes");
    assert_eq!(s.param("skew"), Some("0,-300ms"));
    let again = link::decode(&link::encode(&s)).expect("round trip");
    assert_eq!(again.param("skew"), Some("0,-300ms"));
}

// A golden trace hash: a later change that alters the run of this link fails here.
#[test]
fn the_sloppy_partition_preset_replays_to_a_pinned_trace_hash() {
    let w = run(preset("Partition, sloppy"), 8_000_000);
    assert_eq!(format!("{:016x}", w.trace_hash()), "7fbe2126dfcdf477");
}

// PACELC's "else": with no partition, larger quorums cost latency.
#[test]
fn larger_quorums_answer_more_slowly() {
    let p50 = |rw: &str| {
        let sim = common::run_link(&format!("#/quorum?n=5&seed=1&lat=5..50ms&{rw}"), 30_000_000);
        let m = sim.metrics();
        let get = |k: &str| m.iter().find(|x| x.key == k).map(|x| x.value).expect(k);
        (get("read_latency_ms_p50"), get("write_latency_ms_p50"))
    };
    let (small, large) = (p50("r=1&w=1"), p50("r=3&w=3"));
    assert!(
        large.0 > small.0 * 1.3 && large.1 > small.1 * 1.3,
        "{small:?} against {large:?}"
    );
}

#[test]
fn a_latency_model_replaces_the_links_delays_with_the_papers_and_reads_go_stale_as_there() {
    let base = "#/quorum?n=3&seed=6&lat=1ms&loss=0%&dup=0%&r=1&w=1&clients=4&think=5ms&writes=0.5";
    let quick = run(base, 20_000_000);
    assert_eq!(
        judge(&quick).stale.len(),
        0,
        "1 ms links: no read misses a write"
    );
    let disk = run(&format!("{base}&model=lnkd-disk"), 20_000_000);
    let j = judge(&disk);
    let reads = disk
        .history()
        .iter()
        .filter(|h| matches!(h.op, dsplay::labs::quorum::Op::Get { .. }))
        .count();
    assert!(reads > 100, "{reads} reads");
    assert!(
        j.stale.len() * 20 > reads,
        "LNKD-DISK's slow writes leave many reads stale: {} of {reads}",
        j.stale.len()
    );
    // The same seed with the model's delays is another run, and the link's latency is gone.
    assert_ne!(quick.trace.hash(), disk.trace.hash());
    let model = dsplay::labs::quorum::pbs::Latency::LnkdDisk.delays();
    assert_eq!(disk.net.params(0, 1).latency, model.1);
    assert_eq!(
        disk.net.params(0, 1).by_kind.get(&"write".to_string()),
        Some(&model.0)
    );
}
