//! The world: nodes running a protocol, clients, the network, the event queue and the trace.
//!
//! Events are ordered by (time, insertion sequence). A script command due at time `t` is applied
//! after every event at or before `t`, so a command issued live at the cursor and the same
//! command replayed from a link land at exactly the same point in the run.

use super::chunked::Chunked;
use super::client::{ClientPolicy, RetryBudget, BACKLOG_MAX};
use super::command::{Action, Command};
use super::net::{Endpoint, Fate, LinkParams, Network};
use super::process::{ClientRequest, Ctx, Effect, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use super::property::{PropKind, PropState, Property};
use super::queue::EventQueue;
use super::rng::{Rng, Stream};
use super::small_map::SmallMap;
use super::time::{Duration, Instant};
use super::trace::StableHasher;
use super::trace::{
    Counters, DropReason, OutcomeKind, RecordKind, SentMessages, Trace, DEFAULT_WINDOW,
};
use crate::sim::net::Dist;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash};

/// Everything on the wire: protocol messages between nodes, and client traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire<M, O, R> {
    Peer(M),
    /// `key`: the operation's idempotency key, the same on every attempt.
    Request {
        request_id: u64,
        key: u64,
        op: O,
    },
    Response {
        request_id: u64,
        reply: R,
    },
}

// Written out as the derived hash was before requests carried their idempotency key, which
// it leaves out: the trace hash covers every message sent, and the key is the operation's
// id, already fixed by the run, so released links keep their hashes.
impl<M: Hash, O: Hash, R: Hash> Hash for Wire<M, O, R> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            Wire::Peer(m) => {
                0isize.hash(h);
                m.hash(h);
            }
            Wire::Request { request_id, op, .. } => {
                1isize.hash(h);
                request_id.hash(h);
                op.hash(h);
            }
            Wire::Response { request_id, reply } => {
                2isize.hash(h);
                request_id.hash(h);
                reply.hash(h);
            }
        }
    }
}

pub type WireOf<P> = Wire<<P as Protocol>::Msg, <P as Protocol>::Op, <P as Protocol>::Reply>;

impl<M: MessageInfo, O: std::fmt::Debug, R: std::fmt::Debug> Wire<M, O, R> {
    pub fn kind(&self) -> &'static str {
        match self {
            Wire::Peer(m) => m.kind(),
            Wire::Request { .. } => "client request",
            Wire::Response { .. } => "client reply",
        }
    }
    pub fn summary(&self) -> String {
        match self {
            Wire::Peer(m) => m.summary(),
            Wire::Request { request_id, op, .. } => format!("request #{request_id}: {op:?}"),
            Wire::Response { request_id, reply } => format!("reply to #{request_id}: {reply:?}"),
        }
    }
    fn size_bytes(&self) -> u32 {
        match self {
            Wire::Peer(m) => m.size_bytes(),
            _ => 64,
        }
    }
}

/// How the world is set up; all of it comes from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    pub n: u32,
    pub seed: u64,
    pub net: LinkParams,
    /// Number of client processes (endpoints `n..n+clients`).
    pub clients: u32,
    /// Pause between a client's operations.
    pub client_think: Dist,
    /// A client gives up on an attempt after this long: it retries, or the outcome is unknown.
    pub client_timeout: Duration,
    /// Retries and arrivals ([`super::client`]).
    pub client_policy: ClientPolicy,
    pub trace_window: usize,
    /// Whether the trace keeps the logical clocks of its events ([`super::clocks`]): off unless
    /// asked for, since they cost the engine a tenth to a fifth of its speed.
    pub logical_clocks: bool,
    /// Client history entries kept (oldest dropped first).
    pub history_limit: usize,
}

impl WorldConfig {
    pub fn new(n: u32, seed: u64) -> Self {
        WorldConfig {
            n,
            seed,
            net: LinkParams::default(),
            clients: 0,
            client_think: Dist::Constant { us: 100_000 },
            client_timeout: Duration::from_secs(1),
            client_policy: ClientPolicy::default(),
            trace_window: DEFAULT_WINDOW,
            logical_clocks: false,
            history_limit: 4_096,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Start {
        node: NodeId,
    },
    Deliver {
        msg: u64,
    },
    Lost {
        msg: u64,
    },
    /// The timer armed with `token` (the node's timers say which one it is).
    Timer {
        node: NodeId,
        token: u64,
    },
    ClientWake {
        client: u32,
    },
    ClientTimeout {
        client: u32,
        op: u64,
    },
    /// Operation `op`'s backoff is over: its next attempt goes out.
    ClientRetry {
        client: u32,
        op: u64,
    },
    /// An open-loop client's next operation arrives.
    ClientArrival {
        client: u32,
    },
}

/// An armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArmedTimer {
    pub token: u64,
    pub set_us: u64,
    pub fire_us: u64,
    /// Its event's place in the queue, to cancel it when re-armed.
    pub(super) slot: u32,
}

/// One node: its state, whether it is up, its timers.
#[derive(Clone, Debug)]
pub struct Node<P: Protocol> {
    pub state: P::State,
    pub up: bool,
    /// Armed timers by timer (a few at a time).
    pub timers: SmallMap<P::Timer, ArmedTimer>,
}

/// A message in flight.
#[derive(Clone, Debug)]
pub struct Flight<P: Protocol> {
    pub id: u64,
    pub from: Endpoint,
    pub to: Endpoint,
    pub sent_us: u64,
    pub arrive_us: u64,
    /// Lost messages vanish at `arrive_us` (half-way), shown as a drop.
    pub lost: bool,
    pub wire: WireOf<P>,
}

/// The messages in flight: kept in a vector, found by id through one map of indices whose
/// type is the same for every lab (so the hash table's code is in the download once, not once
/// per protocol). The hot path inserts and removes one per message.
#[derive(Clone, Debug)]
struct Flights<P: Protocol> {
    slots: Vec<Flight<P>>,
    index: HashMap<u64, u32, BuildHasherDefault<StableHasher>>,
}

impl<P: Protocol> Default for Flights<P> {
    fn default() -> Flights<P> {
        Flights {
            slots: Vec::new(),
            index: HashMap::default(),
        }
    }
}

impl<P: Protocol> Flights<P> {
    fn insert(&mut self, flight: Flight<P>) {
        if let Some(old) = self.index.insert(flight.id, self.slots.len() as u32) {
            // An id already in flight (never made by the engine): the newer flight replaces it.
            self.slots.swap_remove(old as usize);
            self.reindex(old as usize);
            *self.index.get_mut(&flight.id).expect("just inserted") = self.slots.len() as u32;
        }
        self.slots.push(flight);
    }

