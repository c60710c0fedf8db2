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
//! A coordinator that does not hear from enough replicas within the operation timeout gives up:
//! a read fails, and a write's outcome is unknown (some replicas may hold it). Each node's clock
//! may be skewed, so a later write can carry an earlier stamp and be discarded: last-write-wins
//! then loses an acknowledged write. Stores and hints are durable; pending operations are not.

use super::ring_order;
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A version in last-write-wins order: the coordinator's clock reading, then its id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub ts_us: u64,
    pub node: u32,
}

/// A value with its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Versioned {
    pub value: u64,
    pub stamp: Stamp,
}

/// Keeps the newer of what is stored and what arrived; true when `item` replaced it.
pub fn keep_newer(slot: &mut Option<Versioned>, item: Versioned) -> bool {
    if slot.is_none_or(|old| item.stamp > old.stamp) {
        *slot = Some(item);
        true
    } else {
        false
    }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// A read's answer: the newest version among the replies (`None`: never written).
    Value { got: Option<Versioned> },
    /// A write took effect at W replicas with this version.
    Written { stamp: Stamp },
    /// The coordinator heard from `heard` replicas of the `needed` within its timeout.
    TimedOut {
        write: bool,
        heard: u32,
        needed: u32,
    },
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
        got: Option<Versioned>,
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
    /// Anti-entropy: the versions the sender holds of the keys both replicate.
    Digest {
        entries: Vec<(u32, Option<Stamp>)>,
    },
    /// Anti-entropy: send me these keys, you have them newer.
    Pull {
        keys: Vec<u32>,
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
            Msg::Digest { .. } | Msg::Pull { .. } => "anti-entropy",
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
            Msg::ReadReply { op, got } => match got {
                Some(i) => format!("#{op} has {}", v(i)),
                None => format!("#{op} has nothing"),
            },
            Msg::Repair { key, item } => format!("repair k{key} = {}", v(item)),
            Msg::Handoff { key, item } => format!("handoff k{key} = {}", v(item)),
            Msg::HandoffAck { key, stamp } => format!("took k{key} {}", stamp_text(*stamp)),
            Msg::Digest { entries } => format!("digest of {} keys", entries.len()),
            Msg::Pull { keys } => format!("pull {} keys", keys.len()),
        }
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Writing,
    Reading,
    /// The read's second phase: the newest version written to W replicas.
    WritingBack,
}

/// An operation a coordinator is carrying out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub req: ClientRequest<Op>,
    pub phase: Phase,
    /// What is written, or the newest version read so far.
    pub item: Option<Versioned>,
    /// The nodes asked in this phase, and for whom each stands in (sloppy quorum).
    pub asked: Vec<(u32, Option<u32>)>,
    /// The nodes that answered in this phase.
    pub heard: Vec<u32>,
    /// Read replies, for read repair.
    pub replies: Vec<(u32, Option<Versioned>)>,
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
    pub store: BTreeMap<u32, Versioned>,
    pub hints: Vec<Hint>,
    pub pending: BTreeMap<u64, Pending>,
    pub next_op: u64,
    /// The last stamp time this node issued (stamps never repeat).
    pub last_ts_us: u64,
    /// Whom anti-entropy talks to next (an index into the peers).
    pub ae_turn: u32,
}

