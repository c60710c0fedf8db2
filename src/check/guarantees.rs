//! The guarantees weaker than linearizability that a history may still keep: sequential
//! consistency, and the four session guarantees of [`super::session`].
//!
//! Linearizable implies sequentially consistent, which implies every session guarantee, so a
//! stronger verdict answers the weaker questions without a search.
//!
//! # Session guarantees of a recorded history
//!
//! The guarantees speak of the store's order of versions, which a recorded history does not
//! show. A history keeps guarantee g if *some* order of its writes lets every client's session
//! keep g ([`super::session::requires`] says what g asks of each pair of operations). Each
//! write is a version; the key's starting value is a version below all of them; a read's
//! version is the write whose value it returned. The pairs g constrains become edges of a graph
//! over the versions (through one "join" node per session step, so a session of n operations
//! adds O(n) edges); an order exists exactly when no cycle forces two different versions to be
//! equal or a version to be strictly after itself (strongly connected components).
//!
//! A client's writes can be seen out of order only through reads, so monotonic writes is
//! judged together with every session's reads in their order (what monotonic reads asks): a
//! history that breaks monotonic reads breaks monotonic writes too.
//!
//! A read whose value more than one write wrote, or a read of a key that appends build,
//! cannot be given a version: it constrains nothing, and a guarantee no cycle breaks is then
//! unknown (null) rather than kept, unless sequential consistency already settled it. The
//! first operation that breaks a guarantee is found by bisecting over the operations in the
//! order they completed.

use super::checker::{CheckOptions, StopReason};
use super::history::{History, HistoryError, Input, Operation, Output, Status};
use super::model::{compile, Model, ModelKind};
use super::search::Budget;
use super::sequential::{search, Sequential};
use super::session::{requires, Guarantee, Order, SessionOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A verdict on one guarantee: kept or not (`None`: the budget ran out, or the history does
/// not say), and the first operation that breaks it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuaranteeVerdict {
    pub kept: Option<bool>,
    /// An index into [`History::operations`], when `kept` is `Some(false)`.
    pub witness: Option<usize>,
}

impl GuaranteeVerdict {
    fn kept() -> Self {
        GuaranteeVerdict {
            kept: Some(true),
            witness: None,
        }
    }
}

/// The weaker guarantees of one history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guarantees {
    pub sequential: GuaranteeVerdict,
    /// Set when the search for a sequential order stopped.
    pub stopped: Option<StopReason>,
    /// The session guarantees in [`Guarantee::ALL`]'s order; `None` for models without reads
    /// and writes of versions (mutex, queue, set, multi-register).
    pub session: Option<[GuaranteeVerdict; 4]>,
}

impl Guarantees {
    /// The strongest guarantee kept on the spectrum linearizable -> sequentially consistent ->
    /// session guarantees -> none, given the linearizability verdict (`None`: unknown).
    pub fn strongest(&self, linearizable: Option<bool>) -> String {
        if linearizable == Some(true) {
            return "linearizable".to_owned();
        }
        if self.sequential.kept == Some(true) {
            return "sequentially consistent".to_owned();
        }
        let Some(session) = &self.session else {
            return self.none_or_unknown(&[]);
        };
        let kept: Vec<&str> = Guarantee::ALL
            .iter()
            .zip(session)
            .filter(|(_, verdict)| verdict.kept == Some(true))
            .map(|(g, _)| g.name())
            .collect();
        match kept.len() {
            4 => "the four session guarantees".to_owned(),
            0 => self.none_or_unknown(session),
            _ => kept.join(", "),
        }
    }

    fn none_or_unknown(&self, session: &[GuaranteeVerdict]) -> String {
        let unknown = self.sequential.kept.is_none() || session.iter().any(|v| v.kept.is_none());
        if unknown {
            "unknown (over budget, or not decidable from the history)"
        } else {
            "none"
        }
        .to_owned()
    }

