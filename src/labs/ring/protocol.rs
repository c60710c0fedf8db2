//! A partitioned read service: clients send reads for keys to a coordinator (node 0), which
//! holds the cluster map and forwards each read to the key's owner over the network. A read
//! that gets no answer within the forward timeout goes to the next server of the key's
//! preference list and counts as a fallback; when the list is used up the read fails.
//!
//! The cluster map changes by the lab's verbs (the operator's console is the coordinator):
//! servers join from the spares and leave, weights change, the hot key is salted into
//! sub-keys. Each change recomputes where every key lives and counts the keys that moved,
//! beside the ideal and what `mod-n` would have moved on the same keys.

use super::hash;
use super::placement::{ideal_fraction, Algorithm, Member, Placement, Setup};
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallMap;
use crate::sim::time::Duration;
use std::sync::Arc;

/// The coordinator's node.
pub const COORDINATOR: NodeId = 0;
/// The heaviest weight a server can be given.
pub const MAX_WEIGHT: u32 = 8;

/// Which keys clients read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyDist {
    Uniform,
    /// Zipf with this exponent (thousandths): key `k0` the hottest, `k1` next, ...
    Zipf {
        exponent_milli: u32,
    },
}

/// Cumulative integer weights of the keys (Zipf), shared by every copy of the protocol.
#[derive(Clone, PartialEq, Eq)]
pub struct Cdf(pub Arc<Vec<u64>>);

impl std::fmt::Debug for Cdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cdf({} keys)", self.0.len())
    }
}

impl Cdf {
    /// Zipf weights `1 / (rank + 1)^s`, scaled to integers so sampling is exact everywhere.
    pub fn zipf(keys: u32, exponent_milli: u32) -> Cdf {
        let s = exponent_milli as f64 / 1000.0;
        let mut total = 0u64;
        let cdf = (0..keys)
            .map(|r| {
                total += (1e12 / libm::pow(r as f64 + 1.0, s)).max(1.0) as u64;
                total
            })
            .collect();
        Cdf(Arc::new(cdf))
    }

    /// The key a uniform draw below the total picks.
    pub fn pick(&self, r: u64) -> u32 {
        self.0.partition_point(|&c| c <= r) as u32
    }

    pub fn total(&self) -> u64 {
        self.0.last().copied().unwrap_or(0)
    }

    /// Key `k`'s share of the requests.
    pub fn share(&self, k: u32) -> f64 {
        let c = &self.0;
        let below = if k == 0 { 0 } else { c[k as usize - 1] };
        (c[k as usize] - below) as f64 / self.total().max(1) as f64
    }
}

/// A deliberately broken coordinator (the lab's `variant`), for the hunt to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A read whose owner does not answer falls back to the servers numbered after the owner,
    /// not to the key's next servers clockwise on the ring (its replicas).
    FallbackByNumber,
}

/// The lab's configuration.
#[derive(Clone, Debug)]
pub struct RingLab {
    pub setup: Setup,
    /// Servers in the ring at the start: S1..=Sservers.
    pub servers: u32,
    /// Servers standing by to join: the ones after them.
    pub spares: u32,
    /// Replicas per key: the length of preference lists.
    pub rf: u32,
    pub keys: u32,
    pub dist: KeyDist,
    pub cdf: Option<Cdf>,
    pub forward_timeout_us: u64,
    /// How many sub-keys salting splits the hot key into.
    pub salt_ways: u32,
    pub clients: u32,
    /// Draw the same keys under mod-N inside the ring.
    pub compare: bool,
    pub bug: Option<Bug>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RingMsg {
    /// The coordinator asks a server for a key.
    Read { fwd: u64, key: u64 },
    /// The server's answer.
    Value { fwd: u64, key: u64 },
}

impl MessageInfo for RingMsg {
    fn kind(&self) -> &'static str {
        match self {
            RingMsg::Read { .. } => "read",
            RingMsg::Value { .. } => "value",
        }
    }
    fn summary(&self) -> String {
        match self {
            RingMsg::Read { fwd, key } => format!("read {} (forward {fwd})", key_name(*key)),
            RingMsg::Value { fwd, key } => format!("value of {} (forward {fwd})", key_name(*key)),
        }
    }
}

