//! A leaderless replicated store in the manner of Dynamo (DeCandia et al., SOSP 2007).
//!
//! Every key has a preference list: the nodes met walking clockwise from the key's hash on a
//! consistent-hash ring; the first N (`rf`) hold its replicas. Any node coordinates a client's
//! operation:
//!
//! - **put**: the coordinator stamps the value with its clock reading and its id (the
//!   last-write-wins order), sends it to the N replicas and answers once W have acknowledged.
//! - **get**: the coordinator asks the N replicas and answers with the newest of the first R
//!   replies. With *read repair* it sends that newest version to the replicas that answered with
//!   an older one, late replies included. With *write-back* (the second phase of Attiya, Bar-Noy
//!   and Dolev's register) it first writes the newest version to W replicas and answers only
//!   once they have acknowledged, which makes quorum reads linearizable when R + W > N.
//! - **sloppy quorum**: a replica silent for the hint delay is replaced by the next node of the
//!   preference list, which keeps the write as a *hint* for the replica it stands in for, counts
//!   towards W (and R), and hands the hint back once it can reach that replica.
//! - **anti-entropy**: every node periodically sends a peer the versions it holds of the keys
//!   they share; each sends the other what it has newer. (Dynamo compares Merkle trees; this
//!   sends the flat list, which reaches the same state with more bytes.)
//!
//! With *version vectors* (`versions=vv`) a version also carries a counter per coordinator. A
//! put first reads R replicas for its context and writes a vector that dominates everything it
//! read; a replica keeps every version no other one dominates, so concurrent writes survive
//! side by side as *siblings*, and a read returns all of them for the client to resolve
//! (DeCandia et al., section 4.4). Clock skew then loses nothing.
//!
//! A coordinator that does not hear from enough replicas within the operation timeout gives up:
//! a read fails, and a write's outcome is unknown (some replicas may hold it). Each node's clock
//! may be skewed, so a later write can carry an earlier stamp and be discarded: last-write-wins
//! then loses an acknowledged write. Stores and hints are durable; pending operations are not.

pub use super::leader::{LogEntry, Replication, Sync};
use super::ring_order;
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallMap;
use crate::sim::time::Duration;
use std::sync::Arc;

/// A version in last-write-wins order: the coordinator's clock reading, then its id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub ts_us: u64,
    pub node: u32,
}

/// The most nodes a version vector counts.
pub const VV_NODES: usize = 16;

/// A version vector: how many versions each node has coordinated that this one follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Vv(pub [u32; VV_NODES]);

impl Vv {
    /// Every entry at least `other`'s.
    pub fn covers(&self, other: &Vv) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a >= b)
    }
    pub fn join(&self, other: &Vv) -> Vv {
        let mut v = *self;
        for (a, b) in v.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
        v
    }
    /// `[S0:2 S1:1]`, the entries that are not zero.
    pub fn text(&self) -> String {
        let parts: Vec<String> = (0..VV_NODES)
            .filter(|&i| self.0[i] > 0)
            .map(|i| format!("S{i}:{}", self.0[i]))
            .collect();
        format!("[{}]", parts.join(" "))
    }
}

/// A value with its version: its stamp and, with version vectors, its vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Versioned {
    pub value: u64,
    pub stamp: Stamp,
    pub vv: Vv,
}

/// Whether `a` supersedes `b`: a later stamp, or with version vectors a vector that covers
/// `b`'s and differs from it.
pub fn newer(vectors: bool, a: &Versioned, b: &Versioned) -> bool {
    if vectors {
        a.vv != b.vv && a.vv.covers(&b.vv)
    } else {
        a.stamp > b.stamp
    }
}

/// Adds `item` to the versions `held` unless one of them supersedes it or is it; drops those
/// it supersedes. True when `held` changed. Under last-write-wins `held` keeps one version.
pub fn merge(vectors: bool, held: &mut Vec<Versioned>, item: Versioned) -> bool {
    if held.iter().any(|h| *h == item || newer(vectors, h, &item)) {
        return false;
    }
    held.retain(|h| !newer(vectors, &item, h));
    held.push(item);
    crate::sim::order::sort_by(held, |a, b| a.stamp.cmp(&b.stamp));
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Get { key: u32 },
    Put { key: u32, value: u64 },
}

