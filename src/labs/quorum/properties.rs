//! What the replication lab checks after every step.
//!
//! The session guarantees and the loss of acknowledged writes are judged as each client
//! operation completes (in the step of its reply), against the client's earlier operations:
//! a run says which it kept and where the first one broke. None of them is promised by a
//! leaderless store in general; which ones a configuration keeps is the lesson.

use super::consistency::{breaks_now, leader_holds, Entry};
use super::protocol::{Quorum, Reply};
use crate::check::session::Guarantee;
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::time::Duration;
use crate::sim::trace::OutcomeKind;
use crate::sim::world::World;

pub fn all() -> Vec<Property<Quorum>> {
    vec![
        session("read_your_writes", "A client's read returns its own earlier writes or something newer", |w| guarantee(w, Guarantee::ReadYourWrites)),
        session("monotonic_reads", "A client never reads an older version of a key than it read before", |w| guarantee(w, Guarantee::MonotonicReads)),
        session("monotonic_writes", "A client's writes to a key are ordered as it issued them", |w| guarantee(w, Guarantee::MonotonicWrites)),
        session("writes_follow_reads", "A client's write is ordered after what it read of the key before", |w| guarantee(w, Guarantee::WritesFollowReads)),
        session("acknowledged_writes_survive", "No acknowledged write is dropped: by last-write-wins (an older stamp than a write acknowledged before it began) or, in leader mode, by a failover to a leader that never received it", acknowledged_writes_survive),
        Property {
            name: "hints_handed_back",
            description: "While every node is up and no link is cut, every hint reaches its replica within 5 s",
            kind: PropKind::Eventually {
                within: Duration::from_secs(5),
            },
            check: hints_handed_back,
        },
    ]
}

fn session(
    name: &'static str,
    description: &'static str,
    check: fn(&World<Quorum>) -> Verdict,
) -> Property<Quorum> {
    Property {
        name,
        description,
        kind: PropKind::Always,
        check,
    }
}

/// The operation that completed in this step, if it succeeded.
fn just_completed(w: &World<Quorum>) -> Option<&Entry> {
    w.completed_by_last_step()
        .filter(|h| h.outcome == Some(OutcomeKind::Ok))
}

fn guarantee(w: &World<Quorum>, g: Guarantee) -> Verdict {
    match just_completed(w) {
        Some(h) => (!breaks_now(w, g, h)).into(),
        None => Verdict::Holds,
    }
}

fn acknowledged_writes_survive(w: &World<Quorum>) -> Verdict {
    if w.proto.leader_mode {
        return survive_failover(w);
    }
    let Some(h) = just_completed(w) else {
        return Verdict::Holds;
    };
    // Version vectors keep concurrent writes as siblings: none is dropped.
    let Some(Reply::Written { item }) = h.reply.filter(|_| !w.proto.vectors) else {
        return Verdict::Holds;
    };
    let stamp = item.stamp;
    // The latest acknowledged writes of the key before this one began, newest first.
    let beaten = w
        .history()
        .iter()
        .rev()
        .filter(|o| o.op.key() == h.op.key() && o.outcome == Some(OutcomeKind::Ok))
        .filter(|o| o.complete_us.is_some_and(|c| c < h.invoke_us))
        .filter_map(|o| match o.reply {
            Some(Reply::Written { item }) => Some(item.stamp),
            _ => None,
        })
        .take(super::consistency::LOOKBACK_OPS)
        .any(|s| s > stamp);
    (!beaten).into()
}

fn hints_handed_back(w: &World<Quorum>) -> Verdict {
    let whole = (0..w.n()).all(|i| w.is_up(i)) && w.net.cut.is_empty();
    if !whole {
        return Verdict::NotApplicable;
    }
    (0..w.n()).all(|i| w.state(i).hints.is_empty()).into()
}

/// Leader mode: a write acknowledged now must be in the newest leader's log, and when a node
/// has just taken over, every write acknowledged so far must be in its log.
fn survive_failover(w: &World<Quorum>) -> Verdict {
    let now = w.now().0;
    let promoted = (0..w.n()).any(|i| w.state(i).repl.promoted_at_us == Some(now));
    let written = |h: &Entry| match (h.outcome, h.reply) {
        (Some(OutcomeKind::Ok), Some(Reply::Written { item })) => Some((h.op.key(), item.stamp)),
        _ => None,
    };
    let lost = |(key, stamp)| !leader_holds(w, key, stamp);
    if promoted {
        return (!w.history().iter().filter_map(written).any(lost)).into();
    }
    match just_completed(w).and_then(written) {
        Some(write) => (!lost(write)).into(),
        None => Verdict::Holds,
    }
}
