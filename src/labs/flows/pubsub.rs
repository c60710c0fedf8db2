//! Publish/subscribe mode: a topic of partitions, each an append-only log with offsets, and
//! consumer groups that share its partitions, the log-based broker model (Kafka's).
//!
//! Node 0 is the broker, nodes `1..=producers` the producers, then `groups` groups of
//! `consumers` consumers each (group `g`'s `i`-th is node `1 + producers + g * consumers + i`).
//!
//! - A **producer** publishes `messages` keyed messages, one every `every_us`, and sends each
//!   again until the broker acknowledges it. Message `id`'s key is `id mod KEYS`; its partition
//!   is `xxh64(key as 4 little-endian bytes, seed 0) mod partitions`, so one key's messages keep
//!   their order in one partition. The broker appends an id once (a retry is acknowledged).
//! - Every **group** gets every message (fan-out): the broker keeps, per group and partition,
//!   its owner, an epoch (one per grant) and the committed offset. Partition `p` goes to the
//!   `p mod m`-th of the group's `m` live members in node order (round-robin).
//! - A **consumer** heartbeats every third of the rebalance timeout; every third heartbeat
//!   reports the offset it has reached in each partition it holds (the broker commits it). Each heartbeat's answer
//!   is the member's assignment, with a version; the consumer applies the newest only, keeps
//!   the partitions it holds at the same epoch, starts new ones at the committed offset and
//!   drops the rest. It fetches up to `fetch_max` records of a partition at a time and
//!   processes them one by one, in offset order.
//! - **Rebalancing.** A member the broker has not heard from for the rebalance timeout is
//!   gone (a crashed consumer's new incarnation is too, at once): its partitions are free. A
//!   partition that must move from a live member is first revoked: the new owner gets it only
//!   once the old one says (by the version its heartbeat reports) it has applied an
//!   assignment without it, or a rebalance timeout after the revocation. Fetches under a
//!   stale epoch are refused.
//! - **Leases.** A consumer processes only while its lease runs: the rebalance timeout from
//!   the sending of the latest heartbeat the broker answered. The broker hears a heartbeat
//!   after it was sent, so it gives a silent member's partitions away only after that
//!   member's lease ran out: a consumer cut off from the broker stops before another takes
//!   over. What it had processed and not yet committed is processed again by the next owner
//!   (at-least-once).

use super::protocol::{Flows, FlowsMsg, FlowsTimer};
use crate::sim::process::{Ctx, NodeId, Out};
use crate::sim::time::Duration;

pub const BROKER: NodeId = 0;
/// How many distinct keys the producers' messages carry.
pub const KEYS: u32 = 12;
/// A consumer commits the offsets it has reached with every third heartbeat (about once a
/// rebalance timeout), and the final offset of a partition it gives up at once: a crash
/// leaves up to a timeout's processing uncommitted, processed again by the next owner.
pub const COMMIT_EVERY: u32 = 3;
/// How often a consumer asks for more records of a partition it has none of.
pub const POLL_US: u64 = 100_000;

/// How the broker hands a partition over. `NoRevoke` is the teaching variant: the new owner
/// gets it at once, the old one is never told to stop and its fetches are still served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handover {
    Revoke,
    NoRevoke,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PubSubConfig {
    pub producers: u32,
    pub messages: u32,
    pub every_us: u64,
    /// A producer publishes again after this long without an ack.
    pub ack_timeout_us: u64,
    pub partitions: u32,
    pub groups: u32,
    /// Consumers per group.
    pub consumers: u32,
    pub rebalance_us: u64,
    /// Records one fetch returns at most.
    pub fetch_max: u32,
    pub work_min_us: u64,
    pub work_max_us: u64,
    pub handover: Handover,
    /// Whether the broker gives a silent member's partitions away (tests switch it off to
    /// show the ownership property has teeth).
    pub expire: bool,
}

/// A partition's offset a consumer has reached (the next to process).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    pub partition: u32,
    pub epoch: u32,
    pub offset: u32,
}

