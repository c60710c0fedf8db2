//! What must hold in the flows lab.

use super::protocol::Flows;
use super::queue::{lost, phantom, Role};
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::time::Duration;
use crate::sim::trace::OutcomeKind;
use crate::sim::world::World;

pub fn all(proto: &Flows) -> Vec<Property<Flows>> {
    if proto.queue.is_some() {
        return queue();
    }
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(q) = proto.pubsub() {
        return pubsub(q.rebalance_us);
    }
    let mut all = vec![
        Property {
            name: "workers_bounded",
            description: "No server works on more requests at once than it has workers",
            kind: PropKind::Always,
            check: workers_bounded,
        },
        Property {
            name: "replies_match_requests",
            description: "Every successful reply answers the request its client sent",
            kind: PropKind::Always,
            check: replies_match_requests,
        },
        Property {
            name: "clients_progress",
            description: "While some server is up and reachable, a request succeeds within 5 s",
            kind: PropKind::Eventually {
                within: Duration::from_secs(5),
            },
            check: clients_progress,
        },
    ];
    if proto.mode == super::FlowsMode::Payment {
        all.extend(super::payment::properties());
    }
    all
}

fn workers_bounded(w: &World<Flows>) -> Verdict {
    let cap = w.proto.workers as usize;
    w.nodes
        .iter()
        .all(|n| n.state.in_service.len() <= cap)
        .into()
}

// Each completion is checked in the step that makes it, so looking at the latest is enough.
fn replies_match_requests(w: &World<Flows>) -> Verdict {
    match w.last_completed() {
        Some(h) if h.outcome == Some(OutcomeKind::Ok) => h
            .reply
            .as_ref()
            .is_some_and(|r| r.value == h.op.value)
            .into(),
        _ => Verdict::Holds,
    }
}

fn clients_progress(w: &World<Flows>) -> Verdict {
    let clients = w.cfg.clients;
    let n = w.n();
    // Checked after every step: the common case (no cuts) must not loop over every pair.
    let reachable = if w.net.cut.is_empty() {
        (0..n).any(|s| w.is_up(s))
    } else {
        (0..clients).any(|c| {
            (0..n).any(|s| w.is_up(s) && w.net.connected(n + c, s) && w.net.connected(s, n + c))
        })
    };
    if clients == 0 || !reachable {
        return Verdict::NotApplicable;
    }
    match w.last_completed() {
        None if w.history().is_empty() => Verdict::NotApplicable,
        Some(h) if h.outcome == Some(OutcomeKind::Ok) => Verdict::Holds,
        _ => Verdict::Pending,
    }
}

/// Queue mode's guarantees, each violated exactly when its semantics allow it: at-most-once
/// loses messages, at-least-once duplicates effects, a producer without the outbox loses
/// messages or sends phantoms when it crashes.
fn queue() -> Vec<Property<Flows>> {
    vec![
        Property {
            name: "no_lost_messages",
            description: "Every committed message is held by a producer, the broker, the network or a consumer until its effect is applied",
            kind: PropKind::Always,
            check: |w| (lost(w) == 0).into(),
        },
        Property {
            name: "no_duplicate_effects",
            description: "No message's effect is applied more than once",
            kind: PropKind::Always,
            check: no_duplicate_effects,
        },
        Property {
            name: "no_phantom_messages",
            description: "No message reaches the broker for a state change that was rolled back",
            kind: PropKind::Always,
            check: |w| (phantom(w) == 0).into(),
        },
    ]
}

// Checked after every step: a counter, not a scan of every message.
fn no_duplicate_effects(w: &World<Flows>) -> Verdict {
    w.nodes
        .iter()
        .all(|n| match &n.state.role {
            Some(Role::Consumer(c)) => c.repeated == 0,
            _ => true,
        })
        .into()
}

/// Publish/subscribe mode's guarantees: order within a partition, and ownership restored after
/// a consumer leaves. Owed from the moment a partition has no live owner (or anew when a member
/// joins or leaves), the bound allows one rebalance timeout to notice a crash, one for old
/// owners to give up what moves, and one to spare.
#[cfg(not(target_arch = "wasm32"))]
fn pubsub(rebalance_us: u64) -> Vec<Property<Flows>> {
    vec![
        Property {
            name: "partition_order",
            description: "No consumer processes a partition's messages out of offset order, and no two consumers of a group process one partition at once",
            kind: PropKind::Always,
            check: |w| super::pubsub::partition_order(w).into(),
        },
        Property {
            name: "partitions_owned",
            description: "While a group has a live consumer and the broker is up, every partition is owned again by a live member within three rebalance timeouts of a crash or of a member joining or leaving",
            kind: PropKind::Eventually {
                within: Duration(rebalance_us.saturating_mul(3)),
            },
            check: |w| match super::pubsub::partitions_owned(w) {
                None => Verdict::NotApplicable,
                Some(owned) => owned.into(),
            },
        },
    ]
}
