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

use super::protocol::{Op, Quorum, Reply, Stamp, Versioned};
use crate::check::session::{first_broken, Guarantee, SessionOp};
use crate::sim::trace::OutcomeKind;
use crate::sim::world::HistoryOp;
use crate::sim::World;

pub type Entry = HistoryOp<Op, Reply>;

/// The version an operation read or wrote (a read of nothing: `None`, the least).
pub fn session_op(h: &Entry) -> Option<SessionOp<Option<Stamp>>> {
    if h.outcome != Some(OutcomeKind::Ok) {
        return None;
    }
    match h.reply? {
        Reply::Value { got } => Some(SessionOp {
            write: false,
            version: got.map(|g| g.stamp),
        }),
        Reply::Written { stamp } => Some(SessionOp {
            write: true,
            version: Some(stamp),
        }),
        Reply::TimedOut { .. } => None,
    }
}

/// The first earlier operation of the same client on the same key whose guarantee `g` the
/// completed operation `latest` breaks.
pub fn broken_by<'a>(
    history: impl Iterator<Item = &'a Entry>,
    g: Guarantee,
    latest: &Entry,
) -> Option<&'a Entry> {
    let last = session_op(latest)?;
    let earlier: Vec<(&Entry, SessionOp<Option<Stamp>>)> = history
        .filter(|h| h.client == latest.client && h.op.key() == latest.op.key())
        .filter(|h| h.complete_us.is_some_and(|c| c <= latest.invoke_us))
        .filter_map(|h| session_op(h).map(|s| (h, s)))
        .collect();
    let ops: Vec<SessionOp<Option<Stamp>>> = earlier.iter().map(|e| e.1).collect();
    first_broken(g, &ops, &last).map(|i| earlier[i].0)
}

/// A read that missed a write acknowledged before it began.
#[derive(Clone, Debug, PartialEq)]
pub struct Stale<'a> {
    pub read: &'a Entry,
    pub got: Option<Versioned>,
    /// The newest write acknowledged before the read began.
    pub missed: Versioned,
}

/// An acknowledged write whose stamp is older than a write acknowledged before it began.
#[derive(Clone, Debug, PartialEq)]
pub struct Lost<'a> {
    pub write: &'a Entry,
    pub stamp: Stamp,
    pub beaten_by: Versioned,
}

/// Acknowledged writes of one key by completion time, with the newest version up to each.
struct Acked {
    /// (completed at, the newest version acknowledged by then)
    newest_by: Vec<(u64, Versioned)>,
}

impl Acked {
    fn of(history: &[&Entry], key: u32) -> Acked {
        let mut writes: Vec<(u64, Versioned)> = history
            .iter()
            .filter(|h| h.op.key() == key && h.outcome == Some(OutcomeKind::Ok))
            .filter_map(|h| match (h.op, h.reply, h.complete_us) {
                (Op::Put { value, .. }, Some(Reply::Written { stamp }), Some(t)) => {
                    Some((t, Versioned { value, stamp }))
                }
                _ => None,
            })
            .collect();
        crate::sim::order::sort_by(&mut writes, |a, b| a.0.cmp(&b.0));
        let mut best: Option<Versioned> = None;
        let newest_by = writes
            .into_iter()
            .map(|(t, v)| {
                super::protocol::keep_newer(&mut best, v);
                (t, best.unwrap_or(v))
            })
            .collect();
        Acked { newest_by }
    }

    /// The newest version acknowledged strictly before `t`.
    fn before(&self, t: u64) -> Option<Versioned> {
        let i = self.newest_by.partition_point(|(c, _)| *c < t);
        i.checked_sub(1).map(|i| self.newest_by[i].1)
    }
}

/// Everything the clients saw, judged.
pub struct Judged<'a> {
    pub finished: u64,
    pub ok: u64,
    pub stale: Vec<Stale<'a>>,
    pub lost: Vec<Lost<'a>>,
}

pub fn judge<'a>(w: &'a World<Quorum>) -> Judged<'a> {
    let history: Vec<&Entry> = w.history().iter().collect();
    let acked: Vec<Acked> = (0..w.proto.keys).map(|k| Acked::of(&history, k)).collect();
    let mut j = Judged {
        finished: 0,
        ok: 0,
        stale: Vec::new(),
        lost: Vec::new(),
    };
    for h in history.iter().copied() {
        if h.complete_us.is_some() || h.outcome.is_some() {
            j.finished += 1;
        }
        if h.outcome != Some(OutcomeKind::Ok) {
            continue;
        }
        j.ok += 1;
        let Some(before) = acked[h.op.key() as usize].before(h.invoke_us) else {
            continue;
        };
        match h.reply {
            Some(Reply::Value { got }) if got.is_none_or(|g| g.stamp < before.stamp) => {
                j.stale.push(Stale {
                    read: h,
                    got,
                    missed: before,
                });
            }
            Some(Reply::Written { stamp }) if stamp < before.stamp => j.lost.push(Lost {
                write: h,
                stamp,
                beaten_by: before,
            }),
            _ => {}
        }
    }
    j
}

/// The first operation that broke each guarantee, with the earlier one it broke it against.
/// A guarantee and, when it broke, the earlier operation and the one that broke it.
pub type Break<'a> = (Guarantee, Option<(&'a Entry, &'a Entry)>);

pub fn first_breaks(w: &World<Quorum>) -> Vec<Break<'_>> {
    Guarantee::ALL
        .into_iter()
        .map(|g| {
            let first = w
                .history()
                .iter()
                .find_map(|h| broken_by(w.history().iter(), g, h).map(|e| (e, h)));
            (g, first)
        })
        .collect()
}

/// The linearizability checker's verdict on the history so far: `Some(true)` linearizable,
/// `Some(false)` not, `None` unknown (the search's budget ran out, or the history's start
/// was dropped).
pub fn linearizable(w: &World<Quorum>) -> (Option<bool>, String) {
    use crate::check::{check_with, CheckOptions, Model, ModelKind};
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