/// A partition granted to a member: its epoch and the group's committed offset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    pub partition: u32,
    pub epoch: u32,
    pub committed: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PubSubMsg {
    Publish {
        id: u32,
    },
    PublishAck {
        id: u32,
    },
    Heartbeat {
        incarnation: u32,
        sent_us: u64,
        version: u32,
        positions: Vec<Position>,
    },
    Assignment {
        incarnation: u32,
        version: u32,
        /// The sending time of the latest heartbeat heard: the lease runs from it.
        heard_sent_us: u64,
        /// Whether partitions left out are taken away (the correct broker: always).
        revoke: bool,
        grants: Vec<Grant>,
    },
    Fetch {
        partition: u32,
        epoch: u32,
        from: u32,
    },
    Records {
        partition: u32,
        epoch: u32,
        from: u32,
        ids: Vec<u32>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PubSubTimer {
    Produce,
    Resend,
    Heartbeat,
    Poll,
    Process,
    Expire,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PsProducer {
    pub next_seq: u32,
    /// Published and not yet acknowledged: sequence number, when last sent.
    pub pending: Vec<(u32, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub node: NodeId,
    pub incarnation: u32,
    pub last_heard_us: u64,
    pub heard_sent_us: u64,
    /// The newest assignment version it says it has applied.
    pub version: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    pub owner: Option<NodeId>,
    pub epoch: u32,
    pub committed: u32,
    /// Being taken from its owner: the version without it, and since when.
    pub revoke: Option<(u32, u64)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub version: u32,
    /// In node order.
    pub members: Vec<Member>,
    pub parts: Vec<Part>,
    /// When a member last joined or left: a rebalance began.
    pub changed_us: u64,
}

/// The broker's state is durable; a restart gives every member a full timeout to be heard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PsBroker {
    /// Per partition, the ids by offset.
    pub logs: Vec<Vec<u32>>,
    /// Per message id: in a log.
    pub appended: Vec<bool>,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub partition: u32,
    pub epoch: u32,
    /// The next offset to process.
    pub position: u32,
    /// Fetched records from `position` on.
    pub in_hand: Vec<u32>,
}

/// What an observer records of a consumer's processing of one partition (kept over crashes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub epoch: u32,
    pub first_at_us: u64,
    pub next: u32,
    pub last_at_us: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PsConsumer {
    /// Counts restarts (durable): a new incarnation is a new member.
    pub incarnation: u32,
    pub version: u32,
    pub lease_until_us: u64,
    pub held: Vec<Held>,
    /// The record being processed: partition, epoch, offset.
    pub working: Option<(u32, u32, u32)>,
    /// Dropped partitions whose final offset the next heartbeat commits.
    pub released: Vec<Position>,
    /// Heartbeats sent since the restart: every third commits the offsets reached.
    pub beats: u32,
    /// The observer's: per partition, the latest processing (None: never).
    pub seen: Vec<Option<Seen>>,
    /// Records processed out of offset order within one grant.
    pub disorder: u32,
    /// Per message id: how often it was processed.
    pub times: Vec<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PsRole {
    Producer(PsProducer),
    Broker(PsBroker),
    Consumer(PsConsumer),
}

impl PubSubConfig {
    pub fn total(&self) -> usize {
        (self.producers * self.messages) as usize
    }

    pub fn nodes(&self) -> u32 {
        1 + self.producers + self.groups * self.consumers
    }

    pub fn producer_index(&self, id: NodeId) -> Option<u32> {
        (id >= 1 && id <= self.producers).then(|| id - 1)
    }

    /// Node `id`'s group and index in it, if it is a consumer.
    pub fn consumer_of(&self, id: NodeId) -> Option<(u32, u32)> {
        let k = id.checked_sub(1 + self.producers)?;
        (id < self.nodes()).then(|| (k / self.consumers.max(1), k % self.consumers.max(1)))
    }

    /// A consumer's name: its group's letter and its index (`A0`, `B2`).
    pub fn label(&self, id: NodeId) -> String {
        let (g, i) = self.consumer_of(id).unwrap_or((0, 0));
        format!("{}{i}", group_letter(g))
    }

    pub fn consumer_node(&self, group: u32, index: u32) -> NodeId {
        1 + self.producers + group * self.consumers + index
    }

    /// The specified placement: the key's 4 little-endian bytes, xxh64 with seed 0, mod P.
    pub fn partition_of(&self, id: u32) -> u32 {
        let key = id % KEYS;
        let h = xxhash_rust::xxh64::xxh64(&key.to_le_bytes(), 0);
        (h % self.partitions.max(1) as u64) as u32
    }

    pub fn init(&self, id: NodeId) -> PsRole {
        let p = self.partitions as usize;
        if id == BROKER {
            let group = Group {
                parts: vec![Part::default(); p],
                ..Group::default()
            };
            PsRole::Broker(PsBroker {
                logs: vec![Vec::new(); p],
                appended: vec![false; self.total()],
                groups: vec![group; self.groups as usize],
            })
        } else if self.producer_index(id).is_some() {
            PsRole::Producer(PsProducer::default())
        } else {
            PsRole::Consumer(PsConsumer {
                seen: vec![None; p],
                times: vec![0; self.total()],
                ..PsConsumer::default()
            })
        }
    }

    /// The broker's logs, groups and offsets and a producer's progress are durable; a
    /// consumer keeps only its incarnation count (and what the observer recorded).
    pub fn recover(&self, crashed: &PsRole) -> PsRole {
        match crashed {
            PsRole::Consumer(c) => PsRole::Consumer(PsConsumer {
                incarnation: c.incarnation + 1,
                seen: c.seen.clone(),
                disorder: c.disorder,
                times: c.times.clone(),
                ..PsConsumer::default()
            }),
            other => other.clone(),
        }
    }

    fn third(&self) -> Duration {
        Duration((self.rebalance_us / 3).max(1_000))
    }

    pub fn on_start(&self, role: &mut PsRole, ctx: &Ctx, out: &mut Out<Flows>) {
        match role {
            PsRole::Producer(p) => {
                if p.next_seq < self.messages {
                    let every = Duration(self.every_us);
                    arm(out, PubSubTimer::Produce, every);
                }
                if !p.pending.is_empty() {
                    arm(out, PubSubTimer::Resend, Duration(self.ack_timeout_us));
                }
            }
            PsRole::Broker(b) => {
                for m in b.groups.iter_mut().flat_map(|g| g.members.iter_mut()) {
                    m.last_heard_us = ctx.now.0;
                }
                arm(
                    out,
                    PubSubTimer::Expire,
                    Duration((self.rebalance_us / 4).max(1_000)),
                );
            }
            PsRole::Consumer(c) => {
                self.heartbeat(c, ctx, out);
                arm(out, PubSubTimer::Poll, Duration(POLL_US));
            }
        }
    }

    pub fn on_message(
        &self,
        role: &mut PsRole,
        ctx: &Ctx,
        from: NodeId,
        msg: PubSubMsg,
        out: &mut Out<Flows>,
    ) {
        match (role, msg) {
            (PsRole::Broker(b), PubSubMsg::Publish { id }) => self.append(b, from, id, out),
            (PsRole::Broker(b), m @ PubSubMsg::Heartbeat { .. }) => {
                self.heard(b, ctx, from, m, out)
            }
            (
                PsRole::Broker(b),
                PubSubMsg::Fetch {
                    partition,
                    epoch,
                    from: offset,
                },
            ) => self.fetch(b, from, partition, epoch, offset, out),
            (PsRole::Producer(p), PubSubMsg::PublishAck { id }) => {
                let seq = id % self.messages.max(1);
                p.pending.retain(|x| x.0 != seq);
            }
            (PsRole::Consumer(c), m @ PubSubMsg::Assignment { .. }) => {
                self.assigned(c, ctx, m, out)
            }
            (
                PsRole::Consumer(c),
                PubSubMsg::Records {
                    partition,
                    epoch,
                    from,
                    ids,
                },
            ) => {
                let fresh = |h: &&mut Held| {
                    (h.partition, h.epoch, h.position) == (partition, epoch, from)
                        && h.in_hand.is_empty()
                };
                if let Some(h) = c.held.iter_mut().find(fresh) {
                    h.in_hand = ids;
                }
                self.start_next(c, ctx, out);
            }
            _ => {}
        }
    }

    pub fn on_timer(&self, role: &mut PsRole, ctx: &Ctx, timer: PubSubTimer, out: &mut Out<Flows>) {
        match (role, timer) {
            (PsRole::Producer(p), PubSubTimer::Produce) => self.produce(p, ctx, out),
            (PsRole::Producer(p), PubSubTimer::Resend) => self.resend(p, ctx, out),
            (PsRole::Broker(b), PubSubTimer::Expire) => self.expire(b, ctx, out),
            (PsRole::Consumer(c), PubSubTimer::Heartbeat) => self.heartbeat(c, ctx, out),
            (PsRole::Consumer(c), PubSubTimer::Poll) => self.poll(c, out),
            (PsRole::Consumer(c), PubSubTimer::Process) => self.processed(c, ctx, out),
            _ => {}
        }
    }

    // ----- producer ----------------------------------------------------------------------

    fn produce(&self, p: &mut PsProducer, ctx: &Ctx, out: &mut Out<Flows>) {
        if p.next_seq >= self.messages {
            return;
        }
        if p.pending.is_empty() {
            arm(out, PubSubTimer::Resend, Duration(self.ack_timeout_us));
        }
        let seq = p.next_seq;
        p.next_seq += 1;
        p.pending.push((seq, ctx.now.0));
        let id = self.id_of(ctx.id, seq);
        send(out, BROKER, PubSubMsg::Publish { id });
        if p.next_seq < self.messages {
            arm(out, PubSubTimer::Produce, Duration(self.every_us));
        }
    }

    fn id_of(&self, node: NodeId, seq: u32) -> u32 {
        self.producer_index(node).unwrap_or(0) * self.messages + seq
    }

    fn resend(&self, p: &mut PsProducer, ctx: &Ctx, out: &mut Out<Flows>) {
        let now = ctx.now.0;
        for (seq, sent_us) in p.pending.iter_mut() {
            if *sent_us + self.ack_timeout_us <= now {
                *sent_us = now;
                let id = self.id_of(ctx.id, *seq);
                send(out, BROKER, PubSubMsg::Publish { id });
            }
        }
        if !p.pending.is_empty() {
            arm(out, PubSubTimer::Resend, Duration(self.ack_timeout_us));
        }
    }

    // ----- broker ------------------------------------------------------------------------

    fn append(&self, b: &mut PsBroker, from: NodeId, id: u32, out: &mut Out<Flows>) {
        let Some(done) = b.appended.get_mut(id as usize) else {
            return;
        };
        if !*done {
            *done = true;
            b.logs[self.partition_of(id) as usize].push(id);
        }
        send(out, from, PubSubMsg::PublishAck { id });
    }

    /// A heartbeat: the member is alive (or joins), its offsets are committed, a revocation
    /// it has applied is complete; the answer is its assignment.
    fn heard(&self, b: &mut PsBroker, ctx: &Ctx, from: NodeId, m: PubSubMsg, out: &mut Out<Flows>) {
        let PubSubMsg::Heartbeat {
            incarnation,
            sent_us,
            version,
            positions,
        } = m
        else {
            return;
        };
        let Some((g, _)) = self.consumer_of(from) else {
            return;
        };
        let group = &mut b.groups[g as usize];
        let now = ctx.now.0;
        match group.members.iter().position(|m| m.node == from) {
            Some(i) if group.members[i].incarnation > incarnation => return,
            Some(i) if group.members[i].incarnation == incarnation => {
                let m = &mut group.members[i];
                m.last_heard_us = now;
                m.heard_sent_us = m.heard_sent_us.max(sent_us);
                m.version = m.version.max(version);
            }
            Some(_) => {
                leave(group, from, now);
                join(group, from, incarnation, now, sent_us, version);
                out.note(format!("{} rejoined after a restart", self.label(from)));
            }
            None => {
                join(group, from, incarnation, now, sent_us, version);
                out.note(format!("{} joined the group", self.label(from)));
            }
        }
        for p in &positions {
            if let Some(part) = group.parts.get_mut(p.partition as usize) {
                if part.owner == Some(from) && part.epoch == p.epoch {
                    part.committed = part.committed.max(p.offset);
                }
            }
        }
        for part in group.parts.iter_mut().filter(|p| p.owner == Some(from)) {
            if part.revoke.is_some_and(|(v, _)| version >= v) {
                part.owner = None;
                part.revoke = None;
            }
        }
        self.rebalance(b, g, ctx, out, Some(from));
    }

    /// Gives each free partition to its round-robin owner and revokes those that must move;
    /// tells every member whose assignment changed, and `answer` in any case.
    fn rebalance(
        &self,
        b: &mut PsBroker,
        g: u32,
        ctx: &Ctx,
        out: &mut Out<Flows>,
        answer: Option<NodeId>,
    ) {
        let group = &mut b.groups[g as usize];
        let live: Vec<NodeId> = group.members.iter().map(|m| m.node).collect();
        let mut changed: Vec<NodeId> = Vec::new();
        let next = group.version + 1;
        for (p, part) in group.parts.iter_mut().enumerate() {
            let target = (!live.is_empty()).then(|| live[p % live.len()]);
            if part.revoke.is_some() || part.owner == target {
                continue;
            }
            match (part.owner, self.handover) {
                (Some(o), Handover::Revoke) => {
                    part.revoke = Some((next, ctx.now.0));
                    changed.push(o);
                }
                _ => {
                    part.owner.into_iter().for_each(|o| changed.push(o));
                    part.epoch += 1;
                    part.owner = target;
                    target.into_iter().for_each(|t| changed.push(t));
                }
            }
        }
        if !changed.is_empty() {
            group.version = next;
        }
        changed.extend(answer);
        // Told in node order, each once (no sort: the members are in node order already).
        let group = &b.groups[g as usize];
        for m in group.members.iter().filter(|m| changed.contains(&m.node)) {
            self.tell(group, m.node, out);
        }
    }

    /// Sends a member its assignment: the partitions it owns and is not losing.
    fn tell(&self, group: &Group, node: NodeId, out: &mut Out<Flows>) {
        let Some(m) = group.members.iter().find(|m| m.node == node) else {
            return;
        };
        let grants = group
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.owner == Some(node) && p.revoke.is_none())
            .map(|(i, p)| Grant {
                partition: i as u32,
                epoch: p.epoch,
                committed: p.committed,
            })
            .collect();
        let msg = PubSubMsg::Assignment {
            incarnation: m.incarnation,
            version: group.version,
            heard_sent_us: m.heard_sent_us,
            revoke: self.handover == Handover::Revoke,
            grants,
        };
        send(out, node, msg);
    }

    /// Members silent for the rebalance timeout leave; revocations that long unanswered end.
    fn expire(&self, b: &mut PsBroker, ctx: &Ctx, out: &mut Out<Flows>) {
        let now = ctx.now.0;
        let t = self.rebalance_us;
        for g in 0..self.groups {
            let group = &mut b.groups[g as usize];
            if self.expire {
                let gone: Vec<NodeId> = group
                    .members
                    .iter()
                    .filter(|m| m.last_heard_us + t <= now)
                    .map(|m| m.node)
                    .collect();
                for node in gone {
                    leave(group, node, now);
                    out.note(format!("{} left the group: no heartbeat", self.label(node)));
                }
            }
            for part in group.parts.iter_mut() {
                if part.revoke.is_some_and(|(_, since)| since + t <= now) {
                    part.owner = None;
                    part.revoke = None;
                }
            }
            self.rebalance(b, g, ctx, out, None);
        }
        arm(out, PubSubTimer::Expire, Duration((t / 4).max(1_000)));
    }

    /// Serves records to the partition's owner under its current epoch (the broken broker:
    /// to anyone).
    fn fetch(
        &self,
        b: &PsBroker,
        from: NodeId,
        partition: u32,
        epoch: u32,
        offset: u32,
        out: &mut Out<Flows>,
    ) {
        let (Some((g, _)), Some(log)) = (self.consumer_of(from), b.logs.get(partition as usize))
        else {
            return;
        };
        let part = &b.groups[g as usize].parts[partition as usize];
        let owner = part.owner == Some(from) && part.epoch == epoch;
        if !owner && self.handover == Handover::Revoke {
            return;
        }
        let start = (offset as usize).min(log.len());
        let end = (start + self.fetch_max.max(1) as usize).min(log.len());
        if start < end {
            let ids = log[start..end].to_vec();
            let msg = PubSubMsg::Records {
                partition,
                epoch,
                from: offset,
                ids,
            };
            send(out, from, msg);
        }
    }

    // ----- consumer ----------------------------------------------------------------------

    fn heartbeat(&self, c: &mut PsConsumer, ctx: &Ctx, out: &mut Out<Flows>) {
        let mut positions: Vec<Position> = std::mem::take(&mut c.released);
        if c.beats % COMMIT_EVERY == 0 {
            positions.extend(c.held.iter().map(|h| Position {
                partition: h.partition,
                epoch: h.epoch,
                offset: h.position,
            }));
        }
        c.beats = c.beats.wrapping_add(1);
        let msg = PubSubMsg::Heartbeat {
            incarnation: c.incarnation,
            sent_us: ctx.now.0,
            version: c.version,
            positions,
        };
        send(out, BROKER, msg);
        arm(out, PubSubTimer::Heartbeat, self.third());
    }

    /// Applies the newest assignment meant for this incarnation and takes its lease.
    fn assigned(&self, c: &mut PsConsumer, ctx: &Ctx, m: PubSubMsg, out: &mut Out<Flows>) {
        let PubSubMsg::Assignment {
            incarnation,
            version,
            heard_sent_us,
            revoke,
            grants,
        } = m
        else {
            return;
        };
        if incarnation != c.incarnation || version < c.version {
            return;
        }
        c.version = version;
        let listed = |h: &Held| {
            grants
                .iter()
                .any(|g| (g.partition, g.epoch) == (h.partition, h.epoch))
        };
        let before = c.held.len();
        for h in c.held.iter().filter(|h| revoke && !listed(h)) {
            c.released.push(Position {
                partition: h.partition,
                epoch: h.epoch,
                offset: h.position,
            });
        }
        c.held.retain(|h| !revoke || listed(h));
        for g in &grants {
            if !c
                .held
                .iter()
                .any(|h| (h.partition, h.epoch) == (g.partition, g.epoch))
            {
                c.held.retain(|h| h.partition != g.partition);
                let at = c.held.iter().filter(|h| h.partition < g.partition).count();
                c.held.insert(
                    at,
                    Held {
                        partition: g.partition,
                        epoch: g.epoch,
                        position: g.committed,
                        in_hand: Vec::new(),
                    },
                );
            }
        }
        c.lease_until_us = c.lease_until_us.max(heard_sent_us + self.rebalance_us);
        if c.working.is_some_and(|w| !holds(c, w.0, w.1)) {
            c.working = None;
            out.cancel_timer(FlowsTimer::PubSub(PubSubTimer::Process));
        }
        if c.held.len() < before || !c.released.is_empty() {
            self.heartbeat(c, ctx, out);
        }
        self.start_next(c, ctx, out);
    }

    fn poll(&self, c: &PsConsumer, out: &mut Out<Flows>) {
        for h in c.held.iter().filter(|h| h.in_hand.is_empty()) {
            let msg = PubSubMsg::Fetch {
                partition: h.partition,
                epoch: h.epoch,
                from: h.position,
            };
            send(out, BROKER, msg);
        }
        arm(out, PubSubTimer::Poll, Duration(POLL_US));
    }

    /// Starts on the next record in hand, taking the partitions in turn, while the lease runs.
    fn start_next(&self, c: &mut PsConsumer, ctx: &Ctx, out: &mut Out<Flows>) {
        if c.working.is_some() || ctx.now.0 >= c.lease_until_us {
            return;
        }
        let last = c.seen_last_partition();
        let ready = |h: &&Held| !h.in_hand.is_empty();
        let next = c
            .held
            .iter()
            .filter(ready)
            .find(|h| Some(h.partition) > last)
            .or_else(|| c.held.iter().find(ready));
        if let Some(h) = next {
            c.working = Some((h.partition, h.epoch, h.position));
            let (lo, hi) = (Duration(self.work_min_us), Duration(self.work_max_us));
            out.set_timer(FlowsTimer::PubSub(PubSubTimer::Process), lo, hi);
        }
    }

    /// Processes the record in hand if it is still this consumer's and the lease runs.
    fn processed(&self, c: &mut PsConsumer, ctx: &Ctx, out: &mut Out<Flows>) {
        let Some((partition, epoch, offset)) = c.working.take() else {
            return;
        };
        let now = ctx.now.0;
        let lease = now < c.lease_until_us;
        let Some(h) = c
            .held
            .iter_mut()
            .find(|h| (h.partition, h.epoch, h.position) == (partition, epoch, offset))
        else {
            return;
        };
        if !lease || h.in_hand.is_empty() {
            return;
        }
        let id = h.in_hand.remove(0);
        h.position += 1;
        c.observe(partition, epoch, offset, id, now);
        self.start_next(c, ctx, out);
    }
}

pub fn group_letter(g: u32) -> char {
    (b'A' + (g % 26) as u8) as char
}

fn holds(c: &PsConsumer, partition: u32, epoch: u32) -> bool {
    c.held
        .iter()
        .any(|h| (h.partition, h.epoch) == (partition, epoch))
}

impl PsConsumer {
    /// The partition processed last (the turn goes on from there).
    fn seen_last_partition(&self) -> Option<u32> {
        let latest = self
            .seen
            .iter()
            .enumerate()
            .filter_map(|(p, s)| s.map(|s| (s.last_at_us, p as u32)))
            .max();
        latest.map(|(_, p)| p)
    }

    /// The observer's record of one processing: out of order within a grant is disorder.
    fn observe(&mut self, partition: u32, epoch: u32, offset: u32, id: u32, now: u64) {
        let Some(slot) = self.seen.get_mut(partition as usize) else {
            return;
        };
        let s = match *slot {
            Some(s) if s.epoch == epoch => {
                self.disorder += (offset != s.next) as u32;
                Seen {
                    next: offset + 1,
                    last_at_us: now,
                    ..s
                }
            }
            Some(s) if s.epoch > epoch => {
                self.disorder += 1;
                s
            }
            _ => Seen {
                epoch,
                first_at_us: now,
                next: offset + 1,
                last_at_us: now,
            },
        };
        *slot = Some(s);
        if let Some(t) = self.times.get_mut(id as usize) {
            *t = t.saturating_add(1);
        }
    }
}

fn join(group: &mut Group, node: NodeId, incarnation: u32, now: u64, sent_us: u64, version: u32) {
    group.changed_us = now;
    let at = group.members.iter().filter(|m| m.node < node).count();
    let member = Member {
        node,
        incarnation,
        last_heard_us: now,
        heard_sent_us: sent_us,
        version,
    };
    group.members.insert(at, member);
}

/// A member leaves (or is gone): its partitions are free.
fn leave(group: &mut Group, node: NodeId, now_us: u64) {
    group.changed_us = now_us;
    group.members.retain(|m| m.node != node);
    for part in group.parts.iter_mut().filter(|p| p.owner == Some(node)) {
        part.owner = None;
        part.revoke = None;
    }
}

fn send(out: &mut Out<Flows>, to: NodeId, msg: PubSubMsg) {
    out.send(to, FlowsMsg::PubSub(msg));
}

fn arm(out: &mut Out<Flows>, timer: PubSubTimer, after: Duration) {
    out.set_timer(FlowsTimer::PubSub(timer), after, after);
}

impl PubSubMsg {
    pub fn kind(&self) -> &'static str {
        match self {
            PubSubMsg::Publish { .. } => "publish",
            PubSubMsg::PublishAck { .. } => "publish ack",
            PubSubMsg::Heartbeat { .. } => "heartbeat",
            PubSubMsg::Assignment { .. } => "assignment",
            PubSubMsg::Fetch { .. } => "fetch",
            PubSubMsg::Records { .. } => "records",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            PubSubMsg::Publish { id } => format!("publish message {id}"),
            PubSubMsg::PublishAck { id } => format!("the broker has message {id}"),
            PubSubMsg::Heartbeat {
                version, positions, ..
            } => format!(
                "heartbeat at assignment {version}, committing {}",
                positions_text(positions)
            ),
            PubSubMsg::Assignment {
                version, grants, ..
            } => {
                let parts: Vec<String> =
                    grants.iter().map(|g| format!("p{}", g.partition)).collect();
                format!("assignment {version}: {}", or_none(&parts.join(" ")))
            }
            PubSubMsg::Fetch {
                partition, from, ..
            } => format!("fetch p{partition} from offset {from}"),
            PubSubMsg::Records {
                partition,
                from,
                ids,
                ..
            } => format!(
                "p{partition} offsets {from} to {}",
                *from as usize + ids.len().max(1) - 1
            ),
        }
    }
}

fn positions_text(positions: &[Position]) -> String {
    let parts: Vec<String> = positions
        .iter()
        .map(|p| format!("p{}@{}", p.partition, p.offset))
        .collect();
    or_none(&parts.join(" "))
}

fn or_none(text: &str) -> String {
    match text {
        "" => "none".into(),
        t => t.into(),
    }
}

impl PubSubTimer {
    pub fn name(&self) -> &'static str {
        match self {
            PubSubTimer::Produce => "produce",
            PubSubTimer::Resend => "publish again",
            PubSubTimer::Heartbeat => "heartbeat",
            PubSubTimer::Poll => "poll",
            PubSubTimer::Process => "processing done",
            PubSubTimer::Expire => "session check",
        }
    }
}

// ----- what an observer sees -------------------------------------------------------------

type W = crate::sim::World<Flows>;

/// The pub/sub configuration and the broker of a pub/sub world.
pub fn parts(w: &W) -> Option<(&PubSubConfig, &PsBroker)> {
    let q = w.proto.pubsub.as_deref()?;
    match &w.state(BROKER).pubsub {
        Some(PsRole::Broker(b)) => Some((q, b)),
        _ => None,
    }
}

pub fn consumer(w: &W, node: NodeId) -> Option<&PsConsumer> {
    match &w.state(node).pubsub {
        Some(PsRole::Consumer(c)) if node < w.n() => Some(c),
        _ => None,
    }
}

/// Group `g`'s consumers, by index.
fn members<'a>(
    w: &'a W,
    q: &'a PubSubConfig,
    g: u32,
) -> impl Iterator<Item = (NodeId, &'a PsConsumer)> + 'a {
    (0..q.consumers).filter_map(move |i| {
        let node = q.consumer_node(g, i);
        consumer(w, node).map(|c| (node, c))
    })
}

/// A group's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupTally {
    /// Messages processed at least once, and processings beyond the first.
    pub consumed: u64,
    pub redeliveries: u64,
    /// Records in the logs past the group's committed offsets.
    pub lag: u64,
}