impl Op {
    pub fn key(&self) -> u32 {
        match self {
            Op::Get { key } | Op::Put { key, .. } => *key,
        }
    }
    pub fn text(&self) -> String {
        match self {
            Op::Get { key } => format!("get k{key}"),
            Op::Put { key, value } => format!("put k{key} {value}"),
        }
    }
}

// A reply is a plain value the engine keeps in the client history; its siblings are inline
// (at most four) rather than boxed so that the history needs no allocation per read.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// A read's answer: the newest versions among the replies (empty: never written; more
    /// than one: siblings, with version vectors).
    Value { got: Sib },
    /// A write took effect at W replicas with this version.
    Written { item: Versioned },
    /// The coordinator heard from `heard` replicas of the `needed` within its timeout.
    TimedOut {
        write: bool,
        heard: u32,
        needed: u32,
    },
}

impl Reply {
    pub fn text(&self) -> String {
        match self {
            Reply::Value { got } => format!("= {}", got.text()),
            Reply::Written { item } => format!("wrote {} {}", item.value, stamp_text(item.stamp)),
            Reply::TimedOut { heard, needed, .. } => format!("gave up: {heard} of {needed}"),
        }
    }
}

/// The most siblings a read returns (the oldest are dropped beyond).
pub const MAX_SIBLINGS: usize = 4;

/// The versions a read returns, kept inline so a reply stays a plain value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sib {
    pub items: [Option<Versioned>; MAX_SIBLINGS],
}

impl Sib {
    pub fn of(v: &[Versioned]) -> Sib {
        let keep = &v[v.len().saturating_sub(MAX_SIBLINGS)..];
        let mut s = Sib::default();
        for (slot, item) in s.items.iter_mut().zip(keep) {
            *slot = Some(*item);
        }
        s
    }
    pub fn iter(&self) -> impl Iterator<Item = &Versioned> {
        self.items.iter().flatten()
    }
    pub fn is_empty(&self) -> bool {
        self.items[0].is_none()
    }
    /// The values, `7 | 8` for siblings, `nothing` for none.
    pub fn text(&self) -> String {
        let v: Vec<String> = self.iter().map(|i| i.value.to_string()).collect();
        if v.is_empty() {
            "nothing".into()
        } else {
            v.join(" | ")
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Store this version (for `hint`, if set: a stand-in keeps it for that replica).
    Write {
        op: u64,
        key: u32,
        item: Versioned,
        hint: Option<u32>,
    },
    WriteAck {
        op: u64,
    },
    Read {
        op: u64,
        key: u32,
    },
    ReadReply {
        op: u64,
        got: Vec<Versioned>,
    },
    /// Read repair and anti-entropy: store this version if it is newer.
    Repair {
        key: u32,
        item: Versioned,
    },
    /// A stand-in hands a hinted write to the replica it was meant for.
    Handoff {
        key: u32,
        item: Versioned,
    },
    HandoffAck {
        key: u32,
        stamp: Stamp,
    },
    /// Anti-entropy: the versions the sender holds of the keys both replicate; the receiver
    /// keeps what is new to it and sends back, as repairs, what is new to the sender.
    Digest {
        entries: Vec<(u32, Vec<Versioned>)>,
    },
    /// Leader-follower: the leader's log entries after position `prev`, whose entry before
    /// them has epoch `prev_epoch` (0: the log's start).
    Append {
        epoch: u32,
        /// Where the leader's own epoch starts in its log.
        since: u64,
        prev: u64,
        prev_epoch: u32,
        entries: Vec<LogEntry>,
    },
    /// The follower's log matches the leader's up to `len` (`ok`), or does not at the
    /// position sent, and holds at most `len` entries that might.
    AppendAck {
        epoch: u32,
        ok: bool,
        len: u64,
    },
    /// A follower hands its client's operation to the leader.
    Forward {
        op: u64,
        what: Op,
    },
    ForwardReply {
        op: u64,
        reply: Box<Reply>,
    },
}

impl MessageInfo for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Write { .. } => "write",
            Msg::WriteAck { .. } => "ack",
            Msg::Read { .. } => "read",
            Msg::ReadReply { .. } => "read reply",
            Msg::Repair { .. } => "repair",
            Msg::Handoff { .. } => "handoff",
            Msg::HandoffAck { .. } => "handoff ack",
            Msg::Digest { .. } => "anti-entropy",
            Msg::Append { .. } => "append",
            Msg::AppendAck { .. } => "append ack",
            Msg::Forward { .. } => "forward",
            Msg::ForwardReply { .. } => "forward reply",
        }
    }
    fn summary(&self) -> String {
        let v = |i: &Versioned| format!("{} {}", i.value, stamp_text(i.stamp));
        match self {
            Msg::Write {
                op,
                key,
                item,
                hint,
            } => match hint {
                Some(h) => format!("#{op} write k{key} = {} (hint for S{h})", v(item)),
                None => format!("#{op} write k{key} = {}", v(item)),
            },
            Msg::WriteAck { op } => format!("#{op} ack"),
            Msg::Read { op, key } => format!("#{op} read k{key}"),
            Msg::ReadReply { op, got } if got.is_empty() => format!("#{op} has nothing"),
            Msg::ReadReply { op, got } => {
                let all: Vec<String> = got.iter().map(v).collect();
                format!("#{op} has {}", all.join(" | "))
            }
            Msg::Repair { key, item } => format!("repair k{key} = {}", v(item)),
            Msg::Handoff { key, item } => format!("handoff k{key} = {}", v(item)),
            Msg::HandoffAck { key, stamp } => format!("took k{key} {}", stamp_text(*stamp)),
            Msg::Digest { entries } => format!("digest of {} keys", entries.len()),
            Msg::Append {
                epoch,
                prev,
                entries,
                ..
            } => append_text(*epoch, *prev, entries),
            Msg::AppendAck { epoch, ok, len } => match ok {
                true => format!("epoch {epoch}: have {len} entries"),
                false => format!("epoch {epoch}: refused, have at most {len}"),
            },
            Msg::Forward { op, what } => format!("#{op} {}", what.text()),
            Msg::ForwardReply { op, reply } => format!("#{op} {}", reply.text()),
        }
    }
}

