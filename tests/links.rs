//! Links: golden links decode forever, hostile links get a specific error, nothing panics.

mod common;

use dsplay::labs;
use dsplay::scenario::link::{decode, encode};
use dsplay::scenario::Scenario;

// Golden links: every link format ever released keeps decoding to the same scenario and the
// same run. Add a row for each new format; never edit a row.
const GOLDEN: &[(&str, &str)] = &[
    // version 1, written by hand as the issue shows it
    ("#/flows?n=3&seed=7&lat=20..80ms&loss=2%", "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%&clients=2&proc=5..20ms&think=200ms&timeout=1s&workers=4"),
    // version 1 with a script, a cursor and an explicit version
    (
        "#/flows?v=1&n=5&seed=42&lat=exp(30ms)&loss=1.5%&dup=0.5%&clients=3&s=1s:crash:1;2.5s:part:0.1/2.3.4;4s:heal;4s:restart:1;5s:set:0%3E1:lat=5ms;6s:op:0@2:req%207&t=7.25s",
        "#/flows?n=5&seed=42&lat=exp(30ms)&loss=1.5%&dup=0.5%&clients=3&proc=5..20ms&think=200ms&timeout=1s&workers=4&s=1s:crash:1;2.5s:part:0.1/2.3.4;4s:heal;4s:restart:1;5s:set:0%3E1:lat=5ms;6s:op:0@2:req%207&t=7.25s",
    ),
    // a whole URL, as pasted from the address bar
    ("http://127.0.0.1:8080/#/flows?n=2&seed=1&lat=50ms&loss=0%&dup=0%", "#/flows?n=2&seed=1&lat=50ms&loss=0%&dup=0%&clients=2&proc=5..20ms&think=200ms&timeout=1s&workers=4"),
];

#[test]
fn golden_links_keep_decoding_to_the_same_scenario() {
    for (link, canonical) in GOLDEN {
        let s = decode(link).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(&encode(&s), canonical, "{link}");
        assert_eq!(decode(canonical).unwrap(), s);
    }
}

// JSON and link forms describe the same scenario.
#[test]
fn json_and_link_round_trip() {
    for (link, _) in GOLDEN {
        let s = decode(link).unwrap();
        let back = Scenario::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert_eq!(decode(&encode(&back)).unwrap(), s);
    }
}

// Every lab's default link and presets decode and build.
#[test]
fn every_lab_default_and_preset_link_builds() {
    for lab in labs::REGISTRY {
        let mut links = vec![dsplay::scenario::link::default_link(lab)];
        links.extend(lab.presets.iter().map(|p| p.link.to_string()));
        for l in links {
            let s = decode(&l).unwrap_or_else(|e| panic!("{}: {l}: {e}", lab.id));
            labs::build(&s).unwrap_or_else(|e| panic!("{}: {l}: {e}", lab.id));
        }
    }
}

