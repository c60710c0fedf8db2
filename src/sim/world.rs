//! The world: nodes running a protocol, clients, the network, the event queue and the trace.
//!
//! Events are ordered by (time, insertion sequence). A script command due at time `t` is applied
//! after every event at or before `t`, so a command issued live at the cursor and the same
//! command replayed from a link land at exactly the same point in the run.

use super::chunked::Chunked;
use super::command::{Action, Command};
use super::net::{Endpoint, Fate, LinkParams, Network};
use super::process::{ClientRequest, Ctx, Effect, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use super::property::{PropKind, PropState, Property};
use super::queue::EventQueue;
use super::rng::{Rng, Stream};
use super::small_map::SmallMap;
use super::time::{Duration, Instant};
use super::trace::StableHasher;
use super::trace::{Counters, DropReason, OutcomeKind, RecordKind, Trace, DEFAULT_WINDOW};
use crate::sim::net::Dist;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;

/// Everything on the wire: protocol messages between nodes, and client traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Wire<M, O, R> {
    Peer(M),
    Request { request_id: u64, op: O },
    Response { request_id: u64, reply: R },
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
            Wire::Request { request_id, op } => format!("request #{request_id}: {op:?}"),
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
    /// A client gives up on an operation after this long (outcome unknown).
    pub client_timeout: Duration,
    pub trace_window: usize,
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
            trace_window: DEFAULT_WINDOW,
            history_limit: 4_096,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev<T> {
    Start { node: NodeId },
    Deliver { msg: u64 },
    Lost { msg: u64 },
    Timer { node: NodeId, timer: T, token: u64 },
    ClientWake { client: u32 },
    ClientTimeout { client: u32, op: u64 },
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

/// A client operation and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp<O, R> {
    pub id: u64,
    /// Client index (`0..clients`); its endpoint is `n + client`.
    pub client: u32,
    pub node: NodeId,
    pub op: O,
    pub invoke_us: u64,
    pub complete_us: Option<u64>,
    /// `None` while pending.
    pub outcome: Option<OutcomeKind>,
    pub reply: Option<R>,
}

#[derive(Clone, Debug)]
struct Pending<O> {
    op_id: u64,
    request_id: u64,
    op: O,
    node: NodeId,
    redirects: u32,
}

#[derive(Clone, Debug)]
struct Client<O> {
    next_node: NodeId,
    pending: Option<Pending<O>>,
    scripted: VecDeque<(NodeId, O)>,
    issued: u64,
    wake_armed: bool,
    /// The queue slot of the pending operation's timeout, cancelled when it completes.
    timeout_slot: Option<u32>,
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

/// The simulated world. Cloning it is how keyframes are made.
#[derive(Clone, Debug)]
pub struct World<P: Protocol> {
    pub proto: P,
    pub cfg: WorldConfig,
    now_us: u64,
    queue: EventQueue<Ev<P::Timer>>,
    pub nodes: Vec<Node<P>>,
    clients: Vec<Client<P::Op>>,
    pub net: Network,
    /// Keyed by message id. A hash map for speed (the hot path inserts and removes one per
    /// message); it is never iterated in an order that reaches the trace: `flights()` sorts.
    flights: HashMap<u64, Flight<P>, BuildHasherDefault<StableHasher>>,
    next_msg: u64,
    next_token: u64,
    next_op: u64,
    next_request: u64,
    rng_net: Rng,
    rng_timers: Rng,
    rng_workload: Rng,
    pub trace: Trace<WireOf<P>>,
    /// Shared in chunks with the keyframes (see [`Chunked`]).
    history: Chunked<HistoryOp<P::Op, P::Reply>>,
    props: Vec<Property<P>>,
    prop_states: Vec<PropState>,
    /// Index of the next script command to apply.
    next_cmd: usize,
    last_completed: Option<u64>,
    /// The event count when an operation last completed (see [`World::completed_by_last_step`]).
    last_completed_event: u64,
    /// Operations dropped from the front of the history (a long run).
    history_dropped: u64,
    out: Out<P>,
    /// The instant of the last event, and how many events it has had (see
    /// [`INSTANT_EVENT_BUDGET`]).
    instant_us: u64,
    instant_events: u32,
    stall: Option<Stall>,
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
                scripted: VecDeque::new(),
                issued: 0,
                wake_armed: false,
                timeout_slot: None,
            })
            .collect();
        let prop_states = props.iter().map(|p| PropState::new(p.name)).collect();
        let mut w = World {
            net: Network::new(cfg.net.clone()),
            trace: Trace::new(cfg.trace_window),
            rng_net: Rng::new(cfg.seed, Stream::Network),
            rng_timers: Rng::new(cfg.seed, Stream::Timers),
            rng_workload: Rng::new(cfg.seed, Stream::Workload),
            proto,
            cfg,
            now_us: 0,
            queue: EventQueue::default(),
            nodes,
            clients,
            flights: HashMap::default(),
            next_msg: 0,
            next_token: 0,
            next_op: 0,
            next_request: 0,
            history: Chunked::default(),
            props,
            prop_states,
            next_cmd: 0,
            last_completed: None,
            last_completed_event: u64::MAX,
            history_dropped: 0,
            out: Out::default(),
            instant_us: 0,
            instant_events: 0,
            stall: None,
        };
        for node in 0..n {
            w.schedule(0, Ev::Start { node });
        }
        for c in 0..w.cfg.clients {
            w.arm_client_wake(c);
        }
        w
    }

    // ----- reading -------------------------------------------------------------------------

    pub fn now(&self) -> Instant {
        Instant(self.now_us)
    }
    pub fn n(&self) -> u32 {
        self.cfg.n
    }
    pub fn state(&self, id: NodeId) -> &P::State {
        &self.nodes[id as usize].state
    }
    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes.get(id as usize).is_some_and(|n| n.up)
    }
    /// Messages in flight, oldest first.
    pub fn flights(&self) -> impl Iterator<Item = &Flight<P>> {
        let mut v: Vec<&Flight<P>> = self.flights.values().collect();
        super::order::sort_by_key(&mut v, |f| f.id);
        v.into_iter()
    }
    pub fn flight(&self, id: u64) -> Option<&Flight<P>> {
        self.flights.get(&id)
    }
    pub fn history(&self) -> &Chunked<HistoryOp<P::Op, P::Reply>> {
        &self.history
    }

    /// How many early operations a long run has dropped from the history.
    pub fn history_dropped(&self) -> u64 {
        self.history_dropped
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
        self.last_completed
            .and_then(|id| self.history_index(id))
            .and_then(|i| self.history.get(i))
    }
    /// The operation the last event completed, if it completed one: a property that judges
    /// each operation as it completes looks at it once, not after every later event.
    pub fn completed_by_last_step(&self) -> Option<&HistoryOp<P::Op, P::Reply>> {
        if self.last_completed_event == self.trace.counters().events {
            self.last_completed()
        } else {
            None
        }
    }
    pub fn counters(&self) -> Counters {
        self.trace.counters()
    }
    pub fn properties(&self) -> &[PropState] {
        &self.prop_states
    }
    pub fn property_defs(&self) -> &[Property<P>] {
        &self.props
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

    /// Nodes `id` can exchange messages with both ways, itself included, among those up.
    pub fn reachable_group(&self, id: NodeId) -> Vec<NodeId> {
        (0..self.cfg.n)
            .filter(|&p| self.is_up(p) && self.net.connected(id, p) && self.net.connected(p, id))
            .collect()
    }

    /// Is there a set of more than half the nodes, all up and all linked both ways?
    pub fn majority_connected(&self) -> bool {
        let need = self.cfg.n as usize / 2 + 1;
        (0..self.cfg.n).any(|id| {
            if !self.is_up(id) {
                return false;
            }
            let g = self.reachable_group(id);
            g.len() >= need
                && g.iter()
                    .all(|&a| g.iter().all(|&b| self.net.connected(a, b)))
        })
    }

    // ----- running -------------------------------------------------------------------------

    fn schedule(&mut self, at_us: u64, ev: Ev<P::Timer>) -> u32 {
        self.queue.push(at_us, ev)
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

    /// Processes exactly one event or script command. `None` when nothing is left.
    pub fn step(&mut self, script: &[Command]) -> Option<StepInfo> {
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
            self.apply_action(&cmd.action, &cmd.to_text());
        } else {
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
            self.handle(ev);
        }
        let violation = self.check_properties();
        Some(StepInfo {
            at: Instant(self.now_us),
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
        if self.stall.is_none() {
            self.now_us = self.now_us.max(t.0);
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
        let start = self.trace.counters().events;
        let mut violated = false;
        while self.next_due_us(script).is_some_and(|d| d <= t.0) {
            if self.trace.counters().events - start >= max_events {
                return (false, violated);
            }
            match self.step(script) {
                Some(info) => violated |= info.violation,
                None => break,
            }
        }
        if self.stall.is_none() {
            self.now_us = self.now_us.max(t.0);
        }
        (true, violated)
    }

    fn handle(&mut self, ev: Ev<P::Timer>) {
        match ev {
            Ev::Start { node } => {
                if self.is_up(node) {
                    self.with_node(node, |p, st, ctx, out| p.on_start(st, ctx, out));
                }
            }
            Ev::Deliver { msg } => self.deliver(msg),
            Ev::Lost { msg } => {
                if let Some(f) = self.flights.remove(&msg) {
                    self.trace.push(
                        self.now_us,
                        RecordKind::Drop {
                            msg,
                            from: f.from,
                            to: f.to,
                            reason: DropReason::Loss,
                        },
                    );
                }
            }
            Ev::Timer { node, timer, token } => {
                let n = &mut self.nodes[node as usize];
                let live = n.up && n.timers.get(&timer).is_some_and(|t| t.token == token);
                if live {
                    n.timers.remove(&timer);
                    let name = self.proto.timer_name(&timer);
                    self.trace
                        .push(self.now_us, RecordKind::Timer { node, name });
                    self.with_node(node, |p, st, ctx, out| p.on_timer(st, ctx, timer, out));
                }
            }
            Ev::ClientWake { client } => {
                self.clients[client as usize].wake_armed = false;
                self.client_wake(client);
            }
            Ev::ClientTimeout { client, op } => self.client_timeout(client, op),
        }
    }

    fn deliver(&mut self, msg: u64) {
        // A message dropped by an intervention leaves a stale event behind: nothing to do.
        let Some(f) = self.flights.remove(&msg) else {
            return;
        };
        let (from, to) = (f.from, f.to);
        if self.net.is_cut(from, to) {
            self.trace.push(
                self.now_us,
                RecordKind::Drop {
                    msg,
                    from,
                    to,
                    reason: DropReason::Cut,
                },
            );
            return;
        }
        if to < self.cfg.n && !self.is_up(to) {
            self.trace.push(
                self.now_us,
                RecordKind::Drop {
                    msg,
                    from,
                    to,
                    reason: DropReason::Crashed,
                },
            );
            return;
        }
        self.trace
            .push(self.now_us, RecordKind::Deliver { msg, from, to });
        match f.wire {
            Wire::Peer(m) => {
                self.with_node(to, |p, st, ctx, out| p.on_message(st, ctx, from, m, out))
            }
            Wire::Request { request_id, op } => {
                let req = ClientRequest {
                    client: from,
                    request_id,
                    op,
                };
                self.with_node(to, |p, st, ctx, out| p.on_client(st, ctx, req, out));
            }
            Wire::Response { request_id, reply } => {
                self.client_response(to - self.cfg.n, request_id, reply)
            }
        }
    }

    /// Runs a handler on a node and carries out its effects.
    fn with_node(&mut self, id: NodeId, f: impl FnOnce(&P, &mut P::State, &Ctx, &mut Out<P>)) {
        let ctx = Ctx {
            id,
            n: self.cfg.n,
            now: Instant(self.now_us),
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
                if to < self.cfg.n {
                    self.send(id, to, Wire::Peer(msg));
                }
            }
            Effect::SetTimer { timer, min, max } => {
                let delay = self.rng_timers.range_inclusive(min.0, max.0.max(min.0));
                let token = self.next_token;
                self.next_token += 1;
                let fire_us = self.now_us.saturating_add(delay);
                let ev = Ev::Timer {
                    node: id,
                    timer: timer.clone(),
                    token,
                };
                let slot = self.schedule(fire_us, ev);
                let armed = ArmedTimer {
                    token,
                    set_us: self.now_us,
                    fire_us,
                    slot,
                };
                if let Some(old) = self.nodes[id as usize].timers.insert(timer, armed) {
                    self.queue.cancel(old.slot);
                }
            }
            Effect::CancelTimer { timer } => {
                if let Some(old) = self.nodes[id as usize].timers.remove(&timer) {
                    self.queue.cancel(old.slot);
                }
            }
            Effect::Reply {
                client,
                request_id,
                reply,
            } => {
                self.send(id, client, Wire::Response { request_id, reply });
            }
            Effect::Note(text) => {
                self.trace
                    .push(self.now_us, RecordKind::Note { node: id, text });
            }
        }
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, wire: WireOf<P>) {
        let id = self.next_msg;
        self.next_msg += 1;
        let kind = wire.kind();
        let fate = self.net.route(
            from,
            to,
            self.now_us,
            (wire.size_bytes(), kind),
            &mut self.rng_net,
        );
        let (arrive_us, lost) = match fate {
            Fate::Deliver { at_us, .. } | Fate::Lost { at_us } => {
                (at_us, matches!(fate, Fate::Lost { .. }))
            }
            Fate::Cut => (self.now_us, false),
        };
        self.trace.push_send(
            self.now_us,
            RecordKind::Send {
                msg: id,
                from,
                to,
                kind,
                arrive_us,
                lost,
            },
            wire.clone(),
        );
        match fate {
            Fate::Cut => {
                self.trace.push(
                    self.now_us,
                    RecordKind::Drop {
                        msg: id,
                        from,
                        to,
                        reason: DropReason::Cut,
                    },
                );
            }
            Fate::Lost { at_us } => {
                self.flights.insert(
                    id,
                    Flight {
                        id,
                        from,
                        to,
                        sent_us: self.now_us,
                        arrive_us: at_us,
                        lost: true,
                        wire,
                    },
                );
                self.schedule(at_us, Ev::Lost { msg: id });
            }
            Fate::Deliver {
                at_us,
                duplicate_at_us,
            } => {
                if let Some(dup_at) = duplicate_at_us {
                    let copy = self.next_msg;
                    self.next_msg += 1;
                    self.trace
                        .push(self.now_us, RecordKind::Duplicate { msg: id, copy });
                    let f = Flight {
                        id: copy,
                        from,
                        to,
                        sent_us: self.now_us,
                        arrive_us: dup_at,
                        lost: false,
                        wire: wire.clone(),
                    };
                    self.flights.insert(copy, f);
                    self.schedule(dup_at, Ev::Deliver { msg: copy });
                }
                self.flights.insert(
                    id,
                    Flight {
                        id,
                        from,
                        to,
                        sent_us: self.now_us,
                        arrive_us: at_us,
                        lost: false,
                        wire,
                    },
                );
                self.schedule(at_us, Ev::Deliver { msg: id });
            }
        }
    }

    // ----- interventions -------------------------------------------------------------------

    fn apply_action(&mut self, action: &Action, text: &str) {
        self.trace.push(
            self.now_us,
            RecordKind::Command {
                text: text.to_string(),
            },
        );
        if apply_to_network(&mut self.net, action) {
            return;
        }
        let n = self.cfg.n;
        match action {
            Action::Crash { node } if *node < n => self.crash(*node),
            Action::Restart { node } if *node < n => self.restart(*node),
            Action::DropMessage { id } => {
                if let Some(f) = self.flights.remove(id) {
                    let r = RecordKind::Drop {
                        msg: *id,
                        from: f.from,
                        to: f.to,
                        reason: DropReason::Intervention,
                    };
                    self.trace.push(self.now_us, r);
                }
            }
            Action::ClientOp { client, node, op } => {
                // Scenario decoding has validated the text; a failure here is skipped, not fatal.
                if let (Ok(op), true) = (
                    self.proto.parse_op(op),
                    *client < self.cfg.clients && *node < n,
                ) {
                    self.clients[*client as usize]
                        .scripted
                        .push_back((*node, op));
                    if self.clients[*client as usize].pending.is_none() {
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
        self.trace.push(self.now_us, RecordKind::Crash { node });
    }

    fn cancel_timers(&mut self, node: NodeId) {
        let timers = std::mem::take(&mut self.nodes[node as usize].timers);
        for t in timers.values() {
            self.queue.cancel(t.slot);
        }
    }

    pub fn restart(&mut self, node: NodeId) {
        if self.is_up(node) {
            return;
        }
        let n = self.cfg.n;
        let fresh = self
            .proto
            .recover(node, n, &self.nodes[node as usize].state);
        let nd = &mut self.nodes[node as usize];
        nd.state = fresh;
        nd.up = true;
        self.cancel_timers(node);
        self.trace.push(self.now_us, RecordKind::Restart { node });
        self.with_node(node, |p, st, ctx, out| p.on_start(st, ctx, out));
    }

    // ----- clients -------------------------------------------------------------------------

    fn arm_client_wake(&mut self, client: u32) {
        if self.clients[client as usize].wake_armed {
            return;
        }
        let think = self.cfg.client_think.sample(&mut self.rng_workload);
        self.clients[client as usize].wake_armed = true;
        self.schedule(self.now_us.saturating_add(think), Ev::ClientWake { client });
    }

    fn client_wake(&mut self, client: u32) {
        let c = &mut self.clients[client as usize];
        if c.pending.is_some() {
            return;
        }
        let (node, op) = match c.scripted.pop_front() {
            Some(s) => s,
            None => {
                let seq = c.issued;
                let node = c.next_node;
                match self.proto.next_op(client, seq, &mut self.rng_workload) {
                    Some(op) => (node, op),
                    None => return,
                }
            }
        };
        self.invoke(client, node, op);
    }

    fn invoke(&mut self, client: u32, node: NodeId, op: P::Op) {
        let op_id = self.next_op;
        self.next_op += 1;
        let endpoint = self.cfg.n + client;
        self.trace.push(
            self.now_us,
            RecordKind::Invoke {
                op: op_id,
                client: endpoint,
                node,
            },
        );
        if self.history.len() >= self.cfg.history_limit {
            self.history_dropped += self.history.drop_first_chunk() as u64;
        }
        self.history.push(HistoryOp {
            id: op_id,
            client,
            node,
            op: op.clone(),
            invoke_us: self.now_us,
            complete_us: None,
            outcome: None,
            reply: None,
        });
        let c = &mut self.clients[client as usize];
        c.issued += 1;
        c.pending = Some(Pending {
            op_id,
            request_id: 0,
            op,
            node,
            redirects: 0,
        });
        self.send_request(client, node);
        let timeout = self.now_us.saturating_add(self.cfg.client_timeout.0);
        let slot = self.schedule(timeout, Ev::ClientTimeout { client, op: op_id });
        self.clients[client as usize].timeout_slot = Some(slot);
    }

    fn send_request(&mut self, client: u32, node: NodeId) {
        let request_id = self.next_request;
        self.next_request += 1;
        let Some(p) = self.clients[client as usize].pending.as_mut() else {
            return;
        };
        p.request_id = request_id;
        p.node = node;
        let op = p.op.clone();
        self.send(self.cfg.n + client, node, Wire::Request { request_id, op });
    }

    fn client_response(&mut self, client: u32, request_id: u64, reply: P::Reply) {
        let Some(c) = self.clients.get_mut(client as usize) else {
            return;
        };
        let Some(p) = c.pending.as_mut().filter(|p| p.request_id == request_id) else {
            return;
        };
        match self.proto.classify(&reply) {
            ReplyClass::Ok => self.complete(client, OutcomeKind::Ok, Some(reply)),
            ReplyClass::Fail => self.complete(client, OutcomeKind::Fail, Some(reply)),
            ReplyClass::Unknown => self.complete(client, OutcomeKind::Unknown, Some(reply)),
            ReplyClass::Redirect(hint) => {
                p.redirects += 1;
                if p.redirects > MAX_REDIRECTS {
                    self.complete(client, OutcomeKind::Fail, Some(reply));
                    return;
                }
                let n = self.cfg.n;
                let next = hint
                    .filter(|h| *h < n && *h != p.node)
                    .unwrap_or((p.node + 1) % n);
                c.next_node = next;
                self.send_request(client, next);
            }
        }
    }

    fn client_timeout(&mut self, client: u32, op: u64) {
        let c = &mut self.clients[client as usize];
        if c.pending.as_ref().is_some_and(|p| p.op_id == op) {
            // This event has been popped: its slot is no longer ours to cancel.
            c.timeout_slot = None;
            self.complete(client, OutcomeKind::Unknown, None);
            let n = self.cfg.n;
            let c = &mut self.clients[client as usize];
            c.next_node = self.proto.client_node(client, Some(c.next_node), n);
        }
    }

    fn complete(&mut self, client: u32, outcome: OutcomeKind, reply: Option<P::Reply>) {
        let Some(p) = self.clients[client as usize].pending.take() else {
            return;
        };
        if let Some(slot) = self.clients[client as usize].timeout_slot.take() {
            self.queue.cancel(slot);
        }
        let endpoint = self.cfg.n + client;
        self.trace.push(
            self.now_us,
            RecordKind::Complete {
                op: p.op_id,
                client: endpoint,
                outcome,
            },
        );
        self.last_completed = Some(p.op_id);
        self.last_completed_event = self.trace.counters().events;
        if let Some(h) = self
            .history_index(p.op_id)
            .and_then(|i| self.history.get_mut(i))
        {
            h.complete_us = Some(self.now_us);
            h.outcome = Some(outcome);
            h.reply = reply;
        }
        if !self.clients[client as usize].scripted.is_empty() {
            self.client_wake(client);
        } else {
            self.arm_client_wake(client);
        }
    }

    // ----- properties ----------------------------------------------------------------------

    /// Evaluates every property after a step; returns true if one became violated.
    fn check_properties(&mut self) -> bool {
        let mut violated = false;
        for i in 0..self.props.len() {
            let p = self.props[i];
            let verdict = (p.check)(self);
            let now = self.now_us;
            let st = &mut self.prop_states[i];
            let fired = match p.kind {
                PropKind::Always => st.observe_always(verdict, now),
                PropKind::Eventually { within } => st.observe_eventually(verdict, now, within.0),
            };
            if fired {
                violated = true;
                self.trace
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
            net.overrides.entry(*l).or_insert(base).apply(setting);
        }
        _ => return false,
    }
    true
}

impl<P: Protocol> World<P> {
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// A copy for a keyframe: everything but the trace window, which a replay of a window's
    /// worth of records from it refills exactly (see [`super::keyframe`]). Written out field
    /// by field because cloning the trace would copy the window this leaves out.
    pub fn snapshot(&self) -> World<P> {
        World {
            proto: self.proto.clone(),
            cfg: self.cfg.clone(),
            now_us: self.now_us,
            queue: self.queue.clone(),
            nodes: self.nodes.clone(),
            clients: self.clients.clone(),
            net: self.net.clone(),
            flights: self.flights.clone(),
            next_msg: self.next_msg,
            next_token: self.next_token,
            next_op: self.next_op,
            next_request: self.next_request,
            rng_net: self.rng_net.clone(),
            rng_timers: self.rng_timers.clone(),
            rng_workload: self.rng_workload.clone(),
            trace: self.trace.without_window(),
            history: self.history.clone(),
            props: self.props.clone(),
            prop_states: self.prop_states.clone(),
            next_cmd: self.next_cmd,
            last_completed: self.last_completed,
            last_completed_event: self.last_completed_event,
            history_dropped: self.history_dropped,
            out: Out::default(),
            instant_us: self.instant_us,
            instant_events: self.instant_events,
            stall: self.stall.clone(),
        }
    }
}