/// Published (in the broker's logs) and each group's figures.
pub fn tally(w: &W) -> (u64, Vec<GroupTally>) {
    let Some((q, b)) = parts(w) else {
        return (0, Vec::new());
    };
    let published = b.logs.iter().map(|l| l.len() as u64).sum();
    let groups = (0..q.groups).map(|g| group_tally(w, q, b, g)).collect();
    (published, groups)
}

fn group_tally(w: &W, q: &PubSubConfig, b: &PsBroker, g: u32) -> GroupTally {
    let mut times = vec![0u32; q.total()];
    for (_, c) in members(w, q, g) {
        for (t, &k) in times.iter_mut().zip(&c.times) {
            *t += k as u32;
        }
    }
    let group = &b.groups[g as usize];
    let lag = b
        .logs
        .iter()
        .zip(&group.parts)
        .map(|(l, p)| (l.len() as u64).saturating_sub(p.committed as u64))
        .sum();
    GroupTally {
        consumed: times.iter().filter(|t| **t > 0).count() as u64,
        redeliveries: times.iter().map(|t| t.saturating_sub(1) as u64).sum(),
        lag,
    }
}

/// No consumer processed a partition's records out of offset order within a grant, and none
/// processed under a grant after the partition's next grant had begun to be processed.
pub fn partition_order(w: &W) -> bool {
    let Some(q) = w.proto.pubsub.as_deref() else {
        return true;
    };
    (0..q.groups).all(|g| {
        let ordered = members(w, q, g).all(|(_, c)| c.disorder == 0);
        ordered && (0..q.partitions as usize).all(|p| one_owner_at_a_time(w, q, g, p))
    })
}

