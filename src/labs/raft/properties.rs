//! What must hold in the Raft lab: the safety properties of the paper's Figure 3, and a
//! liveness bound.
//!
//! The checks run after every step, so each is cheap however long the run: they compare logs
//! through the ghost chain values (`log.rs`), which turn "identical up to index i" into one
//! comparison, and look only at current leaders, current logs and per-node ghost summaries.

use super::log::Log;
use super::protocol::{Raft, Role};
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::time::Duration;
use crate::sim::world::World;

/// A leader is owed within this many of the longest election timeouts.
pub const LEADER_BOUND_TIMEOUTS: u64 = 10;

/// How long the cluster may go without a leader while a majority is connected.
pub fn leader_bound(raft: &Raft) -> Duration {
    Duration(
        LEADER_BOUND_TIMEOUTS
            * raft
                .election_timeout_max_us
                .max(raft.heartbeat_us)
                .max(1_000),
    )
}

pub fn all(raft: &Raft) -> Vec<Property<Raft>> {
    vec![
        Property {
            name: "election_safety",
            description: "At most one leader can be elected in a given term",
            kind: PropKind::Always,
            check: election_safety,
        },
        Property {
            name: "log_matching",
            description: "If two logs contain an entry with the same index and term, the logs are identical up through that index",
            kind: PropKind::Always,
            check: log_matching,
        },
        Property {
            name: "leader_completeness",
            description: "An entry committed in a term is present in the logs of the leaders of all later terms",
            kind: PropKind::Always,
            check: leader_completeness,
        },
        Property {
            name: "state_machine_safety",
            description: "No two servers apply different commands at the same log index",
            kind: PropKind::Always,
            check: state_machine_safety,
        },
        Property {
            name: "leader_elected",
            description: "While a majority is up and connected, it has a leader within ten election timeouts",
            kind: PropKind::Eventually { within: leader_bound(raft) },
            check: leader_elected,
        },
    ]
}

/// A second leader of a term is caught the moment it wins: the first left its term in its
/// ghost `won_terms`.
fn election_safety(w: &World<Raft>) -> Verdict {
    let nodes = &w.nodes;
    let clash = nodes.iter().enumerate().any(|(a, na)| {
        let s = &na.state;
        s.role == Role::Leader
            && nodes.iter().enumerate().any(|(b, nb)| {
                b != a
                    && nb
                        .state
                        .ghost
                        .won_terms
                        .binary_search(&s.current_term)
                        .is_ok()
            })
    });
    (!clash).into()
}

/// Two logs satisfy Log Matching iff no index past their common prefix has equal terms.
/// Equal chains form a prefix (a chain covers everything before it), found by bisection.
pub fn logs_match(a: &Log, b: &Log) -> bool {
    let m = a.last_index().min(b.last_index());
    // The usual case, one log a prefix of the other, in one comparison.
    if a.chain_at(m) == b.chain_at(m) {
        return true;
    }
    let (mut lo, mut hi) = (0, m);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if a.chain_at(mid) == b.chain_at(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (lo + 1..=m).all(|i| a.term_at(i) != b.term_at(i))
}

fn log_matching(w: &World<Raft>) -> Verdict {
    let nodes = &w.nodes;
    let ok = (0..nodes.len()).all(|a| {
        (a + 1..nodes.len()).all(|b| logs_match(&nodes[a].state.log, &nodes[b].state.log))
    });
    ok.into()
}

/// Every commit a node ever knew of, learned in term `t`, must be in the log of every live
/// leader of a term `>= t`.
fn leader_completeness(w: &World<Raft>) -> Verdict {
    let nodes = &w.nodes;
    let ok = nodes
        .iter()
        .filter(|n| n.up && n.state.role == Role::Leader)
        .all(|l| {
            let (log, term) = (&l.state.log, l.state.current_term);
            nodes.iter().all(|n| {
                let (index, chain, known_in) = n.state.ghost.known_commit;
                index == 0 || known_in > term || log.chain_at(index) == Some(chain)
            })
        });
    ok.into()
}

/// Applied prefixes compare by the chain of the last index both applied.
fn state_machine_safety(w: &World<Raft>) -> Verdict {
    let nodes = &w.nodes;
    if nodes.iter().any(|n| n.state.ghost.apply_conflict) {
        return Verdict::Pending;
    }
    let ok = (0..nodes.len()).all(|a| {
        (a + 1..nodes.len()).all(|b| {
            let (x, y) = (
                &nodes[a].state.ghost.applied_chains,
                &nodes[b].state.ghost.applied_chains,
            );
            let m = x.len().min(y.len());
            m == 0 || x.get(m - 1) == y.get(m - 1)
        })
    });
    ok.into()
}

/// Holds when a live leader shares its term with a majority it can talk to both ways; owed
/// only while some majority is up and fully connected.
fn leader_elected(w: &World<Raft>) -> Verdict {
    let n = w.n();
    let need = n as usize / 2 + 1;
    let led = (0..n).any(|l| {
        let s = w.state(l);
        w.is_up(l)
            && s.role == Role::Leader
            && (0..n)
                .filter(|&p| {
                    w.is_up(p)
                        && w.net.connected(l, p)
                        && w.net.connected(p, l)
                        && w.state(p).current_term == s.current_term
                })
                .count()
                >= need
    });
    if led {
        Verdict::Holds
    } else if w.majority_connected() {
        Verdict::Pending
    } else {
        Verdict::NotApplicable
    }
}