    /// One line per guarantee that fails, with the first operation that breaks it.
    pub fn failures(&self, history: &History) -> Vec<String> {
        let mut named = vec![("sequential consistency", &self.sequential)];
        if let Some(session) = &self.session {
            named.extend(Guarantee::ALL.iter().map(|g| g.name()).zip(session));
        }
        let line = |(name, verdict): (&str, &GuaranteeVerdict)| {
            let op = history.operations.get(verdict.witness?)?;
            let index = verdict.witness?;
            Some(format!(
                "{name}: first broken by operation {index}, {} by C{}",
                op.describe(),
                op.client
            ))
        };
        named
            .into_iter()
            .filter(|(_, v)| v.kept == Some(false))
            .filter_map(line)
            .collect()
    }
}

/// Checks whether `history` is sequentially consistent against `model` within `options`.
pub fn check_sequential(
    history: &History,
    model: &Model,
    options: &CheckOptions<'_>,
) -> Result<(GuaranteeVerdict, Option<StopReason>), HistoryError> {
    let mut partitions = compile(history, model)?;
    let mut budget = Budget {
        steps_used: 0,
        max_steps: options.max_steps,
        bytes_used: 0,
        max_bytes: options.max_cache_bytes,
        cancel: options.cancel,
    };
    Ok(match search(history, &mut partitions, &mut budget) {
        Sequential::Consistent => (GuaranteeVerdict::kept(), None),
        Sequential::Inconsistent { offending } => (
            GuaranteeVerdict {
                kept: Some(false),
                witness: Some(offending),
            },
            None,
        ),
        Sequential::Stopped(stop) => (GuaranteeVerdict::default(), Some(stop.into())),
    })
}

/// The weaker guarantees `history` keeps; `linearizable` is the checker's verdict, if known,
/// which settles sequential consistency when it is true.
pub fn check_guarantees(
    history: &History,
    model: &Model,
    options: &CheckOptions<'_>,
    linearizable: Option<bool>,
) -> Result<Guarantees, HistoryError> {
    let (sequential, stopped) = if linearizable == Some(true) {
        (GuaranteeVerdict::kept(), None)
    } else {
        check_sequential(history, model, options)?
    };
    let versioned = matches!(
        model.kind,
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
    );
    let session = versioned.then(|| {
        if sequential.kept == Some(true) {
            return Guarantee::ALL.map(|_| GuaranteeVerdict::kept());
        }
        let versions = Versions::of(history, model);
        Guarantee::ALL.map(|g| versions.verdict(g))
    });
    Ok(Guarantees {
        sequential,
        stopped,
        session,
    })
}

/// One operation of a session: its rank in completion order, its index, and its version (a
/// node of the version graph; `None` when unknown).
type Step = (usize, usize, SessionOp<Option<u32>>);

/// The versions of a history and its sessions, ready to be turned into a graph per guarantee.
struct Versions {
    /// Nodes 0..real are versions (writes and each key's starting value).
    real: u32,
    /// Starting value below each write of its key.
    below: Vec<(u32, u32)>,
    /// Each (client, key) session's steps, in the client's order.
    sessions: Vec<Vec<Step>>,
    /// The history index of each rank.
    by_rank: Vec<usize>,
    /// Some read could not be given a version.
    inexact: bool,
}

/// The key an operation acts on (`None`: the register) and the value each write leaves.
fn written(op: &Operation) -> Option<&str> {
    match (&op.input, op.status, &op.output) {
        (Input::Write { value } | Input::Put { value, .. } | Input::Append { value, .. }, ..) => {
            Some(value.as_str())
        }
        (Input::Cas { new, .. }, Status::Ok, Output::Cas(true)) => Some(new.as_str()),
        (Input::Cas { new, .. }, Status::Unknown, _) => Some(new.as_str()),
        _ => None,
    }
}