/// Hostile links and the words their error must contain.
fn hostile() -> Vec<(String, &'static str)> {
    let long_script = format!("#/flows?n=3&s={}", "1s:heal;".repeat(3000));
    let megabyte = format!("#/flows?n=3&s={}", "x".repeat(1 << 20));
    let many_keys = format!(
        "#/flows?{}",
        (0..100)
            .map(|i| format!("k{i}=1"))
            .collect::<Vec<_>>()
            .join("&")
    );
    let table: Vec<(&str, &'static str)> = vec![
        ("", "empty"),
        ("#", "empty"),
        ("#/", "unknown lab ''"),
        ("garbage", "unknown lab 'garbage'"),
        ("#/nosuchlab?n=3", "unknown lab 'nosuchlab'"),
        ("#/flows?n=", "node count '' is not a whole number"),
        ("#/flows?n=abc", "node count 'abc'"),
        ("#/flows?n=-3", "node count '-3'"),
        ("#/flows?n=1000000", "1 to 16 nodes, not 1000000"),
        ("#/flows?n=99999999999999999999999", "node count"),
        ("#/flows?n=0", "1 to 16 nodes, not 0"),
        ("#/flows?seed=NaN", "seed 'NaN'"),
        ("#/flows?seed=-1", "seed '-1'"),
        (
            "#/flows?seed=18446744073709551616",
            "seed '18446744073709551616'",
        ),
        ("#/flows?lat=NaNms", "latency"),
        ("#/flows?lat=80..20ms", "minimum above its maximum"),
        ("#/flows?lat=-5ms", "latency"),
        ("#/flows?lat=9999999999h", "longer than 30 days"),
        ("#/flows?lat=pareto(1ms,NaN)", "Pareto shape"),
        ("#/flows?loss=200%", "from 0% to 100%"),
        ("#/flows?loss=NaN%", "loss"),
        ("#/flows?loss=5", "must be a percentage"),
        ("#/flows?dup=-1%", "dup"),
        ("#/flows?n=3&n=4", "'n' appears twice"),
        ("#/flows?n", "must be key=value"),
        ("#/flows?%zz=1", "bad percent-encoding"),
        ("#/flows?n=%E2%28", "not valid UTF-8"),
        ("#/flows?n=%FF%FE", "not valid UTF-8"),
        ("#/flows?v=2&n=3", "unknown link version 2"),
        ("#/flows?v=999999999999", "version '999999999999'"),
        ("#/flows?colour=red", "no parameter 'colour'"),
        ("#/flows?clients=1000", "between 0 and 32"),
        ("#/flows?think=-1s", "think"),
        ("#/flows?t=-5s", "cursor time"),
        ("#/flows?t=1000000h", "longer than 30 days"),
        ("#/flows?s=crash:1", "has no time"),
        ("#/flows?s=-1s:crash:1", "command '-1s:crash:1'"),
        ("#/flows?s=1s:explode:1", "unknown command 'explode'"),
        (
            "#/flows?n=3&s=1s:crash:7",
            "names node 7, but there are 3 nodes",
        ),
        ("#/flows?s=1s:crash", "needs arguments"),
        ("#/flows?s=2s:heal;1s:heal", "out of time order"),
        ("#/flows?s=1s:part:0.1", "at least two groups"),
        ("#/flows?s=1s:cut:0~1", "A>B"),
        ("#/flows?s=1s:op:9@0:req%201", "names client 9"),
        ("#/flows?s=1s:op:0@0:hello", "a flows operation is 'req N'"),
        ("#/flows?s=1s:set:color=red", "unknown setting 'color'"),
        ("#/flows?s=1s:drop:xyz", "message id 'xyz'"),
    ];
    let mut v: Vec<(String, &'static str)> =
        table.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    v.push((long_script, "more than 2000 commands"));
    v.push((megabyte, "the limit is 65536"));
    v.push((many_keys, "more than 64 parameters"));
    v
}

#[test]
fn hostile_links_each_get_their_specific_error() {
    let cases = hostile();
    assert!(cases.len() >= 30);
    for (link, expected) in cases {
        let shown: String = link.chars().take(60).collect();
        match decode(&link) {
            Ok(s) => panic!("{shown} decoded to {s:?}"),
            Err(e) => assert!(
                e.0.contains(expected),
                "{shown}: error '{e}' does not mention '{expected}'"
            ),
        }
    }
}

// Hostile scenario JSON is refused the same way.
#[test]
fn hostile_scenario_json_is_refused() {
    let good = decode("#/flows?n=3").unwrap().to_json();
    for (bad, expected) in [
        ("{", "not a dsplay scenario"),
        ("[]", "not a dsplay scenario"),
        (&good.replace("\"n\": 3", "\"n\": 4000000000"), "nodes"),
        (
            &good.replace("\"version\": 1", "\"version\": 7"),
            "unknown scenario version 7",
        ),
        (&good.replace("\"flows\"", "\"nope\""), "unknown lab"),
        (
            &good.replace("\"loss_ppm\": 0", "\"loss_ppm\": 5000000"),
            "loss",
        ),
        (
            &good.replace("\"loss_ppm\": 0", "\"loss_ppm\": -1"),
            "not a dsplay scenario",
        ),
    ] {
        let e = Scenario::from_json(bad).expect_err(bad);
        assert!(e.0.contains(expected), "{e} should mention {expected}");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("DSPLAY_FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]
        // Arbitrary text never panics the decoder.
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,300}") {
            let _ = decode(&s);
        }

        // Mutations of a valid link never panic, and whatever decodes also builds and runs.
        #[test]
        fn mutated_links_decode_or_fail_cleanly(
            cut in 0usize..140, insert in "[-0-9a-z%=&;:.>/@#?]{0,12}"
        ) {
            let base = GOLDEN[1].0;
            let at = cut.min(base.len());
            let at = (0..=at).rev().find(|i| base.is_char_boundary(*i)).unwrap_or(0);
            let l = format!("{}{}{}", &base[..at], insert, &base[at..]);
            if let Ok(s) = decode(&l) {
                let mut sim = labs::build(&s).map_err(TestCaseError::fail)?;
                sim.run_until(dsplay::sim::Instant(2_000_000));
            }
        }
    }
}

