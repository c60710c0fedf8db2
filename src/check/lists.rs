//! The list models: mutex, FIFO queue, set and multi-register, whose states are lists of
//! values. Native only (see `model.rs`).

use super::{Effect, ModelKind, StateId, States, NIL, NO_NODE};
use crate::check::fast_hash::FastMap;
use crate::check::history::{History, Input, Operation, Output, TxnOp, Value};

/// States that are lists of values: a mutex (`[]` free, `[1]` held), a queue (front first), a
/// set (sorted), the registers of a multi-register (one value per key, in key order). Values
/// are interned strings of [`States`]; each list is interned too, so the search compares and
/// hashes integers (a step copies one list, which for these models is short).
#[derive(Debug, Default)]
pub(super) struct Shapes {
    lists: Vec<Box<[StateId]>>,
    ids: FastMap<Box<[StateId]>, StateId>,
    txns: Vec<Box<[TxnStep]>>,
    /// The multi-register's keys, sorted: a key's register is its position.
    keys: Vec<String>,
}

/// One step of an interned transaction: read (expecting `value`, if known) or write register
/// number `key`.
#[derive(Clone, Copy, Debug)]
struct TxnStep {
    key: u32,
    write: bool,
    value: Option<StateId>,
}

impl Shapes {
    pub(super) fn intern(&mut self, list: Vec<StateId>) -> StateId {
        if let Some(&id) = self.ids.get(list.as_slice()) {
            return id;
        }
        let id = StateId::try_from(self.lists.len()).unwrap_or(NO_NODE - 1);
        let list: Box<[StateId]> = list.into();
        self.lists.push(list.clone());
        self.ids.insert(list, id);
        id
    }

    pub(super) fn bytes(&self) -> usize {
        const ENTRY_BYTES: usize = 48;
        let words: usize = self.lists.iter().map(|list| list.len()).sum();
        words * 8 + self.lists.len() * ENTRY_BYTES
    }

    /// The list after `effect`, or `None` if the model forbids it in `state`.
    pub(super) fn step(&mut self, state: StateId, effect: Effect) -> Option<StateId> {
        let mut list = self.lists.get(state as usize)?.to_vec();
        match effect {
            Effect::Acquire if list.is_empty() => list.push(1),
            Effect::Release if !list.is_empty() => list.clear(),
            Effect::Enqueue { value } => list.push(value),
            Effect::Dequeue { expect } => match (list.first(), expect) {
                (None, Some(NIL)) => return Some(state),
                (Some(&front), Some(expect)) if front != expect => return None,
                (Some(_), _) => drop(list.remove(0)),
                (None, _) => return None,
            },
            Effect::Add { element } => match list.binary_search(&element) {
                Ok(_) => return Some(state),
                Err(at) => list.insert(at, element),
            },
            Effect::ReadSet { expect } => return (state == expect).then_some(state),
            Effect::Txn { txn, .. } => {
                for step in self.txns.get(txn as usize)?.iter() {
                    let register = list.get_mut(step.key as usize)?;
                    match (step.write, step.value) {
                        (true, Some(value)) => *register = value,
                        (false, Some(value)) if *register != value => return None,
                        _ => {}
                    }
                }
            }
            _ => return None,
        }
        Some(self.intern(list))
    }
}

impl States {
    /// Interns a transaction's steps; `read` holds what its reads saw (empty when unknown).
    pub(super) fn intern_txn(&mut self, ops: &[TxnOp], read: &[Option<Value>]) -> u32 {
        let steps = ops.iter().enumerate().map(|(index, op)| {
            let value = if op.write {
                op.value.as_ref()
            } else {
                read.get(index).and_then(Option::as_ref)
            };
            let key = self
                .shapes
                .keys
                .binary_search(&op.key)
                .unwrap_or(usize::MAX);
            TxnStep {
                key: u32::try_from(key).unwrap_or(u32::MAX),
                write: op.write,
                value: value.map(|value| self.intern(value.as_str())),
            }
        });
        let steps = steps.collect();
        self.shapes.txns.push(steps);
        u32::try_from(self.shapes.txns.len() - 1).unwrap_or(u32::MAX)
    }

    /// A list state as text: `free`, `[1 2]`, `#{1 2}`, `{x 1, y nil}`.
    pub(super) fn list_text(&self, state: StateId) -> String {
        let list = self
            .shapes
            .lists
            .get(state as usize)
            .map_or(&[][..], |list| list);
        let value = |id: &StateId| self.string_text(*id).unwrap_or_else(|| "nil".to_owned());
        let values = || list.iter().map(value).collect::<Vec<_>>().join(" ");
        match self.kind {
            ModelKind::Mutex if list.is_empty() => "free".to_owned(),
            ModelKind::Mutex => "held".to_owned(),
            ModelKind::Set => format!("#{{{}}}", values()),
            ModelKind::MultiRegister => {
                let keys = self.shapes.keys.iter().zip(list);
                let pairs: Vec<_> = keys
                    .map(|(key, id)| format!("{key} {}", value(id)))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
            _ => format!("[{}]", values()),
        }
    }

    /// Heap bytes of the list states, for the memory budget.
    pub(super) fn list_bytes(&self) -> usize {
        self.shapes.bytes()
    }
}

/// The starting list: empty, or (multi-register) every key the transactions name, unwritten.
pub(super) fn initial(states: &mut States, history: &History, indices: &[usize]) -> StateId {
    let txns = indices
        .iter()
        .map(|&index| &history.operations[index].input);
    let keys = txns.flat_map(|input| match input {
        Input::Txn { ops } => ops.iter().map(|op| op.key.clone()).collect(),
        _ => Vec::new(),
    });
    let mut keys: Vec<String> = keys.collect();
    crate::sim::order::sort_by(&mut keys, |a, b| a.cmp(b));
    keys.dedup();
    let unwritten = vec![NIL; keys.len()];
    states.shapes.keys = keys;
    states.shapes.intern(unwritten)
}

/// The interned effect of a list model's operation; `output` is what was observed (or
/// [`Output::None`]).
pub(super) fn effect(states: &mut States, op: &Operation, output: &Output) -> Effect {
    match &op.input {
        Input::Read => {
            let Output::Set(values) = output else {
                return Effect::Read { expect: None };
            };
            let mut ids: Vec<StateId> = values.iter().map(|v| states.intern(v.as_str())).collect();
            crate::sim::order::sort_by(&mut ids, |a, b| a.cmp(b));
            ids.dedup();
            Effect::ReadSet {
                expect: states.shapes.intern(ids),
            }
        }
        Input::Acquire => Effect::Acquire,
        Input::Release => Effect::Release,
        Input::Enqueue { value } => Effect::Enqueue {
            value: states.intern(value.as_str()),
        },
        Input::Dequeue => Effect::Dequeue {
            expect: match output {
                Output::Read(value) => Some(states.intern_read(value)),
                _ => None,
            },
        },
        Input::Add { value } => Effect::Add {
            element: states.intern(value.as_str()),
        },
        Input::Txn { ops } => {
            let read = match output {
                Output::Txn(read) => read.as_slice(),
                _ => &[],
            };
            Effect::Txn {
                txn: states.intern_txn(ops, read),
                read_only: ops.iter().all(|op| !op.write),
            }
        }
        _ => Effect::Read { expect: None },
    }
}
