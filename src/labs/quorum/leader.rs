//! Leader-follower replication (`mode=leader`): one leader orders every write in its log and
//! ships the log to the followers, which apply it in order.
//!
//! - **Writes** go to the leader (a follower forwards its client's write there). The leader
//!   appends the write to its log, applies it and answers once enough followers have it:
//!   none (`sync=async`), one (`semisync`) or every follower (`sync`).
//! - **Reads** go to the leader too, unless `reads=follower`: then every node answers from its
//!   own copy, and a follower that lags behind answers with what it has.
//! - **Shipping**: the leader sends each new entry at once and, every heartbeat, whatever a
//!   follower has not acknowledged. A follower takes entries only in log order (the entry
//!   before them must be the one it holds) and acknowledges how far its log matches.
//! - **Failover**: a follower that hears nothing from its leader for the failover time takes
//!   over, in a new epoch (followers further from the old leader wait longer, so one goes
//!   first); `do:promote@k` does the same by hand. Entries the new leader never received are
//!   gone: a follower holding them drops them when the new leader's log disagrees, and a
//!   write acknowledged before it reached the new leader is lost. A node that hears of a newer
//!   epoch steps down.

use super::protocol::{
    Msg, NodeState, Op, Pending, Phase, Quorum, Reply, Sib, Stamp, Timer, Versioned,
};
use crate::sim::chunked::Chunked;
use crate::sim::process::{ClientRequest, Ctx, Out};
use crate::sim::time::Duration;

/// How many followers must have a write before the leader acknowledges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    Async,
    SemiSync,
    Sync,
}

/// One write in the leader's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogEntry {
    pub epoch: u32,
    pub key: u32,
    pub value: u64,
    pub stamp: Stamp,
    /// When the leader appended it (true time: for the lag the page shows).
    pub at_us: u64,
}

impl LogEntry {
    pub fn item(&self) -> Versioned {
        Versioned {
            value: self.value,
            stamp: self.stamp,
            vv: Default::default(),
        }
    }
}

/// Whom a write's acknowledgement goes to: a client of the leader's, or the follower that
/// forwarded it (and the number it gave the operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Client(ClientRequest<Op>),
    Node { to: u32, op: u64 },
}

/// A write the leader has logged, waiting for followers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub id: u64,
    /// Its position in the log (0-based).
    pub index: u64,
    pub answer: Answer,
}

/// A node's part in leader-follower replication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replication {
    /// The newest epoch this node has heard of; each failover starts a new one.
    pub epoch: u32,
    /// The leader of that epoch, as far as this node knows.
    pub leader: Option<u32>,
    pub log: Chunked<LogEntry>,
    /// Leader only: per node, how much of its log matches (acknowledged) and where the next
    /// entries to send it start.
    pub matched: Vec<u64>,
    pub next: Vec<u64>,
    pub waits: Vec<Wait>,
    /// When this node last took over as leader (true time).
    pub promoted_at_us: Option<u64>,
    /// Leader only: its log's length when it took over; entries of older epochs lie before it.
    pub epoch_start: u64,
}

impl Replication {
    pub fn is_leader(&self, id: u32) -> bool {
        self.leader == Some(id)
    }
    pub fn log_len(&self) -> u64 {
        self.log.len() as u64
    }
    fn epoch_at(&self, len: u64) -> u32 {
        len.checked_sub(1)
            .and_then(|i| self.log.get(i as usize))
            .map_or(0, |e| e.epoch)
    }
    /// Whether the log holds this write (the same stamp for the same key).
    pub fn holds(&self, key: u32, stamp: Stamp) -> bool {
        self.log
            .iter()
            .rev()
            .any(|e| e.key == key && e.stamp == stamp)
    }
}

/// The most entries one append carries.
const BATCH: u64 = 64;

impl Quorum {
    pub(crate) fn lf_start(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        let r = &mut st.repl;
        if r.epoch == 0 {
            r.epoch = 1;
            r.leader = Some(0);
        }
        if r.is_leader(ctx.id) {
            r.matched = vec![0; self.nodes as usize];
            r.next = vec![r.log_len(); self.nodes as usize];
            self.heartbeat(st, ctx, out);
        } else {
            self.arm_failover(st, ctx, out);
        }
    }