fn append_text(epoch: u32, prev: u64, entries: &[LogEntry]) -> String {
    match entries {
        [] => format!("epoch {epoch}: heartbeat at {prev}"),
        [e] => format!("epoch {epoch}: #{} k{} = {}", prev + 1, e.key, e.value),
        _ => format!(
            "epoch {epoch}: #{} to #{}",
            prev + 1,
            prev + entries.len() as u64
        ),
    }
}

/// `@1.234·S2`: a stamp's clock reading (seconds) and node.
pub fn stamp_text(s: Stamp) -> String {
    format!(
        "@{}·S{}",
        crate::sim::time::fixed(s.ts_us as f64 / 1e6, 3),
        s.node
    )
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The coordinator gives up on an operation.
    GiveUp(u64),
    /// Sloppy quorum: replace the replicas still silent with the next nodes of the list.
    Fallback(u64),
    /// Try to hand hints back.
    Handoff,
    AntiEntropy,
    /// Leader-follower: the leader ships what followers lack.
    Heartbeat,
    /// Leader-follower: a follower has heard nothing from its leader for too long.
    Failover,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Writing,
    Reading,
    /// The read's second phase: the newest version written to W replicas.
    WritingBack,
    /// With version vectors, a put's first phase: reading its context.
    ReadingContext,
    /// Leader-follower: a follower waits for the leader to carry out its client's operation.
    Forwarding,
}

/// An operation a coordinator is carrying out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub req: ClientRequest<Op>,
    pub phase: Phase,
    /// What is written, or the newest versions read so far.
    pub items: Vec<Versioned>,
    /// The nodes asked in this phase, and for whom each stands in (sloppy quorum).
    pub asked: Vec<(u32, Option<u32>)>,
    /// The nodes that answered in this phase.
    pub heard: Vec<u32>,
    /// Read replies, for read repair.
    pub replies: Vec<(u32, Vec<Versioned>)>,
    /// The client has its answer; kept for late read replies (read repair).
    pub done: bool,
}