    fn get(&self, id: u64) -> Option<&Flight<P>> {
        self.index.get(&id).map(|&i| &self.slots[i as usize])
    }

    fn remove(&mut self, id: u64) -> Option<Flight<P>> {
        let i = self.index.remove(&id)? as usize;
        let flight = self.slots.swap_remove(i);
        self.reindex(i);
        Some(flight)
    }

    /// Points the index at the flight `swap_remove` moved into slot `i`, if any.
    fn reindex(&mut self, i: usize) {
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.id, i as u32);
        }
    }
}

/// A client operation and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp<O, R> {
    pub id: u64,
    /// Client index (`0..clients`); its endpoint is `n + client`.
    pub client: u32,
    pub node: NodeId,
    pub op: O,
    pub invoke_us: u64,
    /// Requests sent for it: 1, and one more for each retry.
    pub attempts: u32,
    pub complete_us: Option<u64>,
    /// `None` while pending.
    pub outcome: Option<OutcomeKind>,
    pub reply: Option<R>,
}

/// The operation a client waits on.
#[derive(Clone, Debug)]
struct Pending {
    op_id: u64,
    request_id: u64,
    node: NodeId,
    redirects: u32,
    attempts: u32,
    /// The last backoff waited (the decorrelated jitter's memory).
    backoff_us: u64,
    /// The requests of earlier attempts, whose late replies still answer the operation.
    earlier_requests: Vec<u64>,
}

/// A client's bookkeeping, whatever its operations are.
#[derive(Clone, Debug)]
struct Client {
    next_node: NodeId,
    pending: Option<Pending>,
    issued: u64,
    wake_armed: bool,
    /// The queue slot of the pending operation's timeout (or its retry's backoff), cancelled
    /// when it completes.
    timeout_slot: Option<u32>,
    budget: RetryBudget,
    /// Open-loop operations that arrived while the client was busy.
    backlog: u32,
}

/// A client's operations: the one it waits on, and those the script has queued.
#[derive(Clone, Debug)]
struct ClientOps<O> {
    pending: Option<O>,
    scripted: VecDeque<(NodeId, O)>,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepInfo {
    pub at: Instant,
    /// A property was violated by this step.
    pub violation: bool,
}

/// Redirects a client follows before it gives up on an operation.
const MAX_REDIRECTS: u32 = 8;

/// The most events one virtual instant may hold. Settings under which messages, timers and
/// clients chase each other with no time between them (zero latency, think and processing
/// times) would keep a run at one instant for ever; past this budget the run stops at that
/// instant and says why ([`World::stall`]). Labs refuse the settings they know to do this; the
/// budget is the backstop for everything else, such as a script that sets latency to zero.
pub const INSTANT_EVENT_BUDGET: u32 = 100_000;

/// Why a run stopped before its time: too many events at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    pub at_us: u64,
    pub events: u32,
}

impl Stall {
    /// The reason in a learner's words.
    pub fn reason(&self) -> String {
        format!(
            "the run cannot go on past {}: {} events happened at that one instant with no time \
             passing between them (zero latency, think or processing time lets messages and \
             timers follow each other instantly). Give one of them some time, or go back to \
             before this instant",
            super::time::format_us(self.at_us),
            self.events
        )
    }
}

/// Everything in a world that does not depend on the protocol: the clock, the event queue, the
/// network, the random streams, the trace and its counters. Its methods are compiled once for
/// every lab; a [`World`] adds the nodes, the messages and the client operations, and reads as
/// one with its core (it dereferences to it).
#[derive(Clone, Debug)]
pub struct Core {
    pub cfg: WorldConfig,
    now_us: u64,
    queue: EventQueue<Ev>,
    pub net: Network,
    clients: Vec<Client>,
    next_msg: u64,
    next_token: u64,
    next_op: u64,
    next_request: u64,
    rng_net: Rng,
    rng_timers: Rng,
    rng_workload: Rng,
    rng_retries: Rng,
    rng_arrivals: Rng,
    /// Retries sent by every client.
    retries: u64,
    /// Open-loop arrivals turned away by clients whose backlog was full.
    turned_away: u64,
    pub trace: Trace,
    prop_states: Vec<PropState>,
    /// Index of the next script command to apply.
    next_cmd: usize,
    last_completed: Option<u64>,
    /// The event count when an operation last completed (see [`World::completed_by_last_step`]).
    last_completed_event: u64,
    /// Operations dropped from the front of the history (a long run).
    history_dropped: u64,
    /// The instant of the last event, and how many events it has had (see
    /// [`INSTANT_EVENT_BUDGET`]).
    instant_us: u64,
    instant_events: u32,
    stall: Option<Stall>,
}

/// The simulated world. Cloning it is how keyframes are made.
#[derive(Clone, Debug)]
pub struct World<P: Protocol> {
    pub proto: P,
    core: Core,
    pub nodes: Vec<Node<P>>,
    client_ops: Vec<ClientOps<P::Op>>,
    /// Keyed by message id; never iterated in an order that reaches the trace: `flights()`
    /// sorts.
    flights: Flights<P>,
    /// Shared in chunks with the keyframes (see [`Chunked`]).
    history: Chunked<HistoryOp<P::Op, P::Reply>>,
    /// The messages of the sends in the trace's window.
    sent: SentMessages<WireOf<P>>,
    props: Vec<Property<P>>,
    out: Out<P>,
}

