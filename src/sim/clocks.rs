//! Logical clocks: the Lamport timestamp and the vector clock of every event on the space-time
//! diagram, and the causal relations the learner asks about (Lamport 1978; Fidge and Mattern
//! 1988).
//!
//! The processes are the diagram's rows: the nodes `0..n`, then the clients. An event is a
//! point the diagram draws on a row: a send (on the sender's row), a delivery (on the
//! receiver's), a timer firing, a crash, a restart and a note. A drop delivers nothing and is
//! no event; client invocations and completions are drawn only through the messages they send
//! and receive, so they are not events either. A restart continues its row's clock: the
//! diagram's row is one line of events, whatever the node forgot.
//!
//! The rules: a local event or a send increments the process's own entry (and its Lamport
//! counter); a send's message carries the clock it was sent with (a duplicated copy the same);
//! a delivery takes the entrywise maximum of the process's clock and the message's, then
//! increments.
//!
//! The trace keeps only a window of recent records, so it keeps with it a [`ClockState`]: the
//! clocks of every process and of every message in flight *at the start of the window*. Each
//! record leaving the window is folded into it (a few additions per record), and a keyframe,
//! which leaves the window out, folds the window in. [`WindowClocks::of`] replays the window
//! over that state: the clocks at any cursor of any run are those of a fresh run to it.
//!
//! Counters are `u32` and saturate: a row would need four billion events to reach the limit,
//! a hundred times the longest run a link may replay.

use super::trace::{Record, RecordKind, Trace};
use std::collections::VecDeque;

/// The clocks of every process and every message in flight at one point of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClockState {
    processes: u32,
    /// Per process, its Lamport counter then its vector: `processes + 1` entries each.
    rows: Vec<u32>,
    /// The messages in flight, by id ascending, from `head` on; the delivered or dropped are
    /// marked dead. Messages mostly arrive in the order they were sent, so the dead at the
    /// front are passed over by moving `head`, and the rest swept out when they outnumber the
    /// living.
    msg_ids: Vec<u64>,
    msg_live: Vec<bool>,
    /// Each message's clock as sent, `processes + 1` entries each, in the order of `msg_ids`.
    msg_clocks: Vec<u32>,
    head: usize,
    /// The dead from `head` on.
    dead: usize,
}

impl ClockState {
    /// Every clock at zero, nothing in flight.
    pub fn new(processes: u32) -> ClockState {
        ClockState {
            processes,
            rows: vec![0; (processes as usize + 1) * processes as usize],
            ..ClockState::default()
        }
    }

    pub fn processes(&self) -> u32 {
        self.processes
    }

    fn stride(&self) -> usize {
        self.processes as usize + 1
    }

    /// A process's Lamport counter and vector as they stand.
    pub fn row(&self, process: u32) -> Option<(u32, &[u32])> {
        let s = self.stride();
        let row = self
            .rows
            .get(process as usize * s..(process as usize + 1) * s)?;
        Some((row[0], &row[1..]))
    }

    /// How many messages in flight it keeps a clock for.
    pub fn in_flight(&self) -> usize {
        self.msg_ids.len() - self.head - self.dead
    }

    /// Folds one record in; the process whose event it was, if it was one.
    pub fn apply(&mut self, kind: &RecordKind) -> Option<u32> {
        match *kind {
            RecordKind::Send { msg, from, .. } => {
                self.tick(from)?;
                self.keep_message(msg, from);
                Some(from)
            }
            RecordKind::Duplicate { msg, copy } => {
                self.copy_message(msg, copy);
                None
            }
            RecordKind::Deliver { msg, to, .. } => {
                self.take_message(msg, Some(to));
                self.tick(to)
            }
            RecordKind::Drop { msg, .. } => {
                self.take_message(msg, None);
                None
            }
            RecordKind::Timer { node, .. }
            | RecordKind::Crash { node }
            | RecordKind::Restart { node }
            | RecordKind::Note { node, .. } => self.tick(node),
            _ => None,
        }
    }

    /// A local event (or a send) on `p`: its own entry and its Lamport counter go up by one.
    fn tick(&mut self, p: u32) -> Option<u32> {
        if p >= self.processes {
            return None;
        }
        let s = self.stride();
        let row = &mut self.rows[p as usize * s..(p as usize + 1) * s];
        row[0] = row[0].saturating_add(1).min(u32::MAX - 1);
        let own = &mut row[1 + p as usize];
        *own = own.saturating_add(1);
        Some(p)
    }

