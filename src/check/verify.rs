//! Checking a proposed order directly, by replaying it.
//!
//! This is the definition of linearizability applied to one candidate order, written without
//! any of the search's machinery (no interning, no entry list, no cache). It lets tests confirm
//! the checker's witnesses independently, and it lets a learner propose an order ("I think the
//! write took effect first") and be told exactly where it breaks.

use super::history::{History, Input, Operation, Output, Status};
use super::model::{Model, ModelKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where and why a proposed order breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderError {
    /// Position in the proposed order (equal to its length for a missing operation).
    pub position: usize,
    /// The operation concerned, as an index into [`History::operations`].
    pub op: usize,
    pub reason: String,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "position {} (operation {}): {}",
            self.position, self.op, self.reason
        )
    }
}

impl std::error::Error for OrderError {}

/// Checks that `order` (indices into `history.operations`) could begin a linearization:
///
/// 1. each operation appears once and did not fail;
/// 2. replaying them in order from the model's initial state gives every completed operation
///    the output its client saw;
/// 3. no operation comes after one that was called only after it had returned (real time);
/// 4. nothing is skipped: every completed operation on the same object that returned before
///    some operation in the order was called is itself in the order.
///
/// A full linearization additionally contains every completed operation.
pub fn verify_order(history: &History, model: &Model, order: &[usize]) -> Result<(), OrderError> {
    let ops = &history.operations;
    // Which operations the order has placed, by index (a plain list: the indices are dense).
    let mut seen = vec![false; ops.len()];
    let mut replay = Replay::new(model);
    let mut latest_call_us: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    for (position, &index) in order.iter().enumerate() {
        let fail = |reason: String| {
            Err(OrderError {
                position,
                op: index,
                reason,
            })
        };
        let Some(op) = ops.get(index) else {
            return fail("there is no such operation".to_owned());
        };
        if std::mem::replace(&mut seen[index], true) {
            return fail("it appears twice".to_owned());
        }
        if op.status == Status::Fail {
            return fail("it failed, so it never took effect".to_owned());
        }
        let latest = latest_call_us.entry(op.input.key()).or_insert(0);
        if op.status == Status::Ok && op.return_us.is_some_and(|ret| ret < *latest) {
            return fail(format!(
                "it returned before an earlier-placed operation was called at {latest} us"
            ));
        }
        *latest = (*latest).max(op.call_us);
        if let Err(reason) = replay.apply(op) {
            return fail(reason);
        }
    }
    check_nothing_skipped(ops, order, &seen, &latest_call_us)
}

fn check_nothing_skipped(
    ops: &[Operation],
    order: &[usize],
    seen: &[bool],
    latest_call_us: &BTreeMap<Option<&str>, u64>,
) -> Result<(), OrderError> {
    for (index, op) in ops.iter().enumerate() {
        let Some(&latest) = latest_call_us.get(&op.input.key()) else {
            continue;
        };
        let returned_before = op.return_us.is_some_and(|ret| ret < latest);
        if op.status == Status::Ok && returned_before && !seen[index] {
            let reason = format!(
                "it returned before an operation in the order was called (at {latest} us), \
                 so it must be in the order"
            );
            return Err(OrderError {
                position: order.len(),
                op: index,
                reason,
            });
        }
    }
    Ok(())
}

/// The sequential object, on plain strings: a register (`None` is nil), a map of keys (also
/// the multi-register's registers), a queue (front first), a set, or whether a mutex is held.
struct Replay {
    kind: ModelKind,
    register: Option<String>,
    map: BTreeMap<String, String>,
    #[cfg(not(target_arch = "wasm32"))]
    queue: std::collections::VecDeque<String>,
    #[cfg(not(target_arch = "wasm32"))]
    set: std::collections::BTreeSet<String>,
    #[cfg(not(target_arch = "wasm32"))]
    held: bool,
}

impl Replay {
    fn new(model: &Model) -> Self {
        let register = model
            .initial
            .as_ref()
            .map(|value| value.as_str().to_owned());
        Replay {
            kind: model.kind,
            register,
            map: BTreeMap::new(),
            #[cfg(not(target_arch = "wasm32"))]
            queue: Default::default(),
            #[cfg(not(target_arch = "wasm32"))]
            set: Default::default(),
            #[cfg(not(target_arch = "wasm32"))]
            held: false,
        }
    }

