//! The first-election experiment: its trials are runs of the Raft lab, so the links it reports
//! replay exactly the trials they name; narrow timeout ranges split the votes.

use dsplay::labs;
use dsplay::labs::raft::first_election::{run_trial, FIRST_ELECTION};
use dsplay::scenario::link;
use dsplay::sim::Instant;

fn report(timeout: &str, trials: &str) -> dsplay::labs::experiment::Report {
    let v = FIRST_ELECTION
        .values(&[
            ("timeout-ms".into(), timeout.into()),
            ("trials".into(), trials.into()),
        ])
        .unwrap();
    FIRST_ELECTION.run_all(&v).unwrap()
}

#[test]
fn every_trial_link_replays_its_trial_in_the_lab() {
    let r = report("150..300ms", "40");
    assert!(r.links.len() >= 3, "{:?}", r.links);
    for l in &r.links {
        let trial: u32 = l.label["trial ".len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let ms: f64 = l
            .label
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let s = link::decode(&l.link).unwrap();
        // The typed run of the trial gives the time the label says...
        let o = run_trial(&s, trial).unwrap();
        assert!(
            (o.settled_us as f64 / 1_000.0 - ms).abs() <= 0.5,
            "{}: {o:?}",
            l.label
        );
        // ...and the lab the page runs from that link has its leader by then.
        let mut sim = labs::build(&s).unwrap();
        let leader = |sim: &dyn labs::Sim| {
            sim.metrics()
                .iter()
                .find(|m| m.key == "leader")
                .map(|m| m.value)
                .unwrap()
        };
        sim.run_until(Instant(o.settled_us));
        assert!(
            leader(sim.as_ref()) >= 0.0,
            "{}: a leader at {} µs",
            l.label,
            o.settled_us
        );
    }
}

#[test]
fn narrow_timeout_ranges_split_the_votes_and_wide_ones_rarely_do() {
    let more_than_one =
        |r: &dsplay::labs::experiment::Report| r.json["more_than_one_election"].as_u64().unwrap();
    let narrow = report("150..170ms", "60");
    let wide = report("150..300ms", "60");
    assert!(
        more_than_one(&narrow) > 2 * more_than_one(&wide),
        "narrow {} vs wide {}",
        more_than_one(&narrow),
        more_than_one(&wide)
    );
    assert!(narrow.json["median_ms"].as_f64() > wide.json["median_ms"].as_f64());
}
