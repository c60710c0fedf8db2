//! The flows lab's queue mode: each delivery semantics loses or duplicates exactly what it
//! should, under loss from 1% to 50% and crashes of the consumer and the broker; the
//! transactional outbox loses nothing and sends no phantom when the producer crashes; the
//! experiments print their figures; the properties catch a consumer whose dedup forgets.
//!
//! `DSPLAY_QUEUE_SEEDS` sets the sweeps' size (default 12). A failure prints the seed and the
//! link that replays it.

mod common;

use dsplay::labs::flows::queue::{tally, Dedup, Tally};
use dsplay::labs::{self, flows};
use dsplay::scenario::link;
use dsplay::sim::Instant;
use std::process::Command;

/// Long enough for every message to settle after the last fault (virtual time).
const SETTLE_US: u64 = 300_000_000;

fn seeds() -> u64 {
    std::env::var("DSPLAY_QUEUE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

/// A seed's randomised faults (swarm testing): loss from 1% to 50%, a consumer crash and a
/// broker crash at times drawn from the seed.
fn faulty_link(seed: u64, semantics: &str) -> String {
    let mix = |k: u64| (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (k * 8)) % 1_000;
    let loss = 1 + mix(1) % 50;
    let consumer_ms = 500 + mix(2) * 4;
    let broker_ms = consumer_ms + 1_500 + mix(3) * 3;
    format!(
        "#/flows?n=2&seed={seed}&lat=20..80ms&loss={loss}%&dup=0%&proc=5..60ms&mode=queue\
         &semantics={semantics}&outbox=on&messages=30&every=100ms\
         &s={consumer_ms}ms:crash:2;{}ms:restart:2;{broker_ms}ms:crash:0;{}ms:restart:0",
        consumer_ms + 700,
        broker_ms + 400
    )
}

/// Runs a link to the end and returns its tally and the properties violated.
fn run(l: &str, dedup: Dedup) -> (Tally, Vec<&'static str>) {
    let s = link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let mut w = flows::world(&s).unwrap_or_else(|e| panic!("{l}: {e}"));
    if let Some(q) = w.proto.queue.as_mut() {
        q.dedup = dedup;
    }
    w.run_until(Instant(SETTLE_US), &s.script);
    let broken = w.properties().iter().filter(|p| !p.holds).map(|p| p.name);
    (tally(&w), broken.collect())
}

/// Sweeps `semantics` and returns the sum of the tallies; `each` checks every seed's.
fn sweep(semantics: &str, each: impl Fn(&Tally, &[&str]) -> Result<(), String>) -> Tally {
    let mut sum = Tally::default();
    for seed in 1..=seeds() {
        let l = faulty_link(seed, semantics);
        let (t, broken) = run(&l, Dedup::Durable);
        if let Err(e) = each(&t, &broken) {
            panic!("seed {seed}: {e} ({t:?}, violated {broken:?})\n  {l}");
        }
        sum.lost += t.lost;
        sum.duplicate_effects += t.duplicate_effects;
        sum.phantom += t.phantom;
    }
    sum
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    ok.then_some(()).ok_or_else(|| what.to_string())
}

// At-most-once acknowledges before processing and never delivers twice: messages are lost (a
// lost delivery, a crash mid-processing), no effect is ever applied twice.
#[test]
fn at_most_once_loses_messages_and_never_duplicates_effects() {
    let sum = sweep("at-most-once", |t, broken| {
        check(t.duplicate_effects == 0, "an effect applied twice")?;
        check(!broken.contains(&"no_duplicate_effects"), "property")?;
        check(
            (t.lost > 0) == broken.contains(&"no_lost_messages"),
            "the lost-messages property disagrees with the count",
        )
    });
    assert!(sum.lost > 0, "at-most-once lost nothing over the sweep");
}

// At-least-once acknowledges after processing and redelivers on timeout: nothing is lost,
// and a lost ack or a crash applies some effects twice.
#[test]
fn at_least_once_loses_nothing_and_duplicates_some_effects() {
    let sum = sweep("at-least-once", |t, broken| {
        check(t.lost == 0, "a message lost")?;
        check(t.processed == t.committed, "a message never processed")?;
        check(!broken.contains(&"no_lost_messages"), "property")
    });
    assert!(
        sum.duplicate_effects > 0,
        "at-least-once applied no effect twice over the sweep"
    );
}

// Exactly-once (effectively-once): at-least-once delivery, a consumer that records processed
// ids in the effect's transaction: no loss, no effect twice.
#[test]
fn exactly_once_loses_nothing_and_duplicates_no_effect() {
    sweep("exactly-once", |t, broken| {
        check(t.lost == 0, "a message lost")?;
        check(t.processed == t.committed, "a message never processed")?;
        check(t.duplicate_effects == 0, "an effect applied twice")?;
        check(broken.is_empty(), "a property violated")
    });
}

/// A seed's producer crashes, each at a random moment of the producer's run.
fn producer_crash_link(seed: u64, outbox: &str) -> String {
    let mix = |k: u64| (seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> (k * 7)) % 1_000;
    let mut script = Vec::new();
    let mut at_ms = 300;
    for k in 0..4 {
        at_ms += 200 + mix(k) * 2;
        script.push(format!("{at_ms}ms:crash:1;{}ms:restart:1", at_ms + 150));
        at_ms += 150;
    }
    format!(
        "#/flows?n=1&seed={seed}&lat=20..80ms&loss={}%&dup=0%&proc=10..200ms&mode=queue\
         &semantics=exactly-once&outbox={outbox}&messages=30&every=100ms&s={}",
        mix(5) % 20,
        script.join(";")
    )
}

// The transactional outbox: state and message commit together and the relay retries, so a
// producer crash neither loses a committed message nor sends one for a rolled-back change.
// Without it the same crashes do, at some seeds.
#[test]
fn the_outbox_loses_nothing_and_sends_no_phantom_and_without_it_some_are() {
    let mut without = Tally::default();
    for seed in 1..=seeds() {
        let l = producer_crash_link(seed, "on");
        let (t, broken) = run(&l, Dedup::Durable);
        assert!(
            t.lost == 0 && t.phantom == 0 && t.processed == t.committed && broken.is_empty(),
            "seed {seed}: {t:?}, violated {broken:?}\n  {l}"
        );
        let l = producer_crash_link(seed, "off");
        let (t, broken) = run(&l, Dedup::Durable);
        assert_eq!(
            (t.lost > 0, t.phantom > 0),
            (
                broken.contains(&"no_lost_messages"),
                broken.contains(&"no_phantom_messages")
            ),
            "seed {seed}: the properties disagree with the counts\n  {l}"
        );
        without.lost += t.lost;
        without.phantom += t.phantom;
    }
    assert!(
        without.lost > 0 && without.phantom > 0,
        "without the outbox nothing went wrong: {without:?}"
    );
}

// The properties have teeth: an exactly-once consumer whose dedup table lives in memory (lost
// with a crash) applies a redelivered message again, and no_duplicate_effects says so; the
// durable table never does on the same runs.
#[test]
fn a_dedup_that_forgets_ids_is_caught() {
    let mut caught = 0;
    for seed in 1..=seeds().max(12) {
        let l = faulty_link(seed, "exactly-once");
        let (good, broken) = run(&l, Dedup::Durable);
        assert!(
            good.duplicate_effects == 0 && broken.is_empty(),
            "seed {seed}\n  {l}"
        );
        let (bad, broken) = run(&l, Dedup::InMemory);
        let flagged = broken.contains(&"no_duplicate_effects");
        assert_eq!(flagged, bad.duplicate_effects > 0, "seed {seed}\n  {l}");
        caught += flagged as u32;
    }
    assert!(caught > 0, "the forgetful consumer was never caught");
}

// A queue link's run is pinned: later changes cannot alter it unnoticed.
#[test]
fn a_queue_link_has_its_pinned_trace_hash() {
    let presets = labs::find("flows").unwrap().presets;
    let l = presets
        .iter()
        .find(|p| p.name == "Queue, exactly-once: loss and crashes")
        .unwrap()
        .link;
    let s = link::decode(l).unwrap();
    let mut sim = labs::build(&s).unwrap();
    sim.run_until(Instant(10_000_000));
    assert_eq!(
        format!("{:016x}", sim.trace_hash()),
        "daa747956cec5196",
        "{l}"
    );
}

// Every queue preset shows what its name promises.
#[test]
fn the_queue_presets_show_what_they_promise() {
    let lab = labs::find("flows").unwrap();
    for p in lab.presets.iter().filter(|p| p.link.contains("mode=queue")) {
        let (t, broken) = run(p.link, Dedup::Durable);
        let promise = match p.name {
            n if n.contains("at-most-once") => t.lost > 0 && t.duplicate_effects == 0,
            n if n.contains("at-least-once") => t.lost == 0 && t.duplicate_effects > 0,
            n if n.contains("exactly-once") => broken.is_empty() && t.duplicate_deliveries > 0,
            n if n.contains("consumer crashes") => t.lost > 0,
            n if n.contains("broker crashes") => t.duplicate_effects > 0 && t.lost == 0,
            n if n.contains("no outbox") => t.lost > 0 && t.phantom > 0,
            n if n.contains("outbox") => broken.is_empty() && t.processed == t.committed,
            n => panic!("a queue preset with no promise checked: {n}"),
        };
        assert!(
            promise,
            "{}: {t:?}, violated {broken:?}\n  {}",
            p.name, p.link
        );
    }
}

fn experiment(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .arg("experiment")
        .args(args)
        .output()
        .expect("run dsplay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = experiment(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

fn count(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no '{key}' in {v}"))
}

// The delivery experiment's JSON: every message sent is processed or lost (at-most-once), or
// processed, some twice (at-least-once), or processed once (exactly-once).
#[test]
fn the_delivery_experiment_prints_its_figures_as_json() {
    let base = [
        "--loss",
        "20%",
        "--messages",
        "60",
        "--trials",
        "3",
        "--json",
    ];
    let run = |semantics: &str| {
        let mut args = vec!["delivery", "--semantics", semantics];
        args.extend(base);
        json(&args)
    };
    let amo = run("at-most-once");
    assert_eq!(count(&amo, "sent"), 180);
    assert_eq!(
        count(&amo, "processed_unique") + count(&amo, "lost"),
        180,
        "{amo}"
    );
    assert!(
        count(&amo, "lost") > 0 && count(&amo, "duplicate_effects") == 0,
        "{amo}"
    );
    let alo = run("at-least-once");
    assert_eq!(count(&alo, "processed_unique"), 180, "{alo}");
    assert!(
        count(&alo, "lost") == 0 && count(&alo, "duplicate_effects") > 0,
        "{alo}"
    );
    let eo = run("exactly-once");
    assert_eq!(count(&eo, "processed_unique"), 180, "{eo}");
    assert!(count(&eo, "duplicate_deliveries") > 0, "{eo}");
    assert_eq!(
        count(&eo, "lost") + count(&eo, "duplicate_effects"),
        0,
        "{eo}"
    );
    // A fraction and a percentage are the same rate.
    let mut args = vec!["delivery", "--semantics", "at-least-once", "--loss", "0.2"];
    args.extend(&base[2..]);
    assert_eq!(json(&args), alo);
}

// The outbox experiment's JSON: crashes during the dual write lose and duplicate without the
// outbox, and neither with it.
#[test]
fn the_outbox_experiment_prints_its_figures_as_json() {
    let run = |outbox: &str| {
        json(&[
            "outbox",
            "--crash-rate",
            "0.3",
            "--messages",
            "60",
            "--outbox",
            outbox,
            "--json",
        ])
    };
    let off = run("off");
    assert!(count(&off, "crashes") > 0, "{off}");
    assert!(count(&off, "lost_messages") > 0, "{off}");
    assert!(count(&off, "phantom_messages") > 0, "{off}");
    let on = run("on");
    assert!(count(&on, "crashes") > 0, "{on}");
    assert_eq!(
        count(&on, "lost_messages") + count(&on, "phantom_messages"),
        0,
        "{on}"
    );
}

// A trial's link replays the trial: the page shows what the experiment counted.
#[test]
fn an_outbox_trial_link_replays_the_trial() {
    let spec = labs::find_experiment("outbox").unwrap();
    let values = spec
        .values(&[
            ("crash-rate".into(), "0.3".into()),
            ("trials".into(), "1".into()),
        ])
        .unwrap();
    let report = spec.run_all(&values).unwrap();
    let l = &report.links[0].link;
    let (t, _) = run(l, Dedup::Durable);
    assert!(
        report.links[0].label.starts_with(&format!(
            "trial 0: {} lost, {} duplicate effects, {} phantom",
            t.lost, t.duplicate_effects, t.phantom
        )),
        "{}\n  {l}",
        report.links[0].label
    );
}

// Malformed arguments get a message that names them, and no panic.
#[test]
fn malformed_experiment_arguments_are_refused_clearly() {
    for (args, says) in [
        (&["delivery", "--semantics", "twice"][..], "Delivery"),
        (&["delivery", "--loss", "lots"], "fraction"),
        (&["delivery", "--loss", "150%"], "between"),
        (&["delivery", "--messages", "-3"], "between 1 and"),
        (&["delivery", "--messages"], "needs a value"),
        (&["outbox", "--crash-rate", "x"], "fraction"),
        (&["outbox", "--outbox", "maybe"], "off, on"),
        (&["outbox", "--semantics", "at-most-once"], "no parameter"),
    ] {
        let (code, out, err) = experiment(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

// The queue stage draws the broker's log, the producers and the consumers inside the canvas at
// a phone's, a laptop's and a projector's size.
#[test]
fn the_queue_stage_keeps_its_shapes_inside_at_three_sizes() {
    let link = "#/flows?n=2&seed=3&mode=queue&producers=2&loss=10%&view=queue&t=4s";
    for (w, h, shapes) in common::stage_at_three_sizes(link, 1) {
        let texts = common::texts(&shapes);
        for who in [
            "B broker",
            "P0 producer",
            "P1 producer",
            "C0 consumer",
            "C1 consumer",
        ] {
            assert!(texts.contains(&who), "{w}x{h}: no '{who}' in {texts:?}");
        }
        for sh in &shapes {
            assert!(
                common::on_canvas(sh, w, h, false),
                "{w}x{h}: {sh:?} leaves the canvas"
            );
        }
    }
}

/// The queue stage always shows the delivery counters (the same numbers as the figures), and a
/// click on a box selects its node, whose actions the inspector then offers.
#[test]
fn the_queue_stage_shows_the_counters_and_its_boxes_stand_for_their_nodes() {
    use dsplay::viz::scene::{Pt, Selection, Shape, StageArea, Style};
    let text = "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=at-least-once&messages=30";
    let mut sim = labs::build(&link::decode(text).unwrap()).unwrap();
    sim.run_until(Instant(6_000_000));
    let area = StageArea {
        w: 900.0,
        h: 450.0,
        style: Style::default(),
        selected: Selection::None,
        hover: Selection::None,
    };
    let texts: Vec<String> = sim
        .stage(0, &area)
        .into_iter()
        .filter_map(|s| match s {
            Shape::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    let figure = |key: &str| {
        let m = sim.metrics().into_iter().find(|m| m.key == key).unwrap();
        m.value as u64
    };
    let want = format!(
        "duplicate deliveries {} · duplicate effects {}",
        figure("duplicate_deliveries"),
        figure("duplicate_effects")
    );
    assert!(
        figure("duplicate_effects") > 0,
        "the preset's loss applies some effect twice"
    );
    assert!(texts.contains(&want), "{want:?} in {texts:?}");
    let first = format!(
        "sent {} · delivered {} · lost {}",
        figure("messages_sent"),
        figure("messages_delivered"),
        figure("messages_lost")
    );
    assert!(texts.contains(&first), "{first:?} in {texts:?}");
    // The consumer's box is the right-hand column's, halfway down between the picker and the
    // legend; the broker's is in the middle; nothing is between the boxes.
    let middle = (44.0 + 450.0 - 36.0) / 2.0;
    let consumer = sim.stage_hit(0, &area, Pt::new(750.0, middle));
    assert_eq!(consumer, Some(2));
    assert_eq!(sim.stage_hit(0, &area, Pt::new(450.0, middle)), Some(0));
    assert_eq!(sim.stage_hit(0, &area, Pt::new(300.0, 60.0)), None);
    let item = sim.item_view(2).unwrap();
    assert_eq!((item.title.as_str(), item.node), ("C0 consumer", Some(2)));
}
