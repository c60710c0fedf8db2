//! Sequential specifications (models) and their compiled form.
//!
//! A model says what a single copy of the object would answer: a register returns the last value
//! written; a compare-and-set register also swaps when the comparison holds; a key-value map acts
//! like one register per key, with `append` concatenating text.
//!
//! Before searching, the checker *compiles* each partition of the history: every value that can
//! appear in a state is interned to a small integer ([`StateId`]), so a model step is a few integer
//! comparisons and the memoisation cache hashes a `u32` instead of a string. Appends create new
//! states during the search; [`States`] interns them on first use and remembers each
//! (state, suffix) transition.

use super::fast_hash::FastMap;
use super::history::{History, HistoryError, Input, Operation, Output, Status, Value};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which sequential object the history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// One register with read and write.
    Register,
    /// One register with read, write and compare-and-set.
    CasRegister,
    /// A key-value map with get, put and append, checked one key at a time.
    Kv,
    /// A lock with acquire and release (Knossos's `mutex`: it does not track who holds it).
    #[cfg(not(target_arch = "wasm32"))]
    Mutex,
    /// A FIFO queue with enqueue and dequeue.
    #[cfg(not(target_arch = "wasm32"))]
    Queue,
    /// A set with add and a read of the whole set.
    #[cfg(not(target_arch = "wasm32"))]
    Set,
    /// Registers read and written together in transactions (Knossos's `multi-register`).
    #[cfg(not(target_arch = "wasm32"))]
    MultiRegister,
}

impl ModelKind {
    /// Every kind, in the order the CLI lists them. The browser build has only the first
    /// three: its panel checks the labs' histories, and the site's download is budgeted.
    #[cfg(target_arch = "wasm32")]
    pub const ALL: [ModelKind; 3] = [ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv];

    /// Every kind, in the order the CLI lists them.
    #[cfg(not(target_arch = "wasm32"))]
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::Mutex,
        ModelKind::Queue,
        ModelKind::Set,
        ModelKind::MultiRegister,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Mutex => "mutex",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Queue => "queue",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Set => "set",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::MultiRegister => "multi-register",
        }
    }

    /// The operations the model knows, as Jepsen names them, for messages.
    pub fn operations(self) -> &'static str {
        match self {
            ModelKind::Register => "read, write",
            ModelKind::CasRegister => "read, write, cas",
            ModelKind::Kv => "get, put, append",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Mutex => "acquire, release",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Queue => "enqueue, dequeue",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Set => "add, read",
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::MultiRegister => "txn",
        }
    }

    /// Every model with its operations: `register (read, write), ...`.
    pub fn list() -> String {
        let each = ModelKind::ALL.map(|kind| format!("{kind} ({})", kind.operations()));
        each.join(", ")
    }

    /// Whether the model has single-register state that a starting value can set.
    fn takes_initial(self) -> bool {
        matches!(self, ModelKind::Register | ModelKind::CasRegister)
    }

    fn supports(self, op: &Operation) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        let set_read = matches!(op.output, Output::Set(_));
        #[cfg(target_arch = "wasm32")]
        let set_read = false;
        match (self, &op.input) {
            (ModelKind::Register | ModelKind::CasRegister, Input::Read) => !set_read,
            (ModelKind::Register | ModelKind::CasRegister, Input::Write { .. }) => true,
            (ModelKind::CasRegister, Input::Cas { .. }) => true,
            (ModelKind::Kv, input) => input.key().is_some(),
            #[cfg(not(target_arch = "wasm32"))]
            (ModelKind::Mutex, Input::Acquire | Input::Release) => true,
            #[cfg(not(target_arch = "wasm32"))]
            (ModelKind::Queue, Input::Enqueue { .. } | Input::Dequeue) => true,
            #[cfg(not(target_arch = "wasm32"))]
            (ModelKind::Set, Input::Add { .. }) => true,
            #[cfg(not(target_arch = "wasm32"))]
            (ModelKind::Set, Input::Read) => set_read || op.status != Status::Ok,
            #[cfg(not(target_arch = "wasm32"))]
            (ModelKind::MultiRegister, Input::Txn { .. }) => true,
            _ => false,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ModelKind::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| {
                let names = ModelKind::ALL.map(ModelKind::name).join(", ");
                format!("unknown model {text:?}; expected one of {names}")
            })
    }
}

