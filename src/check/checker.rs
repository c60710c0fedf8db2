//! The checker's entry points and its result: a verdict plus, when there is one, an explanation.

use super::history::{History, HistoryError};
use super::model::{compile, Model, Partition};
use super::search::{Budget, Outcome, Search, Stop};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The default step budget: a few seconds of search natively, far more than any history of a
/// few thousand operations from a correct system needs.
pub const DEFAULT_MAX_STEPS: u64 = 50_000_000;

/// The default ceiling on the memoisation caches and interned states, in bytes.
pub const DEFAULT_MAX_CACHE_BYTES: usize = 1 << 30;

/// Steps each unfinished partition runs before the next gets a turn.
const SLICE_STEPS: u64 = 10_000;

/// How often (in steps) the cancel callback is polled: a caller can count its calls to know
/// how far the search has got.
pub const CANCEL_POLL_STEPS: u64 = 4096;

/// Limits on one check. The checker never reads a clock: callers who want a deadline pass
/// `cancel`, which is polled every few thousand steps.
#[derive(Clone, Copy)]
pub struct CheckOptions<'a> {
    /// Search steps (one candidate tried or one backtrack) across all partitions.
    pub max_steps: u64,
    /// Memory for the memoisation caches and interned states of the partitions being searched.
    pub max_cache_bytes: usize,
    /// Returns true to stop the search; the verdict is then [`Verdict::Unknown`].
    pub cancel: Option<&'a dyn Fn() -> bool>,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions {
            max_steps: DEFAULT_MAX_STEPS,
            max_cache_bytes: DEFAULT_MAX_CACHE_BYTES,
            cancel: None,
        }
    }
}

impl fmt::Debug for CheckOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckOptions")
            .field("max_steps", &self.max_steps)
            .field("max_cache_bytes", &self.max_cache_bytes)
            .field("cancel", &self.cancel.map(|_| "callback"))
            .finish()
    }
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable,
    /// The budget ran out (or the caller cancelled) before a verdict.
    Unknown,
}

/// Why a check ended with [`Verdict::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    StepBudget,
    MemoryBudget,
    Cancelled,
}

impl StopReason {
    /// A phrase for messages, e.g. "the step budget ran out".
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::StepBudget => "the step budget ran out",
            StopReason::MemoryBudget => "the memory budget ran out",
            StopReason::Cancelled => "the check was cancelled",
        }
    }
}

impl From<Stop> for StopReason {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Steps => StopReason::StepBudget,
            Stop::Memory => StopReason::MemoryBudget,
            Stop::Cancelled => StopReason::Cancelled,
        }
    }
}

/// A valid order of one partition's operations. Indices are into [`History::operations`];
/// pending operations appear only if the order needs them (or placed them early).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linearization {
    /// The key, for the key-value model; `None` for a register.
    pub key: Option<String>,
    pub order: Vec<usize>,
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The key whose operations cannot be linearized (key-value model), `None` for a register.
    pub key: Option<String>,
    /// The witness order: the longest prefix of a linearization the search found, as indices
    /// into [`History::operations`] in the order they take effect.
    pub longest_prefix: Vec<usize>,
    /// The object's value after that prefix; `None` is nil (a register never written).
    pub state_after_prefix: Option<String>,
    /// The operation that cannot be placed: at the deepest point of the search, the first
    /// operation whose return came before it could be linearized after the prefix.
    pub offending_op: usize,
}

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub verdict: Verdict,
    /// Operations in the history, of every status.
    pub operations: usize,
    /// Independent partitions (keys) the history split into.
    pub partitions: usize,
    /// Search steps spent.
    pub steps: u64,
    /// Set when the verdict is [`Verdict::Unknown`].
    pub stopped: Option<StopReason>,
    /// A linearization of each partition found linearizable, in key order. When the verdict is
    /// not [`Verdict::Linearizable`] this lists only the partitions finished before the check
    /// stopped.
    pub linearizations: Vec<Linearization>,
    /// Set when the verdict is [`Verdict::NotLinearizable`].
    pub counterexample: Option<Counterexample>,
}

impl CheckResult {
    /// `Some(true)` linearizable, `Some(false)` not, `None` unknown.
    pub fn is_linearizable(&self) -> Option<bool> {
        match self.verdict {
            Verdict::Linearizable => Some(true),
            Verdict::NotLinearizable => Some(false),
            Verdict::Unknown => None,
        }
    }
}

/// Checks `history` against `model` with the default budget.
pub fn check(history: &History, model: &Model) -> Result<CheckResult, HistoryError> {
    check_with(history, model, &CheckOptions::default())
}

/// Checks `history` against `model` within `options`' limits.
///
/// Partitions (keys) are searched in turns of a fixed number of steps, in key order, and the
/// check stops at the first found not linearizable: like Porcupine's parallel search, a key that
/// is quickly refuted is not held up behind a long search of another, and unlike it the verdict
/// and explanation are the same on every run and platform. Errors mean the history does not fit
/// the model (e.g. a compare-and-set on a plain register).
pub fn check_with(
    history: &History,
    model: &Model,
    options: &CheckOptions<'_>,
) -> Result<CheckResult, HistoryError> {
    let mut partitions = compile(history, model)?;
    let mut budget = Budget {
        steps_used: 0,
        max_steps: options.max_steps,
        bytes_used: 0,
        max_bytes: options.max_cache_bytes,
        cancel: options.cancel,
    };
    let mut result = CheckResult {
        verdict: Verdict::Linearizable,
        operations: history.len(),
        partitions: partitions.len(),
        steps: 0,
        stopped: None,
        linearizations: Vec::new(),
        counterexample: None,
    };
    let mut searches: Vec<Option<Search<'_>>> = partitions
        .iter_mut()
        .map(|partition| Some(Search::new(partition)))
        .collect();
    let mut orders = vec![None; searches.len()];
    'rounds: while searches.iter().any(Option::is_some) {
        for (slot, order) in searches.iter_mut().zip(&mut orders) {
            let Some(search) = slot else { continue };
            let Some(outcome) = search.run(&mut budget, SLICE_STEPS) else {
                continue;
            };
            let go_on = record(&mut result, search.partition(), outcome, order);
            *slot = None;
            if !go_on {
                break 'rounds;
            }
        }
    }
    drop(searches);
    // Report linearizations in key order, whatever order the partitions finished in.
    result.linearizations = orders.into_iter().flatten().collect();
    result.steps = budget.steps_used;
    Ok(result)
}

/// Folds one partition's outcome into `result`; returns whether to go on with the others.
fn record(
    result: &mut CheckResult,
    partition: &Partition,
    outcome: Outcome,
    linearization: &mut Option<Linearization>,
) -> bool {
    let to_history = |ops: &[u32]| -> Vec<usize> {
        ops.iter()
            .map(|&op| partition.ops[op as usize].index)
            .collect()
    };
    match outcome {
        Outcome::Linearizable { order } => {
            let order = to_history(&order);
            *linearization = Some(Linearization {
                key: partition.key.clone(),
                order,
            });
            true
        }
        Outcome::Illegal {
            prefix,
            state,
            offending,
        } => {
            result.verdict = Verdict::NotLinearizable;
            result.counterexample = Some(Counterexample {
                key: partition.key.clone(),
                longest_prefix: to_history(&prefix),
                state_after_prefix: partition.states.text(state),
                offending_op: partition.ops[offending as usize].index,
            });
            false
        }
        Outcome::Stopped(stop) => {
            result.verdict = Verdict::Unknown;
            result.stopped = Some(stop.into());
            false
        }
    }
}