impl<P: Protocol> std::ops::Deref for World<P> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl<P: Protocol> std::ops::DerefMut for World<P> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.core
    }
}

impl<P: Protocol> World<P> {
    pub fn new(proto: P, cfg: WorldConfig, props: Vec<Property<P>>) -> Self {
        let n = cfg.n;
        let nodes = (0..n)
            .map(|id| Node {
                state: proto.init(id, n),
                up: true,
                timers: SmallMap::new(),
            })
            .collect();
        let clients = (0..cfg.clients)
            .map(|c| Client {
                next_node: proto.client_node(c, None, n.max(1)),
                pending: None,
                issued: 0,
                wake_armed: false,
                timeout_slot: None,
                budget: RetryBudget::default(),
                backlog: 0,
            })
            .collect();
        let client_ops = (0..cfg.clients)
            .map(|_| ClientOps {
                pending: None,
                scripted: VecDeque::new(),
            })
            .collect();
        let prop_states = props.iter().map(|p| PropState::new(p.name)).collect();
        let mut trace = Trace::new(cfg.trace_window);
        if cfg.logical_clocks {
            trace.keep_clocks(n.saturating_add(cfg.clients));
        }
        let core = Core {
            net: Network::new(cfg.net.clone()),
            trace,
            rng_net: Rng::new(cfg.seed, Stream::Network),
            rng_timers: Rng::new(cfg.seed, Stream::Timers),
            rng_workload: Rng::new(cfg.seed, Stream::Workload),
            rng_retries: Rng::new(cfg.seed, Stream::Retries),
            rng_arrivals: Rng::new(cfg.seed, Stream::Arrivals),
            retries: 0,
            turned_away: 0,
            cfg,
            now_us: 0,
            queue: EventQueue::default(),
            clients,
            next_msg: 0,
            next_token: 0,
            next_op: 0,
            next_request: 0,
            prop_states,
            next_cmd: 0,
            last_completed: None,
            last_completed_event: u64::MAX,
            history_dropped: 0,
            instant_us: 0,
            instant_events: 0,
            stall: None,
        };
        let mut w = World {
            proto,
            core,
            nodes,
            client_ops,
            flights: Flights::default(),
            history: Chunked::default(),
            sent: SentMessages::default(),
            props,
            out: Out::default(),
        };
        for node in 0..n {
            w.core.queue.push(0, Ev::Start { node });
        }
        for c in 0..w.cfg.clients {
            if !w.core.arm_arrival(c) {
                w.core.arm_client_wake(c);
            }
        }
        w
    }

    // ----- reading -------------------------------------------------------------------------