/// A client's read of key `key`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    pub key: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// Served by `server`; `fallback` if not by the key's owner.
    Value {
        key: u32,
        server: NodeId,
        fallback: bool,
    },
    /// No server of the preference list answered.
    Unavailable { key: u32 },
    /// A server asked directly: ask the coordinator.
    AskCoordinator { key: u32 },
}

/// The coordinator's wait for a forwarded read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ForwardTimer(pub u64);

/// A key's id: `k` for key k; a salted sub-key j of key k is `(j + 1) << 32 | k`.
pub fn sub_key(key: u32, j: u32) -> u64 {
    ((j as u64 + 1) << 32) | key as u64
}

/// `k17`, or `k0#3` for a sub-key.
pub fn key_name(id: u64) -> String {
    match id >> 32 {
        0 => format!("k{id}"),
        j => format!("k{}#{}", id & 0xffff_ffff, j - 1),
    }
}

/// A change of the cluster map and what it moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapChange {
    pub at_us: u64,
    /// `S11 joined`, `S3 left`, `S2 weight 3`, `k0 salted into 8`.
    pub what: String,
    /// Keys (of the lab's key space) whose owner changed.
    pub moved: u64,
    /// What the least movement would be, in parts per million of the keys.
    pub ideal_ppm: u64,
    /// What `mod-n` would have moved on the same keys for the same change.
    pub moved_mod_n: u64,
}

/// A read forwarded and not yet answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub req: ClientRequest<Op>,
    pub key: u64,
    /// The key's preference list, and how far down it the read has gone.
    pub list: Vec<NodeId>,
    pub tried: usize,
}

/// The coordinator: the cluster map and the reads in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coordinator {
    pub members: Vec<Member>,
    pub placement: Arc<Placement>,
    /// The owner of each key (`0..keys`, then the hot key's sub-keys when salted).
    pub owners: Arc<Vec<u32>>,
    /// How many of the keys `0..keys` each server owns, by server id.
    pub keys_by_server: Arc<Vec<u64>>,
    /// Reads each server answered since the map last changed, by server id: the load the
    /// current placement puts on it.
    pub reads_since_change: Vec<u64>,
    /// The owners and members before the last change (for drawing the moves).
    pub before: Option<Arc<Vec<u32>>>,
    pub before_members: Vec<Member>,
    /// Every server that has been in the ring, in id order.
    pub ever_members: Vec<u32>,
    pub changes: Vec<MapChange>,
    /// The hot key's sub-keys, when salted.
    pub salted: u32,
    pub pending: SmallMap<u64, Forward>,
    pub next_fwd: u64,
    pub forwarded: u64,
    pub fallbacks: u64,
    pub unavailable: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RingState {
    Coordinator(Box<Coordinator>),
    Server { served: u64 },
}

impl Coordinator {
    /// Keys per member, in member order.
    pub fn member_loads(&self) -> Vec<u64> {
        self.members
            .iter()
            .map(|m| self.keys_by_server[m.id as usize])
            .collect()
    }
}

impl RingState {
    pub fn coordinator(&self) -> Option<&Coordinator> {
        match self {
            RingState::Coordinator(c) => Some(c),
            RingState::Server { .. } => None,
        }
    }

    pub fn served(&self) -> u64 {
        match self {
            RingState::Server { served } => *served,
            RingState::Coordinator(_) => 0,
        }
    }
}

impl RingLab {
    /// Every server the world has room for: S1 to S(servers + spares).
    pub fn capacity(&self) -> u32 {
        self.servers + self.spares
    }

    /// The key ids of the key space with `salted` sub-keys of the hot key.
    pub fn key_ids(&self, salted: u32) -> Vec<u64> {
        let mut ids: Vec<u64> = (0..self.keys as u64).collect();
        ids.extend((0..salted).map(|j| sub_key(0, j)));
        ids
    }

    pub fn placement(&self, members: &[Member]) -> Placement {
        Placement::new(self.setup, members)
    }

