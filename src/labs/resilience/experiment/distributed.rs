//! A distributed rate limiter: `k` limiter instances in front of a service share one limit
//! through a store (a Redis-like counter per one-second window) across the simulated network,
//! with its latency, loss and partitions. Node 0 is the store, nodes 1..=k the instances; the
//! engine's open-loop clients spread their requests over the instances.
//!
//! - **Asynchronous** (`sync_us > 0`): an instance admits on what it knows, the store's count
//!   of this window as last heard plus its own admissions since, and every `sync_us` sends the
//!   store what it admitted (`Add`) and hears the new total (`Count`). What the other
//!   instances admitted since their last sync is invisible to it, so the tier over-admits by
//!   about the offered rate times the staleness (the sync interval plus a round trip): it
//!   grows with the store's latency. An `Add` lost on the way is never counted.
//! - **Synchronous** (`sync_us == 0`): an instance asks the store for every request (an
//!   atomic increment) and admits if the new total is within the limit: exact at any latency,
//!   at the price of a round trip per request.
//!
//! An instance whose oldest unanswered message to the store is older than `store_timeout_us`
//! takes the store as unreachable (a partition, or a store slower than the timeout) and then
//! fails open (admits everything: over-admission) or closed (rejects everything) until the
//! store answers again.

use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallMap;
use crate::sim::time::Duration;
use std::collections::VecDeque;

pub const STORE: NodeId = 0;
const WINDOW_US: u64 = 1_000_000;
/// Windows an instance counts for the report (longer runs are refused before they start).
pub const WINDOWS_MAX: usize = 600;
/// Unanswered adds an instance remembers (a long partition sends many).
const SENT_MAX: usize = 4_096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distributed {
    pub instances: u32,
    /// Requests a one-second window admits, over all instances.
    pub limit: u64,
    /// Time between two syncs of an instance with the store; 0: ask it on every request.
    pub sync_us: u64,
    pub store_timeout_us: u64,
    /// When the store is unreachable: admit everything (open) or nothing (closed).
    pub fail_open: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// An instance adds `delta` admissions (synchronous: one request) to window `window`.
    Add { window: u64, delta: u64, seq: u64 },
    /// The store's total for `window` after add `seq`.
    Count { window: u64, total: u64, seq: u64 },
}