    pub fn state(&self, id: NodeId) -> &P::State {
        &self.nodes[id as usize].state
    }
    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes.get(id as usize).is_some_and(|n| n.up)
    }
    /// Messages in flight, in no particular order.
    pub fn flights_unordered(&self) -> impl Iterator<Item = &Flight<P>> {
        self.flights.slots.iter()
    }
    /// Messages in flight, oldest first.
    pub fn flights(&self) -> impl Iterator<Item = &Flight<P>> {
        let mut v: Vec<&Flight<P>> = self.flights.slots.iter().collect();
        super::order::sort_by_key(&mut v, |f| f.id);
        v.into_iter()
    }
    pub fn flight(&self, id: u64) -> Option<&Flight<P>> {
        self.flights.get(id)
    }
    /// The message a send still in the trace's window carried.
    pub fn sent_message(&self, id: u64) -> Option<&WireOf<P>> {
        self.sent.get(&self.core.trace, id)
    }
    pub fn history(&self) -> &Chunked<HistoryOp<P::Op, P::Reply>> {
        &self.history
    }

    /// Operation ids are consecutive and the history is in id order, so an id maps to a slot.
    fn history_index(&self, id: u64) -> Option<usize> {
        let first = self.history.first()?.id;
        id.checked_sub(first)
            .map(|i| i as usize)
            .filter(|i| *i < self.history.len())
    }

    /// The operation that completed most recently (for properties checked after every step).
    pub fn last_completed(&self) -> Option<&HistoryOp<P::Op, P::Reply>> {
        self.core
            .last_completed
            .and_then(|id| self.history_index(id))
            .and_then(|i| self.history.get(i))
    }
    /// The operation the last event completed, if it completed one: a property that judges
    /// each operation as it completes looks at it once, not after every later event.
    pub fn completed_by_last_step(&self) -> Option<&HistoryOp<P::Op, P::Reply>> {
        if self.core.last_completed_event == self.core.trace.counters().events {
            self.last_completed()
        } else {
            None
        }
    }
    pub fn property_defs(&self) -> &[Property<P>] {
        &self.props
    }

    /// Nodes `id` can exchange messages with both ways, itself included, among those up.
    pub fn reachable_group(&self, id: NodeId) -> Vec<NodeId> {
        (0..self.core.cfg.n)
            .filter(|&p| {
                self.is_up(p) && self.core.net.connected(id, p) && self.core.net.connected(p, id)
            })
            .collect()
    }

    /// Is there a set of more than half the nodes, all up and all linked both ways?
    pub fn majority_connected(&self) -> bool {
        let need = self.core.cfg.n as usize / 2 + 1;
        (0..self.core.cfg.n).any(|id| {
            if !self.is_up(id) {
                return false;
            }
            let g = self.reachable_group(id);
            g.len() >= need
                && g.iter()
                    .all(|&a| g.iter().all(|&b| self.core.net.connected(a, b)))
        })
    }

    // ----- running -------------------------------------------------------------------------

    /// Processes exactly one event or script command. `None` when nothing is left.
    pub fn step(&mut self, script: &[Command]) -> Option<StepInfo> {
        match self.core.take_next(script)? {
            Next::Command(cmd) => self.apply_action(&cmd.action, &cmd.to_text()),
            Next::Event(ev) => self.handle(ev),
        }
        let violation = self.check_properties();
        Some(StepInfo {
            at: Instant(self.core.now_us),
            violation,
        })
    }

    /// Runs every event and command due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Instant, script: &[Command]) -> bool {
        let mut violated = false;
        while self.next_due_us(script).is_some_and(|d| d <= t.0) {
            match self.step(script) {
                Some(info) => violated |= info.violation,
                None => break,
            }
        }
        // Moving the clock forward with nothing due records nothing: running to a then to b must
        // equal running straight to b, or keyframes and live play would drift from a link. A
        // stalled run stays at the instant it could not get past.
        if self.core.stall.is_none() {
            self.core.now_us = self.core.now_us.max(t.0);
        }
        violated
    }

    /// Like [`World::run_until`], but stops after `max_events` events (between two events, which
    /// may share an instant). Returns whether it reached `t`, and whether a property was
    /// violated on the way.
    pub fn run_until_within(
        &mut self,
        t: Instant,
        script: &[Command],
        max_events: u64,
    ) -> (bool, bool) {
        let start = self.core.trace.counters().events;
        let mut violated = false;
        while self.next_due_us(script).is_some_and(|d| d <= t.0) {
            if self.core.trace.counters().events - start >= max_events {
                return (false, violated);
            }
            match self.step(script) {
                Some(info) => violated |= info.violation,
                None => break,
            }
        }
        if self.core.stall.is_none() {
            self.core.now_us = self.core.now_us.max(t.0);
        }
        (true, violated)
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Start { node } => {
                if self.is_up(node) {
                    self.with_node(node, |p, st, ctx, out| p.on_start(st, ctx, out));
                }
            }
            Ev::Deliver { msg } => self.deliver(msg),
            Ev::Lost { msg } => {
                if let Some(f) = self.flights.remove(msg) {
                    self.core.record_drop(msg, f.from, f.to, DropReason::Loss);
                }
            }
            Ev::Timer { node, token } => {
                let n = &mut self.nodes[node as usize];
                let armed = n.timers.iter().find(|(_, t)| t.token == token);
                if let (true, Some((timer, _))) = (n.up, armed) {
                    let timer = timer.clone();
                    n.timers.remove(&timer);
                    let name = self.proto.timer_name(&timer);
                    self.core.record(RecordKind::Timer { node, name });
                    self.with_node(node, |p, st, ctx, out| p.on_timer(st, ctx, timer, out));
                }
            }
            Ev::ClientWake { client } => {
                self.core.clients[client as usize].wake_armed = false;
                self.client_wake(client);
            }
            Ev::ClientTimeout { client, op } => self.client_timeout(client, op),
            Ev::ClientRetry { client, op } => self.client_retry(client, op),
            Ev::ClientArrival { client } => {
                if self.core.arrive(client) {
                    self.client_wake(client);
                }
            }
        }
    }

    fn deliver(&mut self, msg: u64) {
        // A message dropped by an intervention leaves a stale event behind: nothing to do.
        let Some(f) = self.flights.remove(msg) else {
            return;
        };
        let (from, to) = (f.from, f.to);
        let to_up = to >= self.core.cfg.n || self.is_up(to);
        if !self.core.admit(msg, from, to, to_up) {
            return;
        }
        match f.wire {
            Wire::Peer(m) => {
                self.with_node(to, |p, st, ctx, out| p.on_message(st, ctx, from, m, out))
            }
            Wire::Request {
                request_id,
                key,
                op,
            } => {
                let req = ClientRequest {
                    client: from,
                    request_id,
                    key,
                    op,
                };
                self.with_node(to, |p, st, ctx, out| p.on_client(st, ctx, req, out));
            }
            Wire::Response { request_id, reply } => {
                self.client_response(to - self.core.cfg.n, request_id, reply)
            }
        }
    }

    /// Runs a handler on a node and carries out its effects.
    fn with_node(&mut self, id: NodeId, f: impl FnOnce(&P, &mut P::State, &Ctx, &mut Out<P>)) {
        let ctx = Ctx {
            id,
            n: self.core.cfg.n,
            now: Instant(self.core.now_us),
        };
        let mut out = std::mem::take(&mut self.out);
        f(
            &self.proto,
            &mut self.nodes[id as usize].state,
            &ctx,
            &mut out,
        );
        for e in out.effects.drain(..) {
            self.apply_effect(id, e);
        }
        self.out = out;
    }

    fn apply_effect(&mut self, id: NodeId, e: Effect<P>) {
        match e {
            Effect::Send { to, msg } => {
                if to < self.core.cfg.n {
                    self.send(id, to, Wire::Peer(msg));
                }
            }
            Effect::SetTimer { timer, min, max } => {
                let armed = self.core.arm_timer(id, min, max);
                if let Some(old) = self.nodes[id as usize].timers.insert(timer, armed) {
                    self.core.queue.cancel(old.slot);
                }
            }
            Effect::CancelTimer { timer } => {
                if let Some(old) = self.nodes[id as usize].timers.remove(&timer) {
                    self.core.queue.cancel(old.slot);
                }
            }
            Effect::Reply {
                client,
                request_id,
                reply,
            } => {
                self.send(id, client, Wire::Response { request_id, reply });
            }
            Effect::Note(text) => self.core.record(RecordKind::Note { node: id, text }),
        }
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, wire: WireOf<P>) {
        let (id, fate) = self.core.route(from, to, wire.size_bytes(), wire.kind());
        self.sent.push(&mut self.core.trace, id, wire.clone());
        let (copy, flight) = self.core.launch(id, from, to, fate);
        let sent_us = self.core.now_us;
        let mut keep = |id, arrive_us, lost, wire| {
            let f = Flight {
                id,
                from,
                to,
                sent_us,
                arrive_us,
                lost,
                wire,
            };
            self.flights.insert(f);
        };
        if let Some((copy, at_us)) = copy {
            keep(copy, at_us, false, wire.clone());
        }
        if let Some((at_us, lost)) = flight {
            keep(id, at_us, lost, wire);
        }
    }

    // ----- interventions -------------------------------------------------------------------

    fn apply_action(&mut self, action: &Action, text: &str) {
        if self.core.apply_to_network(action, text) {
            return;
        }
        let n = self.core.cfg.n;
        match action {
            Action::Crash { node } if *node < n => self.crash(*node),
            Action::Restart { node } if *node < n => self.restart(*node),
            Action::DropMessage { id } => {
                if let Some(f) = self.flights.remove(*id) {
                    let reason = DropReason::Intervention;
                    self.core.record_drop(*id, f.from, f.to, reason);
                }
            }
            Action::ClientOp { client, node, op } => {
                // Scenario decoding has validated the text; a failure here is skipped, not fatal.
                if let (Ok(op), true) = (
                    self.proto.parse_op(op),
                    *client < self.core.cfg.clients && *node < n,
                ) {
                    self.client_ops[*client as usize]
                        .scripted
                        .push_back((*node, op));
                    if self.core.clients[*client as usize].pending.is_none() {
                        self.client_wake(*client);
                    }
                }
            }
            Action::Lab { verb, node } => {
                let at: Vec<NodeId> = match (self.proto.verb_handler(), node) {
                    (Some(h), _) if h < n => vec![h],
                    (_, Some(id)) if *id < n => vec![*id],
                    (_, None) => (0..n).collect(),
                    _ => vec![],
                };
                let target = *node;
                for id in at {
                    if self.is_up(id) {
                        self.with_node(id, |p, st, ctx, out| p.on_verb(st, ctx, verb, target, out));
                    }
                }
            }
            _ => {}
        }
    }

    pub fn crash(&mut self, node: NodeId) {
        let nd = &mut self.nodes[node as usize];
        if !nd.up {
            return;
        }
        nd.up = false;
        self.cancel_timers(node);
        self.core.record(RecordKind::Crash { node });
    }

    fn cancel_timers(&mut self, node: NodeId) {
        let timers = std::mem::take(&mut self.nodes[node as usize].timers);
        self.core.cancel_all(&mut timers.values());
    }

    pub fn restart(&mut self, node: NodeId) {
        if self.is_up(node) {
            return;
        }
        let n = self.core.cfg.n;
        let fresh = self
            .proto
            .recover(node, n, &self.nodes[node as usize].state);
        let nd = &mut self.nodes[node as usize];
        nd.state = fresh;
        nd.up = true;
        self.cancel_timers(node);
        self.core.record(RecordKind::Restart { node });
        self.with_node(node, |p, st, ctx, out| p.on_start(st, ctx, out));
    }

    // ----- clients -------------------------------------------------------------------------

    fn client_wake(&mut self, client: u32) {
        let c = &self.core.clients[client as usize];
        if c.pending.is_some() {
            return;
        }
        let (seq, next_node) = (c.issued, c.next_node);
        let (node, op) = match self.client_ops[client as usize].scripted.pop_front() {
            Some(s) => s,
            None => match self.proto.next_op(client, seq, &mut self.core.rng_workload) {
                Some(op) => (next_node, op),
                None => return,
            },
        };
        self.invoke(client, node, op);
    }

    fn invoke(&mut self, client: u32, node: NodeId, op: P::Op) {
        let op_id = self.core.invoke(client, node);
        if self.history.len() >= self.core.cfg.history_limit {
            self.core.history_dropped += self.history.drop_first_chunk() as u64;
        }
        self.history.push(HistoryOp {
            id: op_id,
            client,
            node,
            op: op.clone(),
            invoke_us: self.core.now_us,
            attempts: 1,
            complete_us: None,
            outcome: None,
            reply: None,
        });
        self.client_ops[client as usize].pending = Some(op);
        self.send_request(client, node);
        self.core.arm_client_timeout(client, op_id);
    }

    fn send_request(&mut self, client: u32, node: NodeId) {
        let Some((request_id, key)) = self.core.next_request(client, node) else {
            return;
        };
        let Some(op) = self.client_ops[client as usize].pending.clone() else {
            return;
        };
        self.send(
            self.core.cfg.n + client,
            node,
            Wire::Request {
                request_id,
                key,
                op,
            },
        );
    }

    fn client_response(&mut self, client: u32, request_id: u64, reply: P::Reply) {
        if !self.core.awaits(client, request_id) {
            return;
        }
        let outcome = match self.proto.classify(&reply) {
            ReplyClass::Ok => OutcomeKind::Ok,
            ReplyClass::Fail => OutcomeKind::Fail,
            ReplyClass::Unknown => OutcomeKind::Unknown,
            ReplyClass::Redirect(hint) => match self.core.redirect(client, hint) {
                Some(next) => return self.send_request(client, next),
                None => OutcomeKind::Fail,
            },
        };
        self.complete(client, outcome, Some(reply));
    }

    fn client_timeout(&mut self, client: u32, op: u64) {
        if !self.core.timed_out(client, op) {
            return;
        }
        if !self.core.arm_retry(client, op) {
            self.complete(client, OutcomeKind::Unknown, None);
            let n = self.core.cfg.n;
            let c = &mut self.core.clients[client as usize];
            c.next_node = self.proto.client_node(client, Some(c.next_node), n);
        }
    }

    /// Sends the next attempt of operation `op`, whose backoff is over, to the node the
    /// protocol names after a timeout, with the same idempotency key.
    fn client_retry(&mut self, client: u32, op: u64) {
        let Some((attempts, node)) = self.core.start_retry(client, op) else {
            return;
        };
        let next = self.proto.client_node(client, Some(node), self.core.cfg.n);
        if let Some(h) = self.history_index(op).and_then(|i| self.history.get_mut(i)) {
            h.attempts = attempts;
        }
        self.send_request(client, next);
        self.core.arm_client_timeout(client, op);
    }

    fn complete(&mut self, client: u32, outcome: OutcomeKind, reply: Option<P::Reply>) {
        let Some(op_id) = self.core.finish(client, outcome) else {
            return;
        };
        let ops = &mut self.client_ops[client as usize];
        ops.pending = None;
        let scripted = !ops.scripted.is_empty();
        if let Some(h) = self
            .history_index(op_id)
            .and_then(|i| self.history.get_mut(i))
        {
            h.complete_us = Some(self.core.now_us);
            h.outcome = Some(outcome);
            h.reply = reply;
        }
        if scripted || self.core.take_backlog(client) {
            self.client_wake(client);
        } else if self.core.cfg.client_policy.arrival_rate_mhz == 0 {
            self.core.arm_client_wake(client);
        }
    }

    // ----- properties ----------------------------------------------------------------------

    /// Evaluates every property after a step; returns true if one became violated.
    fn check_properties(&mut self) -> bool {
        let mut violated = false;
        for i in 0..self.props.len() {
            let p = self.props[i];
            let verdict = (p.check)(self);
            let now = self.core.now_us;
            let st = &mut self.core.prop_states[i];
            let fired = match p.kind {
                PropKind::Always => st.observe_always(verdict, now),
                PropKind::Eventually { within } => st.observe_eventually(verdict, now, within.0),
            };
            if fired {
                violated = true;
                self.core
                    .trace
                    .push(now, RecordKind::Violation { property: p.name });
            }
        }
        violated
    }
}

