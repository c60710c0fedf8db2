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

/// The sequential object, on plain strings: a register (`None` is nil) or a map of keys.
struct Replay {
    kind: ModelKind,
    register: Option<String>,
    map: BTreeMap<String, String>,
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
        }
    }

    /// Applies `op`; an operation with an unknown outcome may have seen anything.
    fn apply(&mut self, op: &Operation) -> Result<(), String> {
        let known = op.status == Status::Ok;
        let unsupported = || {
            Err(format!(
                "the {} model does not support {}",
                self.kind,
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
            _ => unsupported(),
        }
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