    /// Where every key lives under `p`.
    pub fn owners(&self, p: &Placement, salted: u32) -> Vec<u32> {
        let ids = self.key_ids(salted);
        let salt = self.setup.salt;
        p.assign(ids.len() as u64, &|i| hash::key(salt, ids[i as usize]))
    }

    /// Keys `0..keys` per server id.
    fn count_keys(&self, owners: &[u32]) -> Vec<u64> {
        let mut by_id = vec![0u64; self.capacity() as usize + 1];
        for &o in &owners[..self.keys as usize] {
            by_id[o as usize] += 1;
        }
        by_id
    }

    fn first_map(&self) -> Coordinator {
        let members: Vec<Member> = (1..=self.servers)
            .map(|id| Member { id, weight: 1 })
            .collect();
        let placement = self.placement(&members);
        let owners = self.owners(&placement, 0);
        Coordinator {
            members,
            placement: Arc::new(placement),
            keys_by_server: Arc::new(self.count_keys(&owners)),
            reads_since_change: vec![0; self.capacity() as usize + 1],
            owners: Arc::new(owners),
            before: None,
            before_members: Vec::new(),
            ever_members: (1..=self.servers).collect(),
            changes: Vec::new(),
            salted: 0,
            pending: SmallMap::new(),
            next_fwd: 0,
            forwarded: 0,
            fallbacks: 0,
            unavailable: 0,
        }
    }

    /// Applies a new membership (or salting), recording what moved.
    fn change_map(
        &self,
        c: &mut Coordinator,
        members: Vec<Member>,
        salted: u32,
        what: String,
        now_us: u64,
    ) {
        let placement = self.placement(&members);
        let owners = self.owners(&placement, salted);
        let keys = self.keys as usize;
        let moved_keys = moved(&c.owners[..keys], &owners[..keys]);
        let mod_n = |ms: &[Member]| {
            let p = Placement::new(
                Setup {
                    algorithm: Algorithm::ModN,
                    ..self.setup
                },
                ms,
            );
            self.owners(&p, 0)
        };
        let moved_mod_n = moved(&mod_n(&c.members)[..keys], &mod_n(&members)[..keys]);
        let ideal_ppm =
            (ideal_fraction(self.setup.algorithm, &c.members, &members) * 1e6).round() as u64;
        c.changes.push(MapChange {
            at_us: now_us,
            what,
            moved: moved_keys as u64,
            ideal_ppm,
            moved_mod_n: moved_mod_n as u64,
        });
        c.keys_by_server = Arc::new(self.count_keys(&owners));
        c.reads_since_change.iter_mut().for_each(|r| *r = 0);
        c.before = Some(std::mem::replace(&mut c.owners, Arc::new(owners)));
        c.placement = Arc::new(placement);
        for m in &members {
            if let Err(i) = c.ever_members.binary_search(&m.id) {
                c.ever_members.insert(i, m.id);
            }
        }
        c.before_members = std::mem::replace(&mut c.members, members);
        c.salted = salted;
    }

    fn verb(
        &self,
        c: &mut Coordinator,
        verb: &str,
        target: Option<NodeId>,
        now_us: u64,
        out: &mut Out<Self>,
    ) {
        let mut members = c.members.clone();
        let member = target.and_then(|t| members.iter().position(|m| m.id == t));
        let what = match (verb, target, member) {
            ("add", _, _) => {
                let Some(id) = (1..=self.capacity()).find(|id| members.iter().all(|m| m.id != *id))
                else {
                    out.note(format!(
                        "no spare server left (the link keeps {} spares)",
                        self.spares
                    ));
                    return;
                };
                members.push(Member { id, weight: 1 });
                crate::sim::order::sort_by_key(&mut members, |m| m.id);
                format!("S{id} joined")
            }
            ("remove", Some(t), Some(i)) if members.len() > 1 => {
                members.remove(i);
                format!("S{t} left")
            }
            ("remove", _, Some(_)) => {
                out.note("the last server stays".to_string());
                return;
            }
            ("heavier" | "lighter", Some(t), Some(i)) => {
                let w = members[i].weight;
                let w = if verb == "heavier" {
                    (w + 1).min(MAX_WEIGHT)
                } else {
                    w.saturating_sub(1).max(1)
                };
                if w == members[i].weight {
                    return;
                }
                members[i].weight = w;
                if self.setup.algorithm.weighted() {
                    format!("S{t} weight {w}")
                } else {
                    format!(
                        "S{t} weight {w} ({} ignores weights)",
                        self.setup.algorithm.name()
                    )
                }
            }
            ("salt", _, _) => {
                let salted = if c.salted == 0 { self.salt_ways } else { 0 };
                let what = if salted > 0 {
                    format!("k0 salted into {salted} sub-keys")
                } else {
                    "k0 unsalted".to_string()
                };
                self.change_map(c, members, salted, what, now_us);
                return;
            }
            _ => {
                if let Some(t) = target {
                    out.note(format!("S{t} is not in the ring"));
                }
                return;
            }
        };
        out.note(what.clone());
        let salted = c.salted;
        self.change_map(c, members, salted, what, now_us);
    }