    /// The slot where message `msg` is or would go.
    fn slot(&self, msg: u64) -> Result<usize, usize> {
        let ids = &self.msg_ids[self.head..];
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Err(self.msg_ids.len());
        };
        if *last < msg {
            return Err(self.msg_ids.len());
        }
        // Ids are dense until a sweep: the message is usually where its id says.
        let guess = msg.wrapping_sub(*first);
        if guess < ids.len() as u64 && ids[guess as usize] == msg {
            return Ok(self.head + guess as usize);
        }
        match ids.binary_search(&msg) {
            Ok(i) => Ok(self.head + i),
            Err(i) => Err(self.head + i),
        }
    }

    fn live_slot(&self, msg: u64) -> Option<usize> {
        self.slot(msg).ok().filter(|i| self.msg_live[*i])
    }

    /// The live slot of message `msg`, made if it has none (its clock is then zero).
    fn open_slot(&mut self, msg: u64) -> usize {
        let s = self.stride();
        match self.slot(msg) {
            Ok(i) => {
                if !self.msg_live[i] {
                    self.msg_live[i] = true;
                    self.dead -= 1;
                }
                i
            }
            Err(i) => {
                self.msg_ids.insert(i, msg);
                self.msg_live.insert(i, true);
                let at = i * s;
                self.msg_clocks.splice(at..at, std::iter::repeat_n(0, s));
                i
            }
        }
    }

    /// Message `msg` leaves with `from`'s clock as it stands.
    fn keep_message(&mut self, msg: u64, from: u32) {
        let s = self.stride();
        let row = &self.rows[from as usize * s..(from as usize + 1) * s];
        // Ids grow as messages are sent: the usual case appends.
        if self.msg_ids.last().is_none_or(|last| *last < msg) {
            self.msg_ids.push(msg);
            self.msg_live.push(true);
            self.msg_clocks.extend_from_slice(row);
            return;
        }
        let i = self.open_slot(msg);
        let row = &self.rows[from as usize * s..(from as usize + 1) * s];
        self.msg_clocks[i * s..(i + 1) * s].copy_from_slice(row);
    }

    /// A duplicated copy travels with its original's clock.
    fn copy_message(&mut self, msg: u64, copy: u64) {
        if self.live_slot(msg).is_none() {
            return;
        }
        let dst = self.open_slot(copy);
        if let Some(src) = self.live_slot(msg) {
            let s = self.stride();
            self.msg_clocks.copy_within(src * s..(src + 1) * s, dst * s);
        }
    }

    /// Message `msg` has arrived at `to` (which takes in its clock) or is gone (`to` is
    /// `None`): its slot is freed.
    fn take_message(&mut self, msg: u64, to: Option<u32>) {
        let Some(i) = self.live_slot(msg) else {
            return;
        };
        if let Some(p) = to.filter(|p| *p < self.processes) {
            let s = self.stride();
            let clock = &self.msg_clocks[i * s..(i + 1) * s];
            let row = &mut self.rows[p as usize * s..(p as usize + 1) * s];
            for (r, m) in row.iter_mut().zip(clock) {
                *r = (*r).max(*m);
            }
        }
        self.msg_live[i] = false;
        self.dead += 1;
        while self.head < self.msg_ids.len() && !self.msg_live[self.head] {
            self.head += 1;
            self.dead -= 1;
        }
        let len = self.msg_ids.len();
        if self.dead > 32 && self.dead * 2 > len - self.head {
            self.sweep();
        } else if self.head > 64 && self.head * 2 > len {
            let s = self.stride();
            self.msg_ids.drain(..self.head);
            self.msg_live.drain(..self.head);
            self.msg_clocks.drain(..self.head * s);
            self.head = 0;
        }
    }

    /// Drops the dead messages' slots.
    fn sweep(&mut self) {
        let s = self.stride();
        let mut w = 0;
        for r in self.head..self.msg_ids.len() {
            if self.msg_live[r] {
                self.msg_ids[w] = self.msg_ids[r];
                self.msg_clocks.copy_within(r * s..(r + 1) * s, w * s);
                w += 1;
            }
        }
        self.msg_ids.truncate(w);
        self.msg_live.clear();
        self.msg_live.resize(w, true);
        self.msg_clocks.truncate(w * s);
        self.head = 0;
        self.dead = 0;
    }
}

/// One event of the window: its record, its row and its Lamport timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The record's sequence number.
    pub seq: u64,
    pub at_us: u64,
    /// Its row: a node, or a client (`n + client`).
    pub process: u32,
    pub lamport: u32,
}

/// How two events are ordered by happens-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// The same event.
    Same,
    /// The first happened before the second.
    Before,
    /// The second happened before the first.
    After,
    /// Neither happened before the other.
    Concurrent,
}

