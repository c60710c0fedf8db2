//! The trace: every send, delivery, drop, duplicate, timer, crash, restart, client invocation
//! and completion, note, command and property violation, numbered in order.
//!
//! The hash covers every record ever made through a canonical encoding (each integer mixed in as
//! a 64-bit word, bytes by FNV-1a, lengths widened to 64 bits), so it is the same natively and in
//! wasm. Memory stays bounded: only a window of recent records is kept, with counters for the
//! rest.

use super::clocks::ClockState;
use super::net::Endpoint;
use serde::Serialize;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

/// A 64-bit hash over a canonical encoding (FNV-1a for bytes, a multiply-xorshift step per
/// integer); `usize`/`isize` are widened so 32- and 64-bit targets agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    // Whole integers are mixed a word at a time (the hot path); the result is still a pure
    // function of the values, identical on every target.
    fn write_u64(&mut self, i: u64) {
        let h = (self.0 ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(i as u64);
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn write_i32(&mut self, i: i32) {
        self.write_u64(i as i64 as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.write_i64(i as i64);
    }
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Lost by the link's loss probability.
    Loss,
    /// The link was cut (at send time or while in flight).
    Cut,
    /// The receiver was down when it arrived.
    Crashed,
    /// Dropped by an intervention.
    Intervention,
}

/// How a client operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Ok,
    Fail,
    /// Timed out: may or may not have taken effect.
    Unknown,
}

/// One trace record's content. A send's message itself is kept beside the records
/// ([`Trace::content`]), so records and everything that reads them are the same code for every
/// protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Send {
        msg: u64,
        from: Endpoint,
        to: Endpoint,
        kind: &'static str,
        arrive_us: u64,
        lost: bool,
    },
    Deliver {
        msg: u64,
        from: Endpoint,
        to: Endpoint,
    },
    Drop {
        msg: u64,
        from: Endpoint,
        to: Endpoint,
        reason: DropReason,
    },
    Duplicate {
        msg: u64,
        copy: u64,
    },
    Timer {
        node: u32,
        name: &'static str,
    },
    Crash {
        node: u32,
    },
    Restart {
        node: u32,
    },
    Invoke {
        op: u64,
        client: Endpoint,
        node: u32,
    },
    Complete {
        op: u64,
        client: Endpoint,
        outcome: OutcomeKind,
    },
    Note {
        node: u32,
        text: String,
    },
    Command {
        text: String,
    },
    Violation {
        property: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub at_us: u64,
    pub kind: RecordKind,
}

/// Counters over the whole run (not just the window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub events: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub timers: u64,
    pub notes: u64,
    pub violations: u64,
    /// Client operations that completed, by outcome.
    pub ops_ok: u64,
    pub ops_failed: u64,
    pub ops_unknown: u64,
}

/// The bounded trace: the records in a window, with their numbering, hash and counters. It
/// does not depend on the protocol: the messages the window's sends carried are kept beside it
/// ([`SentMessages`]), by the world that knows their type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    window: VecDeque<Record>,
    capacity: usize,
    next_seq: u64,
    hasher: StableHasher,
    counters: Counters,
    /// Every send with a smaller message id has left the window.
    sends_evicted_below: u64,
    /// The logical clocks at the start of the window, if kept ([`Trace::keep_clocks`]).
    clocks: Option<ClockState>,
}

/// Whether this build keeps logical clocks at all. The page does not show them yet, so its
/// build leaves their folding out (about 2 KB of the download) until it does.
const CLOCKS_BUILT: bool = cfg!(not(target_arch = "wasm32"));

/// Folds a record into the clocks, if kept.
#[cfg(not(target_arch = "wasm32"))]
fn fold_clocks(clocks: &mut Option<ClockState>, kind: &RecordKind) {
    if let Some(c) = clocks {
        c.apply(kind);
    }
}

#[cfg(target_arch = "wasm32")]
fn fold_clocks(_clocks: &mut Option<ClockState>, _kind: &RecordKind) {}

/// How many records the window keeps by default.
pub const DEFAULT_WINDOW: usize = 4096;

impl Trace {
    pub fn new(capacity: usize) -> Self {
        Trace {
            window: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
            next_seq: 0,
            hasher: StableHasher::default(),
            counters: Counters::default(),
            sends_evicted_below: 0,
            clocks: None,
        }
    }