    /// Applies `op`; an operation with an unknown outcome may have seen anything.
    fn apply(&mut self, op: &Operation) -> Result<(), String> {
        let known = op.status == Status::Ok;
        let kind = self.kind;
        let unsupported = || {
            Err(format!(
                "the {kind} model does not support {}",
                op.describe()
            ))
        };
        match (&op.input, self.kind) {
            (Input::Read, ModelKind::Register | ModelKind::CasRegister) => {
                let current = self.register.clone();
                expect_read(known, &op.output, current.as_deref())
            }
            (Input::Write { value }, ModelKind::Register | ModelKind::CasRegister) => {
                self.register = Some(value.as_str().to_owned());
                Ok(())
            }
            (Input::Cas { expected, new }, ModelKind::CasRegister) => {
                let matches = self.register.as_deref() == Some(expected.as_str());
                if matches {
                    self.register = Some(new.as_str().to_owned());
                }
                match (&op.output, known) {
                    (Output::Cas(swapped), true) if *swapped != matches => Err(format!(
                        "the register held {:?}, so it could not {}",
                        self.register,
                        op.describe()
                    )),
                    _ => Ok(()),
                }
            }
            (Input::Get { key }, ModelKind::Kv) => {
                let current = self.map.get(key).cloned().unwrap_or_default();
                expect_read(known, &op.output, Some(&current)).or_else(|error| {
                    // A missing key reads as "", so nil is as good as "".
                    let nil_read = matches!(op.output, Output::Read(None)) && current.is_empty();
                    if nil_read {
                        Ok(())
                    } else {
                        Err(error)
                    }
                })
            }
            (Input::Put { key, value }, ModelKind::Kv) => {
                self.map.insert(key.clone(), value.as_str().to_owned());
                Ok(())
            }
            (Input::Append { key, value }, ModelKind::Kv) => {
                self.map
                    .entry(key.clone())
                    .or_default()
                    .push_str(value.as_str());
                Ok(())
            }
            #[cfg(not(target_arch = "wasm32"))]
            _ => self.apply_other(op, known).unwrap_or_else(unsupported),
            #[cfg(target_arch = "wasm32")]
            _ => unsupported(),
        }
    }

    /// The mutex, queue, set and multi-register models; `None` if the model lacks `op`.
    #[cfg(not(target_arch = "wasm32"))]
    fn apply_other(&mut self, op: &Operation, known: bool) -> Option<Result<(), String>> {
        let output = if known { &op.output } else { &Output::None };
        let refuse = |why: &str| Err(format!("{why}, so it could not {}", op.describe()));
        Some(match (&op.input, self.kind) {
            (Input::Acquire, ModelKind::Mutex) if self.held => refuse("the mutex was held"),
            (Input::Release, ModelKind::Mutex) if !self.held => refuse("the mutex was free"),
            (Input::Acquire | Input::Release, ModelKind::Mutex) => {
                self.held = !self.held;
                Ok(())
            }
            (Input::Enqueue { value }, ModelKind::Queue) => {
                self.queue.push_back(value.as_str().to_owned());
                Ok(())
            }
            (Input::Dequeue, ModelKind::Queue) => {
                let front = self.queue.front().cloned();
                match output {
                    Output::Read(None) if front.is_none() => Ok(()),
                    Output::Read(seen) if seen.as_ref().map(|v| v.as_str()) != front.as_deref() => {
                        refuse(&format!("the front of the queue was {front:?}"))
                    }
                    _ if front.is_none() => refuse("the queue was empty"),
                    _ => {
                        self.queue.pop_front();
                        Ok(())
                    }
                }
            }
            (Input::Add { value }, ModelKind::Set) => {
                self.set.insert(value.as_str().to_owned());
                Ok(())
            }
            (Input::Read, ModelKind::Set) => match output {
                Output::Set(values) => {
                    let seen: std::collections::BTreeSet<String> =
                        values.iter().map(|v| v.as_str().to_owned()).collect();
                    if seen == self.set {
                        Ok(())
                    } else {
                        refuse(&format!("the set was {:?}", self.set))
                    }
                }
                _ => Ok(()),
            },
            (Input::Txn { ops }, ModelKind::MultiRegister) => self.apply_txn(ops, output),
            _ => return None,
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn apply_txn(&mut self, ops: &[super::history::TxnOp], output: &Output) -> Result<(), String> {
        for (index, step) in ops.iter().enumerate() {
            let value = step.value.as_ref().map(|v| v.as_str().to_owned());
            if step.write {
                self.map.insert(step.key.clone(), value.unwrap_or_default());
                continue;
            }
            let Output::Txn(read) = output else { continue };
            let Some(Some(seen)) = read.get(index) else {
                continue;
            };
            let held = self.map.get(&step.key);
            if held.map(String::as_str) != Some(seen.as_str()) {
                return Err(format!("register {} held {held:?}, not {seen}", step.key));
            }
        }
        Ok(())
    }
}

fn expect_read(known: bool, output: &Output, current: Option<&str>) -> Result<(), String> {
    let seen = match (output, known) {
        (Output::Read(seen), true) => seen.as_ref().map(|value| value.as_str()),
        _ => return Ok(()),
    };
    if seen == current {
        return Ok(());
    }
    let show = |value: Option<&str>| value.map_or("nil".to_owned(), |value| format!("{value:?}"));
    Err(format!(
        "it read {} but the object held {}",
        show(seen),
        show(current)
    ))
}