/// A model and its starting state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub kind: ModelKind,
    /// The register's starting value; `None` starts it unwritten (nil). Keys of the key-value
    /// model, and the other models, always start empty.
    pub initial: Option<Value>,
}

impl Model {
    /// A model of `kind` with an optional starting value (registers only).
    pub fn new(kind: ModelKind, initial: Option<Value>) -> Self {
        Model { kind, initial }
    }

    /// A read/write register that starts unwritten.
    pub fn register() -> Self {
        Model::new(ModelKind::Register, None)
    }

    /// A read/write/compare-and-set register that starts unwritten.
    pub fn cas_register() -> Self {
        Model::new(ModelKind::CasRegister, None)
    }

    /// A key-value map whose keys start empty.
    pub fn kv() -> Self {
        Model::new(ModelKind::Kv, None)
    }

    /// This model, starting from `value`.
    pub fn with_initial(mut self, value: impl Into<Value>) -> Self {
        self.initial = Some(value.into());
        self
    }
}

/// A model state, interned: see [`States`].
pub(crate) type StateId = u32;

/// The state of a register never written, or of a missing key (which reads as "").
pub(crate) const NIL: StateId = 0;

/// One operation's effect, with values interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Effect {
    /// Legal only in state `expect`; `None` (unknown output) is legal anywhere.
    Read { expect: Option<StateId> },
    /// Always legal; moves to `value`.
    Write { value: StateId },
    /// Swaps `from` for `to`. `swapped` is what the client saw: `Some(true)` needs the state to
    /// be `from`, `Some(false)` needs it not to be, `None` (unknown) is legal anywhere.
    Cas {
        from: StateId,
        to: StateId,
        swapped: Option<bool>,
    },
    /// Always legal; appends piece number `suffix` (see [`States`]).
    Append { suffix: u32 },
    /// Legal while the mutex is free; takes it.
    #[cfg(not(target_arch = "wasm32"))]
    Acquire,
    /// Legal while the mutex is held; frees it.
    #[cfg(not(target_arch = "wasm32"))]
    Release,
    /// Always legal; puts `value` at the back.
    #[cfg(not(target_arch = "wasm32"))]
    Enqueue { value: StateId },
    /// Takes the front value, which must be `expect` (`Some(NIL)`: the queue must be empty and
    /// stays so; `None`, an unknown outcome: whatever is at the front).
    #[cfg(not(target_arch = "wasm32"))]
    Dequeue { expect: Option<StateId> },
    /// Always legal; adds `element` to the set.
    #[cfg(not(target_arch = "wasm32"))]
    Add { element: StateId },
    /// Legal only when the set is `expect` (a shape, see [`States`]).
    #[cfg(not(target_arch = "wasm32"))]
    ReadSet { expect: StateId },
    /// Transaction number `txn` (see [`States`]); `read_only` if it writes nothing.
    #[cfg(not(target_arch = "wasm32"))]
    Txn { txn: u32, read_only: bool },
}

impl Effect {
    /// Whether the operation leaves the state unchanged in every state where it is legal: a
    /// read, or a compare-and-set that saw its comparison fail (or swaps a value for itself).
    pub(crate) fn only_observes(self) -> bool {
        match self {
            Effect::Read { .. }
            | Effect::Cas {
                swapped: Some(false),
                ..
            } => true,
            Effect::Cas { from, to, .. } => from == to,
            #[cfg(not(target_arch = "wasm32"))]
            Effect::ReadSet { .. }
            | Effect::Txn {
                read_only: true, ..
            } => true,
            _ => false,
        }
    }
}