/// A write a stand-in keeps for a replica it could not reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    pub for_node: u32,
    pub key: u32,
    pub item: Versioned,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeState {
    /// Each key's versions (one under last-write-wins; siblings with version vectors).
    pub store: SmallMap<u32, Vec<Versioned>>,
    pub hints: Vec<Hint>,
    pub pending: SmallMap<u64, Pending>,
    pub next_op: u64,
    /// The last stamp time this node issued (stamps never repeat).
    pub last_ts_us: u64,
    /// Whom anti-entropy talks to next (an index into the peers).
    pub ae_turn: u32,
    /// Versions this node has coordinated (its entry of the version vectors).
    pub counter: u32,
    /// Whether the handoff timer is armed (it is while the node holds hints).
    pub handoff_armed: bool,
    /// Leader-follower mode.
    pub repl: Replication,
}

impl NodeState {
    /// What this node would answer a read of `key` with: its replica's versions and its hints'.
    pub fn held(&self, vectors: bool, key: u32) -> Vec<Versioned> {
        let mut all = self.store.get(&key).cloned().unwrap_or_default();
        for h in self.hints.iter().filter(|h| h.key == key) {
            merge(vectors, &mut all, h.item);
        }
        all
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quorum {
    pub nodes: u32,
    /// N: replicas per key.
    pub rf: u32,
    pub r: u32,
    pub w: u32,
    pub keys: u32,
    /// Each key's preference list: every node, in ring order from the key.
    pub prefs: Arc<Vec<Vec<u32>>>,
    /// Version vectors and siblings in place of last-write-wins.
    pub vectors: bool,
    pub read_repair: bool,
    pub write_back: bool,
    pub sloppy: bool,
    pub hint_after_us: u64,
    pub timeout_us: u64,
    /// 0: no anti-entropy.
    pub anti_entropy_us: u64,
    /// How often a stand-in holding hints tries to hand them back (0: never).
    pub handoff_every_us: u64,
    /// Each node's clock offset (missing: 0).
    pub skew_us: Vec<i64>,
    pub clients: u32,
    /// The share of workload operations that are writes.
    pub writes_ppm: u32,
    /// One leader and its followers in place of quorums.
    pub leader_mode: bool,
    pub sync: Sync,
    /// Leader-follower: followers answer reads from their own copy.
    pub follower_reads: bool,
    /// Leader-follower: how long a follower waits to hear from its leader before it takes
    /// over (0: only by hand).
    pub failover_us: u64,
    pub heartbeat_us: u64,
    /// The `count-acks-twice` teaching variant: a duplicated acknowledgement counts again.
    pub counts_duplicate_acks: bool,
}

impl Quorum {
    /// A store of `nodes` nodes and `keys` keys with N, R and W, every mechanism off.
    pub fn new(nodes: u32, keys: u32, (rf, r, w): (u32, u32, u32)) -> Quorum {
        Quorum {
            nodes,
            rf,
            r,
            w,
            keys,
            prefs: Arc::new((0..keys).map(|k| ring_order(k, nodes)).collect()),
            vectors: false,
            read_repair: false,
            write_back: false,
            sloppy: false,
            hint_after_us: 100_000,
            timeout_us: 500_000,
            anti_entropy_us: 0,
            handoff_every_us: 200_000,
            skew_us: Vec::new(),
            clients: 0,
            writes_ppm: 500_000,
            leader_mode: false,
            sync: Sync::Async,
            follower_reads: false,
            failover_us: 0,
            heartbeat_us: 100_000,
            counts_duplicate_acks: false,
        }
    }

    /// The N replicas of `key`.
    pub fn replicas(&self, key: u32) -> &[u32] {
        let list = &self.prefs[key as usize];
        &list[..(self.rf as usize).min(list.len())]
    }

    pub fn is_replica(&self, node: u32, key: u32) -> bool {
        self.replicas(key).contains(&node)
    }

    /// A node's clock: true time plus its skew.
    pub fn clock_us(&self, node: u32, now_us: u64) -> u64 {
        let skew = self.skew_us.get(node as usize).copied().unwrap_or(0);
        now_us.saturating_add_signed(skew)
    }

    fn needed(&self, phase: Phase) -> u32 {
        match phase {
            Phase::Reading | Phase::ReadingContext => self.r,
            Phase::Writing | Phase::WritingBack => self.w,
            Phase::Forwarding => 1,
        }
    }

    fn ask(&self, p: &Pending, id: u64, to: u32, hint: Option<u32>, out: &mut Out<Self>) {
        let key = p.req.op.key();
        if reads(p.phase) {
            out.send(to, Msg::Read { op: id, key });
            return;
        }
        for &item in &p.items {
            let msg = Msg::Write {
                op: id,
                key,
                item,
                hint,
            };
            out.send(to, msg);
        }
    }

    /// Starts a phase: asks the key's N replicas.
    fn start_phase(&self, p: &mut Pending, id: u64, phase: Phase, out: &mut Out<Self>) {
        p.phase = phase;
        p.heard.clear();
        p.asked = self
            .replicas(p.req.op.key())
            .iter()
            .map(|&n| (n, None))
            .collect();
        for &(to, hint) in &p.asked {
            self.ask(p, id, to, hint, out);
        }
        if self.sloppy {
            let d = Duration(self.hint_after_us);
            out.set_timer(Timer::Fallback(id), d, d);
        }
    }

    fn start(&self, st: &mut NodeState, ctx: &Ctx, req: ClientRequest<Op>, out: &mut Out<Self>) {
        let id = st.next_op;
        st.next_op += 1;
        let (phase, items) = match req.op {
            Op::Get { .. } => (Phase::Reading, Vec::new()),
            Op::Put { .. } if self.vectors => (Phase::ReadingContext, Vec::new()),
            Op::Put { value, .. } => (
                Phase::Writing,
                vec![self.version(st, ctx, value, Vv::default())],
            ),
        };
        let mut p = Pending {
            req,
            phase,
            items,
            asked: Vec::new(),
            heard: Vec::new(),
            replies: Vec::new(),
            done: false,
        };
        self.start_phase(&mut p, id, phase, out);
        let t = Duration(self.timeout_us);
        out.set_timer(Timer::GiveUp(id), t, t);
        st.pending.insert(id, p);
    }

    /// A new version of `value` from this coordinator: its clock's stamp (never repeated) and,
    /// with version vectors, a vector past `context` in this node's entry.
    pub(crate) fn version(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        value: u64,
        context: Vv,
    ) -> Versioned {
        st.last_ts_us = self
            .clock_us(ctx.id, ctx.now.0)
            .max(st.last_ts_us.saturating_add(1));
        let stamp = Stamp {
            ts_us: st.last_ts_us,
            node: ctx.id,
        };
        let mut vv = Vv::default();
        if self.vectors {
            vv = context;
            let me = (ctx.id as usize).min(VV_NODES - 1);
            st.counter = st.counter.max(vv.0[me]) + 1;
            vv.0[me] = st.counter;
        }
        Versioned { value, stamp, vv }
    }

    /// Sloppy quorum: each asked node still silent is replaced by the next node of the list.
    fn fall_back(&self, st: &mut NodeState, id: u64, out: &mut Out<Self>) {
        let Some(p) = st.pending.get_mut(&id).filter(|p| !p.done) else {
            return;
        };
        let list = &self.prefs[p.req.op.key() as usize];
        let silent: Vec<(u32, Option<u32>)> = p
            .asked
            .iter()
            .filter(|(n, _)| !p.heard.contains(n))
            .copied()
            .collect();
        for (node, stands_for) in silent {
            let used = |c: &u32| p.asked.iter().any(|(a, _)| a == c);
            let Some(&next) = list[self.rf as usize..].iter().find(|c| !used(c)) else {
                break;
            };
            let hint = Some(stands_for.unwrap_or(node));
            p.asked.push((next, hint));
            self.ask(p, id, next, hint, out);
        }
        let d = Duration(self.hint_after_us);
        out.set_timer(Timer::Fallback(id), d, d);
    }

    fn on_write(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: u32,
        m: (u64, u32, Versioned, Option<u32>),
        out: &mut Out<Self>,
    ) {
        let (op, key, item, hint) = m;
        match hint.filter(|&h| h != ctx.id) {
            Some(for_node) => self.keep_hint(
                st,
                Hint {
                    for_node,
                    key,
                    item,
                },
                out,
            ),
            None => self.apply(st, key, item),
        }
        out.send(from, Msg::WriteAck { op });
    }

    fn apply(&self, st: &mut NodeState, key: u32, item: Versioned) {
        merge(
            self.vectors,
            st.store.get_or_insert_with(key, Vec::new),
            item,
        );
    }

    /// A stand-in keeps a write for a replica, beside (or in place of) the hints it has.
    fn keep_hint(&self, st: &mut NodeState, hint: Hint, out: &mut Out<Self>) {
        let same = |h: &Hint| h.for_node == hint.for_node && h.key == hint.key;
        let v = self.vectors;
        if st
            .hints
            .iter()
            .any(|h| same(h) && (h.item == hint.item || newer(v, &h.item, &hint.item)))
        {
            return;
        }
        st.hints
            .retain(|h| !(same(h) && newer(v, &hint.item, &h.item)));
        st.hints.push(hint);
        self.arm_handoff(st, out);
    }

    /// A stand-in with hints tries to hand them back every `handoff_every_us` until none is left.
    fn arm_handoff(&self, st: &mut NodeState, out: &mut Out<Self>) {
        if self.handoff_every_us > 0 && !st.handoff_armed {
            st.handoff_armed = true;
            let h = Duration(self.handoff_every_us);
            out.set_timer(Timer::Handoff, h, h);
        }
    }

    fn on_ack(&self, st: &mut NodeState, from: u32, op: u64, out: &mut Out<Self>) {
        let Some(p) = st.pending.get_mut(&op) else {
            return;
        };
        let again = p.heard.contains(&from) && !self.counts_duplicate_acks;
        if p.done || reads(p.phase) || again {
            return;
        }
        p.heard.push(from);
        if p.heard.len() < self.w as usize {
            return;
        }
        let reply = match (p.phase, p.items.first()) {
            (Phase::Writing, Some(&item)) => Reply::Written { item },
            _ => Reply::Value {
                got: Sib::of(&p.items),
            },
        };
        out.reply(&p.req, reply);
        out.cancel_timer(Timer::GiveUp(op));
        out.cancel_timer(Timer::Fallback(op));
        st.pending.remove(&op);
    }

    fn on_read_reply(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: u32,
        m: (u64, Vec<Versioned>),
        out: &mut Out<Self>,
    ) {
        let (op, got) = m;
        let Some(mut p) = st.pending.remove(&op) else {
            return;
        };
        if reads(p.phase) && !p.replies.iter().any(|r| r.0 == from) {
            self.take_reply(st, ctx, &mut p, (op, from, got), out);
        }
        if !p.done || self.read_repair {
            st.pending.insert(op, p);
        }
    }

    /// One replica's versions arrived for a read (or a put's context).
    fn take_reply(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        p: &mut Pending,
        m: (u64, u32, Vec<Versioned>),
        out: &mut Out<Self>,
    ) {
        let (op, from, got) = m;
        for g in &got {
            merge(self.vectors, &mut p.items, *g);
        }
        p.replies.push((from, got));
        p.heard.push(from);
        if p.done {
            self.repair(p, out);
            return;
        }
        if p.heard.len() < self.r as usize {
            return;
        }
        out.cancel_timer(Timer::Fallback(op));
        if let (Phase::ReadingContext, Op::Put { value, .. }) = (p.phase, p.req.op) {
            let context = p.items.iter().fold(Vv::default(), |a, i| a.join(&i.vv));
            p.items = vec![self.version(st, ctx, value, context)];
            self.start_phase(p, op, Phase::Writing, out);
            return;
        }
        if self.write_back && !p.items.is_empty() {
            self.start_phase(p, op, Phase::WritingBack, out);
            return;
        }
        out.reply(
            &p.req,
            Reply::Value {
                got: Sib::of(&p.items),
            },
        );
        p.done = true;
        self.repair(p, out);
        if !self.read_repair {
            out.cancel_timer(Timer::GiveUp(op));
        }
    }

    /// Read repair: each replica that answered without one of the newest versions gets it.
    fn repair(&self, p: &mut Pending, out: &mut Out<Self>) {
        if !self.read_repair {
            return;
        }
        let key = p.req.op.key();
        for (node, got) in &mut p.replies {
            for &item in &p.items {
                if merge(self.vectors, got, item) {
                    out.send(*node, Msg::Repair { key, item });
                }
            }
        }
    }

    fn give_up(&self, st: &mut NodeState, op: u64, out: &mut Out<Self>) {
        let Some(p) = st.pending.remove(&op) else {
            return;
        };
        out.cancel_timer(Timer::Fallback(op));
        if !p.done {
            let reply = Reply::TimedOut {
                write: matches!(p.req.op, Op::Put { .. }),
                heard: p.heard.len() as u32,
                needed: self.needed(p.phase),
            };
            out.reply(&p.req, reply);
        }
    }

    fn hand_off(&self, st: &NodeState, out: &mut Out<Self>) {
        for h in &st.hints {
            out.send(
                h.for_node,
                Msg::Handoff {
                    key: h.key,
                    item: h.item,
                },
            );
        }
    }

    /// Anti-entropy: the next peer that shares keys gets this node's versions of them.
    fn send_digest(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        let peers: Vec<u32> = ctx.peers().collect();
        for _ in 0..peers.len() {
            let peer = peers[st.ae_turn as usize % peers.len()];
            st.ae_turn = st.ae_turn.wrapping_add(1);
            let entries: Vec<(u32, Vec<Versioned>)> = self
                .shared_keys(ctx.id, peer)
                .map(|k| (k, st.store.get(&k).cloned().unwrap_or_default()))
                .collect();
            if !entries.is_empty() {
                out.send(peer, Msg::Digest { entries });
                return;
            }
        }
    }

    fn shared_keys(&self, a: u32, b: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.keys).filter(move |&k| self.is_replica(a, k) && self.is_replica(b, k))
    }

    fn on_digest(
        &self,
        st: &mut NodeState,
        from: u32,
        entries: Vec<(u32, Vec<Versioned>)>,
        out: &mut Out<Self>,
    ) {
        for (key, mut theirs) in entries {
            let mine = st.store.get(&key).cloned().unwrap_or_default();
            for &item in &mine {
                if merge(self.vectors, &mut theirs, item) {
                    out.send(from, Msg::Repair { key, item });
                }
            }
            for item in theirs {
                self.apply(st, key, item);
            }
        }
    }

    fn arm_periodic(&self, st: &mut NodeState, out: &mut Out<Self>) {
        if !st.hints.is_empty() {
            self.arm_handoff(st, out);
        }
        if self.anti_entropy_us > 0 {
            let a = Duration(self.anti_entropy_us);
            out.set_timer(Timer::AntiEntropy, a, a);
        }
    }
}

/// Whether a phase collects read replies.
fn reads(phase: Phase) -> bool {
    matches!(phase, Phase::Reading | Phase::ReadingContext)
}

impl Protocol for Quorum {
    type Msg = Msg;
    type Timer = Timer;
    type State = NodeState;
    type Op = Op;
    type Reply = Reply;

