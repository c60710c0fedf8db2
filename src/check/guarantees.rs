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
use super::history::{History, HistoryError, Input, Operation, Output, Status, Value};
use super::model::{compile, Model, ModelKind};
use super::search::Budget;
use super::sequential::{search, sessions, Sequential};
use super::session::{requires, Guarantee, Order, SessionOp};
use serde::{Deserialize, Serialize};

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
    /// Each (key, session) pair's steps, in the client's order (see `sequential::sessions`).
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
        // The operations grouped by key, keys in order, each key's in history order (the
        // shared stable sort: a map of its own would add kilobytes to the download).
        let mut by_key: Vec<usize> = (0..ops.len()).collect();
        crate::sim::order::sort_by_key(&mut by_key, |&i| ops[i].input.key());
        let mut ranked: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].status == Status::Ok)
            .collect();
        crate::sim::order::sort_by_key(&mut ranked, |&i| (ops[i].return_us, i));
        let mut rank_of = vec![usize::MAX; ops.len()];
        for (rank, &index) in ranked.iter().enumerate() {
            rank_of[index] = rank;
        }
        let mut versions = Versions {
            real: 0,
            below: Vec::new(),
            sessions: Vec::new(),
            by_rank: ranked,
            inexact: false,
        };
        let session = sessions(history);
        for indices in by_key.chunk_by(|&a, &b| ops[a].input.key() == ops[b].input.key()) {
            let key = ops[indices[0]].input.key();
            versions.add_key(history, model, key, indices, (&rank_of, &session));
        }
        versions
    }

    fn new_node(&mut self) -> u32 {
        self.real += 1;
        self.real - 1
    }

    /// The versions of one key (the key's starting value, then each write) and its sessions.
    fn add_key(
        &mut self,
        history: &History,
        model: &Model,
        key: Option<&str>,
        indices: &[usize],
        (rank_of, session): (&[usize], &[u32]),
    ) {
        let ops = &history.operations;
        let start = self.new_node();
        // The starting value is a version too: "" for a key, the initial value (or nil) for
        // the register.
        let initial = match key {
            Some(_) => Some(""),
            None => model.initial.as_ref().map(|v| v.as_str()),
        };
        let mut values: Vec<(&str, u32)> = initial.map(|v| (v, start)).into_iter().collect();
        let mut node_of = vec![None; indices.len()];
        let mut appended = false;
        for (slot, &index) in indices.iter().enumerate() {
            let op = &ops[index];
            let Some(value) = written(op).filter(|_| op.status != Status::Fail) else {
                continue;
            };
            let node = self.new_node();
            self.below.push((start, node));
            node_of[slot] = Some(node);
            values.push((value, node));
            appended |= matches!(op.input, Input::Append { .. });
        }
        crate::sim::order::sort_by(&mut values, Ord::cmp);
        // The one version that holds a value, or None when several do (or none).
        let resolve = |seen: &Option<Value>| {
            let wanted = match (seen, key, initial) {
                _ if appended => return None,
                (None, None, None) => return Some(start),
                (None, None, Some(_)) => return None,
                (None, Some(_), _) => "",
                (Some(value), ..) => value.as_str(),
            };
            let from = values.partition_point(|(value, _)| *value < wanted);
            match values.get(from..).unwrap_or(&[]) {
                [(value, node), rest @ ..]
                    if *value == wanted && rest.first().is_none_or(|(next, _)| *next != wanted) =>
                {
                    Some(*node)
                }
                _ => None,
            }
        };
        let mut order: Vec<usize> = (0..indices.len())
            .filter(|&slot| ops[indices[slot]].status == Status::Ok)
            .collect();
        crate::sim::order::sort_by_key(&mut order, |&slot| {
            let index = indices[slot];
            (session[index], ops[index].call_us, index)
        });
        let mut current = None;
        for slot in order {
            let (index, op) = (indices[slot], &ops[indices[slot]]);
            if current != Some(session[index]) {
                self.sessions.push(Vec::new());
                current = Some(session[index]);
            }
            let read = match (&op.input, &op.output) {
                (Input::Read | Input::Get { .. }, Output::Read(seen)) => Some(seen.clone()),
                (Input::Cas { expected, .. }, Output::Cas(true)) => Some(Some(expected.clone())),
                _ => None,
            };
            let mut steps = Vec::new();
            if let Some(seen) = read {
                let version = resolve(&seen);
                self.inexact |= version.is_none();
                steps.push(SessionOp {
                    write: false,
                    version,
                });
            }
            if let Some(node) = node_of[slot] {
                steps.push(SessionOp {
                    write: true,
                    version: Some(node),
                });
            }
            if let Some(session) = self.sessions.last_mut() {
                session.extend(steps.into_iter().map(|step| (rank_of[index], index, step)));
            }
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