// The main canvas a link shows is part of the link; every lab has the topology, and a view a
// lab does not have is refused with the ones it has.
#[test]
fn a_lab_view_round_trips_and_an_unknown_one_is_refused_with_the_known_ones() {
    let s = decode("#/raft?n=5&seed=3&view=logs").unwrap();
    assert_eq!(s.view.as_deref(), Some("logs"));
    let again = encode(&s);
    assert!(again.contains("view=logs"), "{again}");
    assert_eq!(decode(&again).unwrap(), s);
    let s = decode("#/raft?n=5&seed=3&view=topology").unwrap();
    assert_eq!(s.view, None, "the default view is not written out");
    assert!(!encode(&s).contains("view="));
    let e = decode("#/raft?n=5&seed=3&view=ring").unwrap_err().0;
    assert!(
        e.contains("no view 'ring'") && e.contains("topology, logs"),
        "{e}"
    );
    let e = decode("#/flows?n=3&seed=3&view=logs").unwrap_err().0;
    assert!(e.contains("(it has topology, queue, topic)"), "{e}");
}

#[test]
fn embed_is_a_view_of_the_same_run_and_a_bad_value_is_refused() {
    let plain = decode("#/raft?n=5&seed=3&clients=2").unwrap();
    let embedded = decode("#/raft?n=5&seed=3&clients=2&embed=1").unwrap();
    assert!(embedded.embed && !plain.embed);
    assert!(encode(&embedded).ends_with("&embed=1"));
    assert_eq!(decode(&encode(&embedded)).unwrap(), embedded);
    assert!(!encode(&plain).contains("embed"));
    let ran = |s: &Scenario| {
        let mut sim = (labs::find("raft").unwrap().build)(s).unwrap();
        sim.run_until(dsplay::sim::Instant(2_000_000));
        sim.trace_hash()
    };
    assert_eq!(ran(&plain), ran(&embedded), "embedding changes no event");
    let e = decode("#/raft?embed=yes").unwrap_err();
    assert!(e.0.contains("embed is 1 or 0"), "{e}");
}

#[test]
fn a_speed_in_a_link_round_trips_and_the_labs_own_speed_is_left_out() {
    let slow = decode("#/raft?n=5&seed=3&speed=0.025x").unwrap();
    assert_eq!(slow.speed.as_deref(), Some("0.025"));
    assert_eq!(dsplay::scenario::SPEEDS[slow.speed_ix()], 0.025);
    assert!(encode(&slow).ends_with("&speed=0.025"), "{}", encode(&slow));
    assert_eq!(decode(&encode(&slow)).unwrap(), slow);
    // Without `speed`, a link plays at its lab's speed, and naming that speed changes nothing.
    let own = labs::find("raft").unwrap().speed;
    let plain = decode("#/raft?n=5&seed=3").unwrap();
    let named = decode(&format!("#/raft?n=5&seed=3&speed={own}")).unwrap();
    assert_eq!(plain, named);
    assert_eq!(dsplay::scenario::SPEED_TEXTS[plain.speed_ix()], own);
    assert!(!encode(&plain).contains("speed"));
    let e = decode("#/raft?speed=3").unwrap_err().0;
    assert!(e.contains("speed '3' is not one of 0.01, 0.025"), "{e}");
}

#[test]
fn every_lab_opens_at_a_speed_the_clock_offers() {
    for lab in labs::REGISTRY {
        let ix =
            dsplay::scenario::speed_index(lab.speed).unwrap_or_else(|e| panic!("{}: {e}", lab.id));
        assert_eq!(Scenario::default_for(lab).speed_ix(), ix, "{}", lab.id);
    }
}