/// Carries out a command that changes only the network (the same for every protocol); returns
/// false, doing nothing, for any other command.
fn apply_to_network(net: &mut Network, action: &Action) -> bool {
    match action {
        Action::Partition { groups } => net.partition(groups),
        Action::CutLink {
            from,
            to,
            both_ways,
        } => {
            net.cut.insert((*from, *to));
            if *both_ways {
                net.cut.insert((*to, *from));
            }
        }
        Action::HealLink {
            from,
            to,
            both_ways,
        } => {
            net.cut.remove(&(*from, *to));
            if *both_ways {
                net.cut.remove(&(*to, *from));
            }
        }
        Action::HealAll => net.heal_all(),
        Action::Set {
            link: None,
            setting,
        } => net.default.apply(setting),
        Action::Set {
            link: Some(l),
            setting,
        } => {
            let base = net.params(l.0, l.1).clone();
            net.overrides.get_or_insert_with(*l, || base).apply(setting);
        }
        _ => return false,
    }
    true
}

impl<P: Protocol> World<P> {
    /// A copy for a keyframe: everything but the trace window and the messages its sends
    /// carried, which a replay of a window's
    /// worth of records from it refills exactly (see [`super::keyframe`]). Written out field
    /// by field because cloning the trace would copy the window this leaves out.
    pub fn snapshot(&self) -> World<P> {
        World {
            proto: self.proto.clone(),
            core: self.core.snapshot(),
            nodes: self.nodes.clone(),
            client_ops: self.client_ops.clone(),
            flights: self.flights.clone(),
            history: self.history.clone(),
            sent: SentMessages::default(),
            props: self.props.clone(),
            out: Out::default(),
        }
    }
}