    fn init(&self, _id: NodeId, _n: u32) -> NodeState {
        NodeState::default()
    }

    fn on_start(&self, st: &mut NodeState, ctx: &Ctx, out: &mut Out<Self>) {
        if self.leader_mode {
            self.lf_start(st, ctx, out);
        } else {
            self.arm_periodic(st, out);
        }
    }

    fn on_message(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        from: NodeId,
        msg: Msg,
        out: &mut Out<Self>,
    ) {
        match msg {
            Msg::Write {
                op,
                key,
                item,
                hint,
            } => self.on_write(st, ctx, from, (op, key, item, hint), out),
            Msg::WriteAck { op } => self.on_ack(st, from, op, out),
            Msg::Read { op, key } => {
                let got = st.held(self.vectors, key);
                out.send(from, Msg::ReadReply { op, got });
            }
            Msg::ReadReply { op, got } => self.on_read_reply(st, ctx, from, (op, got), out),
            Msg::Repair { key, item } => self.apply(st, key, item),
            Msg::Handoff { key, item } => {
                self.apply(st, key, item);
                let stamp = item.stamp;
                out.send(from, Msg::HandoffAck { key, stamp });
            }
            Msg::HandoffAck { key, stamp } => st
                .hints
                .retain(|h| !(h.for_node == from && h.key == key && h.item.stamp == stamp)),
            Msg::Digest { entries } => self.on_digest(st, from, entries, out),
            Msg::Append {
                epoch,
                since,
                prev,
                prev_epoch,
                entries,
            } => {
                let m = (epoch, since, prev, prev_epoch, entries);
                self.on_append(st, ctx, from, m, out)
            }
            Msg::AppendAck { epoch, ok, len } => {
                self.on_append_ack(st, ctx, from, (epoch, ok, len), out)
            }
            Msg::Forward { op, what } => self.on_forward(st, ctx, from, (op, what), out),
            Msg::ForwardReply { op, reply } => self.on_forward_reply(st, (op, *reply), out),
        }
    }