impl Versions {
    fn of(history: &History, model: &Model) -> Versions {
        let ops = &history.operations;
        let mut real = 0u32;
        let mut new_node = || {
            real += 1;
            real - 1
        };
        // (key, value) -> the one version that holds it, or None when several do.
        let mut by_value: BTreeMap<(Option<&str>, &str), Option<u32>> = BTreeMap::new();
        let mut start: BTreeMap<Option<&str>, u32> = BTreeMap::new();
        let mut appended: std::collections::BTreeSet<Option<&str>> = Default::default();
        let mut node_of = vec![None; ops.len()];
        let mut below = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            let key = op.input.key();
            let first = *start.entry(key).or_insert_with(&mut new_node);
            let Some(value) = written(op).filter(|_| op.status != Status::Fail) else {
                continue;
            };
            let node = new_node();
            below.push((first, node));
            node_of[index] = Some(node);
            by_value
                .entry((key, value))
                .and_modify(|slot| *slot = None)
                .or_insert(Some(node));
            if matches!(op.input, Input::Append { .. }) {
                appended.insert(key);
            }
        }
        // A key's starting value is a version too: "" for a key, the initial value (or nil)
        // for the register.
        let initial = model.initial.as_ref().map(|v| v.as_str());
        for (&key, &node) in &start {
            let value = if key.is_some() { Some("") } else { initial };
            if let Some(value) = value {
                by_value
                    .entry((key, value))
                    .and_modify(|slot| *slot = None)
                    .or_insert(Some(node));
            }
        }
        let resolve = |key: Option<&str>, seen: &Option<super::history::Value>| {
            if appended.contains(&key) {
                return None;
            }
            match (seen, key, initial) {
                (None, None, None) => start.get(&key).copied(),
                (None, Some(_), _) => by_value.get(&(key, "")).copied().flatten(),
                (None, None, Some(_)) => None,
                (Some(value), ..) => by_value.get(&(key, value.as_str())).copied().flatten(),
            }
        };
        let mut ranked: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].status == Status::Ok)
            .collect();
        crate::sim::order::sort_by_key(&mut ranked, |&i| (ops[i].return_us, i));
        let mut sessions: BTreeMap<(u32, Option<&str>), Vec<Step>> = BTreeMap::new();
        let mut inexact = false;
        for (rank, &index) in ranked.iter().enumerate() {
            let op = &ops[index];
            let key = op.input.key();
            let session = sessions.entry((op.client, key)).or_default();
            let read = match (&op.input, &op.output) {
                (Input::Read | Input::Get { .. }, Output::Read(seen)) => Some(seen.clone()),
                (Input::Cas { expected, .. }, Output::Cas(true)) => Some(Some(expected.clone())),
                _ => None,
            };
            if let Some(seen) = read {
                let version = resolve(key, &seen);
                inexact |= version.is_none();
                let step = SessionOp {
                    write: false,
                    version,
                };
                session.push((rank, index, step));
            }
            if let Some(node) = node_of[index] {
                let step = SessionOp {
                    write: true,
                    version: Some(node),
                };
                session.push((rank, index, step));
            }
        }
        let mut sessions: Vec<Vec<Step>> = sessions.into_values().collect();
        for session in &mut sessions {
            crate::sim::order::sort_by_key(session, |&(_, index, op)| {
                (ops[index].call_us, index, op.write)
            });
        }
        Versions {
            real,
            below,
            sessions,
            by_rank: ranked,
            inexact,
        }
    }

    /// Whether `g` can hold, and if not the first operation (in completion order) after which
    /// it cannot.
    fn verdict(&self, g: Guarantee) -> GuaranteeVerdict {
        let all = self.by_rank.len();
        if !self.broken(g, all) {
            return GuaranteeVerdict {
                kept: (!self.inexact).then_some(true),
                witness: None,
            };
        }
        // The smallest prefix of completed operations that breaks g.
        let (mut low, mut high) = (0, all);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if self.broken(g, middle) {
                high = middle;
            } else {
                low = middle;
            }
        }
        GuaranteeVerdict {
            kept: Some(false),
            witness: self.by_rank.get(high - 1).copied(),
        }
    }

    /// Whether the first `limit` completed operations already rule out every order of versions.
    /// A client's writes are seen in an order only through reads, so monotonic writes is judged
    /// with every session's reads in their order (what monotonic reads asks) as observations.
    fn broken(&self, g: Guarantee, limit: usize) -> bool {
        let mut edges: Vec<(u32, u32, bool)> =
            self.below.iter().map(|&(a, b)| (a, b, true)).collect();
        let mut nodes = self.real;
        self.add_edges(g, limit, &mut edges, &mut nodes);
        if g == Guarantee::MonotonicWrites {
            self.add_edges(Guarantee::MonotonicReads, limit, &mut edges, &mut nodes);
        }
        forces_a_contradiction(nodes as usize, self.real, &edges)
    }

    /// The edges `g` asks for among the first `limit` completed operations; join nodes are
    /// numbered from `nodes` on.
    fn add_edges(
        &self,
        g: Guarantee,
        limit: usize,
        edges: &mut Vec<(u32, u32, bool)>,
        nodes: &mut u32,
    ) {
        let (_, earlier_write) = g.kinds();
        for session in &self.sessions {
            let mut join: Option<u32> = None;
            for &(_, _, op) in session.iter().filter(|step| step.0 < limit) {
                let Some(version) = op.version else { continue };
                let order = requires(g, earlier_write, op.write);
                if let (Some(order), Some(join)) = (order, join) {
                    edges.push((join, version, order == Order::After));
                }
                if op.write == earlier_write {
                    edges.push((version, *nodes, false));
                    if let Some(join) = join {
                        edges.push((join, *nodes, false));
                    }
                    join = Some(*nodes);
                    *nodes += 1;
                }
            }
        }
    }
}