/// The clocks of every event in a trace's window, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowClocks {
    processes: u32,
    stamps: Vec<Stamp>,
    /// Each stamp's vector, `processes` entries each.
    vectors: Vec<u32>,
}

impl WindowClocks {
    /// The clocks of `trace`'s window; `None` if the trace keeps no clocks.
    pub fn of(trace: &Trace) -> Option<WindowClocks> {
        Some(WindowClocks::replay(trace.clock_base()?, trace.window()))
    }

    /// The clocks of `records`, run over `base` (the clocks just before the first of them).
    pub fn replay(base: &ClockState, records: &VecDeque<Record>) -> WindowClocks {
        let mut state = base.clone();
        let p = state.processes as usize;
        let mut out = WindowClocks {
            processes: state.processes,
            stamps: Vec::with_capacity(records.len()),
            vectors: Vec::with_capacity(records.len() * p),
        };
        for r in records {
            let Some(process) = state.apply(&r.kind) else {
                continue;
            };
            let Some((lamport, vector)) = state.row(process) else {
                continue;
            };
            out.stamps.push(Stamp {
                seq: r.seq,
                at_us: r.at_us,
                process,
                lamport,
            });
            out.vectors.extend_from_slice(vector);
        }
        out
    }

    pub fn processes(&self) -> u32 {
        self.processes
    }
    /// The events, oldest first.
    pub fn stamps(&self) -> &[Stamp] {
        &self.stamps
    }
    pub fn len(&self) -> usize {
        self.stamps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }

    /// The vector clock of event `i` (an index into [`WindowClocks::stamps`]).
    pub fn vector(&self, i: usize) -> &[u32] {
        let p = self.processes as usize;
        self.vectors.get(i * p..(i + 1) * p).unwrap_or(&[])
    }

    /// The event of record `seq`, if that record is an event of the window.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        self.stamps.binary_search_by_key(&seq, |s| s.seq).ok()
    }

    /// How events `a` and `b` are ordered, from their vector clocks: `a` happened before `b`
    /// when `a`'s clock is at most `b`'s in every entry (and they differ).
    pub fn order(&self, a: usize, b: usize) -> Order {
        if a == b {
            return Order::Same;
        }
        let (va, vb) = (self.vector(a), self.vector(b));
        let le = va.iter().zip(vb).all(|(x, y)| x <= y);
        let ge = va.iter().zip(vb).all(|(x, y)| x >= y);
        match (le, ge) {
            (true, false) => Order::Before,
            (false, true) => Order::After,
            // Two distinct events never share a vector clock; as if they did, neither is first.
            _ => Order::Concurrent,
        }
    }

    /// Every event's order relative to event `selected` ([`Order::Before`]: in its causal
    /// past; [`Order::After`]: in its causal future), in the order of the stamps.
    pub fn relations(&self, selected: usize) -> Vec<Order> {
        (0..self.len()).map(|i| self.order(i, selected)).collect()
    }

    /// The records (sequence numbers) of the events in `order` to event `selected`.
    fn related(&self, selected: usize, order: Order) -> Vec<u64> {
        (0..self.len())
            .filter(|i| self.order(*i, selected) == order)
            .map(|i| self.stamps[i].seq)
            .collect()
    }

    /// The events that happened before event `selected`.
    pub fn causal_past(&self, selected: usize) -> Vec<u64> {
        self.related(selected, Order::Before)
    }
    /// The events that event `selected` happened before.
    pub fn causal_future(&self, selected: usize) -> Vec<u64> {
        self.related(selected, Order::After)
    }
    /// The events concurrent with event `selected`.
    pub fn concurrent_with(&self, selected: usize) -> Vec<u64> {
        self.related(selected, Order::Concurrent)
    }
}

/// Which logical clock labels the diagram's events (the link's `clocks=lamport|vector`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockLabels {
    Lamport,
    Vector,
}

impl ClockLabels {
    pub fn parse(text: &str) -> Result<ClockLabels, String> {
        match text {
            "lamport" => Ok(ClockLabels::Lamport),
            "vector" => Ok(ClockLabels::Vector),
            _ => Err(format!(
                "clocks is lamport or vector, not '{}'",
                text.chars().take(20).collect::<String>()
            )),
        }
    }