    fn on_timer(&self, st: &mut NodeState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        match timer {
            Timer::GiveUp(op) if st.pending.contains_key(&op) => self.give_up(st, op, out),
            Timer::GiveUp(op) => self.give_up_wait(st, op, out),
            Timer::Fallback(op) => self.fall_back(st, op, out),
            Timer::Handoff => {
                st.handoff_armed = false;
                self.hand_off(st, out);
                if !st.hints.is_empty() {
                    self.arm_handoff(st, out);
                }
            }
            Timer::AntiEntropy => {
                self.send_digest(st, ctx, out);
                let a = Duration(self.anti_entropy_us);
                out.set_timer(Timer::AntiEntropy, a, a);
            }
            Timer::Heartbeat => self.heartbeat(st, ctx, out),
            Timer::Failover => self.promote(st, ctx, out),
        }
    }

    fn on_client(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        if self.leader_mode {
            self.lf_client(st, ctx, req, out);
        } else {
            self.start(st, ctx, req, out);
        }
    }

    /// `promote`: a follower takes over as leader (a failover by hand).
    fn on_verb(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        _verb: &str,
        _target: Option<NodeId>,
        out: &mut Out<Self>,
    ) {
        if self.leader_mode {
            self.promote(st, ctx, out);
        } else {
            out.note("no leader to replace: the store is leaderless (mode=leader has one)");
        }
    }