    pub(crate) fn followers_needed(&self) -> usize {
        let followers = self.nodes.saturating_sub(1) as usize;
        match self.sync {
            Sync::Async => 0,
            Sync::SemiSync => followers.min(1),
            Sync::Sync => followers,
        }
    }

    /// A client's operation at this node.
    pub(crate) fn lf_client(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        let leads = st.repl.is_leader(ctx.id);
        match req.op {
            Op::Get { key } if leads || self.follower_reads => {
                let got = Sib::of(&st.held(false, key));
                out.reply(&req, Reply::Value { got });
            }
            Op::Put { key, value } if leads => {
                self.append(st, ctx, (key, value), Answer::Client(req), out)
            }
            _ => self.forward(st, req, out),
        }
    }

    /// A follower hands its client's operation to the leader and waits for the answer.
    fn forward(&self, st: &mut NodeState, req: ClientRequest<Op>, out: &mut Out<Self>) {
        let id = st.next_op;
        st.next_op += 1;
        let leader = st.repl.leader;
        if let Some(l) = leader {
            out.send(
                l,
                Msg::Forward {
                    op: id,
                    what: req.op,
                },
            );
        }
        let p = Pending {
            req,
            phase: Phase::Forwarding,
            items: Vec::new(),
            asked: leader.map(|l| (l, None)).into_iter().collect(),
            heard: Vec::new(),
            replies: Vec::new(),
            done: false,
        };
        st.pending.insert(id, p);
        let t = Duration(self.timeout_us);
        out.set_timer(Timer::GiveUp(id), t, t);
    }

    /// The leader carries out a forwarded operation (a node that no longer leads drops it:
    /// the follower gives up in time).
    pub(crate) fn on_forward(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: u32,
        (op, what): (u64, Op),
        out: &mut Out<Self>,
    ) {
        if !st.repl.is_leader(ctx.id) {
            return;
        }
        match what {
            Op::Get { key } => {
                let got = Sib::of(&st.held(false, key));
                let reply = Box::new(Reply::Value { got });
                out.send(from, Msg::ForwardReply { op, reply });
            }
            Op::Put { key, value } => {
                self.append(st, ctx, (key, value), Answer::Node { to: from, op }, out)
            }
        }
    }

    pub(crate) fn on_forward_reply(
        &self,
        st: &mut NodeState,
        (op, reply): (u64, Reply),
        out: &mut Out<Self>,
    ) {
        if let Some(p) = st.pending.remove(&op) {
            out.reply(&p.req, reply);
            out.cancel_timer(Timer::GiveUp(op));
        }
    }

    /// The leader logs a write, applies it, ships it and answers when enough followers have it.
    fn append(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        (key, value): (u32, u64),
        answer: Answer,
        out: &mut Out<Self>,
    ) {
        let item = self.version(st, ctx, value, Default::default());
        let entry = LogEntry {
            epoch: st.repl.epoch,
            key,
            value,
            stamp: item.stamp,
            at_us: ctx.now.0,
        };
        let index = st.repl.log_len();
        st.repl.log.push(entry);
        st.store.insert(key, vec![item]);
        for f in ctx.peers() {
            if st.repl.next[f as usize] == index {
                self.ship(st, f, out);
            }
        }
        let id = st.next_op;
        st.next_op += 1;
        st.repl.waits.push(Wait { id, index, answer });
        let t = Duration(self.timeout_us);
        out.set_timer(Timer::GiveUp(id), t, t);
        self.answer_ready(st, out);
    }

    /// Sends follower `f` the entries from where it is believed to be (at most a batch), and
    /// assumes it will take them.
    fn ship(&self, st: &mut NodeState, f: u32, out: &mut Out<Self>) {
        let r = &mut st.repl;
        let prev = r.next[f as usize].min(r.log_len());
        let end = (prev + BATCH).min(r.log_len());
        let entries: Vec<LogEntry> = (prev..end)
            .filter_map(|i| r.log.get(i as usize).copied())
            .collect();
        r.next[f as usize] = end;
        let msg = Msg::Append {
            epoch: r.epoch,
            since: r.epoch_start,
            prev,
            prev_epoch: r.epoch_at(prev),
            entries,
        };
        out.send(f, msg);
    }

