//! What must hold in the partitioning lab.

use super::hash;
use super::placement::{Algorithm, Member};
use super::protocol::{Reply, RingLab, COORDINATOR};
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::trace::OutcomeKind;
use crate::sim::world::World;

pub fn all() -> Vec<Property<RingLab>> {
    vec![
        Property {
            name: "one_owner_per_key",
            description: "After every change of the cluster map, every key has exactly one owner, a server in the ring",
            kind: PropKind::Always,
            check: one_owner_per_key,
        },
        Property {
            name: "joins_move_keys_only_to_the_newcomer",
            description: "When a server joins, keys move only to it, never between two old servers (ring, rendezvous, and jump when it joins as the last bucket)",
            kind: PropKind::Always,
            check: joins_move_keys_only_to_the_newcomer,
        },
        Property {
            name: "reads_answered_by_replicas",
            description: "Every read is answered by one of its key's replicas (the first servers of its preference list), never by a server that does not hold the key",
            kind: PropKind::Always,
            check: reads_answered_by_replicas,
        },
        Property {
            name: "reads_answered_by_ring_servers",
            description: "Every read is answered by a server that is or was in the ring, never by a spare",
            kind: PropKind::Always,
            check: reads_answered_by_ring_servers,
        },
    ]
}

/// Checked in the step that changes the map (the coordinator records the instant).
fn just_changed(w: &World<RingLab>) -> bool {
    w.state(COORDINATOR)
        .coordinator()
        .and_then(|c| c.changes.last())
        .is_some_and(|ch| ch.at_us == w.now().0)
}

fn one_owner_per_key(w: &World<RingLab>) -> Verdict {
    let Some(c) = w.state(COORDINATOR).coordinator() else {
        return Verdict::Holds;
    };
    // The map is made at the start and changed only by the lab's verbs: checked then, not
    // after every event (a check reads every key).
    if !just_changed(w) && w.now().0 > 0 {
        return Verdict::Holds;
    }
    let keys = w.proto.keys as usize + c.salted as usize;
    let member = |id: u32| c.members.iter().any(|m| m.id == id);
    (c.owners.len() == keys && c.owners.iter().all(|&o| member(o))).into()
}

/// Whether a change from `before` to `after` (owners of the same keys) moved keys only to a
/// server that joined.
pub fn moves_only_to_newcomers(
    before: &[u32],
    after: &[u32],
    old: &[Member],
    new: &[Member],
) -> bool {
    let joined = |id: u32| old.iter().all(|m| m.id != id) && new.iter().any(|m| m.id == id);
    before.iter().zip(after).all(|(a, b)| a == b || joined(*b))
}

/// Whether the algorithm promises minimal movement for a join of `new_id` among `old`.
fn promises_minimal_join(a: Algorithm, old: &[Member], new_id: u32) -> bool {
    match a {
        Algorithm::Ring | Algorithm::Rendezvous => true,
        Algorithm::Jump => old.iter().all(|m| m.id < new_id),
        _ => false,
    }
}

fn joins_move_keys_only_to_the_newcomer(w: &World<RingLab>) -> Verdict {
    let Some(c) = w.state(COORDINATOR).coordinator() else {
        return Verdict::Holds;
    };
    let (Some(before), Some(change)) = (&c.before, c.changes.last()) else {
        return Verdict::Holds;
    };
    if !just_changed(w) || !change.what.ends_with("joined") {
        return Verdict::Holds;
    }
    let old = &c.before_members;
    let Some(new_id) = c
        .members
        .iter()
        .map(|m| m.id)
        .find(|id| !old.iter().any(|m| m.id == *id))
    else {
        return Verdict::Holds;
    };
    if !promises_minimal_join(w.proto.setup.algorithm, old, new_id) {
        return Verdict::Holds;
    }
    let keys = w.proto.keys as usize;
    moves_only_to_newcomers(&before[..keys], &c.owners[..keys], old, &c.members).into()
}

// Each completion is checked in the step that makes it, so looking at the latest is enough.
fn reads_answered_by_ring_servers(w: &World<RingLab>) -> Verdict {
    let Some(h) = w.last_completed() else {
        return Verdict::Holds;
    };
    let (Some(OutcomeKind::Ok), Some(Reply::Value { server, .. })) = (h.outcome, &h.reply) else {
        return Verdict::Holds;
    };
    let Some(c) = w.state(COORDINATOR).coordinator() else {
        return Verdict::Holds;
    };
    // The map may have changed while the read was in flight: a server that left may still
    // answer what it was asked before.
    (c.members.iter().any(|m| m.id == *server) || c.ever_members.contains(server)).into()
}

// A read is judged in the step that completes it, against the map it was served under: one
// that began before the map last changed may have been served by the old map's replicas, and
// a salted hot key's sub-keys have lists of their own.
fn reads_answered_by_replicas(w: &World<RingLab>) -> Verdict {
    let Some(h) = w.completed_by_last_step() else {
        return Verdict::Holds;
    };
    let (Some(OutcomeKind::Ok), Some(Reply::Value { key, server, .. })) = (h.outcome, &h.reply)
    else {
        return Verdict::Holds;
    };
    let Some(c) = w.state(COORDINATOR).coordinator() else {
        return Verdict::Holds;
    };
    let changed = c.changes.last().is_some_and(|ch| ch.at_us >= h.invoke_us);
    let Some(&owner) = c.owners.get(*key as usize) else {
        return Verdict::Holds;
    };
    if changed || (*key == 0 && c.salted > 0) {
        return Verdict::Holds;
    }
    let rf = w.proto.rf as usize;
    let list = c
        .placement
        .preference(hash::key(w.proto.setup.salt, *key as u64), rf, Some(owner));
    list.contains(server).into()
}
