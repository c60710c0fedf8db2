//! The narration line: what the run last did that a person would say out loud, in words, from
//! its own records (a node's notes, crashes and restarts, interventions, broken properties).
//! Messages and timers alone are not said: they are what the stage already draws.

use super::session::Session;
use crate::sim::time::format_clock;
use crate::sim::trace::RecordView;
use crate::viz::spacetime::command_words;

/// The record kinds worth saying.
const SAID: &[&str] = &["note", "crash", "restart", "command", "violation"];

/// The newest record worth saying among `records` (oldest first, up to the cursor), with the
/// index it has there; `None` before the first.
pub fn latest(records: &[RecordView]) -> Option<(usize, &RecordView)> {
    records
        .iter()
        .enumerate()
        .rev()
        .find(|(_, r)| SAID.contains(&r.what))
}

/// The line for `records[ix]`: `1.234s · S3's election timer fired: election for term 4`.
/// `labels` names the nodes (`S0`...); an endpoint past them is a client (`C0`...).
pub fn line(records: &[RecordView], ix: usize, labels: &[String]) -> String {
    let r = &records[ix];
    let name = |e: u32| match labels.get(e as usize) {
        Some(l) => l.clone(),
        None => format!("C{}", (e as usize).saturating_sub(labels.len())),
    };
    let node = r.node.map_or_else(String::new, name);
    let said = match r.what {
        "note" => match timer_before(records, ix) {
            Some(timer) => format!("{node}'s {timer} timer fired: {}", r.text),
            None => format!("{node}: {}", r.text),
        },
        "crash" => format!("{node} crashed"),
        "restart" => format!("{node} restarted"),
        "command" => format!("intervention: {}", command_words(&r.text, labels)),
        _ => format!("property broken: {}", r.text),
    };
    format!("{} · {said}", format_clock(r.at_us))
}

/// The sequence number of the newest record worth saying at the session's cursor: what the
/// page watches to know when the line changes.
pub fn latest_seq(s: &Session) -> Option<u64> {
    latest(s.records()).map(|(_, r)| r.seq)
}

/// The session's narration line at its cursor.
pub fn session_line(s: &Session) -> Option<String> {
    let (ix, _) = latest(s.records())?;
    let labels: Vec<String> = s.sim().nodes().into_iter().map(|n| n.label).collect();
    Some(line(s.records(), ix, &labels))
}

/// The timer that fired at the same node and moment just before the note at `ix`, if the note
/// answers one (a timeout that starts an election, say).
fn timer_before(records: &[RecordView], ix: usize) -> Option<&str> {
    let note = &records[ix];
    records[..ix]
        .iter()
        .rev()
        .take_while(|r| r.at_us == note.at_us)
        .find(|r| r.what == "timer" && r.node == note.node)
        .map(|r| r.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(at_us: u64, what: &'static str, node: Option<u32>, text: &str) -> RecordView {
        RecordView {
            seq: at_us,
            at_us,
            what,
            msg: None,
            from: None,
            to: None,
            node,
            arrive_us: None,
            lost: false,
            text: text.into(),
            colour: "",
        }
    }

    fn labels() -> Vec<String> {
        (0..3).map(|i| format!("S{i}")).collect()
    }

    #[test]
    fn a_note_after_its_nodes_timer_says_the_timer_fired() {
        let rs = [
            rec(1_000, "send", None, "vote"),
            rec(212_000, "timer", Some(3), "election"),
            rec(212_000, "note", Some(3), "election for term 4"),
            rec(213_000, "send", None, "request_vote"),
        ];
        let (ix, _) = latest(&rs).unwrap();
        assert_eq!(ix, 2);
        let mut names = labels();
        names.push("S3".into());
        assert_eq!(
            line(&rs, ix, &names),
            "0.212s · S3's election timer fired: election for term 4"
        );
    }

    #[test]
    fn another_nodes_timer_or_an_earlier_one_is_not_the_notes_cause() {
        let rs = [
            rec(100, "timer", Some(1), "election"),
            rec(200, "timer", Some(2), "heartbeat"),
            rec(200, "note", Some(0), "became leader in term 2"),
        ];
        assert_eq!(
            line(&rs, 2, &labels()),
            "0.000s · S0: became leader in term 2"
        );
    }

    #[test]
    fn crashes_interventions_and_broken_properties_are_said_in_words() {
        let rs = [
            rec(2_000_000, "command", None, "2s:crash:1"),
            rec(2_000_000, "crash", Some(1), ""),
            rec(5_000_000, "restart", Some(1), ""),
            rec(6_000_000, "command", None, "6s:part:0.1/2"),
            rec(7_000_000, "violation", None, "election_safety"),
        ];
        let say = |ix| line(&rs, ix, &labels());
        assert_eq!(say(0), "2.000s · intervention: crash S1");
        assert_eq!(say(1), "2.000s · S1 crashed");
        assert_eq!(say(2), "5.000s · S1 restarted");
        assert_eq!(say(3), "6.000s · intervention: partition S0 S1 | S2");
        assert_eq!(say(4), "7.000s · property broken: election_safety");
    }

    #[test]
    fn messages_and_timers_alone_say_nothing() {
        let rs = [
            rec(1, "send", None, "append"),
            rec(2, "timer", Some(0), "heartbeat"),
        ];
        assert!(latest(&rs).is_none());
        assert!(latest(&[]).is_none());
    }
}
