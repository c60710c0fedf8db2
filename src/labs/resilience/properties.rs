//! What must hold in the resilience lab. Each checks the LB's latest forward in the step
//! that makes it, so a run pays a few comparisons a step, not a scan of every message.

use super::protocol::{BreakerState, Resilience, LB};
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::world::World;

pub fn all(proto: &Resilience) -> Vec<Property<Resilience>> {
    let mut v = vec![Property {
        name: "workers_bounded",
        description: "No backend works on more requests at once than it has workers",
        kind: PropKind::Always,
        check: workers_bounded,
    }];
    if proto.bulkhead > 0 {
        v.push(Property {
            name: "bulkhead_bounded",
            description:
                "The LB never has more requests outstanding at a backend than its bulkhead",
            kind: PropKind::Always,
            check: |w| {
                let cap = w.proto.bulkhead;
                w.state(LB)
                    .lb()
                    .is_none_or(|lb| lb.load.iter().all(|l| *l <= cap))
                    .into()
            },
        });
    }
    if proto.breaker.is_some() {
        v.push(Property {
            name: "open_breaker_waits_for_cool_down",
            description: "An open breaker sends no request until its cool-down ends",
            kind: PropKind::Always,
            check: open_breaker_waits,
        });
    }
    if proto.health.is_some() {
        v.push(Property {
            name: "no_routing_to_unhealthy",
            description: "No request is routed to a backend marked unhealthy",
            kind: PropKind::Always,
            check: no_routing_to_unhealthy,
        });
    }
    v
}

fn workers_bounded(w: &World<Resilience>) -> Verdict {
    let cap = w.proto.workers as usize;
    (1..w.n())
        .filter_map(|i| w.state(i).backend())
        .all(|b| b.in_service.len() <= cap)
        .into()
}

/// A forward made now on behalf of a client whose breaker opened less than a cool-down ago
/// and has not closed since (open, or half-open too early) breaks it.
fn open_breaker_waits(w: &World<Resilience>) -> Verdict {
    let (Some(lb), Some(cfg)) = (w.state(LB).lb(), w.proto.breaker) else {
        return Verdict::NotApplicable;
    };
    let Some(r) = lb.last_route.filter(|r| r.at_us == w.now().0) else {
        return Verdict::Holds;
    };
    let Some(b) = lb.breakers.get(r.client as usize) else {
        return Verdict::Holds;
    };
    let cooling = b.opened > 0
        && r.at_us > b.opened_us
        && r.at_us < b.opened_us.saturating_add(cfg.cool_down_us);
    (b.state == BreakerState::Closed || !cooling).into()
}

/// A forward made now to a backend marked unhealthy since before it breaks it.
fn no_routing_to_unhealthy(w: &World<Resilience>) -> Verdict {
    let Some(lb) = w.state(LB).lb() else {
        return Verdict::NotApplicable;
    };
    let Some(r) = lb.last_route.filter(|r| r.at_us == w.now().0) else {
        return Verdict::Holds;
    };
    let h = &lb.health[r.backend as usize];
    (h.healthy || h.changes != r.health_changes).into()
}