impl Core {
    /// A copy without the trace window, written out field by field because cloning the trace
    /// would copy the window this leaves out.
    fn snapshot(&self) -> Core {
        Core {
            cfg: self.cfg.clone(),
            now_us: self.now_us,
            queue: self.queue.clone(),
            net: self.net.clone(),
            clients: self.clients.clone(),
            next_msg: self.next_msg,
            next_token: self.next_token,
            next_op: self.next_op,
            next_request: self.next_request,
            rng_net: self.rng_net.clone(),
            rng_timers: self.rng_timers.clone(),
            rng_workload: self.rng_workload.clone(),
            rng_retries: self.rng_retries.clone(),
            rng_arrivals: self.rng_arrivals.clone(),
            retries: self.retries,
            turned_away: self.turned_away,
            trace: self.trace.without_window(),
            prop_states: self.prop_states.clone(),
            next_cmd: self.next_cmd,
            last_completed: self.last_completed,
            last_completed_event: self.last_completed_event,
            history_dropped: self.history_dropped,
            instant_us: self.instant_us,
            instant_events: self.instant_events,
            stall: self.stall.clone(),
        }
    }
}

/// A message copy in flight: its id and when it arrives.
type Copy = Option<(u64, u64)>;
/// A message in flight: when it arrives (or vanishes), and whether it is lost.
type InFlight = Option<(u64, bool)>;

impl Core {
    /// Records an intervention, and carries it out if it changes only the network; returns
    /// false, doing nothing more, for any other.
    fn apply_to_network(&mut self, action: &Action, text: &str) -> bool {
        let text = text.to_string();
        self.record(RecordKind::Command { text });
        apply_to_network(&mut self.net, action)
    }

    /// Whether a message arriving now reaches `to` (its link intact, `to` up): records the
    /// delivery, or the drop.
    fn admit(&mut self, msg: u64, from: Endpoint, to: Endpoint, to_up: bool) -> bool {
        let dropped = if self.net.is_cut(from, to) {
            Some(DropReason::Cut)
        } else if !to_up {
            Some(DropReason::Crashed)
        } else {
            None
        };
        match dropped {
            Some(reason) => self.record_drop(msg, from, to, reason),
            None => self.record(RecordKind::Deliver { msg, from, to }),
        }
        dropped.is_none()
    }

    fn record_drop(&mut self, msg: u64, from: Endpoint, to: Endpoint, reason: DropReason) {
        self.record(RecordKind::Drop {
            msg,
            from,
            to,
            reason,
        });
    }

    /// Cancels the events of a node's timers (a crash or a restart).
    fn cancel_all(&mut self, timers: &mut dyn Iterator<Item = &ArmedTimer>) {
        for t in timers {
            self.queue.cancel(t.slot);
        }
    }

    /// Appends a trace record at the current instant.
    fn record(&mut self, kind: RecordKind) {
        self.trace.push(self.now_us, kind);
    }