    /// Every heartbeat the leader ships each follower what it has not acknowledged.
    pub(crate) fn heartbeat(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        if !st.repl.is_leader(ctx.id) {
            return;
        }
        for f in ctx.peers() {
            let r = &mut st.repl;
            r.next[f as usize] = r.matched[f as usize];
            self.ship(st, f, out);
        }
        let h = Duration(self.heartbeat_us);
        out.set_timer(Timer::Heartbeat, h, h);
    }

    /// Acknowledges the writes enough followers hold, oldest first.
    fn answer_ready(&self, st: &mut NodeState, out: &mut Out<Self>) {
        let need = self.followers_needed();
        let r = &mut st.repl;
        let (ready, waiting): (Vec<Wait>, Vec<Wait>) = std::mem::take(&mut r.waits)
            .into_iter()
            .partition(|w| r.matched.iter().filter(|&&m| m > w.index).count() >= need);
        r.waits = waiting;
        for w in ready {
            let Some(e) = r.log.get(w.index as usize) else {
                continue;
            };
            let reply = Reply::Written { item: e.item() };
            out.cancel_timer(Timer::GiveUp(w.id));
            send_answer(w.answer, reply, out);
        }
    }

    /// A follower takes the leader's entries if its log holds the one before them.
    pub(crate) fn on_append(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: u32,
        m: (u32, u64, u64, u32, Vec<LogEntry>),
        out: &mut Out<Self>,
    ) {
        let (epoch, since, prev, prev_epoch, entries) = m;
        let r = &mut st.repl;
        if epoch < r.epoch {
            let (epoch, len) = (r.epoch, r.log_len());
            out.send(
                from,
                Msg::AppendAck {
                    epoch,
                    ok: false,
                    len,
                },
            );
            return;
        }
        if epoch > r.epoch || r.leader != Some(from) {
            self.follow(st, ctx, epoch, Some(from), out);
        }
        self.arm_failover(st, ctx, out);
        let r = &mut st.repl;
        if prev > r.log_len() || r.epoch_at(prev) != prev_epoch {
            let len = r.log_len().min(prev.saturating_sub(1));
            out.send(
                from,
                Msg::AppendAck {
                    epoch,
                    ok: false,
                    len,
                },
            );
            return;
        }
        let len = prev + entries.len() as u64;
        self.take_entries(st, prev, entries);
        self.drop_stale(st, epoch, since);
        out.send(
            from,
            Msg::AppendAck {
                epoch,
                ok: true,
                len,
            },
        );
    }

    /// Drops entries of older epochs from position `since` on: the leader of `epoch` holds only
    /// its own entries there, so these never reached it (a failover left them behind).
    fn drop_stale(&self, st: &mut NodeState, epoch: u32, since: u64) {
        let r = &mut st.repl;
        let stale =
            (since..r.log_len()).find(|&i| r.log.get(i as usize).is_some_and(|e| e.epoch < epoch));
        if let Some(at) = stale {
            r.log.truncate(at as usize);
            self.rebuild_store(st);
        }
    }

    /// A node's copy of the keys, from its log (after entries were dropped).
    fn rebuild_store(&self, st: &mut NodeState) {
        st.store.clear();
        for e in st.repl.log.iter() {
            st.store.insert(e.key, vec![e.item()]);
        }
    }

    /// Appends `entries` after position `prev`; an entry that disagrees with what the log
    /// holds there (another epoch's) drops the rest of the log first.
    fn take_entries(&self, st: &mut NodeState, prev: u64, entries: Vec<LogEntry>) {
        let r = &mut st.repl;
        let mut dropped = false;
        for (i, e) in (prev..).zip(entries) {
            match r.log.get(i as usize) {
                Some(have) if have.epoch == e.epoch => continue,
                Some(_) => {
                    r.log.truncate(i as usize);
                    dropped = true;
                }
                None => {}
            }
            r.log.push(e);
            st.last_ts_us = st.last_ts_us.max(e.stamp.ts_us);
            if !dropped {
                st.store.insert(e.key, vec![e.item()]);
            }
        }
        if dropped {
            self.rebuild_store(st);
        }
    }