    /// Keeps the logical clocks of `processes` rows from here on ([`super::clocks`]): from the
    /// first record, else they would miss what came before, so a trace with records keeps none.
    pub fn keep_clocks(&mut self, processes: u32) {
        self.clocks = (self.next_seq == 0 && CLOCKS_BUILT).then(|| ClockState::new(processes));
    }

    /// Keeps no logical clocks from here on (a run that never shows its diagram).
    pub fn forget_clocks(&mut self) {
        self.clocks = None;
    }

    /// The logical clocks just before the window's first record, if kept.
    pub fn clock_base(&self) -> Option<&ClockState> {
        self.clocks.as_ref()
    }

    /// Appends a record, folds it into the hash and counters, and returns its sequence number.
    /// A send's message goes in after it with [`SentMessages::push`].
    pub fn push(&mut self, at_us: u64, kind: RecordKind) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.hash_record(seq, at_us, &kind);
        self.count(&kind);
        if self.window.len() == self.capacity {
            if let Some(old) = self.window.pop_front() {
                self.evict(&old.kind);
            }
        }
        self.window.push_back(Record { seq, at_us, kind });
        seq
    }

    /// Notes what a record leaving the window took with it.
    fn evict(&mut self, kind: &RecordKind) {
        fold_clocks(&mut self.clocks, kind);
        if let RecordKind::Send { msg, .. } = kind {
            self.sends_evicted_below = msg + 1;
        }
    }

    /// The hash of every record so far.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash())
    }

    /// Counters over the whole run.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Counts one event handled.
    pub fn count_event(&mut self) {
        self.counters.events += 1;
    }

    /// A copy without the records of the window (what a keyframe keeps): numbering, hash and
    /// counters go on from here, and replaying `capacity` records refills the window exactly.
    /// The clocks come forward over the window left out.
    pub fn without_window(&self) -> Self {
        let mut clocks = self.clocks.clone();
        for r in &self.window {
            fold_clocks(&mut clocks, &r.kind);
        }
        Trace {
            window: VecDeque::new(),
            capacity: self.capacity,
            next_seq: self.next_seq,
            hasher: self.hasher,
            counters: self.counters,
            sends_evicted_below: self.sends_evicted_below,
            clocks,
        }
    }

    /// Whether the window holds as many records as a fresh run's would: every record so far, or
    /// `capacity` of them.
    pub fn window_is_complete(&self) -> bool {
        self.window.len() as u64 == self.next_seq.min(self.capacity as u64)
    }

    /// The records still in the window, oldest first.
    pub fn window(&self) -> &VecDeque<Record> {
        &self.window
    }

    pub fn len_total(&self) -> u64 {
        self.next_seq
    }

    fn count(&mut self, kind: &RecordKind) {
        let c = &mut self.counters;
        match kind {
            RecordKind::Send { .. } => c.sent += 1,
            RecordKind::Deliver { .. } => c.delivered += 1,
            RecordKind::Drop { .. } => c.dropped += 1,
            RecordKind::Duplicate { .. } => c.duplicated += 1,
            RecordKind::Timer { .. } => c.timers += 1,
            RecordKind::Note { .. } => c.notes += 1,
            RecordKind::Violation { .. } => c.violations += 1,
            RecordKind::Complete { outcome, .. } => match outcome {
                OutcomeKind::Ok => c.ops_ok += 1,
                OutcomeKind::Fail => c.ops_failed += 1,
                OutcomeKind::Unknown => c.ops_unknown += 1,
            },
            _ => {}
        }
    }

    fn hash_record(&mut self, seq: u64, at_us: u64, kind: &RecordKind) {
        let h = &mut self.hasher;
        h.write_u64(seq);
        h.write_u64(at_us);
        match kind {
            RecordKind::Send {
                msg,
                from,
                to,
                kind,
                arrive_us,
                lost,
            } => {
                h.write_u8(1);
                h.write_u64(*msg);
                h.write_u32(*from);
                h.write_u32(*to);
                h.write(kind.as_bytes());
                h.write_u64(*arrive_us);
                h.write_u8(*lost as u8);
            }
            RecordKind::Deliver { msg, from, to } => {
                h.write_u8(2);
                h.write_u64(*msg);
                h.write_u32(*from);
                h.write_u32(*to);
            }
            RecordKind::Drop {
                msg,
                from,
                to,
                reason,
            } => {
                h.write_u8(3);
                h.write_u64(*msg);
                h.write_u32(*from);
                h.write_u32(*to);
                h.write_u8(*reason as u8);
            }
            RecordKind::Duplicate { msg, copy } => {
                h.write_u8(4);
                h.write_u64(*msg);
                h.write_u64(*copy);
            }
            RecordKind::Timer { node, name } => {
                h.write_u8(5);
                h.write_u32(*node);
                h.write(name.as_bytes());
            }
            RecordKind::Crash { node } => {
                h.write_u8(6);
                h.write_u32(*node);
            }
            RecordKind::Restart { node } => {
                h.write_u8(7);
                h.write_u32(*node);
            }
            RecordKind::Invoke { op, client, node } => {
                h.write_u8(8);
                h.write_u64(*op);
                h.write_u32(*client);
                h.write_u32(*node);
            }
            RecordKind::Complete {
                op,
                client,
                outcome,
            } => {
                h.write_u8(9);
                h.write_u64(*op);
                h.write_u32(*client);
                h.write_u8(*outcome as u8);
            }
            RecordKind::Note { node, text } => {
                h.write_u8(10);
                h.write_u32(*node);
                h.write(text.as_bytes());
            }
            RecordKind::Command { text } => {
                h.write_u8(11);
                h.write(text.as_bytes());
            }
            RecordKind::Violation { property } => {
                h.write_u8(12);
                h.write(property.as_bytes());
            }
        }
    }
}