/// The interned states of one partition.
///
/// A state is a string, built as a chain of pieces: a value written outright is one piece
/// appended to the empty string, and each append adds a piece to its parent state. Two states
/// are equal exactly when their ids are, however the string was built (`"ab"` put at once, or
/// `"a"` then `"b"` appended): each node carries a polynomial hash and the length of its string,
/// updated in O(1) per append, and a new node is first looked up by (hash, length) and compared
/// byte for byte with any node found, so a hash collision can cost time but never a wrong
/// answer. Each (state, piece) transition is remembered, so a search step never copies or
/// hashes a whole string: a key's value can grow to kilobytes over thousands of appends, and
/// every interleaving of concurrent appends is a different string.
#[derive(Debug)]
pub(crate) struct States {
    nodes: Vec<Node>,
    pieces: Vec<Piece>,
    by_hash: FastMap<(u64, u64), StateId>,
    appends: FastMap<(StateId, u32), StateId>,
    /// The empty string. A key-value map reads a missing key as "", so there the root *is* nil;
    /// a register tells them apart.
    root: StateId,
    /// The model these states belong to.
    kind: ModelKind,
    /// The states of the mutex, queue, set and multi-register models.
    #[cfg(not(target_arch = "wasm32"))]
    shapes: lists::Shapes,
}

/// The mutex, queue, set and multi-register models: native only, as the browser's panel
/// checks the labs' histories and the site's download is budgeted.
#[cfg(not(target_arch = "wasm32"))]
#[path = "lists.rs"]
mod lists;

#[derive(Debug)]
struct Node {
    parent: StateId,
    piece: u32,
    hash: u64,
    len: u64,
    /// The next node with the same (hash, length), or `NO_NODE`.
    next_same_hash: StateId,
}

#[derive(Debug)]
struct Piece {
    bytes: Box<[u8]>,
    hash: u64,
    /// `HASH_BASE` to the power of the piece's length, to shift a prefix's hash past it.
    shift: u64,
}

const NO_NODE: StateId = StateId::MAX;

/// The Mersenne prime 2^61 - 1, the modulus of the string hash.
const HASH_MODULUS: u64 = (1 << 61) - 1;
/// A fixed base below the modulus.
const HASH_BASE: u64 = 0x0D6E_8FEB_8666_59FD;

/// `a * b mod 2^61 - 1`, for `a, b` below the modulus.
fn mul_mod(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    let folded = (product as u64 & HASH_MODULUS) + (product >> 61) as u64;
    if folded >= HASH_MODULUS {
        folded - HASH_MODULUS
    } else {
        folded
    }
}

fn add_mod(a: u64, b: u64) -> u64 {
    let sum = a + b;
    if sum >= HASH_MODULUS {
        sum - HASH_MODULUS
    } else {
        sum
    }
}

impl States {
    fn new(empty_is_nil: bool) -> Self {
        let blank = || Node {
            parent: NO_NODE,
            piece: 0,
            hash: 0,
            len: 0,
            next_same_hash: NO_NODE,
        };
        let nodes = if empty_is_nil {
            vec![blank()]
        } else {
            vec![blank(), blank()]
        };
        let root = if empty_is_nil { NIL } else { NIL + 1 };
        let mut by_hash = FastMap::default();
        by_hash.insert((0, 0), root);
        States {
            nodes,
            pieces: Vec::new(),
            by_hash,
            appends: FastMap::default(),
            root,
            kind: ModelKind::Register,
            #[cfg(not(target_arch = "wasm32"))]
            shapes: lists::Shapes::default(),
        }
    }

    /// The states of a partition checked against `kind`.
    fn for_model(kind: ModelKind) -> Self {
        let mut states = States::new(kind == ModelKind::Kv);
        states.kind = kind;
        states
    }

    /// Whether the model's states are lists (`lists.rs`) rather than strings.
    fn has_shapes(&self) -> bool {
        !matches!(
            self.kind,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
        )
    }

