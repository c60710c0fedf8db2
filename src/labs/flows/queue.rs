//! Queue mode: producers hand messages to a broker, which pushes them to consumers and waits
//! for each consumer's acknowledgement.
//!
//! Node 0 is the broker, nodes `1..=producers` the producers, the rest the consumers.
//!
//! - A **producer** makes `messages` state changes, one every `every_us`. Each is a local
//!   transaction that commits after the processing time. With the outbox off it also sends
//!   the message on its own, after a time drawn from the same range, so the send comes before
//!   or after the commit, and keeps it in memory until the broker acknowledges it: a crash
//!   after the send and before the commit rolls back a state change whose message left (a
//!   phantom); a crash after the commit and before the send (or before an unacknowledged
//!   message reached the broker) loses a committed message. With the
//!   transactional outbox the message is a row written in the same transaction; a relay sends
//!   the committed rows and retries until the broker acknowledges each.
//! - The **broker** appends each new message id to its log (a producer's retry of one it has
//!   is acknowledged, not appended again), gives offset `o` to consumer `o mod consumers`, keeps
//!   at most `prefetch` unacknowledged deliveries per consumer and, on an ack timeout,
//!   delivers again (at-most-once: gives up instead). Its log is durable.
//! - A **consumer** processes each delivery, which applies an effect to its own database.
//!   At-most-once acknowledges before processing; at-least-once after; exactly-once (really
//!   effectively-once) is at-least-once with a table of processed ids written in the same
//!   transaction as the effect, so a redelivery is acknowledged and skipped.
//!
//! Message ids are dense: producer `p`'s `s`-th message is `p * messages + s`.

use super::protocol::{Flows, FlowsMsg, FlowsTimer};
use crate::sim::process::{Ctx, NodeId, Out};
use crate::sim::time::Duration;

/// When a consumer acknowledges, and what it remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnce,
}

impl Semantics {
    pub const NAMES: &'static [&'static str] = &["at-most-once", "at-least-once", "exactly-once"];

    pub fn parse(text: &str) -> Option<Semantics> {
        match text {
            "at-most-once" => Some(Semantics::AtMostOnce),
            "at-least-once" => Some(Semantics::AtLeastOnce),
            "exactly-once" => Some(Semantics::ExactlyOnce),
            _ => None,
        }
    }
}

/// Where an exactly-once consumer keeps its processed ids. `InMemory` is the deliberate bug the
/// tests use: the table is lost in a crash, so a redelivery after one applies the effect again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dedup {
    Durable,
    InMemory,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    pub semantics: Semantics,
    pub outbox: bool,
    pub producers: u32,
    pub consumers: u32,
    /// Messages each producer makes.
    pub messages: u32,
    pub every_us: u64,
    pub ack_timeout_us: u64,
    /// Unacknowledged deliveries the broker allows each consumer.
    pub prefetch: u32,
    /// A consumer's processing time, and a producer's local transaction.
    pub work_min_us: u64,
    pub work_max_us: u64,
    pub dedup: Dedup,
}