impl MessageInfo for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Add { .. } => "add",
            Msg::Count { .. } => "count",
        }
    }
    fn summary(&self) -> String {
        match self {
            Msg::Add { window, delta, .. } => format!("window {window}: +{delta}"),
            Msg::Count { window, total, .. } => format!("window {window}: {total}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    Sync,
    /// Synchronous: the store has not answered for request `seq`.
    Ask {
        seq: u64,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    pub window: u64,
    /// The store's total for this window, as last heard.
    pub known: u64,
    /// Admitted here and not yet sent.
    pub unsent: u64,
    /// Adds sent and not answered, oldest first: seq, window, delta, when sent.
    pub sent: VecDeque<(u64, u64, u64, u64)>,
    pub next_seq: u64,
    /// Synchronous: requests waiting on the store, with their window.
    pub asks: SmallMap<u64, (ClientRequest<u64>, u64)>,
    /// Per window: requests offered here, admitted here.
    pub offered: Vec<u64>,
    pub admitted: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeState {
    Store(SmallMap<u64, u64>),
    Instance(Box<Instance>),
}

fn fixed(us: u64) -> (Duration, Duration) {
    (Duration(us), Duration(us))
}

fn bump(v: &mut Vec<u64>, window: u64) {
    let i = window as usize;
    if i < WINDOWS_MAX {
        if v.len() <= i {
            v.resize(i + 1, 0);
        }
        v[i] += 1;
    }
}

impl Distributed {
    /// Whether the store has left a message unanswered for longer than the timeout.
    fn unreachable(&self, st: &Instance, now_us: u64) -> bool {
        let late = |sent_us: u64| now_us >= sent_us.saturating_add(self.store_timeout_us);
        st.sent.front().is_some_and(|s| late(s.3))
    }

    fn decide(
        &self,
        st: &mut Instance,
        req: &ClientRequest<u64>,
        window: u64,
        ok: bool,
        out: &mut Out<Self>,
    ) {
        if ok {
            bump(&mut st.admitted, window);
        }
        out.reply(req, ok);
    }

    fn send(
        &self,
        st: &mut Instance,
        window: u64,
        delta: u64,
        now_us: u64,
        out: &mut Out<Self>,
    ) -> u64 {
        let seq = st.next_seq;
        st.next_seq += 1;
        if st.sent.len() >= SENT_MAX {
            st.sent.pop_front();
        }
        st.sent.push_back((seq, window, delta, now_us));
        out.send(STORE, Msg::Add { window, delta, seq });
        seq
    }

    fn request(&self, st: &mut Instance, ctx: &Ctx, req: ClientRequest<u64>, out: &mut Out<Self>) {
        let now_us = ctx.now.0;
        let window = now_us / WINDOW_US;
        if window != st.window {
            (st.window, st.known, st.unsent) = (window, 0, 0);
        }
        bump(&mut st.offered, window);
        let unreachable = self.unreachable(st, now_us);
        if self.sync_us == 0 {
            // Asked even when the store seems unreachable, so its answer can say otherwise.
            let seq = self.send(st, window, 1, now_us, out);
            if unreachable {
                return self.decide(st, &req, window, self.fail_open, out);
            }
            let (lo, hi) = fixed(self.store_timeout_us);
            out.set_timer(Timer::Ask { seq }, lo, hi);
            st.asks.insert(seq, (req, window));
            return;
        }
        if unreachable {
            st.unsent += self.fail_open as u64;
            return self.decide(st, &req, window, self.fail_open, out);
        }
        let in_flight: u64 = st.sent.iter().filter(|s| s.1 == window).map(|s| s.2).sum();
        let ok = st.known + in_flight + st.unsent < self.limit;
        st.unsent += ok as u64;
        self.decide(st, &req, window, ok, out);
    }

    fn counted(&self, st: &mut Instance, window: u64, total: u64, seq: u64, out: &mut Out<Self>) {
        // The network keeps a link's order: every add up to `seq` was answered or lost.
        while st.sent.front().is_some_and(|s| s.0 <= seq) {
            st.sent.pop_front();
        }
        if window == st.window {
            st.known = st.known.max(total);
        }
        if let Some((req, w)) = st.asks.remove(&seq) {
            out.cancel_timer(Timer::Ask { seq });
            self.decide(st, &req, w, total <= self.limit, out);
        }
    }
}

impl Protocol for Distributed {
    type Msg = Msg;
    type Timer = Timer;
    type State = NodeState;
    type Op = u64;
    type Reply = bool;

    fn init(&self, id: NodeId, _n: u32) -> NodeState {
        match id {
            STORE => NodeState::Store(SmallMap::new()),
            _ => NodeState::Instance(Box::default()),
        }
    }

    fn on_start(&self, st: &mut NodeState, _ctx: &Ctx, out: &mut Out<Self>) {
        if let (NodeState::Instance(_), true) = (st, self.sync_us > 0) {
            out.set_timer(Timer::Sync, Duration(1), Duration(self.sync_us));
        }
    }

    fn on_message(
        &self,
        st: &mut NodeState,
        _ctx: &Ctx,
        from: NodeId,
        msg: Msg,
        out: &mut Out<Self>,
    ) {
        match (st, msg) {
            (NodeState::Store(counts), Msg::Add { window, delta, seq }) => {
                // Older windows are over; the store keeps the last two.
                let over: Vec<u64> = counts
                    .iter()
                    .map(|(w, _)| *w)
                    .filter(|w| w + 2 <= window)
                    .collect();
                for w in over {
                    counts.remove(&w);
                }
                let total = counts.get_or_insert_with(window, || 0);
                *total += delta;
                let total = *total;
                out.send(from, Msg::Count { window, total, seq });
            }
            (NodeState::Instance(i), Msg::Count { window, total, seq }) => {
                self.counted(i, window, total, seq, out)
            }
            _ => {}
        }
    }

    fn on_timer(&self, st: &mut NodeState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        let NodeState::Instance(i) = st else {
            return;
        };
        match timer {
            Timer::Sync => {
                let window = ctx.now.0 / WINDOW_US;
                if window != i.window {
                    (i.window, i.known, i.unsent) = (window, 0, 0);
                }
                let delta = std::mem::take(&mut i.unsent);
                self.send(i, window, delta, ctx.now.0, out);
                let (lo, hi) = fixed(self.sync_us);
                out.set_timer(Timer::Sync, lo, hi);
            }
            Timer::Ask { seq } => {
                if let Some((req, w)) = i.asks.remove(&seq) {
                    self.decide(i, &req, w, self.fail_open, out);
                }
            }
        }
    }

    fn on_client(
        &self,
        st: &mut NodeState,
        ctx: &Ctx,
        req: ClientRequest<u64>,
        out: &mut Out<Self>,
    ) {
        match st {
            NodeState::Instance(i) => self.request(i, ctx, req, out),
            NodeState::Store(_) => out.reply(&req, false),
        }
    }

    fn client_node(&self, client: u32, _after_timeout: Option<NodeId>, _n: u32) -> NodeId {
        1 + client % self.instances.max(1)
    }

    fn classify(&self, reply: &bool) -> ReplyClass {
        match reply {
            true => ReplyClass::Ok,
            false => ReplyClass::Fail,
        }
    }

    fn next_op(&self, _client: u32, seq: u64, _rng: &mut Rng) -> Option<u64> {
        Some(seq)
    }

    fn parse_op(&self, text: &str) -> Result<u64, String> {
        text.trim()
            .parse()
            .map_err(|_| "a request is a whole number".to_string())
    }

    fn timer_name(&self, timer: &Timer) -> &'static str {
        match timer {
            Timer::Sync => "sync",
            Timer::Ask { .. } => "store timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::process::Effect;
    use crate::sim::time::Instant;

    fn limiter(sync_us: u64) -> Distributed {
        Distributed {
            instances: 2,
            limit: 3,
            sync_us,
            store_timeout_us: 100_000,
            fail_open: true,
        }
    }

    fn req(id: u64) -> ClientRequest<u64> {
        ClientRequest {
            client: 3,
            request_id: id,
            key: id,
            op: id,
        }
    }

    fn replies(out: &Out<Distributed>) -> Vec<bool> {
        out.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { reply, .. } => Some(*reply),
                _ => None,
            })
            .collect()
    }

    // Asynchronous: having heard the store count 2 of 3 this window, an instance admits one
    // more and turns the next away, without asking; synchronous: it answers only when the
    // store's count comes back, and by that count.
    #[test]
    fn an_instance_admits_on_what_it_knows_or_on_the_stores_answer() {
        let ctx = |t| Ctx {
            id: 1,
            n: 3,
            now: Instant(t),
        };
        let p = limiter(10_000);
        let mut st = p.init(1, 3);
        let mut out = Out::default();
        p.on_timer(&mut st, &ctx(1), Timer::Sync, &mut out);
        let count = Msg::Count {
            window: 0,
            total: 2,
            seq: 0,
        };
        p.on_message(&mut st, &ctx(2), STORE, count, &mut out);
        let mut out = Out::default();
        for id in 0..2 {
            p.on_client(&mut st, &ctx(3 + id), req(id), &mut out);
        }
        assert_eq!(replies(&out), [true, false]);
        assert!(!out.effects.iter().any(|e| matches!(e, Effect::Send { .. })));

        let p = limiter(0);
        let mut st = p.init(1, 3);
        let mut out = Out::default();
        p.on_client(&mut st, &ctx(5), req(7), &mut out);
        assert_eq!(replies(&out), Vec::<bool>::new(), "waits for the store");
        let count = Msg::Count {
            window: 0,
            total: 4,
            seq: 0,
        };
        p.on_message(&mut st, &ctx(6), STORE, count, &mut out);
        assert_eq!(replies(&out), [false], "the store counted 4 of 3");
    }
}