    fn intern_piece(&mut self, text: &str) -> u32 {
        let bytes: Box<[u8]> = text.as_bytes().into();
        let (hash, shift) = bytes.iter().fold((0, 1), |(hash, shift), &byte| {
            (
                add_mod(mul_mod(hash, HASH_BASE), u64::from(byte) + 1),
                mul_mod(shift, HASH_BASE),
            )
        });
        self.pieces.push(Piece { bytes, hash, shift });
        u32::try_from(self.pieces.len() - 1).unwrap_or(u32::MAX)
    }

    fn intern(&mut self, text: &str) -> StateId {
        let piece = self.intern_piece(text);
        self.append(self.root, piece)
    }

    fn intern_read(&mut self, value: &Option<Value>) -> StateId {
        value
            .as_ref()
            .map_or(NIL, |value| self.intern(value.as_str()))
    }

    /// Appends the bytes of `state`'s string to `out`.
    fn write_bytes(&self, state: StateId, out: &mut Vec<u8>) {
        let mut chain = Vec::new();
        let mut node = state;
        while node != self.root && (node as usize) < self.nodes.len() && node != NIL {
            chain.push(self.nodes[node as usize].piece);
            node = self.nodes[node as usize].parent;
        }
        for &piece in chain.iter().rev() {
            out.extend_from_slice(&self.pieces[piece as usize].bytes);
        }
    }

    /// The text of a state; `None` is nil (for a key, nil is the empty string).
    pub(crate) fn text(&self, state: StateId) -> Option<String> {
        #[cfg(not(target_arch = "wasm32"))]
        if self.has_shapes() {
            return Some(self.list_text(state));
        }
        self.string_text(state)
    }

