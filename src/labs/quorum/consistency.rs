//! What the clients saw, judged: availability, stale reads, lost writes, the session
//! guarantees and linearizability.
//!
//! - A read is **stale** when it returns a version older than a write acknowledged before the
//!   read began (it missed that write).
//! - A write is **lost** when it was acknowledged with a stamp older than a write acknowledged
//!   before it began: last-write-wins keeps the other one, so the later write never shows.
//!   Only skewed clocks do this.
//! - The session guarantees are [`crate::check::session`]'s, over each client's operations on
//!   each key, with the stamps as the order of versions.

use super::protocol::{Op, Quorum, Reply, Sib, Stamp, Versioned, Vv};
use crate::check::session::{first_broken, Guarantee, Session, SessionOp};
use crate::sim::small_map::{SmallMap, SmallSet};
use crate::sim::trace::OutcomeKind;
use crate::sim::world::HistoryOp;
use crate::sim::World;
use std::cmp::Ordering;

pub type Entry = HistoryOp<Op, Reply>;

/// The order of versions the guarantees are judged in: stamps (last-write-wins, a total
/// order; `None` before every write) or version vectors (a partial order: siblings are
/// neither before nor after each other).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Stamp(Option<Stamp>),
    Vector(Vv),
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Stamp(a), Version::Stamp(b)) => a.partial_cmp(b),
            (Version::Vector(a), Version::Vector(b)) if a == b => Some(Ordering::Equal),
            (Version::Vector(a), Version::Vector(b)) if a.covers(b) => Some(Ordering::Greater),
            (Version::Vector(a), Version::Vector(b)) if b.covers(a) => Some(Ordering::Less),
            _ => None,
        }
    }
}

impl Version {
    /// The least version that is at least both.
    pub fn join(self, other: Version) -> Version {
        match (self, other) {
            (Version::Stamp(a), Version::Stamp(b)) => Version::Stamp(a.max(b)),
            (Version::Vector(a), Version::Vector(b)) => Version::Vector(a.join(&b)),
            (a, _) => a,
        }
    }

    pub fn of_item(vectors: bool, v: &Versioned) -> Version {
        if vectors {
            Version::Vector(v.vv)
        } else {
            Version::Stamp(Some(v.stamp))
        }
    }

    /// What a read returned: the join of its siblings (nothing: the least version).
    pub fn of_read(vectors: bool, got: &Sib) -> Version {
        let least = if vectors {
            Version::Vector(Vv::default())
        } else {
            Version::Stamp(None)
        };
        got.iter()
            .fold(least, |a, v| a.join(Version::of_item(vectors, v)))
    }
}

/// The version an operation read or wrote, if it succeeded.
pub fn session_op(vectors: bool, h: &Entry) -> Option<SessionOp<Version>> {
    if h.outcome != Some(OutcomeKind::Ok) {
        return None;
    }
    match h.reply? {
        Reply::Value { got } => Some(SessionOp {
            write: false,
            version: Version::of_read(vectors, &got),
        }),
        Reply::Written { item } => Some(SessionOp {
            write: true,
            version: Version::of_item(vectors, &item),
        }),
        Reply::TimedOut { .. } => None,
    }
}

/// The first earlier operation of the same client on the same key whose guarantee `g` the
/// completed operation `latest` breaks.
pub fn broken_by<'a>(
    vectors: bool,
    history: impl Iterator<Item = &'a Entry>,
    g: Guarantee,
    latest: &Entry,
) -> Option<&'a Entry> {
    let last = session_op(vectors, latest)?;
    let earlier: Vec<(&Entry, SessionOp<Version>)> = history
        .filter(|h| h.client == latest.client && h.op.key() == latest.op.key())
        .filter(|h| h.complete_us.is_some_and(|c| c <= latest.invoke_us))
        .filter_map(|h| session_op(vectors, h).map(|s| (h, s)))
        .collect();
    let ops: Vec<SessionOp<Version>> = earlier.iter().map(|e| e.1).collect();
    first_broken(g, &ops, &last).map(|i| earlier[i].0)
}

/// A read that missed a write acknowledged before it began.
#[derive(Clone, Debug, PartialEq)]
pub struct Stale<'a> {
    pub read: &'a Entry,
    pub got: Sib,
    /// The latest write acknowledged before the read began that the read does not reflect.
    pub missed: Versioned,
}