    /// Stores and hints are on disk; operations in progress are forgotten.
    fn recover(&self, _id: NodeId, _n: u32, crashed: &NodeState) -> NodeState {
        NodeState {
            store: crashed.store.clone(),
            hints: crashed.hints.clone(),
            last_ts_us: crashed.last_ts_us,
            counter: crashed.counter,
            repl: self.lf_recover(&crashed.repl),
            ..NodeState::default()
        }
    }

    fn classify(&self, reply: &Reply) -> ReplyClass {
        match reply {
            Reply::Value { .. } | Reply::Written { .. } => ReplyClass::Ok,
            Reply::TimedOut { write: true, .. } => ReplyClass::Unknown,
            Reply::TimedOut { write: false, .. } => ReplyClass::Fail,
        }
    }

    fn next_op(&self, client: u32, seq: u64, rng: &mut Rng) -> Option<Op> {
        if self.clients == 0 {
            return None;
        }
        let key = rng.range_inclusive(0, self.keys as u64 - 1) as u32;
        Some(if rng.chance_ppm(self.writes_ppm) {
            Op::Put {
                key,
                value: (seq + 1) * 100 + client as u64,
            }
        } else {
            Op::Get { key }
        })
    }

    fn parse_op(&self, text: &str) -> Result<Op, String> {
        parse_op(text, self.keys)
    }