    /// The key id a read of `key` goes to: a salted hot key spreads over its sub-keys.
    fn target_key(&self, c: &Coordinator, req: &ClientRequest<Op>) -> (u64, usize) {
        if req.op.key == 0 && c.salted > 0 {
            let j = (hash::key(7, req.request_id) % c.salted as u64) as u32;
            (sub_key(0, j), self.keys as usize + j as usize)
        } else {
            (req.op.key as u64, req.op.key as usize)
        }
    }

    fn forward(&self, c: &mut Coordinator, fwd: u64, out: &mut Out<Self>) {
        let Some(f) = c.pending.get(&fwd) else { return };
        let Some(&to) = f.list.get(f.tried) else {
            return;
        };
        let key = f.key;
        out.send(to, RingMsg::Read { fwd, key });
        out.set_timer(
            ForwardTimer(fwd),
            Duration(self.forward_timeout_us),
            Duration(self.forward_timeout_us),
        );
        c.forwarded += 1;
    }
}

/// The mistake of [`Bug::FallbackByNumber`]: `owner` and the `rf - 1` members numbered after
/// it (wrapping round), whatever the key.
fn by_number(members: &[Member], owner: NodeId, rf: usize) -> Vec<NodeId> {
    let at = members.iter().position(|m| m.id == owner).unwrap_or(0);
    let len = members.len();
    (0..rf.min(len))
        .map(|k| members[(at + k) % len].id)
        .collect()
}

/// How many positions differ.
pub fn moved(before: &[u32], after: &[u32]) -> usize {
    before.iter().zip(after).filter(|(a, b)| a != b).count()
}

impl Protocol for RingLab {
    type Msg = RingMsg;
    type Timer = ForwardTimer;
    type State = RingState;
    type Op = Op;
    type Reply = Reply;

    fn init(&self, id: NodeId, _n: u32) -> RingState {
        if id == COORDINATOR {
            RingState::Coordinator(Box::new(self.first_map()))
        } else {
            RingState::Server { served: 0 }
        }
    }

    /// The coordinator's map is its configuration, kept on disk: it comes back with the same
    /// map and no reads in flight. A server keeps its count.
    fn recover(&self, _id: NodeId, _n: u32, crashed: &RingState) -> RingState {
        match crashed {
            RingState::Coordinator(c) => {
                let mut c = c.clone();
                c.pending.clear();
                RingState::Coordinator(c)
            }
            s => s.clone(),
        }
    }

    fn on_start(&self, _st: &mut RingState, _ctx: &Ctx, _out: &mut Out<Self>) {}

    fn on_message(
        &self,
        st: &mut RingState,
        _ctx: &Ctx,
        from: NodeId,
        msg: RingMsg,
        out: &mut Out<Self>,
    ) {
        match (st, msg) {
            (RingState::Server { served }, RingMsg::Read { fwd, key }) => {
                *served += 1;
                out.send(from, RingMsg::Value { fwd, key });
            }
            (RingState::Coordinator(c), RingMsg::Value { fwd, .. }) => {
                let Some(f) = c.pending.remove(&fwd) else {
                    return;
                };
                out.cancel_timer(ForwardTimer(fwd));
                if let Some(r) = c.reads_since_change.get_mut(from as usize) {
                    *r += 1;
                }
                let fallback = f.list.first() != Some(&from);
                if fallback {
                    c.fallbacks += 1;
                }
                let reply = Reply::Value {
                    key: f.req.op.key,
                    server: from,
                    fallback,
                };
                out.reply(&f.req, reply);
            }
            _ => {}
        }
    }

