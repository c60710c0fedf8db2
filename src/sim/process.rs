//! The contract between a protocol and the engine.
//!
//! A protocol is a pure state machine. Its configuration is `&self`; each node's mutable state
//! is a separate value. Handlers read a [`Ctx`] (own id, peers, now) and push [`Effect`]s into
//! an output buffer: send, set or cancel a timer, reply to a client, note something for the
//! UI. The engine owns delivery, timers, randomness, crashes and the clock, which is why a run
//! can be replayed, scrubbed and checked.

use super::net::Endpoint;
use super::rng::Rng;
use super::time::{Duration, Instant};
use std::fmt::Debug;
use std::hash::Hash;

/// A node's index, `0..n`.
pub type NodeId = u32;

/// What a handler may read.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub id: NodeId,
    /// Number of nodes; peers are `0..n` except `id`.
    pub n: u32,
    pub now: Instant,
}

impl Ctx {
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.n).filter(move |p| *p != self.id)
    }
    /// The smallest number of nodes that is more than half.
    pub fn majority(&self) -> usize {
        self.n as usize / 2 + 1
    }
}

/// A client request as a node sees it. Replies name the request id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientRequest<Op> {
    pub client: Endpoint,
    pub request_id: u64,
    /// The idempotency key of the logical operation: every attempt of one operation (its
    /// retries) carries the same key, and no other operation's request carries it.
    pub key: u64,
    pub op: Op,
}

/// How the client side reads a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyClass {
    /// The operation took effect; complete it with this reply.
    Ok,
    /// The operation did not take effect.
    Fail,
    /// The node gave up on the operation, which may or may not have taken effect (a write that
    /// reached some replicas but not enough of them): the client records its outcome as unknown.
    Unknown,
    /// Try another node (the hint, if the node knows the leader).
    Redirect(Option<NodeId>),
}

/// One effect a handler asks the engine to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<P: Protocol> {
    Send {
        to: NodeId,
        msg: P::Msg,
    },
    /// Arms `timer` to fire after a delay drawn uniformly from `[min, max]`. Setting a timer
    /// that is already armed re-arms it.
    SetTimer {
        timer: P::Timer,
        min: Duration,
        max: Duration,
    },
    CancelTimer {
        timer: P::Timer,
    },
    Reply {
        client: Endpoint,
        request_id: u64,
        reply: P::Reply,
    },
    /// An annotation shown in the UI ("became leader in term 4").
    Note(String),
}

/// The output buffer handlers write into.
pub struct Out<P: Protocol> {
    pub effects: Vec<Effect<P>>,
}

impl<P: Protocol> Default for Out<P> {
    fn default() -> Self {
        Out {
            effects: Vec::new(),
        }
    }
}

// The buffer is scratch space, empty between handlers: a clone is a fresh empty buffer.
impl<P: Protocol> Clone for Out<P> {
    fn clone(&self) -> Self {
        Out::default()
    }
}

impl<P: Protocol> std::fmt::Debug for Out<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Out({} effects)", self.effects.len())
    }
}

impl<P: Protocol> Out<P> {
    /// The messages the handler sent, with their destinations, in order (what handler tests
    /// look at).
    pub fn sends(&self) -> Vec<(NodeId, P::Msg)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((*to, msg.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }
    pub fn broadcast(&mut self, ctx: &Ctx, msg: P::Msg) {
        for p in ctx.peers() {
            self.send(p, msg.clone());
        }
    }
    pub fn set_timer(&mut self, timer: P::Timer, min: Duration, max: Duration) {
        self.effects.push(Effect::SetTimer { timer, min, max });
    }
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }
    pub fn reply(&mut self, req: &ClientRequest<P::Op>, reply: P::Reply) {
        self.effects.push(Effect::Reply {
            client: req.client,
            request_id: req.request_id,
            reply,
        });
    }
    pub fn note(&mut self, text: impl Into<String>) {
        self.effects.push(Effect::Note(text.into()));
    }
}

/// What the engine needs to know about a message besides its content.
pub trait MessageInfo {
    /// A short kind name used for colours, legends and counting ("vote request").
    fn kind(&self) -> &'static str;
    /// Size on the wire, for the bandwidth model.
    fn size_bytes(&self) -> u32 {
        64
    }
    /// The key fields, for hover and the inspector.
    fn summary(&self) -> String;
}

/// A node state machine. See the module documentation.
pub trait Protocol: Clone + Debug + 'static {
    type Msg: Clone + Debug + Eq + Hash + MessageInfo;
    type Timer: Clone + Debug + Eq + Ord + Hash;
    type State: Clone + Debug + Eq;
    /// A client operation.
    type Op: Clone + Debug + Eq + Hash;
    /// A node's answer to a client.
    type Reply: Clone + Debug + Eq + Hash;

    /// The state a node starts with (and the base for a restart).
    fn init(&self, id: NodeId, n: u32) -> Self::State;

    fn on_start(&self, state: &mut Self::State, ctx: &Ctx, out: &mut Out<Self>);
    fn on_message(
        &self,
        state: &mut Self::State,
        ctx: &Ctx,
        from: NodeId,
        msg: Self::Msg,
        out: &mut Out<Self>,
    );
    fn on_timer(&self, state: &mut Self::State, ctx: &Ctx, timer: Self::Timer, out: &mut Out<Self>);
    fn on_client(
        &self,
        state: &mut Self::State,
        ctx: &Ctx,
        req: ClientRequest<Self::Op>,
        out: &mut Out<Self>,
    );

    /// One of the lab's own interventions (`Lab::verbs`), carried out at this node: its name,
    /// already checked against the lab's list, and the node it was done to (`None`: every
    /// node). Default: nothing.
    fn on_verb(
        &self,
        _state: &mut Self::State,
        _ctx: &Ctx,
        _verb: &str,
        _target: Option<NodeId>,
        _out: &mut Out<Self>,
    ) {
    }

    /// The node a client sends its next operation to: at the start (`after_timeout` is
    /// `None`), and after an operation sent to `after_timeout` timed out. Default: client `c`
    /// starts at node `c mod n` and moves on to the next node after a timeout.
    fn client_node(&self, client: u32, after_timeout: Option<NodeId>, n: u32) -> NodeId {
        match after_timeout {
            None => client % n.max(1),
            Some(node) => (node + 1) % n.max(1),
        }
    }

    /// The node that carries out every verb, whichever node it names (an operator's console,
    /// such as a coordinator holding the cluster map); `None`: the node named, or every node.
    fn verb_handler(&self) -> Option<NodeId> {
        None
    }

    /// The state a node comes back with after a crash: only what the protocol declares
    /// durable survives. The default keeps nothing.
    fn recover(&self, id: NodeId, n: u32, _crashed: &Self::State) -> Self::State {
        self.init(id, n)
    }

    /// How a client reads a reply.
    fn classify(&self, _reply: &Self::Reply) -> ReplyClass {
        ReplyClass::Ok
    }

    /// The client workload (client side, not node code): the `seq`-th operation client
    /// `client` issues, drawn from the workload stream. `None`: the client only runs scripted
    /// operations.
    fn next_op(&self, _client: u32, _seq: u64, _rng: &mut Rng) -> Option<Self::Op> {
        None
    }

    /// Parses an operation typed by a user or carried in a link.
    fn parse_op(&self, _text: &str) -> Result<Self::Op, String> {
        Err("this lab takes no client operations".into())
    }

    /// A short name for a timer ("election").
    fn timer_name(&self, timer: &Self::Timer) -> &'static str;
}