impl NodeState {
    /// What this node would answer a read of `key` with: its replica or a hint, the newer.
    pub fn newest(&self, key: u32) -> Option<Versioned> {
        let mut best = self.store.get(&key).copied();
        for h in self.hints.iter().filter(|h| h.key == key) {
            keep_newer(&mut best, h.item);
        }
        best
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
    pub read_repair: bool,
    pub write_back: bool,
    pub sloppy: bool,
    pub hint_after_us: u64,
    pub timeout_us: u64,
    /// 0: no anti-entropy.
    pub anti_entropy_us: u64,
    /// How often a stand-in tries to hand its hints back (0: never; the staleness experiment,
    /// which has none).
    pub handoff_every_us: u64,
    /// Each node's clock offset (missing: 0).
    pub skew_us: Vec<i64>,
    pub clients: u32,
    /// The share of workload operations that are writes.
    pub writes_ppm: u32,
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
            Phase::Reading => self.r,
            Phase::Writing | Phase::WritingBack => self.w,
        }
    }

    fn ask(&self, p: &Pending, id: u64, to: u32, hint: Option<u32>, out: &mut Out<Self>) {
        let key = p.req.op.key();
        let msg = match (p.phase, p.item) {
            (Phase::Reading, _) => Msg::Read { op: id, key },
            (_, Some(item)) => Msg::Write {
                op: id,
                key,
                item,
                hint,
            },
            (_, None) => return,
        };
        out.send(to, msg);
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
        let (phase, item) = match req.op {
            Op::Get { .. } => (Phase::Reading, None),
            Op::Put { value, .. } => {
                st.last_ts_us = self
                    .clock_us(ctx.id, ctx.now.0)
                    .max(st.last_ts_us.saturating_add(1));
                let stamp = Stamp {
                    ts_us: st.last_ts_us,
                    node: ctx.id,
                };
                (Phase::Writing, Some(Versioned { value, stamp }))
            }
        };
        let mut p = Pending {
            req,
            phase,
            item,
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
            Some(for_node) => keep_hint(
                st,
                Hint {
                    for_node,
                    key,
                    item,
                },
            ),
            None => {
                let mut slot = st.store.get(&key).copied();
                if keep_newer(&mut slot, item) {
                    st.store.insert(key, item);
                }
            }
        }
        out.send(from, Msg::WriteAck { op });
    }

    fn on_ack(&self, st: &mut NodeState, from: u32, op: u64, out: &mut Out<Self>) {
        let Some(p) = st.pending.get_mut(&op) else {
            return;
        };
        if p.done || p.phase == Phase::Reading || p.heard.contains(&from) {
            return;
        }
        p.heard.push(from);
        if p.heard.len() < self.w as usize {
            return;
        }
        let reply = match (p.phase, p.item) {
            (Phase::Writing, Some(item)) => Reply::Written { stamp: item.stamp },
            _ => Reply::Value { got: p.item },
        };
        out.reply(&p.req, reply);
        out.cancel_timer(Timer::GiveUp(op));
        out.cancel_timer(Timer::Fallback(op));
        st.pending.remove(&op);
    }

    fn on_read_reply(
        &self,
        st: &mut NodeState,
        from: u32,
        op: u64,
        got: Option<Versioned>,
        out: &mut Out<Self>,
    ) {
        let Some(p) = st.pending.get_mut(&op) else {
            return;
        };
        if p.phase != Phase::Reading || p.replies.iter().any(|r| r.0 == from) {
            return;
        }
        p.replies.push((from, got));
        p.heard.push(from);
        if let Some(g) = got {
            keep_newer(&mut p.item, g);
        }
        if p.done {
            self.repair(p, out);
            return;
        }
        if p.heard.len() < self.r as usize {
            return;
        }
        if self.write_back && p.item.is_some() {
            out.cancel_timer(Timer::Fallback(op));
            self.start_phase(p, op, Phase::WritingBack, out);
            return;
        }
        out.reply(&p.req, Reply::Value { got: p.item });
        p.done = true;
        out.cancel_timer(Timer::Fallback(op));
        self.repair(p, out);
        if !self.read_repair {
            out.cancel_timer(Timer::GiveUp(op));
            st.pending.remove(&op);
        }
    }

    /// Read repair: the replies older than the newest get the newest.
    fn repair(&self, p: &mut Pending, out: &mut Out<Self>) {
        let Some(best) = p.item.filter(|_| self.read_repair) else {
            return;
        };
        let key = p.req.op.key();
        for (node, got) in &mut p.replies {
            if got.is_none_or(|g| g.stamp < best.stamp) {
                out.send(*node, Msg::Repair { key, item: best });
                *got = Some(best);
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
                write: p.phase != Phase::Reading,
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
            let entries: Vec<(u32, Option<Stamp>)> = self
                .shared_keys(ctx.id, peer)
                .map(|k| (k, st.store.get(&k).map(|v| v.stamp)))
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
        st: &NodeState,
        from: u32,
        entries: Vec<(u32, Option<Stamp>)>,
        out: &mut Out<Self>,
    ) {
        let mut pull = Vec::new();
        for (key, theirs) in entries {
            let mine = st.store.get(&key);
            match (mine, theirs) {
                (Some(m), t) if t.is_none_or(|t| m.stamp > t) => {
                    out.send(from, Msg::Repair { key, item: *m });
                }
                (m, Some(t)) if m.is_none_or(|m| t > m.stamp) => pull.push(key),
                _ => {}
            }
        }
        if !pull.is_empty() {
            out.send(from, Msg::Pull { keys: pull });
        }
    }

    fn arm_periodic(&self, out: &mut Out<Self>) {
        if self.handoff_every_us > 0 {
            let h = Duration(self.handoff_every_us);
            out.set_timer(Timer::Handoff, h, h);
        }
        if self.anti_entropy_us > 0 {
            let a = Duration(self.anti_entropy_us);
            out.set_timer(Timer::AntiEntropy, a, a);
        }
    }
}

fn keep_hint(st: &mut NodeState, hint: Hint) {
    match st
        .hints
        .iter_mut()
        .find(|h| h.for_node == hint.for_node && h.key == hint.key)
    {
        Some(h) if hint.item.stamp > h.item.stamp => h.item = hint.item,
        Some(_) => {}
        None => st.hints.push(hint),
    }
}

fn apply(st: &mut NodeState, key: u32, item: Versioned) {
    let mut slot = st.store.get(&key).copied();
    if keep_newer(&mut slot, item) {
        st.store.insert(key, item);
    }
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

    fn on_start(&self, _st: &mut NodeState, _ctx: &Ctx, out: &mut Out<Self>) {
        self.arm_periodic(out);
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
            Msg::Read { op, key } => out.send(
                from,
                Msg::ReadReply {
                    op,
                    got: st.newest(key),
                },
            ),
            Msg::ReadReply { op, got } => self.on_read_reply(st, from, op, got, out),
            Msg::Repair { key, item } => apply(st, key, item),
            Msg::Handoff { key, item } => {
                apply(st, key, item);
                out.send(
                    from,
                    Msg::HandoffAck {
                        key,
                        stamp: item.stamp,
                    },
                );
            }
            Msg::HandoffAck { key, stamp } => st
                .hints
                .retain(|h| !(h.for_node == from && h.key == key && h.item.stamp <= stamp)),
            Msg::Digest { entries } => self.on_digest(st, from, entries, out),
            Msg::Pull { keys } => {
                for key in keys {
                    if let Some(item) = st.store.get(&key) {
                        out.send(from, Msg::Repair { key, item: *item });
                    }
                }
            }
        }
    }

    fn on_timer(&self, st: &mut NodeState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        match timer {
            Timer::GiveUp(op) => self.give_up(st, op, out),
            Timer::Fallback(op) => self.fall_back(st, op, out),
            Timer::Handoff => {
                self.hand_off(st, out);
                let h = Duration(self.handoff_every_us);
                out.set_timer(Timer::Handoff, h, h);
            }
            Timer::AntiEntropy => {
                self.send_digest(st, ctx, out);
                let a = Duration(self.anti_entropy_us);
                out.set_timer(Timer::AntiEntropy, a, a);
            }
        }
    }

    fn on_client(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        self.start(st, ctx, req, out);
    }

    /// Stores and hints are on disk; operations in progress are forgotten.
    fn recover(&self, _id: NodeId, _n: u32, crashed: &NodeState) -> NodeState {
        NodeState {
            store: crashed.store.clone(),
            hints: crashed.hints.clone(),
            last_ts_us: crashed.last_ts_us,
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