    /// Arms a timer of `node` with a delay drawn from `[min, max]` (timer stream).
    fn arm_timer(&mut self, node: NodeId, min: Duration, max: Duration) -> ArmedTimer {
        let delay = self.rng_timers.range_inclusive(min.0, max.0.max(min.0));
        let token = self.next_token;
        self.next_token += 1;
        let fire_us = self.now_us.saturating_add(delay);
        let slot = self.queue.push(fire_us, Ev::Timer { node, token });
        ArmedTimer {
            token,
            set_us: self.now_us,
            fire_us,
            slot,
        }
    }

    /// Numbers a message, draws its fate on the network and records its send; the caller adds
    /// the message to the hash next, then [`Core::launch`]es it.
    fn route(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        size: u32,
        kind: &'static str,
    ) -> (u64, Fate) {
        let id = self.next_msg;
        self.next_msg += 1;
        let fate = self
            .net
            .route(from, to, self.now_us, (size, kind), &mut self.rng_net);
        let (arrive_us, lost) = match fate {
            Fate::Deliver { at_us, .. } => (at_us, false),
            Fate::Lost { at_us } => (at_us, true),
            Fate::Cut => (self.now_us, false),
        };
        let send = RecordKind::Send {
            msg: id,
            from,
            to,
            kind,
            arrive_us,
            lost,
        };
        self.record(send);
        (id, fate)
    }

    /// Carries out a routed message's fate: a drop on a cut link, or its events (and a
    /// duplicate's). Returns the copy and the message to keep in flight.
    fn launch(&mut self, id: u64, from: Endpoint, to: Endpoint, fate: Fate) -> (Copy, InFlight) {
        match fate {
            Fate::Cut => {
                self.record_drop(id, from, to, DropReason::Cut);
                (None, None)
            }
            Fate::Lost { at_us } => {
                self.queue.push(at_us, Ev::Lost { msg: id });
                (None, Some((at_us, true)))
            }
            Fate::Deliver {
                at_us,
                duplicate_at_us,
            } => {
                let copy = duplicate_at_us.map(|dup_at| {
                    let copy = self.next_msg;
                    self.next_msg += 1;
                    self.record(RecordKind::Duplicate { msg: id, copy });
                    self.queue.push(dup_at, Ev::Deliver { msg: copy });
                    (copy, dup_at)
                });
                self.queue.push(at_us, Ev::Deliver { msg: id });
                (copy, Some((at_us, false)))
            }
        }
    }
}

/// What a step takes on.
enum Next<'a> {
    Command(&'a Command),
    Event(Ev),
}

impl Core {
    pub fn now(&self) -> Instant {
        Instant(self.now_us)
    }
    pub fn n(&self) -> u32 {
        self.cfg.n
    }
    /// How many early operations a long run has dropped from the history.
    pub fn history_dropped(&self) -> u64 {
        self.history_dropped
    }
    pub fn counters(&self) -> Counters {
        self.trace.counters()
    }
    /// Retries sent by every client so far.
    pub fn client_retries(&self) -> u64 {
        self.retries
    }
    /// Open-loop arrivals turned away so far (their client's backlog was full).
    pub fn arrivals_turned_away(&self) -> u64 {
        self.turned_away
    }
    pub fn properties(&self) -> &[PropState] {
        &self.prop_states
    }
    /// When the next event is due (ignoring the script); `None` once the run has stalled.
    pub fn next_event_us(&self) -> Option<u64> {
        self.queue.peek_time().filter(|_| self.stall.is_none())
    }
    /// Why the run stopped at one instant, if it did.
    pub fn stall(&self) -> Option<&Stall> {
        self.stall.as_ref()
    }
    pub fn next_command_index(&self) -> usize {
        self.next_cmd
    }
    /// When the next thing (event or script command) happens.
    pub fn next_due_us(&self, script: &[Command]) -> Option<u64> {
        if self.stall.is_some() {
            return None;
        }
        let cmd = script.get(self.next_cmd).map(|c| c.at_us.max(self.now_us));
        match (cmd, self.next_event_us()) {
            (Some(c), Some(e)) => Some(c.min(e)),
            (c, e) => c.or(e),
        }
    }
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Takes the next script command or event, whichever is due first, and moves the clock to
    /// it. `None` when nothing is left, or when the instant has used up its events (a stall).
    fn take_next<'a>(&mut self, script: &'a [Command]) -> Option<Next<'a>> {
        if self.stall.is_some() {
            return None;
        }
        let cmd_at = script.get(self.next_cmd).map(|c| c.at_us);
        let ev_at = self.next_event_us();
        let take_cmd = match (cmd_at, ev_at) {
            (Some(c), Some(e)) => c < e,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_cmd {
            let cmd = &script[self.next_cmd];
            self.next_cmd += 1;
            self.now_us = self.now_us.max(cmd.at_us);
            return Some(Next::Command(cmd));
        }
        if ev_at == Some(self.instant_us) && self.instant_events >= INSTANT_EVENT_BUDGET {
            self.stall = Some(Stall {
                at_us: self.instant_us,
                events: self.instant_events,
            });
            return None;
        }
        let (at_us, ev) = self.queue.pop()?;
        if at_us != self.instant_us {
            self.instant_us = at_us;
            self.instant_events = 0;
        }
        self.instant_events += 1;
        self.now_us = at_us;
        self.trace.count_event();
        Some(Next::Event(ev))
    }
}

/// The client side, whatever the operations are.
impl Core {
    fn arm_client_wake(&mut self, client: u32) {
        if self.clients[client as usize].wake_armed {
            return;
        }
        let think = self.cfg.client_think.sample(&mut self.rng_workload);
        self.clients[client as usize].wake_armed = true;
        let at_us = self.now_us.saturating_add(think);
        self.queue.push(at_us, Ev::ClientWake { client });
    }