    fn on_timer(&self, st: &mut RingState, _ctx: &Ctx, timer: ForwardTimer, out: &mut Out<Self>) {
        let RingState::Coordinator(c) = st else {
            return;
        };
        let fwd = timer.0;
        let Some(f) = c.pending.get_mut(&fwd) else {
            return;
        };
        f.tried += 1;
        if f.tried >= f.list.len() {
            let f = c.pending.remove(&fwd).expect("present above");
            c.unavailable += 1;
            out.reply(&f.req, Reply::Unavailable { key: f.req.op.key });
            return;
        }
        self.forward(c, fwd, out);
    }

    fn on_client(
        &self,
        st: &mut RingState,
        _ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        let RingState::Coordinator(c) = st else {
            // Clients go to the coordinator; a server sends them there.
            out.reply(&req, Reply::AskCoordinator { key: req.op.key });
            return;
        };
        let (key, index) = self.target_key(c, &req);
        let Some(&owner) = c.owners.get(index) else {
            out.reply(&req, Reply::Unavailable { key: req.op.key });
            return;
        };
        let h = hash::key(self.setup.salt, key);
        let list = match self.bug {
            Some(Bug::FallbackByNumber) => by_number(&c.members, owner, self.rf as usize),
            None => c.placement.preference(h, self.rf as usize, Some(owner)),
        };
        let fwd = c.next_fwd;
        c.next_fwd += 1;
        c.pending.insert(
            fwd,
            Forward {
                req,
                key,
                list,
                tried: 0,
            },
        );
        self.forward(c, fwd, out);
    }

    fn on_verb(
        &self,
        st: &mut RingState,
        ctx: &Ctx,
        verb: &str,
        target: Option<NodeId>,
        out: &mut Out<Self>,
    ) {
        if let RingState::Coordinator(c) = st {
            self.verb(c, verb, target, ctx.now.0, out);
        }
    }

    /// Clients know only the coordinator.
    fn client_node(&self, _client: u32, _after_timeout: Option<NodeId>, _n: u32) -> NodeId {
        COORDINATOR
    }

    fn verb_handler(&self) -> Option<NodeId> {
        Some(COORDINATOR)
    }

    fn classify(&self, reply: &Reply) -> ReplyClass {
        match reply {
            Reply::Value { .. } => ReplyClass::Ok,
            Reply::Unavailable { .. } => ReplyClass::Fail,
            Reply::AskCoordinator { .. } => ReplyClass::Redirect(Some(COORDINATOR)),
        }
    }

    fn next_op(&self, _client: u32, _seq: u64, rng: &mut Rng) -> Option<Op> {
        let key = match &self.cdf {
            Some(cdf) => cdf.pick(rng.range_inclusive(0, cdf.total() - 1)),
            None => rng.range_inclusive(0, self.keys as u64 - 1) as u32,
        };
        Some(Op { key })
    }

    fn parse_op(&self, text: &str) -> Result<Op, String> {
        let t = text.trim();
        let k = t.strip_prefix("get").map(str::trim).unwrap_or(t);
        let k = k.strip_prefix('k').unwrap_or(k);
        match k.parse::<u32>() {
            Ok(key) if key < self.keys => Ok(Op { key }),
            Ok(key) => Err(format!(
                "there is no key k{key}: the keys are k0 to k{}",
                self.keys - 1
            )),
            Err(_) => Err(format!(
                "a ring operation is 'get kN', not '{}'",
                t.chars().take(40).collect::<String>()
            )),
        }
    }

    fn timer_name(&self, _timer: &ForwardTimer) -> &'static str {
        "forward timed out"
    }
}
