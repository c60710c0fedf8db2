//! Client histories and the linearizability checker.
//!
//! A history is *linearizable* if every operation can be given a single instant, somewhere
//! between its call and its return, such that taking the operations one at a time in that order
//! gives exactly the answers the clients saw. This module decides that for three objects (a
//! register, a compare-and-set register, and a key-value map checked one key at a time) and, when
//! the answer is no, says how far it got and which operation could not be placed.
//!
//! # The algorithm
//!
//! This is Wing & Gong's backtracking search with Lowe's memoisation, the approach of Knossos and
//! Porcupine.
//!
//! 1. **Entries.** Each operation contributes a *call* entry at its call time and, if it
//!    completed, a *return* entry at its return time. All entries are sorted by time (calls first
//!    at equal times, so operations that merely touch count as concurrent) into a doubly linked
//!    list. Operations that failed are dropped; operations whose outcome is unknown get no return
//!    entry, which means "may take effect any time after the call, or never".
//! 2. **Search.** Walk the list from the front. At a call entry, try to linearize that operation
//!    now: apply it to the model state. If the model allows it, push (operation, previous state)
//!    on a stack, unlink the operation's call and return entries from the list and restart from
//!    the front. If the model forbids it, move on to the next entry. Reaching a *return* entry
//!    means that operation should have taken effect by now and could not, so the latest choice
//!    was wrong: pop it, restore the state, put its entries back, and continue just after its
//!    call entry (its later alternatives). The history is linearizable once every completed
//!    operation has been linearized; it is not once backtracking empties the stack.
//! 3. **Memoisation.** Two paths that linearize the same *set* of operations and reach the same
//!    model state have the same future, so each (set, state) configuration is explored once.
//!    The set is a bitset, hashed incrementally (Zobrist), and the state an interned integer.
//!    This turns a factorial search into one that is fast on real histories.
//! 4. **Partitions.** Operations on different keys of a map are independent (linearizability is
//!    local, Herlihy & Wing), so each key is checked on its own, in key order.
//! 5. **Budget.** The search counts steps and cache memory and stops with [`Verdict::Unknown`]
//!    rather than running for hours; a caller's `cancel` callback can stop it too. The checker
//!    never reads a clock, so it behaves the same natively and in wasm.
//!
//! # The explanation
//!
//! When a history is not linearizable the result carries a [`Counterexample`]: the longest
//! prefix of a linearization the search found (the witness order), the object's value after it,
//! and the operation that could not be placed (at that deepest point, the operation whose return
//! arrived before any legal place for it). [`timeline`] turns a history and a result into lanes of
//! bars for the browser's operation timeline.
//!
//! # Files
//!
//! - `history.rs`: [`History`], [`Operation`], [`Input`], [`Output`], [`Status`], [`Value`].
//! - `model.rs`: [`Model`], [`ModelKind`], and the compiled (interned) form the search uses.
//! - `search.rs`: the search itself: entry list, memo cache, budget.
//! - `checker.rs`: [`check`], [`check_with`], [`CheckResult`] and its parts.
//! - `edn.rs`, `import.rs`: reading Jepsen/Knossos EDN, Porcupine's etcd and key-value logs, and
//!   our JSON ([`parse_history`], [`Format`]).
//! - `timeline.rs`: the operation timeline as data ([`timeline()`]).
//! - `verify.rs`: [`verify_order`], which replays one proposed order (a witness from the
//!   checker, or a learner's guess) and says where it breaks.
//! - `cli.rs`: [`run_cli`], the body of `dsplay check`.

mod checker;
mod cli;
mod edn;
mod fast_hash;
mod history;
mod import;
mod model;
mod search;
mod timeline;
mod verify;

pub use checker::{
    check, check_with, CheckOptions, CheckResult, Counterexample, Linearization, StopReason,
    Verdict, DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_STEPS,
};
pub use cli::{run_cli, run_cli_report, CliReport, MAX_INPUT_BYTES};
pub use history::{History, HistoryError, Input, Operation, Output, Status, Value};
pub use import::{parse_history, Format, ImportError, MAX_LINE_BYTES, MAX_OPERATIONS};
pub use model::{Model, ModelKind};
pub use timeline::{timeline, Bar, Lane, Timeline};
pub use verify::{verify_order, OrderError};
