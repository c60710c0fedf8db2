//! The operation timeline as data: one lane per client, one bar per operation.
//!
//! The browser draws this; nothing here knows about pixels. A bar spans call to return; a
//! pending operation (status unknown) runs to the end of the history, since it may still take
//! effect. Each bar carries its position in the linearization (or, for a history that is not
//! linearizable, in the longest linearizable prefix) and whether it is the operation that could
//! not be placed.

use super::checker::CheckResult;
use super::history::{History, Status};
use serde::{Deserialize, Serialize};

/// Lanes of bars, and the time span they cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The earliest call, in virtual microseconds (0 for an empty history).
    pub start_us: u64,
    /// The latest call or return; pending bars end here.
    pub end_us: u64,
    /// One lane per client, in client order.
    pub lanes: Vec<Lane>,
}

/// One client's operations, in call order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    pub client: u32,
    pub bars: Vec<Bar>,
}

/// One operation on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Index into [`History::operations`].
    pub op: usize,
    /// The operation's own id.
    pub id: u64,
    /// A short description, e.g. `write(3)` or `read() -> 3`.
    pub label: String,
    /// The key, for key-value operations.
    pub key: Option<String>,
    pub call_us: u64,
    /// The return time, or [`Timeline::end_us`] for a pending operation.
    pub return_us: u64,
    /// Whether the operation is pending (its outcome unknown), drawn open-ended.
    pub pending: bool,
    pub status: Status,
    /// Position (0-based) in the linearization of its key, or in the longest linearizable
    /// prefix; `None` if the order did not use it or it was not checked.
    pub order: Option<usize>,
    /// Whether this is the operation that could not be placed.
    pub offending: bool,
}

/// Lays out `history` as lanes of bars, annotated with `result` when given.
pub fn timeline(history: &History, result: Option<&CheckResult>) -> Timeline {
    let ops = &history.operations;
    let start_us = ops.iter().map(|op| op.call_us).min().unwrap_or(0);
    let end_us = ops
        .iter()
        .flat_map(|op| [Some(op.call_us), op.return_us])
        .flatten()
        .max();
    let end_us = end_us.unwrap_or(0);
    let order = order_positions(result, ops.len());
    let offending = result
        .and_then(|result| result.counterexample.as_ref())
        .map(|c| c.offending_op);
    let mut bars: Vec<(u32, Bar)> = ops
        .iter()
        .enumerate()
        .map(|(index, op)| {
            let pending = op.status == Status::Unknown;
            let return_us = if pending { None } else { op.return_us };
            let bar = Bar {
                op: index,
                id: op.id,
                label: op.describe(),
                key: op.input.key().map(str::to_owned),
                call_us: op.call_us,
                return_us: return_us.unwrap_or(end_us).max(op.call_us),
                pending,
                status: op.status,
                order: order.get(index).copied().flatten(),
                offending: offending == Some(index),
            };
            (op.client, bar)
        })
        .collect();
    // One lane a client, in client order; a lane's bars by call time.
    crate::sim::order::sort_by_key(&mut bars, |(client, bar)| (*client, bar.call_us, bar.op));
    let mut lanes: Vec<Lane> = Vec::new();
    for (client, bar) in bars {
        match lanes.last_mut() {
            Some(lane) if lane.client == client => lane.bars.push(bar),
            _ => lanes.push(Lane {
                client,
                bars: vec![bar],
            }),
        }
    }
    Timeline {
        start_us,
        end_us,
        lanes,
    }
}

/// Each operation's position in the order that explains it, by operation index (a later
/// order's position overrides an earlier one's).
fn order_positions(result: Option<&CheckResult>, ops: usize) -> Vec<Option<usize>> {
    let mut positions = vec![None; ops];
    let Some(result) = result else {
        return positions;
    };
    let orders = result
        .linearizations
        .iter()
        .map(|linearization| &linearization.order);
    let prefix = result
        .counterexample
        .iter()
        .map(|counterexample| &counterexample.longest_prefix);
    for order in orders.chain(prefix) {
        for (position, &op) in order.iter().enumerate() {
            if let Some(slot) = positions.get_mut(op) {
                *slot = Some(position);
            }
        }
    }
    positions
}