fn one_owner_at_a_time(w: &W, q: &PubSubConfig, g: u32, p: usize) -> bool {
    let seen = || members(w, q, g).filter_map(|(_, c)| c.seen.get(p).copied().flatten());
    let Some(newest) = seen().max_by_key(|s| (s.epoch, s.first_at_us)) else {
        return true;
    };
    seen().all(|s| s.epoch >= newest.epoch || s.last_at_us <= newest.first_at_us)
}

/// Whether every partition of every group with a live consumer is held by a live member the
/// broker gave it to: `None` when nothing is owed (the broker down, or no group has a live
/// consumer), and at the instant a member joins or leaves, so that the debt is owed anew
/// from each rebalance's start (a second crash during a rebalance starts another).
pub fn partitions_owned(w: &W) -> Option<bool> {
    let (q, b) = parts(w)?;
    let now = w.now().0;
    if !w.is_up(BROKER) || b.groups.iter().any(|g| g.changed_us == now) {
        return None;
    }
    let mut owed = false;
    let mut owned = true;
    for g in 0..q.groups {
        if !members(w, q, g).any(|(node, _)| w.is_up(node)) {
            continue;
        }
        owed = true;
        owned &= b.groups[g as usize]
            .parts
            .iter()
            .enumerate()
            .all(|(p, part)| {
                part.revoke.is_none()
                    && part.owner.is_some_and(|o| {
                        w.is_up(o) && consumer(w, o).is_some_and(|c| holds(c, p as u32, part.epoch))
                    })
            });
    }
    owed.then_some(owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::process::Effect;
    use crate::sim::time::Instant;

    fn config() -> PubSubConfig {
        PubSubConfig {
            producers: 1,
            messages: 4,
            every_us: 100_000,
            ack_timeout_us: 300_000,
            partitions: 2,
            groups: 1,
            consumers: 2,
            rebalance_us: 600_000,
            fetch_max: 4,
            work_min_us: 5_000,
            work_max_us: 5_000,
            handover: Handover::Revoke,
            expire: true,
        }
    }

    fn ctx(id: NodeId, now_us: u64) -> Ctx {
        Ctx {
            id,
            n: 4,
            now: Instant(now_us),
        }
    }

    fn sent(out: &Out<Flows>) -> Vec<(NodeId, PubSubMsg)> {
        out.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send {
                    to,
                    msg: FlowsMsg::PubSub(m),
                } => Some((*to, m.clone())),
                _ => None,
            })
            .collect()
    }

    fn beat(q: &PubSubConfig, b: &mut PsRole, from: NodeId, version: u32) -> Out<Flows> {
        let mut out = Out::default();
        let hb = PubSubMsg::Heartbeat {
            incarnation: 0,
            sent_us: 1_000,
            version,
            positions: Vec::new(),
        };
        q.on_message(b, &ctx(BROKER, 2_000), from, hb, &mut out);
        out
    }

    /// The partitions an assignment to `node` in `out` grants.
    fn granted(out: &Out<Flows>, node: NodeId) -> Option<Vec<(u32, u32)>> {
        sent(out).into_iter().rev().find_map(|(to, m)| match m {
            PubSubMsg::Assignment { grants, .. } if to == node => {
                Some(grants.iter().map(|g| (g.partition, g.epoch)).collect())
            }
            _ => None,
        })
    }

    // Revoke before reassign: when a second member joins, the partition that moves is first
    // taken from the first member, and granted to the second (under a new epoch) only once the
    // first reports it has applied the assignment without it.
    #[test]
    fn a_partition_moves_only_after_its_old_owner_has_let_it_go() {
        let q = config();
        let mut b = q.init(BROKER);
        assert_eq!(
            granted(&beat(&q, &mut b, 2, 0), 2),
            Some(vec![(0, 1), (1, 1)])
        );
        let out = beat(&q, &mut b, 3, 0);
        assert_eq!(
            granted(&out, 2),
            Some(vec![(0, 1)]),
            "p1 revoked from node 2"
        );
        assert_eq!(granted(&out, 3), Some(vec![]), "node 3 waits");
        let out = beat(&q, &mut b, 2, 2);
        assert_eq!(
            granted(&out, 3),
            Some(vec![(1, 2)]),
            "p1 granted under epoch 2"
        );
    }

    // Fencing: a fetch under a stale epoch, or from a consumer that does not own the
    // partition, gets no records; the owner's does.
    #[test]
    fn the_broker_serves_a_partition_to_its_owner_under_its_epoch_only() {
        let q = config();
        let mut b = q.init(BROKER);
        beat(&q, &mut b, 2, 0);
        let mut out = Out::default();
        q.on_message(
            &mut b,
            &ctx(BROKER, 3_000),
            1,
            PubSubMsg::Publish { id: 0 },
            &mut out,
        );
        let p = q.partition_of(0);
        for (from, epoch, served) in [(2, 1, true), (2, 0, false), (3, 1, false)] {
            let mut out = Out::default();
            let fetch = PubSubMsg::Fetch {
                partition: p,
                epoch,
                from: 0,
            };
            q.on_message(&mut b, &ctx(BROKER, 4_000), from, fetch, &mut out);
            assert_eq!(!sent(&out).is_empty(), served, "node {from}, epoch {epoch}");
        }
    }

    // A consumer whose lease has run out does not process the record in hand: another may
    // own the partition by now.
    #[test]
    fn a_consumer_without_a_lease_processes_nothing() {
        let q = config();
        let mut role = q.init(2);
        let PsRole::Consumer(c) = &mut role else {
            panic!()
        };
        c.held.push(Held {
            partition: 0,
            epoch: 1,
            position: 0,
            in_hand: vec![3],
        });
        c.lease_until_us = 10_000;
        for (now_us, processed) in [(10_000, 0), (9_999, 1)] {
            let mut role = role.clone();
            if let PsRole::Consumer(c) = &mut role {
                c.working = Some((0, 1, 0));
            }
            let timer = PubSubTimer::Process;
            q.on_timer(&mut role, &ctx(2, now_us), timer, &mut Out::default());
            let PsRole::Consumer(c) = &role else { panic!() };
            assert_eq!(
                (c.held[0].position, c.times[3]),
                (processed, processed as u16)
            );
        }
    }
}