pub const BROKER: NodeId = 0;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueMsg {
    Publish { id: u32 },
    PublishAck { id: u32 },
    Deliver { offset: u32, id: u32, attempt: u32 },
    Ack { offset: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueTimer {
    Produce,
    Commit {
        seq: u32,
    },
    /// Outbox off: the message leaves, before or after the commit.
    Send {
        seq: u32,
    },
    /// The producer's resend (outbox off) or the outbox relay (on).
    Relay,
    Process {
        offset: u32,
        attempt: u32,
    },
    AckTimeout {
        offset: u32,
    },
}

/// A message a producer owes the broker until the broker acknowledges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub seq: u32,
    pub sent_us: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Producer {
    /// A database sequence: ids are never reused, even after a rollback.
    pub next_seq: u32,
    /// Per message: its state change is committed.
    pub committed: Vec<bool>,
    /// Durable with the outbox (its committed rows), in memory without.
    pub pending: Vec<Pending>,
    /// The open transaction's message (volatile).
    pub tx: Option<u32>,
    /// Outbox off: messages about to be sent (volatile).
    pub unsent: Vec<u32>,
    /// What an observer counts, kept across crashes: sent at least once; rolled back.
    pub sent: Vec<bool>,
    pub rolled_back: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ready,
    Sent {
        at_us: u64,
    },
    Acked,
    /// At-most-once: the ack did not come, and the broker never sends it again.
    GaveUp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: u32,
    pub status: Status,
    pub deliveries: u32,
}

/// The broker's state is durable (its log on disk); a restart re-arms its ack timers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Broker {
    pub log: Vec<Entry>,
    /// Per message id: its offset + 1 (0: not in the log).
    pub offset_of: Vec<u32>,
    /// Per consumer: the next offset of its share still to deliver.
    pub cursor: Vec<u32>,
    /// Per consumer: deliveries awaiting an ack.
    pub outstanding: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    /// Per message id: how often the effect was applied (the consumer's database).
    pub effects: Vec<u32>,
    /// Effects applied to a message that already had one (a property checks it every step).
    pub repeated: u32,
    /// Exactly-once: the ids already processed, in the effect's transaction.
    pub processed: Vec<bool>,
    /// Deliveries being processed (volatile): offset, id, attempt.
    pub working: Vec<(u32, u32, u32)>,
    /// What an observer counts, kept across crashes: deliveries received per id.
    pub received: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Producer(Producer),
    Broker(Broker),
    Consumer(Consumer),
}

impl QueueConfig {
    pub fn total(&self) -> usize {
        (self.producers * self.messages) as usize
    }

    pub fn nodes(&self) -> u32 {
        1 + self.producers + self.consumers
    }

    /// The producer index of node `id`, if it is one.
    pub fn producer_index(&self, id: NodeId) -> Option<u32> {
        (id >= 1 && id <= self.producers).then(|| id - 1)
    }

    pub fn consumer_index(&self, id: NodeId) -> Option<u32> {
        (id > self.producers && id < self.nodes()).then(|| id - 1 - self.producers)
    }

    pub fn consumer_node(&self, offset: u32) -> NodeId {
        1 + self.producers + offset % self.consumers
    }

    pub fn init(&self, id: NodeId) -> Role {
        let total = self.total();
        let m = self.messages as usize;
        if id == BROKER {
            let c = self.consumers as usize;
            Role::Broker(Broker {
                log: Vec::new(),
                offset_of: vec![0; total],
                cursor: (0..self.consumers).collect(),
                outstanding: vec![0; c],
            })
        } else if self.producer_index(id).is_some() {
            Role::Producer(Producer {
                committed: vec![false; m],
                sent: vec![false; m],
                ..Producer::default()
            })
        } else {
            Role::Consumer(Consumer {
                effects: vec![0; total],
                repeated: 0,
                processed: vec![false; total],
                working: Vec::new(),
                received: vec![0; total],
            })
        }
    }

    /// What survives a crash: the broker's log, a producer's sequence, committed state and
    /// outbox, a consumer's database (with the dedup table, when it is in the same
    /// transaction). Volatile work is gone; an open transaction is rolled back.
    pub fn recover(&self, crashed: &Role) -> Role {
        let mut r = crashed.clone();
        match &mut r {
            Role::Broker(_) => {}
            Role::Producer(p) => {
                if let Some(seq) = p.tx.take() {
                    p.rolled_back.push(seq);
                }
                p.unsent.clear();
                if self.outbox {
                    p.pending.iter_mut().for_each(|x| x.sent_us = None);
                } else {
                    p.pending.clear();
                }
            }
            Role::Consumer(c) => {
                c.working.clear();
                if self.dedup == Dedup::InMemory {
                    c.processed.iter_mut().for_each(|x| *x = false);
                }
            }
        }
        r
    }

    fn work(&self) -> (Duration, Duration) {
        (Duration(self.work_min_us), Duration(self.work_max_us))
    }

    pub fn on_start(&self, role: &mut Role, ctx: &Ctx, out: &mut Out<Flows>) {
        match role {
            Role::Producer(p) => {
                if p.next_seq < self.messages {
                    let every = Duration(self.every_us);
                    arm(out, QueueTimer::Produce, every, every);
                }
                self.arm_relay(p, ctx, out);
            }
            Role::Broker(b) => {
                let t = Duration(self.ack_timeout_us);
                for (o, e) in b.log.iter().enumerate() {
                    if matches!(e.status, Status::Sent { .. }) {
                        arm(out, QueueTimer::AckTimeout { offset: o as u32 }, t, t);
                    }
                }
                self.dispatch(b, ctx, out);
            }
            Role::Consumer(_) => {}
        }
    }

    pub fn on_message(
        &self,
        role: &mut Role,
        ctx: &Ctx,
        from: NodeId,
        msg: QueueMsg,
        out: &mut Out<Flows>,
    ) {
        match (role, msg) {
            (Role::Broker(b), QueueMsg::Publish { id }) => self.append(b, ctx, from, id, out),
            (Role::Broker(b), QueueMsg::Ack { offset }) => self.acked(b, ctx, offset, out),
            (Role::Producer(p), QueueMsg::PublishAck { id }) => {
                let seq = id % self.messages.max(1);
                p.pending.retain(|x| x.seq != seq);
                self.arm_relay(p, ctx, out);
            }
            (
                Role::Consumer(c),
                QueueMsg::Deliver {
                    offset,
                    id,
                    attempt,
                },
            ) => self.delivered(c, offset, id, attempt, out),
            _ => {}
        }
    }

    pub fn on_timer(&self, role: &mut Role, ctx: &Ctx, timer: QueueTimer, out: &mut Out<Flows>) {
        match (role, timer) {
            (Role::Producer(p), QueueTimer::Produce) => self.produce(p, out),
            (Role::Producer(p), QueueTimer::Commit { seq }) => self.commit(p, ctx, seq, out),
            (Role::Producer(p), QueueTimer::Send { seq }) => {
                p.unsent.retain(|s| *s != seq);
                p.pending.push(Pending { seq, sent_us: None });
                self.relay(p, ctx, out);
            }
            (Role::Producer(p), QueueTimer::Relay) => self.relay(p, ctx, out),
            (Role::Broker(b), QueueTimer::AckTimeout { offset }) => {
                self.ack_timeout(b, ctx, offset, out)
            }
            (Role::Consumer(c), QueueTimer::Process { offset, attempt }) => {
                self.processed(c, offset, attempt, out)
            }
            _ => {}
        }
    }

    // ----- producer ----------------------------------------------------------------------

    fn id_of(&self, ctx: &Ctx, seq: u32) -> u32 {
        self.producer_index(ctx.id).unwrap_or(0) * self.messages + seq
    }

    /// Begins the next state change's transaction; without the outbox its message leaves now.
    fn produce(&self, p: &mut Producer, out: &mut Out<Flows>) {
        let every = Duration(self.every_us);
        if p.tx.is_none() && p.next_seq < self.messages {
            let seq = p.next_seq;
            p.next_seq += 1;
            p.tx = Some(seq);
            let (lo, hi) = self.work();
            arm(out, QueueTimer::Commit { seq }, lo, hi);
            if !self.outbox {
                p.unsent.push(seq);
                arm(out, QueueTimer::Send { seq }, lo, hi);
            }
        }
        if p.next_seq < self.messages {
            arm(out, QueueTimer::Produce, every, every);
        }
    }

    fn commit(&self, p: &mut Producer, ctx: &Ctx, seq: u32, out: &mut Out<Flows>) {
        if p.tx != Some(seq) {
            return;
        }
        p.tx = None;
        p.committed[seq as usize] = true;
        if self.outbox {
            p.pending.push(Pending { seq, sent_us: None });
            self.arm_relay(p, ctx, out);
        }
    }

    /// Sends every pending message not sent within an ack timeout, then waits for the next.
    fn relay(&self, p: &mut Producer, ctx: &Ctx, out: &mut Out<Flows>) {
        let now = ctx.now.0;
        for x in p.pending.iter_mut() {
            if x.sent_us.is_none_or(|t| t + self.ack_timeout_us <= now) {
                x.sent_us = Some(now);
                p.sent[x.seq as usize] = true;
                let id = self.id_of(ctx, x.seq);
                send(out, BROKER, QueueMsg::Publish { id });
            }
        }
        self.arm_relay(p, ctx, out);
    }

    /// Arms the relay for the earliest pending message's next send (one never sent: soon).
    fn arm_relay(&self, p: &Producer, ctx: &Ctx, out: &mut Out<Flows>) {
        let now = ctx.now.0;
        let due = p
            .pending
            .iter()
            .map(|x| x.sent_us.map_or(now, |t| t + self.ack_timeout_us))
            .min();
        match due {
            Some(d) => {
                let wait = Duration(d.saturating_sub(now).max(1_000));
                arm(out, QueueTimer::Relay, wait, wait);
            }
            None => out.cancel_timer(FlowsTimer::Queue(QueueTimer::Relay)),
        }
    }

    // ----- broker ------------------------------------------------------------------------

    fn append(&self, b: &mut Broker, ctx: &Ctx, from: NodeId, id: u32, out: &mut Out<Flows>) {
        let Some(slot) = b.offset_of.get_mut(id as usize) else {
            return;
        };
        if *slot == 0 {
            b.log.push(Entry {
                id,
                status: Status::Ready,
                deliveries: 0,
            });
            *slot = b.log.len() as u32;
        }
        send(out, from, QueueMsg::PublishAck { id });
        self.dispatch(b, ctx, out);
    }

    /// Delivers each consumer's next messages while it has room under the prefetch limit.
    fn dispatch(&self, b: &mut Broker, ctx: &Ctx, out: &mut Out<Flows>) {
        for c in 0..self.consumers as usize {
            while b.outstanding[c] < self.prefetch && (b.cursor[c] as usize) < b.log.len() {
                let offset = b.cursor[c];
                b.cursor[c] += self.consumers;
                b.outstanding[c] += 1;
                self.deliver(b, ctx, offset, out);
            }
        }
    }

    fn deliver(&self, b: &mut Broker, ctx: &Ctx, offset: u32, out: &mut Out<Flows>) {
        let e = &mut b.log[offset as usize];
        e.status = Status::Sent { at_us: ctx.now.0 };
        e.deliveries += 1;
        let msg = QueueMsg::Deliver {
            offset,
            id: e.id,
            attempt: e.deliveries,
        };
        send(out, self.consumer_node(offset), msg);
        let t = Duration(self.ack_timeout_us);
        arm(out, QueueTimer::AckTimeout { offset }, t, t);
    }

    fn acked(&self, b: &mut Broker, ctx: &Ctx, offset: u32, out: &mut Out<Flows>) {
        self.settle(b, offset, Status::Acked, out);
        self.dispatch(b, ctx, out);
    }

    /// Ends a delivery awaiting its ack (a later ack for it changes nothing).
    fn settle(&self, b: &mut Broker, offset: u32, to: Status, out: &mut Out<Flows>) {
        let Some(e) = b.log.get_mut(offset as usize) else {
            return;
        };
        if matches!(e.status, Status::Sent { .. }) {
            e.status = to;
            b.outstanding[(offset % self.consumers) as usize] -= 1;
            out.cancel_timer(FlowsTimer::Queue(QueueTimer::AckTimeout { offset }));
        }
    }

    fn ack_timeout(&self, b: &mut Broker, ctx: &Ctx, offset: u32, out: &mut Out<Flows>) {
        if !matches!(b.log[offset as usize].status, Status::Sent { .. }) {
            return;
        }
        if self.semantics == Semantics::AtMostOnce {
            self.settle(b, offset, Status::GaveUp, out);
            self.dispatch(b, ctx, out);
        } else {
            self.deliver(b, ctx, offset, out);
        }
    }

    // ----- consumer ----------------------------------------------------------------------

    fn delivered(
        &self,
        c: &mut Consumer,
        offset: u32,
        id: u32,
        attempt: u32,
        out: &mut Out<Flows>,
    ) {
        let Some(seen) = c.received.get_mut(id as usize) else {
            return;
        };
        *seen += 1;
        match self.semantics {
            Semantics::AtMostOnce => send(out, BROKER, QueueMsg::Ack { offset }),
            Semantics::ExactlyOnce if c.processed[id as usize] => {
                send(out, BROKER, QueueMsg::Ack { offset });
                return;
            }
            _ => {}
        }
        c.working.push((offset, id, attempt));
        let (lo, hi) = self.work();
        arm(out, QueueTimer::Process { offset, attempt }, lo, hi);
    }

    /// Applies the effect (exactly-once: with its id, in one transaction, unless already there).
    fn processed(&self, c: &mut Consumer, offset: u32, attempt: u32, out: &mut Out<Flows>) {
        let Some(i) = c
            .working
            .iter()
            .position(|w| w.0 == offset && w.2 == attempt)
        else {
            return;
        };
        let (_, id, _) = c.working.remove(i);
        let id = id as usize;
        if self.semantics != Semantics::ExactlyOnce || !c.processed[id] {
            c.repeated += (c.effects[id] > 0) as u32;
            c.effects[id] += 1;
            c.processed[id] = true;
        }
        if self.semantics != Semantics::AtMostOnce {
            send(out, BROKER, QueueMsg::Ack { offset });
        }
    }
}

fn send(out: &mut Out<Flows>, to: NodeId, msg: QueueMsg) {
    out.send(to, FlowsMsg::Queue(msg));
}

fn arm(out: &mut Out<Flows>, timer: QueueTimer, min: Duration, max: Duration) {
    out.set_timer(FlowsTimer::Queue(timer), min, max);
}

impl QueueMsg {
    pub fn kind(&self) -> &'static str {
        match self {
            QueueMsg::Publish { .. } => "publish",
            QueueMsg::PublishAck { .. } => "publish ack",
            QueueMsg::Deliver { .. } => "delivery",
            QueueMsg::Ack { .. } => "delivery ack",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            QueueMsg::Publish { id } => format!("publish message {id}"),
            QueueMsg::PublishAck { id } => format!("the broker has message {id}"),
            QueueMsg::Deliver {
                offset,
                id,
                attempt,
            } => format!("deliver offset {offset} (message {id}), attempt {attempt}"),
            QueueMsg::Ack { offset } => format!("acknowledge offset {offset}"),
        }
    }

    /// The message id it carries, if any.
    pub fn message_id(&self) -> Option<u32> {
        match self {
            QueueMsg::Publish { id } | QueueMsg::Deliver { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl QueueTimer {
    pub fn name(&self) -> &'static str {
        match self {
            QueueTimer::Produce => "produce",
            QueueTimer::Commit { .. } => "commit",
            QueueTimer::Send { .. } => "send",
            QueueTimer::Relay => "relay",
            QueueTimer::Process { .. } => "processing done",
            QueueTimer::AckTimeout { .. } => "ack timeout",
        }
    }
}

/// What an observer outside the system counts over a run: the figures and the properties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages that left a producer at least once.
    pub sent: u64,
    /// State changes committed: each owes exactly one effect.
    pub committed: u64,
    /// Messages a consumer received at least once, and the receipts beyond the first.
    pub delivered: u64,
    pub duplicate_deliveries: u64,
    /// Messages whose effect was applied, and the applications beyond the first.
    pub processed: u64,
    pub duplicate_effects: u64,
    /// Committed messages with no effect that nobody holds any more.
    pub lost: u64,
    /// Messages the broker got for a state change rolled back.
    pub phantom: u64,
}

/// The queue configuration and the broker of a queue-mode world.
fn parts(w: &crate::sim::World<Flows>) -> Option<(&QueueConfig, &Broker)> {
    let q = w.proto.queue.as_deref()?;
    match &w.state(BROKER).role {
        Some(Role::Broker(b)) => Some((q, b)),
        _ => None,
    }
}

fn producer(w: &crate::sim::World<Flows>, index: u32) -> Option<&Producer> {
    match &w.state(1 + index).role {
        Some(Role::Producer(p)) => Some(p),
        _ => None,
    }
}

/// Counts every message's fate from the nodes' states and the messages in flight.
pub fn tally(w: &crate::sim::World<Flows>) -> Tally {
    let Some((q, _)) = parts(w) else {
        return Tally::default();
    };
    let mut t = Tally {
        lost: lost(w),
        phantom: phantom(w),
        ..Tally::default()
    };
    for p in (0..q.producers).filter_map(|i| producer(w, i)) {
        t.sent += p.sent.iter().filter(|s| **s).count() as u64;
        t.committed += p.committed.iter().filter(|c| **c).count() as u64;
    }
    for id in (1 + q.producers)..q.nodes().min(w.n()) {
        if let Some(Role::Consumer(c)) = &w.state(id).role {
            for (&e, &r) in c.effects.iter().zip(&c.received) {
                t.delivered += (r > 0) as u64;
                t.duplicate_deliveries += r.saturating_sub(1) as u64;
                t.processed += (e > 0) as u64;
                t.duplicate_effects += e.saturating_sub(1) as u64;
            }
        }
    }
    t
}

/// Messages the broker has for a state change that was rolled back. Cheap: a property checks
/// it after every step.
pub fn phantom(w: &crate::sim::World<Flows>) -> u64 {
    let Some((q, b)) = parts(w) else {
        return 0;
    };
    let at_broker = |id: u32| b.offset_of.get(id as usize).is_some_and(|o| *o > 0);
    (0..q.producers)
        .filter_map(|i| producer(w, i).map(|p| (i, p)))
        .flat_map(|(i, p)| p.rolled_back.iter().map(move |s| i * q.messages + s))
        .filter(|id| at_broker(*id))
        .count() as u64
}

/// Committed messages with no effect that no producer, broker, consumer or message in flight
/// holds any more. A property checks it after every step, so it looks only where a message
/// can be lost (before it reaches the broker, or once the broker is done with it) and
/// searches the holders only for those.
pub fn lost(w: &crate::sim::World<Flows>) -> u64 {
    let Some((q, b)) = parts(w) else {
        return 0;
    };
    let mut candidates = Vec::new();
    for (i, p) in (0..q.producers).filter_map(|i| producer(w, i).map(|p| (i, p))) {
        for seq in (0..p.next_seq).filter(|s| p.committed[*s as usize]) {
            let id = i * q.messages + seq;
            if b.offset_of[id as usize] == 0 {
                candidates.push((id, None));
            }
        }
    }
    for (o, e) in b.log.iter().enumerate() {
        if matches!(e.status, Status::Acked | Status::GaveUp) && committed(w, q, e.id) {
            let c = q.consumer_node(o as u32);
            if effects(w, c, e.id) == 0 {
                candidates.push((e.id, Some(c)));
            }
        }
    }
    if candidates.is_empty() {
        return 0;
    }
    let in_flight: Vec<u32> = w
        .flights_unordered()
        .filter_map(|f| match &f.wire {
            crate::sim::world::Wire::Peer(FlowsMsg::Queue(m)) => m.message_id(),
            _ => None,
        })
        .collect();
    let held = |&(id, consumer): &(u32, Option<NodeId>)| {
        in_flight.contains(&id)
            || consumer.is_some_and(|c| working(w, c, id))
            || held_by_producer(w, q, id)
    };
    candidates.iter().filter(|c| !held(c)).count() as u64
}

fn committed(w: &crate::sim::World<Flows>, q: &QueueConfig, id: u32) -> bool {
    let m = q.messages.max(1);
    producer(w, id / m).is_some_and(|p| p.committed[(id % m) as usize])
}

fn effects(w: &crate::sim::World<Flows>, node: NodeId, id: u32) -> u32 {
    match &w.state(node).role {
        Some(Role::Consumer(c)) => c.effects[id as usize],
        _ => 0,
    }
}

/// A consumer that is up and processing `id` holds it.
fn working(w: &crate::sim::World<Flows>, node: NodeId, id: u32) -> bool {
    match &w.state(node).role {
        Some(Role::Consumer(c)) => w.is_up(node) && c.working.iter().any(|x| x.1 == id),
        _ => false,
    }
}

/// Without the outbox a crashed producer's messages are gone with its memory.
fn held_by_producer(w: &crate::sim::World<Flows>, q: &QueueConfig, id: u32) -> bool {
    let m = q.messages.max(1);
    let (index, seq) = (id / m, id % m);
    let Some(p) = producer(w, index) else {
        return false;
    };
    let up = w.is_up(1 + index);
    let pending = p.pending.iter().any(|x| x.seq == seq);
    (pending && (up || q.outbox)) || (up && p.unsent.contains(&seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::process::Effect;
    use crate::sim::time::Instant;

    fn config(semantics: Semantics) -> QueueConfig {
        QueueConfig {
            semantics,
            outbox: true,
            producers: 1,
            consumers: 1,
            messages: 4,
            every_us: 100_000,
            ack_timeout_us: 300_000,
            prefetch: 2,
            work_min_us: 5_000,
            work_max_us: 20_000,
            dedup: Dedup::Durable,
        }
    }

    fn ctx(id: NodeId) -> Ctx {
        Ctx {
            id,
            n: 3,
            now: Instant(1_000),
        }
    }

    fn sent(out: &Out<Flows>) -> Vec<(NodeId, QueueMsg)> {
        out.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send {
                    to,
                    msg: FlowsMsg::Queue(m),
                } => Some((*to, m.clone())),
                _ => None,
            })
            .collect()
    }

    const CONSUMER: NodeId = 2;

    fn deliver(q: &QueueConfig, c: &mut Role, attempt: u32) -> Out<Flows> {
        let mut out = Out::default();
        let msg = QueueMsg::Deliver {
            offset: 0,
            id: 3,
            attempt,
        };
        q.on_message(c, &ctx(CONSUMER), BROKER, msg, &mut out);
        out
    }

    // At-most-once acknowledges on arrival, before the processing timer fires.
    #[test]
    fn an_at_most_once_consumer_acks_before_processing() {
        let q = config(Semantics::AtMostOnce);
        let mut c = q.init(CONSUMER);
        let out = deliver(&q, &mut c, 1);
        assert_eq!(sent(&out), vec![(BROKER, QueueMsg::Ack { offset: 0 })]);
        assert!(matches!(
            out.effects[1],
            Effect::SetTimer {
                timer: FlowsTimer::Queue(QueueTimer::Process { .. }),
                ..
            }
        ));
    }

    // At-least-once acknowledges only once the effect is applied.
    #[test]
    fn an_at_least_once_consumer_acks_after_the_effect() {
        let q = config(Semantics::AtLeastOnce);
        let mut c = q.init(CONSUMER);
        assert!(sent(&deliver(&q, &mut c, 1)).is_empty());
        let mut out = Out::default();
        let done = QueueTimer::Process {
            offset: 0,
            attempt: 1,
        };
        q.on_timer(&mut c, &ctx(CONSUMER), done, &mut out);
        assert_eq!(sent(&out), vec![(BROKER, QueueMsg::Ack { offset: 0 })]);
        let Role::Consumer(c) = c else { panic!() };
        assert_eq!(c.effects[3], 1);
    }

    // Exactly-once: a redelivery of a processed id is acknowledged and not processed again,
    // and the dedup table survives a crash.
    #[test]
    fn an_exactly_once_consumer_acks_a_redelivery_and_skips_it() {
        let q = config(Semantics::ExactlyOnce);
        let mut c = q.init(CONSUMER);
        deliver(&q, &mut c, 1);
        let done = QueueTimer::Process {
            offset: 0,
            attempt: 1,
        };
        q.on_timer(&mut c, &ctx(CONSUMER), done, &mut Out::default());
        let mut c = q.recover(&c);
        let out = deliver(&q, &mut c, 2);
        assert_eq!(
            out.effects,
            vec![Effect::Send {
                to: BROKER,
                msg: FlowsMsg::Queue(QueueMsg::Ack { offset: 0 })
            }]
        );
    }

    // A producer's retry of a message the broker has is acknowledged, not appended again.
    #[test]
    fn the_broker_appends_a_retried_publish_once() {
        let q = config(Semantics::AtLeastOnce);
        let mut b = q.init(BROKER);
        for _ in 0..2 {
            let mut out = Out::default();
            q.on_message(
                &mut b,
                &ctx(BROKER),
                1,
                QueueMsg::Publish { id: 2 },
                &mut out,
            );
            assert!(sent(&out).contains(&(1, QueueMsg::PublishAck { id: 2 })));
        }
        let Role::Broker(b) = b else { panic!() };
        assert_eq!(b.log.len(), 1);
    }

    // A crash rolls back the open transaction; the outbox's committed rows survive it, a
    // producer's unacknowledged messages in memory do not.
    #[test]
    fn a_producer_crash_rolls_back_the_open_transaction() {
        for outbox in [true, false] {
            let q = QueueConfig {
                outbox,
                ..config(Semantics::AtLeastOnce)
            };
            let mut p = q.init(1);
            if let Role::Producer(p) = &mut p {
                p.tx = Some(1);
                p.committed[0] = true;
                p.pending.push(Pending {
                    seq: 0,
                    sent_us: Some(0),
                });
            }
            let Role::Producer(p) = q.recover(&p) else {
                panic!()
            };
            assert_eq!(
                (p.tx, &p.rolled_back[..], p.committed[0]),
                (None, &[1][..], true)
            );
            assert_eq!(p.pending.len(), outbox as usize, "outbox {outbox}");
        }
    }
}