    pub(crate) fn on_append_ack(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: u32,
        (epoch, ok, len): (u32, bool, u64),
        out: &mut Out<Self>,
    ) {
        if epoch > st.repl.epoch {
            self.follow(st, ctx, epoch, None, out);
            return;
        }
        let r = &mut st.repl;
        if epoch < r.epoch || !r.is_leader(ctx.id) {
            return;
        }
        let f = from as usize;
        if ok {
            r.matched[f] = r.matched[f].max(len);
            r.next[f] = r.next[f].max(len);
            self.answer_ready(st, out);
        } else {
            // Below what it has acknowledged the follower's log matches ours: resume there at
            // the least (a refusal that arrives late names an older position).
            r.next[f] = len.max(r.matched[f]);
        }
    }

    /// This node follows `leader` (unknown: `None`) in `epoch`; a leader steps down.
    fn follow(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        epoch: u32,
        leader: Option<u32>,
        out: &mut Out<Self>,
    ) {
        let r = &mut st.repl;
        if r.is_leader(ctx.id) {
            out.note(format!("S{} steps down: epoch {epoch} has begun", ctx.id));
            out.cancel_timer(Timer::Heartbeat);
        }
        r.epoch = epoch;
        r.leader = leader;
        r.waits.clear();
    }

    fn arm_failover(&self, st: &NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        if self.failover_us == 0 || st.repl.is_leader(ctx.id) {
            return;
        }
        // Nodes further from the old leader wait longer, so that one takes over first.
        let old = st.repl.leader.unwrap_or(0);
        let rank = (ctx.id + self.nodes - old - 1) % self.nodes.max(1);
        let d = Duration(self.failover_us.saturating_mul(rank as u64 + 1));
        out.set_timer(Timer::Failover, d, d);
    }

    /// This node takes over as leader in a new epoch.
    pub(crate) fn promote(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        if st.repl.is_leader(ctx.id) {
            return;
        }
        let r = &mut st.repl;
        r.epoch += 1;
        r.leader = Some(ctx.id);
        r.promoted_at_us = Some(ctx.now.0);
        r.epoch_start = r.log_len();
        r.matched = vec![0; self.nodes as usize];
        r.next = vec![r.log_len(); self.nodes as usize];
        r.waits.clear();
        out.note(format!(
            "S{} takes over as leader (epoch {}) with {} log entries",
            ctx.id,
            r.epoch,
            r.log_len()
        ));
        out.cancel_timer(Timer::Failover);
        self.heartbeat(st, ctx, out);
    }

    /// A leader that gives up on a write it could not get to enough followers.
    pub(crate) fn give_up_wait(&self, st: &mut NodeState, id: u64, out: &mut Out<Self>) {
        let r = &mut st.repl;
        let Some(at) = r.waits.iter().position(|w| w.id == id) else {
            return;
        };
        let w = r.waits.remove(at);
        let heard = r.matched.iter().filter(|&&m| m > w.index).count() as u32;
        let reply = Reply::TimedOut {
            write: true,
            heard,
            needed: self.followers_needed() as u32,
        };
        send_answer(w.answer, reply, out);
    }

    /// What survives a crash: the log, the epoch and whom the node followed (a leader that
    /// comes back leads again until it hears of a newer epoch).
    pub(crate) fn lf_recover(&self, crashed: &Replication) -> Replication {
        Replication {
            epoch: crashed.epoch,
            leader: crashed.leader,
            log: crashed.log.clone(),
            epoch_start: crashed.epoch_start,
            ..Replication::default()
        }
    }
}

fn send_answer(answer: Answer, reply: Reply, out: &mut Out<Quorum>) {
    match answer {
        Answer::Client(req) => out.reply(&req, reply),
        Answer::Node { to, op } => {
            let reply = Box::new(reply);
            out.send(to, Msg::ForwardReply { op, reply });
        }
    }
}