    fn string_text(&self, state: StateId) -> Option<String> {
        if state == NIL && self.root != NIL {
            return None;
        }
        let mut bytes = Vec::new();
        self.write_bytes(state, &mut bytes);
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Approximate heap bytes held, for the memory budget.
    pub(crate) fn bytes(&self) -> usize {
        const MAP_ENTRY_BYTES: usize = 32;
        self.nodes.len() * std::mem::size_of::<Node>()
            + (self.by_hash.len() + self.appends.len()) * MAP_ENTRY_BYTES
            + self.list_bytes()
    }

    #[cfg(target_arch = "wasm32")]
    fn list_bytes(&self) -> usize {
        0
    }

    /// The state after applying `effect` in `state`, or `None` if the model forbids it there.
    pub(crate) fn apply(&mut self, state: StateId, effect: Effect) -> Option<StateId> {
        match effect {
            Effect::Read { expect: None } => Some(state),
            Effect::Read {
                expect: Some(expect),
            } => (state == expect).then_some(state),
            Effect::Write { value } => Some(value),
            Effect::Cas { from, to, swapped } => {
                let matches = state == from;
                let legal = swapped.is_none_or(|swapped| swapped == matches);
                legal.then_some(if matches { to } else { state })
            }
            Effect::Append { suffix } => Some(self.append(state, suffix)),
            #[cfg(not(target_arch = "wasm32"))]
            _ => self.shapes.step(state, effect),
        }
    }

    fn append(&mut self, state: StateId, piece: u32) -> StateId {
        if let Some(&next) = self.appends.get(&(state, piece)) {
            return next;
        }
        let parent = &self.nodes[state as usize];
        let added = &self.pieces[piece as usize];
        let hash = add_mod(mul_mod(parent.hash, added.shift), added.hash);
        let len = parent.len + added.bytes.len() as u64;
        let first = self.by_hash.get(&(hash, len)).copied().unwrap_or(NO_NODE);
        let next = self.find_equal(first, state, piece).unwrap_or_else(|| {
            let id = StateId::try_from(self.nodes.len()).unwrap_or(NO_NODE - 1);
            self.nodes.push(Node {
                parent: state,
                piece,
                hash,
                len,
                next_same_hash: first,
            });
            self.by_hash.insert((hash, len), id);
            id
        });
        self.appends.insert((state, piece), next);
        next
    }

    /// The node among `first` and those chained after it whose string equals `state`'s string
    /// followed by `piece`, compared byte for byte.
    fn find_equal(&self, first: StateId, state: StateId, piece: u32) -> Option<StateId> {
        if first == NO_NODE {
            return None;
        }
        let mut wanted = Vec::new();
        self.write_bytes(state, &mut wanted);
        wanted.extend_from_slice(&self.pieces[piece as usize].bytes);
        let mut candidate = first;
        let mut found = Vec::new();
        while candidate != NO_NODE {
            found.clear();
            self.write_bytes(candidate, &mut found);
            if found == wanted {
                return Some(candidate);
            }
            candidate = self.nodes[candidate as usize].next_same_hash;
        }
        None
    }
}

/// One operation of a partition, ready for the search.
#[derive(Clone, Debug)]
pub(crate) struct CompiledOp {
    /// Index into [`History::operations`].
    pub index: usize,
    pub call_us: u64,
    /// `None`: may take effect at any time after the call, or never.
    pub return_us: Option<u64>,
    pub effect: Effect,
}

/// The operations on one independent object (the register, or one key).
#[derive(Debug)]
pub(crate) struct Partition {
    /// The key, for the key-value model.
    pub key: Option<String>,
    pub ops: Vec<CompiledOp>,
    pub states: States,
    pub initial: StateId,
}

/// Validates `history` against `model` and splits it into independent partitions, in key order.
///
/// Failed operations are dropped (they did not happen), and so are reads whose outcome is
/// unknown: a read changes nothing, so one that may or may not have happened constrains nothing.
pub(crate) fn compile(history: &History, model: &Model) -> Result<Vec<Partition>, HistoryError> {
    history.validate()?;
    check_supported(history, model)?;
    let ops = &history.operations;
    let mut order: Vec<usize> = (0..ops.len()).filter(|&i| constrains(&ops[i])).collect();
    // Stable: each key's operations stay in history order.
    crate::sim::order::sort_by_key(&mut order, |&i| ops[i].input.key());
    let partitions = order
        .chunk_by(|&a, &b| ops[a].input.key() == ops[b].input.key())
        .map(|indices| compile_partition(history, model, ops[indices[0]].input.key(), indices))
        .collect();
    Ok(partitions)
}

fn check_supported(history: &History, model: &Model) -> Result<(), HistoryError> {
    if !model.kind.takes_initial() && model.initial.is_some() {
        return Err(HistoryError::InitialValueNotSupported {
            model: model.kind.name(),
        });
    }
    let unsupported = history
        .operations
        .iter()
        .position(|op| !model.kind.supports(op));
    match unsupported {
        None => Ok(()),
        Some(index) => Err(HistoryError::UnsupportedOperation {
            index,
            operation: history.operations[index].describe(),
            model: model.kind.name(),
        }),
    }
}

fn constrains(op: &Operation) -> bool {
    match op.status {
        Status::Ok => true,
        Status::Fail => false,
        Status::Unknown => !op.input.is_read_only(),
    }
}

fn compile_partition(
    history: &History,
    model: &Model,
    key: Option<&str>,
    indices: &[usize],
) -> Partition {
    let mut states = States::for_model(model.kind);
    let initial = initial_state(&mut states, history, indices, model);
    let ops = indices
        .iter()
        .map(|&index| {
            let op = &history.operations[index];
            let known = op.status == Status::Ok;
            CompiledOp {
                index,
                call_us: op.call_us,
                return_us: if known { op.return_us } else { None },
                effect: effect_of(&mut states, op, known),
            }
        })
        .collect();
    Partition {
        key: key.map(str::to_owned),
        ops,
        states,
        initial,
    }
}

/// The starting state: the register's initial value, an empty list, or (multi-register) every
/// key the transactions name, unwritten.
fn initial_state(
    states: &mut States,
    history: &History,
    indices: &[usize],
    model: &Model,
) -> StateId {
    if !states.has_shapes() {
        let initial = model.initial.as_ref();
        return initial.map_or(NIL, |value| states.intern(value.as_str()));
    }
    #[cfg(not(target_arch = "wasm32"))]
    return lists::initial(states, history, indices);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (history, indices);
        NIL
    }
}