/// The messages that the sends still in a trace's window carried, by message id, oldest first:
/// what the inspector shows of a message already delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessages<M>(VecDeque<(u64, M)>);

impl<M> Default for SentMessages<M> {
    fn default() -> Self {
        SentMessages(VecDeque::new())
    }
}

impl<M: Hash> SentMessages<M> {
    /// Keeps the message of the send just pushed to `trace`, which the hash covers after the
    /// record's fields; forgets those whose sends have left the window.
    pub fn push(&mut self, trace: &mut Trace, msg: u64, content: M) {
        content.hash(&mut trace.hasher);
        self.forget_evicted(trace);
        self.0.push_back((msg, content));
    }
}

impl<M> SentMessages<M> {
    fn forget_evicted(&mut self, trace: &Trace) {
        while self
            .0
            .front()
            .is_some_and(|c| c.0 < trace.sends_evicted_below)
        {
            self.0.pop_front();
        }
    }

    /// The message a send still in `trace`'s window carried.
    pub fn get(&self, trace: &Trace, msg: u64) -> Option<&M> {
        if msg < trace.sends_evicted_below {
            return None;
        }
        let i = self.0.partition_point(|c| c.0 < msg);
        self.0.get(i).filter(|c| c.0 == msg).map(|c| &c.1)
    }
}

/// A trace record in protocol-independent form, for the space-time diagram and inspectors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordView {
    pub seq: u64,
    pub at_us: u64,
    /// `send`, `deliver`, `drop`, `duplicate`, `timer`, `crash`, `restart`, `invoke`,
    /// `complete`, `note`, `command`, `violation`.
    pub what: &'static str,
    pub msg: Option<u64>,
    pub from: Option<u32>,
    pub to: Option<u32>,
    pub node: Option<u32>,
    /// For sends: the planned arrival (or the vanishing point if lost).
    pub arrive_us: Option<u64>,
    pub lost: bool,
    /// Message kind, timer name, outcome, note text, command text, property name.
    pub text: String,
    /// For sends: the colour its lab's legend gives the message kind (a CSS colour).
    #[serde(skip)]
    pub colour: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_bounded_but_hash_covers_everything() {
        let mut a = Trace::new(8);
        let mut b = Trace::new(1000);
        for i in 0..100 {
            a.push(i, RecordKind::Crash { node: i as u32 });
            b.push(i, RecordKind::Crash { node: i as u32 });
        }
        assert_eq!(a.window().len(), 8);
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.window().front().map(|r| r.seq), Some(92));
        b.push(100, RecordKind::Crash { node: 0 });
        assert_ne!(a.hash(), b.hash());
    }
}