    fn timer_name(&self, timer: &Timer) -> &'static str {
        match timer {
            Timer::GiveUp(_) => "gave up",
            Timer::Fallback(_) => "fallback",
            Timer::Handoff => "handoff",
            Timer::AntiEntropy => "anti-entropy",
            Timer::Heartbeat => "heartbeat",
            Timer::Failover => "failover",
        }
    }
}

/// `get k0`, `put k0 7` (also `put k0=7`): the key must exist, the value a whole number.
pub fn parse_op(text: &str, keys: u32) -> Result<Op, String> {
    let clip: String = text.chars().take(40).collect();
    let bad = || {
        format!("a store operation is 'get kN' or 'put kN VALUE' (a whole number), not '{clip}'")
    };
    let t = text.trim().replace('=', " ");
    let words: Vec<&str> = t.split_whitespace().collect();
    let key = |w: &str| -> Result<u32, String> {
        let k: u32 = w
            .strip_prefix('k')
            .unwrap_or(w)
            .parse()
            .map_err(|_| bad())?;
        if k < keys {
            Ok(k)
        } else {
            Err(format!(
                "there is no key k{k}: the keys are k0 to k{}",
                keys - 1
            ))
        }
    };
    match words.as_slice() {
        ["get", k] => Ok(Op::Get { key: key(k)? }),
        ["put", k, v] => Ok(Op::Put {
            key: key(k)?,
            value: v.parse().map_err(|_| bad())?,
        }),
        _ => Err(bad()),
    }
}