/// The interned effect of `op`; `known` says whether its output was observed.
fn effect_of(states: &mut States, op: &Operation, known: bool) -> Effect {
    #[cfg(not(target_arch = "wasm32"))]
    let output = if known { &op.output } else { &Output::None };
    match &op.input {
        #[cfg(not(target_arch = "wasm32"))]
        Input::Read if matches!(output, Output::Set(_)) => lists::effect(states, op, output),
        Input::Read | Input::Get { .. } => {
            let expect = match (&op.output, known) {
                (Output::Read(value), true) => Some(states.intern_read(value)),
                _ => None,
            };
            Effect::Read { expect }
        }
        Input::Write { value } | Input::Put { value, .. } => Effect::Write {
            value: states.intern(value.as_str()),
        },
        Input::Cas { expected, new } => Effect::Cas {
            from: states.intern(expected.as_str()),
            to: states.intern(new.as_str()),
            swapped: match (&op.output, known) {
                (Output::Cas(swapped), true) => Some(*swapped),
                _ => None,
            },
        },
        Input::Append { value, .. } => Effect::Append {
            suffix: states.intern_piece(value.as_str()),
        },
        // The list models' operations (lists.rs).
        #[cfg(not(target_arch = "wasm32"))]
        _ => lists::effect(states, op, output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_round_trip_through_from_str() {
        for kind in ModelKind::ALL {
            assert_eq!(kind.name().parse::<ModelKind>(), Ok(kind));
        }
        assert!("registr"
            .parse::<ModelKind>()
            .unwrap_err()
            .contains("registr"));
    }

    #[test]
    fn a_failed_cas_is_legal_only_when_the_comparison_fails() {
        let mut states = States::new(false);
        let one = states.intern("1");
        let two = states.intern("2");
        let failed = Effect::Cas {
            from: one,
            to: two,
            swapped: Some(false),
        };
        assert_eq!(states.apply(one, failed), None);
        assert_eq!(states.apply(two, failed), Some(two));
        let unknown = Effect::Cas {
            from: one,
            to: two,
            swapped: None,
        };
        assert_eq!(states.apply(one, unknown), Some(two));
        assert_eq!(states.apply(NIL, unknown), Some(NIL));
    }

    #[test]
    fn appends_concatenate_and_an_empty_key_equals_a_missing_one() {
        let mut states = States::new(true);
        let x = states.intern_piece("x");
        let yz = states.intern_piece("yz");
        let after_x = states.apply(NIL, Effect::Append { suffix: x }).unwrap();
        let after_xyz = states
            .apply(after_x, Effect::Append { suffix: yz })
            .unwrap();
        assert_eq!(states.text(after_xyz).as_deref(), Some("xyz"));
        // However a string was built, it is one state.
        assert_eq!(states.intern("xyz"), after_xyz);
        assert_eq!(states.intern(""), NIL);
        assert_eq!(states.text(NIL).as_deref(), Some(""));
        // Same string, different pieces: "xy" + "z" is "x" + "yz".
        let xy = states.intern_piece("xy");
        let z = states.intern_piece("z");
        let after_xy = states.apply(NIL, Effect::Append { suffix: xy }).unwrap();
        assert_eq!(
            states.apply(after_xy, Effect::Append { suffix: z }),
            Some(after_xyz)
        );
        assert_eq!(
            states.apply(NIL, Effect::Read { expect: Some(NIL) }),
            Some(NIL)
        );
    }

    #[test]
    fn a_register_tells_nil_from_the_empty_string() {
        let mut states = States::new(false);
        let empty = states.intern("");
        assert_ne!(empty, NIL);
        assert_eq!(states.text(NIL), None);
        assert_eq!(states.text(empty).as_deref(), Some(""));
    }
}