    /// Numbers a client's new operation at `node` and records its call.
    fn invoke(&mut self, client: u32, node: NodeId) -> u64 {
        let op_id = self.next_op;
        self.next_op += 1;
        let endpoint = self.cfg.n + client;
        self.record(RecordKind::Invoke {
            op: op_id,
            client: endpoint,
            node,
        });
        let budget_ppm = self.cfg.client_policy.budget_ppm;
        let c = &mut self.clients[client as usize];
        c.issued += 1;
        if let Some(ppm) = budget_ppm {
            c.budget.deposit(ppm);
        }
        c.pending = Some(Pending {
            op_id,
            request_id: 0,
            node,
            redirects: 0,
            attempts: 1,
            backoff_us: 0,
            earlier_requests: Vec::new(),
        });
        op_id
    }

    fn arm_client_timeout(&mut self, client: u32, op: u64) {
        let timeout = self.now_us.saturating_add(self.cfg.client_timeout.0);
        let slot = self.queue.push(timeout, Ev::ClientTimeout { client, op });
        self.clients[client as usize].timeout_slot = Some(slot);
    }

    /// Numbers the request that carries a client's pending operation to `node`; with it, the
    /// operation's idempotency key (its id).
    fn next_request(&mut self, client: u32, node: NodeId) -> Option<(u64, u64)> {
        let request_id = self.next_request;
        self.next_request += 1;
        let p = self.clients[client as usize].pending.as_mut()?;
        p.request_id = request_id;
        p.node = node;
        Some((request_id, p.op_id))
    }

    /// Whether a client waits on the answer to this request (of any attempt).
    fn awaits(&self, client: u32, request_id: u64) -> bool {
        self.clients
            .get(client as usize)
            .and_then(|c| c.pending.as_ref())
            .is_some_and(|p| p.request_id == request_id || p.earlier_requests.contains(&request_id))
    }

    /// The backoff of `op` is over: counts its next attempt. Its number, and the node the last
    /// one went to; `None` if the client no longer waits on `op`.
    #[inline(never)]
    fn start_retry(&mut self, client: u32, op: u64) -> Option<(u32, NodeId)> {
        let c = &mut self.clients[client as usize];
        let p = c.pending.as_mut().filter(|p| p.op_id == op)?;
        c.timeout_slot = None;
        p.attempts += 1;
        p.earlier_requests.push(p.request_id);
        self.retries += 1;
        Some((p.attempts, p.node))
    }

    /// An open-loop operation arrives at `client`: arms the next arrival, and says whether the
    /// client is free to start this one (else it waits in the backlog).
    #[inline(never)]
    fn arrive(&mut self, client: u32) -> bool {
        self.arm_arrival(client);
        let c = &mut self.clients[client as usize];
        if c.pending.is_none() {
            return true;
        }
        if c.backlog < BACKLOG_MAX {
            c.backlog += 1;
        } else {
            self.turned_away += 1;
        }
        false
    }

    /// After an attempt of `op` timed out: arms its retry after a backoff, if the policy, the
    /// attempts left and the client's budget allow one.
    #[inline(never)]
    fn arm_retry(&mut self, client: u32, op: u64) -> bool {
        let policy = &self.cfg.client_policy;
        let c = &mut self.clients[client as usize];
        let Some(p) = c.pending.as_mut() else {
            return false;
        };
        if !policy.retries() || p.attempts >= policy.attempts_max {
            return false;
        }
        if policy.budget_ppm.is_some() && !c.budget.withdraw() {
            return false;
        }
        let prev_us = if p.attempts == 1 {
            policy.backoff_base_us
        } else {
            p.backoff_us
        };
        p.backoff_us = policy.backoff_us(p.attempts - 1, prev_us, &mut self.rng_retries);
        let at_us = self.now_us.saturating_add(p.backoff_us);
        c.timeout_slot = Some(self.queue.push(at_us, Ev::ClientRetry { client, op }));
        true
    }

    /// Arms an open-loop client's next arrival; false in a closed loop.
    fn arm_arrival(&mut self, client: u32) -> bool {
        let clients = self.cfg.clients;
        let policy = &self.cfg.client_policy;
        let Some(gap_us) = policy.arrival_gap_us(clients, &mut self.rng_arrivals) else {
            return false;
        };
        let at_us = self.now_us.saturating_add(gap_us);
        self.queue.push(at_us, Ev::ClientArrival { client });
        true
    }

    /// Takes one operation from an open-loop client's backlog, if it has one.
    fn take_backlog(&mut self, client: u32) -> bool {
        let c = &mut self.clients[client as usize];
        let had = c.backlog > 0;
        c.backlog = c.backlog.saturating_sub(1);
        had
    }

    /// Follows a redirect: the node to try next (the hint, if it names another node), or
    /// `None` when the operation has been redirected too often.
    fn redirect(&mut self, client: u32, hint: Option<NodeId>) -> Option<NodeId> {
        let n = self.cfg.n;
        let c = &mut self.clients[client as usize];
        let p = c.pending.as_mut()?;
        p.redirects += 1;
        if p.redirects > MAX_REDIRECTS {
            return None;
        }
        let next = hint
            .filter(|h| *h < n && *h != p.node)
            .unwrap_or((p.node + 1) % n);
        c.next_node = next;
        Some(next)
    }

    /// Whether operation `op`'s timeout fires on a client still waiting on it.
    fn timed_out(&mut self, client: u32, op: u64) -> bool {
        let c = &mut self.clients[client as usize];
        let waiting = c.pending.as_ref().is_some_and(|p| p.op_id == op);
        if waiting {
            // This event has been popped: its slot is no longer ours to cancel.
            c.timeout_slot = None;
        }
        waiting
    }

    /// Ends a client's pending operation with `outcome` and records it; its id, if it had one.
    fn finish(&mut self, client: u32, outcome: OutcomeKind) -> Option<u64> {
        let c = &mut self.clients[client as usize];
        let p = c.pending.take()?;
        if let Some(slot) = c.timeout_slot.take() {
            self.queue.cancel(slot);
        }
        let endpoint = self.cfg.n + client;
        self.record(RecordKind::Complete {
            op: p.op_id,
            client: endpoint,
            outcome,
        });
        self.last_completed = Some(p.op_id);
        self.last_completed_event = self.trace.counters().events;
        Some(p.op_id)
    }
}