/// An acknowledged write that is gone: its stamp is older than a write acknowledged before it
/// began (last-write-wins drops it: `beaten_by`), or, in leader mode, the current leader's log
/// does not hold it (a failover left it behind: `beaten_by` is `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lost<'a> {
    pub write: &'a Entry,
    pub stamp: Stamp,
    pub beaten_by: Option<Versioned>,
}

/// Leader mode: the leader of the newest epoch (a node that still believes it leads an older
/// one, on the far side of a partition, is not it).
pub fn current_leader(w: &World<Quorum>) -> Option<u32> {
    (0..w.n())
        .filter(|&i| w.state(i).repl.is_leader(i))
        .max_by_key(|&i| (w.state(i).repl.epoch, std::cmp::Reverse(i)))
}

/// Leader mode: whether the current leader's log holds an acknowledged write.
pub fn leader_holds(w: &World<Quorum>, key: u32, stamp: Stamp) -> bool {
    current_leader(w).is_some_and(|l| w.state(l).repl.holds(key, stamp))
}

/// Acknowledged writes of one key by completion time, with the join of the versions up to each.
struct Acked {
    /// (completed at, the write, the join of every version acknowledged by then)
    writes: Vec<(u64, Versioned, Version)>,
}

impl Acked {
    fn of(vectors: bool, history: &[&Entry], key: u32) -> Acked {
        let mut writes: Vec<(u64, Versioned)> = history
            .iter()
            .filter(|h| h.op.key() == key && h.outcome == Some(OutcomeKind::Ok))
            .filter_map(|h| match (h.reply, h.complete_us) {
                (Some(Reply::Written { item }), Some(t)) => Some((t, item)),
                _ => None,
            })
            .collect();
        crate::sim::order::sort_by(&mut writes, |a, b| a.0.cmp(&b.0));
        let mut join: Option<Version> = None;
        let writes = writes
            .into_iter()
            .map(|(t, v)| {
                let this = Version::of_item(vectors, &v);
                let j = join.map_or(this, |j| j.join(this));
                join = Some(j);
                (t, v, j)
            })
            .collect();
        Acked { writes }
    }

    /// The writes acknowledged strictly before `t`.
    fn before(&self, t: u64) -> &[(u64, Versioned, Version)] {
        &self.writes[..self.writes.partition_point(|w| w.0 < t)]
    }
}

/// The latest write of `before` that `seen` does not reflect, if any.
fn missed(vectors: bool, before: &[(u64, Versioned, Version)], seen: Version) -> Option<Versioned> {
    let all = before.last()?.2;
    if seen >= all {
        return None;
    }
    before
        .iter()
        .rev()
        .find(|w| {
            let v = Version::of_item(vectors, &w.1);
            !matches!(
                seen.partial_cmp(&v),
                Some(Ordering::Greater | Ordering::Equal)
            )
        })
        .map(|w| w.1)
}

/// Everything the clients saw, judged.
pub struct Judged<'a> {
    pub finished: u64,
    pub ok: u64,
    pub stale: Vec<Stale<'a>>,
    pub lost: Vec<Lost<'a>>,
}

pub fn judge<'a>(w: &'a World<Quorum>) -> Judged<'a> {
    let v = w.proto.vectors;
    let history: Vec<&Entry> = w.history().iter().collect();
    let acked: Vec<Acked> = (0..w.proto.keys)
        .map(|k| Acked::of(v, &history, k))
        .collect();
    let held = leader_log(w);
    let mut j = Judged {
        finished: 0,
        ok: 0,
        stale: Vec::new(),
        lost: Vec::new(),
    };
    for h in history.iter().copied() {
        if h.outcome.is_some() {
            j.finished += 1;
        }
        if h.outcome != Some(OutcomeKind::Ok) {
            continue;
        }
        j.ok += 1;
        let before = acked[h.op.key() as usize].before(h.invoke_us);
        match h.reply {
            Some(Reply::Value { got }) => {
                if let Some(m) = missed(v, before, Version::of_read(v, &got)) {
                    j.stale.push(Stale {
                        read: h,
                        got,
                        missed: m,
                    });
                }
            }
            Some(Reply::Written { item })
                if w.proto.leader_mode && !held.contains(&(h.op.key(), item.stamp)) =>
            {
                j.lost.push(Lost {
                    write: h,
                    stamp: item.stamp,
                    beaten_by: None,
                });
            }
            Some(Reply::Written { .. }) if w.proto.leader_mode => {}
            Some(Reply::Written { item }) if !v => {
                let beaten = before.iter().map(|b| b.1).max_by_key(|b| b.stamp);
                if let Some(b) = beaten.filter(|b| b.stamp > item.stamp) {
                    j.lost.push(Lost {
                        write: h,
                        stamp: item.stamp,
                        beaten_by: Some(b),
                    });
                }
            }
            _ => {}
        }
    }
    j
}