/// Whether the "at least" (`false`) and "strictly after" (`true`) edges force two versions
/// (nodes below `real`) to be equal, or a node to be after itself: a strongly connected
/// component with two versions in it, or with a strict edge inside.
fn forces_a_contradiction(nodes: usize, real: u32, edges: &[(u32, u32, bool)]) -> bool {
    let component = components(nodes, edges);
    if edges
        .iter()
        .any(|&(a, b, strict)| strict && component[a as usize] == component[b as usize])
    {
        return true;
    }
    let mut seen = vec![false; nodes];
    (0..real as usize).any(|v| std::mem::replace(&mut seen[component[v] as usize], true))
}

/// Tarjan's strongly connected components, without recursion: each node's component is named
/// by its root.
fn components(nodes: usize, edges: &[(u32, u32, bool)]) -> Vec<u32> {
    let mut first = vec![0u32; nodes + 1];
    for &(a, _, _) in edges {
        first[a as usize + 1] += 1;
    }
    for i in 0..nodes {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut targets = vec![0u32; edges.len()];
    for &(a, b, _) in edges {
        targets[fill[a as usize] as usize] = b;
        fill[a as usize] += 1;
    }
    let mut tarjan = Tarjan {
        index: vec![UNSEEN; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        component: vec![UNSEEN; nodes],
        stack: Vec::new(),
        calls: Vec::new(),
        counter: 0,
    };
    for root in 0..nodes as u32 {
        if tarjan.index[root as usize] == UNSEEN {
            tarjan.visit(root, &first);
            tarjan.run(&first, &targets);
        }
    }
    tarjan.component
}

const UNSEEN: u32 = u32::MAX;

struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    component: Vec<u32>,
    stack: Vec<u32>,
    /// The depth-first path: each node and its next edge.
    calls: Vec<(u32, u32)>,
    counter: u32,
}

impl Tarjan {
    fn visit(&mut self, v: u32, first: &[u32]) {
        self.index[v as usize] = self.counter;
        self.low[v as usize] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v as usize] = true;
        self.calls.push((v, first[v as usize]));
    }

    fn run(&mut self, first: &[u32], targets: &[u32]) {
        while let Some(&(v, at)) = self.calls.last() {
            let vi = v as usize;
            if at < first[vi + 1] {
                if let Some(call) = self.calls.last_mut() {
                    call.1 += 1;
                }
                let w = targets[at as usize];
                if self.index[w as usize] == UNSEEN {
                    self.visit(w, first);
                } else if self.on_stack[w as usize] {
                    self.low[vi] = self.low[vi].min(self.index[w as usize]);
                }
                continue;
            }
            self.calls.pop();
            if let Some(&(parent, _)) = self.calls.last() {
                self.low[parent as usize] = self.low[parent as usize].min(self.low[vi]);
            }
            if self.low[vi] == self.index[vi] {
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w as usize] = false;
                    self.component[w as usize] = v;
                    if w == v {
                        break;
                    }
                }
            }
        }
    }
}
