//! Client histories and the linearizability checker.
//!
//! A history is *linearizable* if every operation can be given a single instant, somewhere
//! between its call and its return, such that taking the operations one at a time in that order
//! gives exactly the answers the clients saw. This module decides that for seven objects (a
//! register, a compare-and-set register, a key-value map checked one key at a time, a mutex, a
//! FIFO queue, a set, and registers read and written in transactions) and, when the answer is
//! no, says how far it got and which operation could not be placed. It also decides the weaker
//! guarantees a history may keep instead: sequential consistency (`sequential.rs`) and the four
//! session guarantees (`session.rs`, `guarantees.rs`).
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
//!    local, Herlihy & Wing), so each key is searched on its own. Keys take turns of a fixed
//!    number of steps, so one long search does not hide a quick refutation of another key.
//! 5. **Budget.** The search counts steps and cache memory and stops with [`Verdict::Unknown`]
//!    rather than running for hours; a caller's `cancel` callback can stop it too. The checker
//!    never reads a clock, so it behaves the same natively and in wasm.
//!
//! Three refinements prune the search without changing any verdict (each is argued where it is
//! implemented, in `search.rs`):
//!
//! - *Observations are taken eagerly.* A completed read (or a compare-and-set whose comparison
//!   failed) never changes the state where it is legal, so placing it as soon as it fits is never
//!   worse than waiting; if that fails, the configuration before it fails too.
//! - *Pointless pending operations are skipped.* A pending operation that would leave the state
//!   as it is can always be placed later instead, or never.
//! - *Completed operations are tried before pending ones* in each configuration, so the search
//!   does not speculatively place a timed-out write that nothing needs yet.
//!
//! Pending operations remain the expensive part, as in every checker of this family: to refute
//! a history the search must in effect consider each subset of the pending writes that could
//! have taken effect, so histories with many timeouts may end with [`Verdict::Unknown`].
//!
//! The bitsets are *windowed*: operations are numbered in call order, so a linearized set is
//! "everything up to some point, plus a few beyond", and only the words in between are stored
//! and compared. The cost of a step follows the concurrency, not the length of the history.
//!
//! # The explanation
//!
//! When a history is not linearizable the result carries a [`Counterexample`]: the longest
//! prefix of a linearization the search found (the witness order), the object's value after it,
//! and the operation that could not be placed (at that deepest point, the operation whose return
//! arrived before any legal place for it). [`timeline()`] turns a history and a result into lanes of
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
//! - `sequential.rs`, `guarantees.rs`: [`check_sequential`], [`check_guarantees`].
//! - `verify.rs`: [`verify_order`], which replays one proposed order (a witness from the
//!   checker, or a learner's guess) and says where it breaks.
//! - `cli.rs`: [`run_cli`], the body of `dsplay check`.
//! - `wire.rs`: [`result_text`], [`read_result`]: a result as compact text, for the browser's job
//!   worker.

mod checker;
mod cli;
mod edn;
mod fast_hash;
mod guarantees;
mod history;
mod import;
pub(crate) mod json;
mod json_history;
mod model;
mod search;
mod sequential;
pub mod session;
mod timeline;
mod verify;
mod wire;

pub use checker::{
    check, check_with, CheckOptions, CheckResult, Counterexample, Linearization, StopReason,
    Verdict, CANCEL_POLL_STEPS, DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_STEPS,
};
pub use cli::{
    run_cli, run_cli_options, run_cli_report, run_cli_with, CliOptions, CliReport, MAX_INPUT_BYTES,
};
pub use guarantees::{check_guarantees, check_sequential, GuaranteeVerdict, Guarantees};
pub use history::{History, HistoryError, Input, Operation, Output, Status, TxnOp, Value};
pub use import::{
    parse_history, parse_history_with, Format, ImportError, NilReads, MAX_LINE_BYTES,
    MAX_OPERATIONS,
};
pub use model::{Model, ModelKind};
pub use timeline::{timeline, Bar, Lane, Timeline};
pub use verify::{verify_order, OrderError};
pub use wire::{read_result, result_text};