    /// As a link writes it.
    pub fn text(self) -> &'static str {
        match self {
            ClockLabels::Lamport => "lamport",
            ClockLabels::Vector => "vector",
        }
    }

    /// Event `i`'s label: its Lamport timestamp (`7`) or its vector clock (`[2,0,1]`).
    pub fn label(self, clocks: &WindowClocks, i: usize) -> String {
        let Some(stamp) = clocks.stamps.get(i) else {
            return String::new();
        };
        match self {
            ClockLabels::Lamport => stamp.lamport.to_string(),
            ClockLabels::Vector => {
                let mut out = String::from("[");
                for (k, v) in clocks.vector(i).iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&v.to_string());
                }
                out.push(']');
                out
            }
        }
    }
}

/// A "which happened first?" question: two events and the answer the vector clocks give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    /// The two events' records (sequence numbers).
    pub a: u64,
    pub b: u64,
    /// `Before`: `a` happened first; `After`: `b` did; `Concurrent`: neither.
    pub answer: Order,
}

/// A step of SplitMix64: the question's own small generator, a pure function of the seed (the
/// run's streams are left alone, so asking never changes the run).
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A question about two events drawn between `from_us` and `to_us` (the part of the diagram
/// in view), chosen by `seed` alone: the same run and seed ask the same question. The answer
/// is drawn first (each as likely), then two events on different rows that have it, so
/// concurrent pairs come up as often as ordered ones; `None` with fewer than two events.
pub fn which_happened_first(
    clocks: &WindowClocks,
    seed: u64,
    from_us: u64,
    to_us: u64,
) -> Option<Question> {
    let shown: Vec<usize> = (0..clocks.len())
        .filter(|i| (from_us..=to_us).contains(&clocks.stamps[*i].at_us))
        .collect();
    if shown.len() < 2 {
        return None;
    }
    let mut state = seed;
    let a = shown[(mix(&mut state) % shown.len() as u64) as usize];
    let wanted = (mix(&mut state) % 3) as usize;
    let answers = [Order::Before, Order::After, Order::Concurrent];
    let row = clocks.stamps[a].process;
    // The wanted answer on another row, else the others in turn, else any other event.
    let pick = (0..3)
        .map(|k| answers[(wanted + k) % 3])
        .map(|want| {
            shown
                .iter()
                .copied()
                .filter(|&b| clocks.stamps[b].process != row && clocks.order(a, b) == want)
                .collect::<Vec<usize>>()
        })
        .find(|c| !c.is_empty())
        .unwrap_or_else(|| shown.iter().copied().filter(|&b| b != a).collect());
    let b = pick[(mix(&mut state) % pick.len() as u64) as usize];
    Some(Question {
        a: clocks.stamps[a].seq,
        b: clocks.stamps[b].seq,
        answer: clocks.order(a, b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What happens on four rows: `(kind, row, other, pick)`, read as a send from `row` to
    /// `other`, the delivery, duplicate or drop of the message in flight that `pick` picks
    /// (anywhere: messages overtake each other), or a local event.
    fn record(
        step: (u8, u32, u32, usize),
        sent: &mut Vec<(u64, u32)>,
        next_msg: &mut u64,
    ) -> RecordKind {
        let (kind, row, other, pick) = step;
        // Half the picks take one of the newest (whose clocks the receiver has not yet seen),
        // half any message at all.
        let len = sent.len();
        let at = match pick {
            0..500 => len.saturating_sub(1 + pick % 3),
            _ => pick % len.max(1),
        };
        let earlier = (!sent.is_empty()).then(|| sent.remove(at));
        match (kind, earlier) {
            (0..=2, _) | (_, None) => {
                let msg = *next_msg;
                *next_msg += 1;
                sent.push((msg, other));
                RecordKind::Send {
                    msg,
                    from: row,
                    to: other,
                    kind: "m",
                    arrive_us: 0,
                    lost: false,
                }
            }
            (3..=4, Some((msg, to))) => RecordKind::Deliver { msg, from: row, to },
            (5, Some((msg, to))) => {
                let copy = *next_msg;
                *next_msg += 1;
                sent.extend([(msg, to), (copy, to)]);
                RecordKind::Duplicate { msg, copy }
            }
            (6, Some((msg, to))) => RecordKind::Drop {
                msg,
                from: row,
                to,
                reason: super::super::trace::DropReason::Loss,
            },
            (_, Some(e)) => {
                sent.push(e);
                RecordKind::Timer {
                    node: row,
                    name: "t",
                }
            }
        }
    }

    /// The clocks of every event the obvious way: a map from message to clock, vectors
    /// copied whole. `(seq, row, lamport, vector)` per event.
    fn naive(records: &[RecordKind], rows: usize) -> Vec<(u64, u32, u32, Vec<u32>)> {
        let mut clock = vec![(0u32, vec![0u32; rows]); rows];
        let mut msgs: std::collections::HashMap<u64, (u32, Vec<u32>)> = Default::default();
        let mut out = Vec::new();
        for (seq, kind) in records.iter().enumerate() {
            let (p, got) = match kind {
                RecordKind::Send { from, .. } => (*from, None),
                RecordKind::Deliver { msg, to, .. } => (*to, msgs.remove(msg)),
                RecordKind::Drop { msg, .. } => {
                    msgs.remove(msg);
                    continue;
                }
                RecordKind::Duplicate { msg, copy } => {
                    if let Some(c) = msgs.get(msg).cloned() {
                        msgs.insert(*copy, c);
                    }
                    continue;
                }
                RecordKind::Timer { node, .. } => (*node, None),
                _ => continue,
            };
            let Some(c) = clock.get_mut(p as usize) else {
                continue;
            };
            if let Some((l, v)) = got {
                c.0 = c.0.max(l);
                for (a, b) in c.1.iter_mut().zip(v) {
                    *a = (*a).max(b);
                }
            }
            c.0 += 1;
            c.1[p as usize] += 1;
            if let RecordKind::Send { msg, .. } = kind {
                msgs.insert(*msg, c.clone());
            }
            out.push((seq as u64, p, c.0, c.1.clone()));
        }
        out
    }

    proptest! {
        // A window of eight records, with keyframes taken along the way and resumed from,
        // gives every event of its window the clocks that the rules give it over every record
        // from the start: the clocks carried at the window's start are those of what left it.
        #[test]
        fn clocks_carried_past_a_small_window_equal_a_full_replay(
            steps in prop::collection::vec((0u8..9, 0u32..5, 0u32..5, 0usize..1_000), 1..2_000),
            keyframe_every in 3usize..500,
        ) {
            let mut small = Trace::new(8);
            small.keep_clocks(4);
            let (mut sent, mut next_msg, mut all) = (Vec::new(), 0, Vec::new());
            for (i, step) in steps.into_iter().enumerate() {
                let kind = record(step, &mut sent, &mut next_msg);
                small.push(i as u64, kind.clone());
                all.push(kind);
                if i % keyframe_every == 0 {
                    // A keyframe, then its window refilled by the records after it.
                    small = small.without_window();
                }
            }
            let (s, f) = (WindowClocks::of(&small).unwrap(), naive(&all, 4));
            let tail = f.len() - s.len();
            for (i, (seq, row, lamport, vector)) in f[tail..].iter().enumerate() {
                let st = s.stamps()[i];
                prop_assert_eq!((st.seq, st.process, st.lamport), (*seq, *row, *lamport));
                prop_assert_eq!(s.vector(i), &vector[..]);
            }
        }
    }

    // Dropping most of a run of messages sweeps their slots out, moving the living: each still
    // carries its own clock (a fresh row receiving the last one learns of all 100 sends).
    #[test]
    fn messages_swept_together_keep_their_own_clocks() {
        let mut c = ClockState::new(3);
        for msg in 0..100 {
            let send = RecordKind::Send {
                msg,
                from: 0,
                to: 2,
                kind: "m",
                arrive_us: 0,
                lost: false,
            };
            assert_eq!(c.apply(&send), Some(0));
        }
        for msg in 1..=60 {
            let reason = super::super::trace::DropReason::Loss;
            c.apply(&RecordKind::Drop {
                msg,
                from: 0,
                to: 2,
                reason,
            });
        }
        assert_eq!(c.in_flight(), 40);
        assert!(c.msg_ids.len() < 100, "the dropped were swept out");
        let deliver = RecordKind::Deliver {
            msg: 99,
            from: 0,
            to: 2,
        };
        assert_eq!(c.apply(&deliver), Some(2));
        assert_eq!(c.row(2), Some((101, &[100, 0, 1][..])));
    }

    #[test]
    fn a_trace_with_records_keeps_no_clocks_and_odd_rows_are_no_events() {
        let mut t = Trace::new(4);
        t.push(0, RecordKind::Crash { node: 0 });
        t.keep_clocks(3);
        assert!(WindowClocks::of(&t).is_none());
        let mut c = ClockState::new(2);
        assert_eq!(c.apply(&RecordKind::Crash { node: 9 }), None);
        let deliver = RecordKind::Deliver {
            msg: 7,
            from: 0,
            to: 5,
        };
        assert_eq!(c.apply(&deliver), None);
        assert_eq!(c.row(1), Some((0, &[0, 0][..])));
        assert_eq!(c.row(2), None);
    }
}