/// Leader mode: the (key, stamp) of every write in the current leader's log.
fn leader_log(w: &World<Quorum>) -> SmallSet<(u32, Stamp)> {
    let mut log = SmallSet::new();
    if let Some(l) = current_leader(w).filter(|_| w.proto.leader_mode) {
        log.extend(w.state(l).repl.log.iter().map(|e| (e.key, e.stamp)));
    }
    log
}

/// A guarantee and, when it broke, the earlier operation and the one that broke it.
pub type Break<'a> = (Guarantee, Option<(&'a Entry, &'a Entry)>);

pub fn first_breaks(w: &World<Quorum>) -> Vec<Break<'_>> {
    let v = w.proto.vectors;
    let mut sessions: SmallMap<(u32, u32), Session<Version>> = SmallMap::new();
    let mut first: [Option<&Entry>; 4] = [None; 4];
    // A client's operations are sequential, so history order is each session's order.
    for h in w.history().iter() {
        let Some(op) = session_op(v, h) else {
            continue;
        };
        let s = sessions.get_or_insert_with((h.client, h.op.key()), Session::default);
        let broke = s.observe(op, |a, b| a.join(b));
        for (slot, b) in first.iter_mut().zip(broke) {
            if b && slot.is_none() {
                *slot = Some(h);
            }
        }
    }
    Guarantee::ALL
        .into_iter()
        .zip(first)
        .map(|(g, at)| {
            let pair = at.and_then(|h| broken_by(v, w.history().iter(), g, h).map(|e| (e, h)));
            (g, pair)
        })
        .collect()
}

/// The most of a client's earlier operations on a key the live properties look back over.
pub const LOOKBACK_OPS: usize = 64;

/// Whether the operation that just completed breaks `g`, judged against the same client's
/// latest [`LOOKBACK_OPS`] earlier operations on the key (so a long run costs no more per
/// operation than a short one).
pub fn breaks_now(w: &World<Quorum>, g: Guarantee, latest: &Entry) -> bool {
    let v = w.proto.vectors;
    let Some(last) = session_op(v, latest) else {
        return false;
    };
    let mut earlier: Vec<SessionOp<Version>> = w
        .history()
        .iter()
        .rev()
        .filter(|h| h.client == latest.client && h.op.key() == latest.op.key())
        .filter(|h| h.complete_us.is_some_and(|c| c <= latest.invoke_us))
        .filter_map(|h| session_op(v, h))
        .take(LOOKBACK_OPS)
        .collect();
    earlier.reverse();
    first_broken(g, &earlier, &last).is_some()
}

/// The linearizability checker's verdict on the history so far: `Some(true)` linearizable,
/// `Some(false)` not, `None` unknown (the search's budget ran out, or the history's start
/// was dropped).
pub fn linearizable(w: &World<Quorum>) -> (Option<bool>, String) {
    use crate::check::{check_with, CheckOptions, Model, ModelKind};
    if w.proto.vectors {
        return (
            None,
            "not checked: with version vectors a read may return siblings, not one value".into(),
        );
    }
    if w.history_dropped() > 0 {
        return (
            None,
            "not checked: the run's first operations were dropped".into(),
        );
    }
    let h = super::super::to_check_history(w);
    let options = CheckOptions {
        max_steps: 200_000,
        ..CheckOptions::default()
    };
    match check_with(&h, &Model::new(ModelKind::Kv, None), &options) {
        Ok(r) => match (r.is_linearizable(), &r.counterexample) {
            (Some(false), Some(c)) => {
                let op = &h.operations[c.offending_op];
                (
                    Some(false),
                    format!("no: {} cannot be placed", op_words(op)),
                )
            }
            (v, _) => (v, verdict_words(v).into()),
        },
        Err(e) => (None, e.to_string()),
    }
}

fn verdict_words(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown (the search gave up)",
    }
}

fn op_words(op: &crate::check::Operation) -> String {
    format!("client {}'s {}", op.client, op.describe())
}
