//! The narration line says what a run last did, from its own records: a Raft election begins
//! with the timer that fired, a crash and an intervention are said in words.

use dsplay::play::narrate;
use dsplay::play::session::Session;

fn line_at(link: &str) -> Option<String> {
    let (s, why) = Session::open(link);
    assert!(why.is_none(), "{link}: {why:?}");
    narrate::session_line(&s)
}

const RAFT: &str = "#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%";

#[test]
fn the_first_election_is_said_with_the_timer_that_started_it() {
    let lines: Vec<String> = (1..=40)
        .filter_map(|k| line_at(&format!("{RAFT}&t={}ms", k * 10)))
        .collect();
    let first = lines
        .first()
        .expect("something is said in the first 400 ms");
    assert!(
        first.contains("'s election timer fired: election for term 1"),
        "{first}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(": became leader in term 1")),
        "{lines:?}"
    );
}

#[test]
fn a_crash_and_the_intervention_that_caused_it_are_said() {
    let crash = format!("{RAFT}&s=1500ms:crash:2");
    assert_eq!(
        line_at(&format!("{crash}&t=1500ms")).unwrap(),
        "1.500s · S2 crashed"
    );
    let cut = format!("{RAFT}&s=1500ms:part:0.1/2.3.4&t=1500ms");
    assert_eq!(
        line_at(&cut).unwrap(),
        "1.500s · intervention: partition S0 S1 | S2 S3 S4"
    );
}

#[test]
fn a_run_that_has_said_nothing_yet_shows_no_line() {
    assert_eq!(line_at(&format!("{RAFT}&t=1ms")), None);
}
