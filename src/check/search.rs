//! The search for a linearization of one partition (Wing & Gong with Lowe's memoisation).
//!
//! See the module documentation of [`crate::check`] for the algorithm in prose. The pieces here:
//!
//! - [`EntryList`]: call and return entries in time order, as a doubly linked list over arrays so
//!   that removing a linearized operation ("lift") and restoring it on backtrack ("unlift") are
//!   O(1) and allocation-free (dancing links).
//! - [`Linearized`]: the set of linearized operations as two *windowed* bitsets, one for
//!   completed and one for pending operations, each numbered in call order. Completed operations
//!   are linearized roughly in call order, so the set is "everything up to some point, plus a
//!   few beyond": only the words between the first not-full word and the last non-empty word
//!   are stored and compared, which keeps a step's cost proportional to the concurrency rather
//!   than to the length of the history. Pending operations get their own set because one that is
//!   never linearized would otherwise hold the window open forever.
//! - [`Cache`]: the (linearized set, model state) configurations already explored, in a flat
//!   arena, found through a Zobrist hash of the set (updated in O(1) per change) mixed with the
//!   state, and compared exactly.
//! - [`Budget`]: a step count, a memory ceiling and an optional cancel callback, so the search
//!   stops with "unknown" instead of hanging. It never reads a clock (the same code runs in wasm).
//!
//! A [`Search`] runs in slices of steps so that the checker can interleave partitions: a key
//! that is quickly shown not linearizable is found even if another key's search is long.

use super::fast_hash::FastMap;
use super::model::{Partition, StateId};

/// Why a search stopped before reaching a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    Steps,
    Memory,
    Cancelled,
}

use super::checker::CANCEL_POLL_STEPS;

/// Limits shared by all partitions of one check.
pub(crate) struct Budget<'a> {
    pub steps_used: u64,
    pub max_steps: u64,
    pub bytes_used: usize,
    pub max_bytes: usize,
    pub cancel: Option<&'a dyn Fn() -> bool>,
}

impl Budget<'_> {
    pub(crate) fn tick(&mut self) -> Result<(), Stop> {
        if self.steps_used >= self.max_steps {
            return Err(Stop::Steps);
        }
        self.steps_used += 1;
        let poll = self.steps_used % CANCEL_POLL_STEPS == 0;
        match self.cancel {
            Some(cancel) if poll && cancel() => Err(Stop::Cancelled),
            _ => Ok(()),
        }
    }
}

/// The outcome of searching one partition. Operation numbers are positions in `Partition::ops`.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A linearization: the operations in the order they take effect.
    Linearizable {
        order: Vec<u32>,
    },
    /// No linearization. `prefix` is the longest linearizable ordering found, `state` the model
    /// state after it, and `offending` the operation whose return came before it could be placed.
    Illegal {
        prefix: Vec<u32>,
        state: StateId,
        offending: u32,
    },
    Stopped(Stop),
}

/// Marks "no entry": the head's predecessor and a pending operation's return.
const NONE: u32 = u32::MAX;
const HEAD: u32 = 0;

/// Call and return entries in time order, linked so that entries can be lifted out and put back.
struct EntryList {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of each entry (`NONE` for the head and tail sentinels).
    op: Vec<u32>,
    /// For a call entry, its return entry (`NONE` for a pending operation); for a return entry,
    /// its call entry.
    partner: Vec<u32>,
    is_call: Vec<bool>,
}

impl EntryList {
    /// Orders entries by time; at equal times calls come first, so operations that touch
    /// (one returns as the other is called) count as concurrent, as in Porcupine.
    fn new(partition: &Partition) -> Self {
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * partition.ops.len());
        for (op, compiled) in partition.ops.iter().enumerate() {
            events.push((compiled.call_us, false, op as u32));
            if let Some(return_us) = compiled.return_us {
                events.push((return_us, true, op as u32));
            }
        }
        crate::sim::order::sort_by(&mut events, Ord::cmp);
        let len = events.len() + 2;
        let mut list = EntryList {
            next: (1..=len as u32).collect(),
            prev: (0..len as u32).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![NONE; len],
            partner: vec![NONE; len],
            is_call: vec![false; len],
        };
        let mut call_entry = vec![NONE; partition.ops.len()];
        for (position, &(_, is_return, op)) in events.iter().enumerate() {
            let entry = position as u32 + 1;
            list.op[entry as usize] = op;
            list.is_call[entry as usize] = !is_return;
            if is_return {
                let call = call_entry[op as usize];
                list.partner[entry as usize] = call;
                list.partner[call as usize] = entry;
            } else {
                call_entry[op as usize] = entry;
            }
        }
        list
    }

    fn unlink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = next;
        self.prev[next as usize] = prev;
    }

    fn relink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = entry;
        self.prev[next as usize] = entry;
    }

    /// Removes a call entry and its return entry (the operation is now linearized).
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let ret = self.partner[call as usize];
        if ret != NONE {
            self.unlink(ret);
        }
    }

    /// Undoes [`EntryList::lift`]; lifts must be undone in reverse order.
    fn unlift(&mut self, call: u32) {
        let ret = self.partner[call as usize];
        if ret != NONE {
            self.relink(ret);
        }
        self.relink(call);
    }

    fn has_return(&self, call: u32) -> bool {
        self.partner[call as usize] != NONE
    }
}

/// SplitMix64: a fixed, portable mixer for Zobrist keys and state hashes.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bitset that knows its interesting window: words below `low` are all ones, words from
/// `high` on are all zeros. Both bounds are functions of the set alone, so equal sets have equal
/// windows and the window identifies the set.
struct WindowSet {
    words: Vec<u64>,
    low: usize,
    high: usize,
}

impl WindowSet {
    fn new(bits: usize) -> Self {
        WindowSet {
            words: vec![0; bits.div_ceil(64)],
            low: 0,
            high: 0,
        }
    }

    fn insert(&mut self, bit: u32) {
        let word = bit as usize / 64;
        self.words[word] |= 1 << (bit % 64);
        self.high = self.high.max(word + 1);
        while self.words.get(self.low) == Some(&u64::MAX) {
            self.low += 1;
        }
    }

    fn remove(&mut self, bit: u32) {
        let word = bit as usize / 64;
        self.words[word] &= !(1 << (bit % 64));
        self.low = self.low.min(word);
        while self.high > 0 && self.words[self.high - 1] == 0 {
            self.high -= 1;
        }
    }

    /// `low` and the words from `low` up to `high`.
    fn window(&self) -> (usize, &[u64]) {
        (self.low, &self.words[self.low..self.high.max(self.low)])
    }
}

/// Where an operation's bit lives and its Zobrist key.
#[derive(Clone, Copy)]
struct OpBit {
    pending: bool,
    bit: u32,
    zobrist: u64,
}

/// The set of linearized operations, with its Zobrist hash kept up to date.
struct Linearized {
    bits: Vec<OpBit>,
    completed: WindowSet,
    pending: WindowSet,
    hash: u64,
}

impl Linearized {
    /// Numbers completed and pending operations separately, each in call order.
    fn new(partition: &Partition) -> Self {
        let mut by_call: Vec<usize> = (0..partition.ops.len()).collect();
        crate::sim::order::sort_by_key(&mut by_call, |&op| (partition.ops[op].call_us, op));
        let mut bits = vec![
            OpBit {
                pending: false,
                bit: 0,
                zobrist: 0
            };
            by_call.len()
        ];
        let mut counts = [0u32; 2];
        for op in by_call {
            let pending = partition.ops[op].return_us.is_none();
            let count = &mut counts[usize::from(pending)];
            bits[op] = OpBit {
                pending,
                bit: *count,
                zobrist: mix(op as u64),
            };
            *count += 1;
        }
        Linearized {
            bits,
            completed: WindowSet::new(counts[0] as usize),
            pending: WindowSet::new(counts[1] as usize),
            hash: 0,
        }
    }

    fn insert(&mut self, op: u32) {
        let OpBit {
            pending,
            bit,
            zobrist,
        } = self.bits[op as usize];
        let set = if pending {
            &mut self.pending
        } else {
            &mut self.completed
        };
        set.insert(bit);
        self.hash ^= zobrist;
    }

    fn remove(&mut self, op: u32) {
        let OpBit {
            pending,
            bit,
            zobrist,
        } = self.bits[op as usize];
        let set = if pending {
            &mut self.pending
        } else {
            &mut self.completed
        };
        set.remove(bit);
        self.hash ^= zobrist;
    }
}

/// One explored configuration: a model state and the windows of the linearized set, whose
/// words are `Cache::words[start..][..completed_len + pending_len]`.
struct CacheEntry {
    state: StateId,
    next_in_bucket: u32,
    start: usize,
    completed_low: u32,
    completed_len: u32,
    pending_low: u32,
    pending_len: u32,
}

/// Configurations already explored: (linearized set, state) pairs.
#[derive(Default)]
struct Cache {
    words: Vec<u64>,
    entries: Vec<CacheEntry>,
    buckets: FastMap<u64, u32>,
}

impl Cache {
    /// Approximate heap bytes in use, for the memory budget.
    fn bytes(&self) -> usize {
        const BUCKET_BYTES: usize = 16;
        self.words.len() * 8
            + self.entries.len() * std::mem::size_of::<CacheEntry>()
            + self.buckets.len() * BUCKET_BYTES
    }

    /// Records (`linearized`, `state`); returns false if it was already recorded.
    fn insert(&mut self, linearized: &Linearized, state: StateId) -> bool {
        let hash = linearized.hash ^ mix(u64::from(state) | 1 << 40);
        let head = self.buckets.get(&hash).copied().unwrap_or(NONE);
        let mut candidate = head;
        while candidate != NONE {
            if self.matches(candidate, linearized, state) {
                return false;
            }
            candidate = self.entries[candidate as usize].next_in_bucket;
        }
        let (completed_low, completed) = linearized.completed.window();
        let (pending_low, pending) = linearized.pending.window();
        let start = self.words.len();
        self.words.extend_from_slice(completed);
        self.words.extend_from_slice(pending);
        self.entries.push(CacheEntry {
            state,
            next_in_bucket: head,
            start,
            completed_low: completed_low as u32,
            completed_len: completed.len() as u32,
            pending_low: pending_low as u32,
            pending_len: pending.len() as u32,
        });
        self.buckets.insert(hash, self.entries.len() as u32 - 1);
        true
    }

    fn matches(&self, index: u32, linearized: &Linearized, state: StateId) -> bool {
        let entry = &self.entries[index as usize];
        let (completed_low, completed) = linearized.completed.window();
        let (pending_low, pending) = linearized.pending.window();
        let same_shape = entry.state == state
            && entry.completed_low as usize == completed_low
            && entry.completed_len as usize == completed.len()
            && entry.pending_low as usize == pending_low
            && entry.pending_len as usize == pending.len();
        if !same_shape {
            return false;
        }
        let stored = &self.words[entry.start..][..completed.len() + pending.len()];
        stored[..completed.len()] == *completed && stored[completed.len()..] == *pending
    }
}

/// The deepest point the search reached before a dead end.
struct Deepest {
    prefix: Vec<u32>,
    state: StateId,
    offending: u32,
}

/// How to undo one linearized operation.
#[derive(Clone, Copy)]
struct Frame {
    /// Its call entry.
    call: u32,
    /// The state before it.
    state: StateId,
    /// `Search::first_pending` of the configuration it was chosen in.
    first_pending: u32,
}

/// The two scans over a configuration's candidates. Completed operations are tried first:
/// placing a pending operation is never required, so it is tried only when no completed one
/// leads anywhere. The order changes how soon a linearization is found, not whether.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Completed,
    Pending,
}

/// A resumable search of one partition.
pub(crate) struct Search<'p> {
    partition: &'p mut Partition,
    list: EntryList,
    cache: Cache,
    linearized: Linearized,
    /// One frame per linearized operation, to undo it.
    stack: Vec<Frame>,
    deepest: Option<Deepest>,
    state: StateId,
    /// Completed operations not yet linearized; the search succeeds when none are left
    /// (pending operations may be left out).
    unreturned: usize,
    /// The entry to look at next.
    entry: u32,
    /// Which candidates the current scan considers: completed operations first, then pending.
    pass: Pass,
    /// The first pending candidate the completed pass has passed over in this configuration
    /// (`NONE` if none yet): where the pending pass starts, if it is needed at all.
    first_pending: u32,
    /// Memory counted against the budget so far.
    bytes_charged: usize,
}

impl<'p> Search<'p> {
    pub(crate) fn new(partition: &'p mut Partition) -> Self {
        let list = EntryList::new(partition);
        let linearized = Linearized::new(partition);
        let unreturned = partition
            .ops
            .iter()
            .filter(|op| op.return_us.is_some())
            .count();
        let entry = list.next[HEAD as usize];
        Search {
            state: partition.initial,
            stack: Vec::with_capacity(partition.ops.len()),
            partition,
            list,
            cache: Cache::default(),
            linearized,
            deepest: None,
            unreturned,
            entry,
            pass: Pass::Completed,
            first_pending: NONE,
            bytes_charged: 0,
        }
    }

    /// The partition being searched.
    pub(crate) fn partition(&self) -> &Partition {
        self.partition
    }

    /// Runs up to `slice_steps` steps; `None` if the search is not finished yet. A finished
    /// search hands its memory back to the budget.
    pub(crate) fn run(&mut self, budget: &mut Budget<'_>, slice_steps: u64) -> Option<Outcome> {
        let outcome = self.run_slice(budget, slice_steps)?;
        budget.bytes_used -= self.bytes_charged;
        self.bytes_charged = 0;
        Some(outcome)
    }

    fn run_slice(&mut self, budget: &mut Budget<'_>, slice_steps: u64) -> Option<Outcome> {
        for _ in 0..slice_steps {
            if self.unreturned == 0 {
                let order = self
                    .stack
                    .iter()
                    .map(|frame| self.list.op[frame.call as usize]);
                return Some(Outcome::Linearizable {
                    order: order.collect(),
                });
            }
            if let Err(stop) = budget.tick() {
                return Some(Outcome::Stopped(stop));
            }
            let entry = self.entry;
            let outcome = if !self.list.is_call[entry as usize] {
                self.end_of_candidates()
            } else if self.list.has_return(entry) == (self.pass == Pass::Completed) {
                self.try_linearize(budget)
            } else {
                if self.first_pending == NONE {
                    self.first_pending = entry;
                }
                self.entry = self.list.next[entry as usize];
                None
            };
            if outcome.is_some() {
                return outcome;
            }
        }
        None
    }

    /// At a call entry: linearize its operation now if the model allows it and the resulting
    /// configuration is new; otherwise move on to the next entry.
    fn try_linearize(&mut self, budget: &mut Budget<'_>) -> Option<Outcome> {
        let entry = self.entry;
        let op = self.list.op[entry as usize];
        let effect = self.partition.ops[op as usize].effect;
        let next_state = self.partition.states.apply(self.state, effect);
        // A pending operation that would change nothing now is better left out: it can still
        // be placed later, and (set, state) without it can do all that (set + it, state) can.
        let pointless = next_state == Some(self.state) && !self.list.has_return(entry);
        let Some(next_state) = next_state.filter(|_| !pointless) else {
            self.entry = self.list.next[entry as usize];
            return None;
        };
        self.linearized.insert(op);
        if !self.cache.insert(&self.linearized, next_state) {
            self.linearized.remove(op);
            self.entry = self.list.next[entry as usize];
            return None;
        }
        self.stack.push(Frame {
            call: entry,
            state: self.state,
            first_pending: self.first_pending,
        });
        self.state = next_state;
        self.list.lift(entry);
        self.unreturned -= usize::from(self.list.has_return(entry));
        self.entry = self.list.next[HEAD as usize];
        self.pass = Pass::Completed;
        self.first_pending = NONE;
        self.charge(budget).err().map(Outcome::Stopped)
    }

    /// At a return entry, no operation called after it is a candidate. After the scan of
    /// completed operations, scan again for pending ones; after that, this configuration is a
    /// dead end.
    fn end_of_candidates(&mut self) -> Option<Outcome> {
        if self.pass == Pass::Completed && self.first_pending != NONE {
            self.pass = Pass::Pending;
            self.entry = self.first_pending;
            return None;
        }
        self.backtrack()
    }

    /// At a dead end: the operation of the return entry reached had to take effect by now but
    /// could not be placed after the current prefix, so undo the latest choice and try the
    /// candidates after it.
    ///
    /// If the undone operation completed and only observes (a read, a compare-and-set whose
    /// comparison failed: operations that never change the state where they are legal), undo
    /// the choice before it too. Taking such an operation as soon as it fits is never worse than
    /// waiting: any solution that places it later still works with it moved to the front, since
    /// it changes nothing wherever it goes and was already free of real-time constraints. So
    /// when (set + it, state) has failed, (set, state) fails as well and its other candidates
    /// need no search. (A write of the value already there does not qualify: placed later, it
    /// might overwrite something else.)
    fn backtrack(&mut self) -> Option<Outcome> {
        self.note_dead_end();
        loop {
            let Some(Frame {
                call,
                state: previous_state,
                first_pending,
            }) = self.stack.pop()
            else {
                return Some(self.illegal());
            };
            let op = self.list.op[call as usize];
            let observed = self.list.has_return(call)
                && self.partition.ops[op as usize].effect.only_observes();
            self.state = previous_state;
            self.linearized.remove(op);
            self.list.unlift(call);
            self.unreturned += usize::from(self.list.has_return(call));
            self.entry = self.list.next[call as usize];
            self.pass = if self.list.has_return(call) {
                Pass::Completed
            } else {
                Pass::Pending
            };
            self.first_pending = first_pending;
            if !observed {
                return None;
            }
        }
    }

    /// Remembers the first dead end at the greatest depth, so the explanation is deterministic.
    fn note_dead_end(&mut self) {
        let depth = self.stack.len();
        if self
            .deepest
            .as_ref()
            .is_some_and(|best| best.prefix.len() >= depth)
        {
            return;
        }
        let prefix = self
            .stack
            .iter()
            .map(|frame| self.list.op[frame.call as usize])
            .collect();
        let offending = self.list.op[self.entry as usize];
        self.deepest = Some(Deepest {
            prefix,
            state: self.state,
            offending,
        });
    }

    fn illegal(&mut self) -> Outcome {
        // A dead end is always noted before the stack runs empty, so `deepest` is set.
        let Deepest {
            prefix,
            state,
            offending,
        } = self.deepest.take().unwrap_or(Deepest {
            prefix: Vec::new(),
            state: self.partition.initial,
            offending: self.list.op[self.entry as usize],
        });
        Outcome::Illegal {
            prefix,
            state,
            offending,
        }
    }

    /// Counts new memory against the budget.
    fn charge(&mut self, budget: &mut Budget<'_>) -> Result<(), Stop> {
        let bytes = self.cache.bytes() + self.partition.states.bytes();
        budget.bytes_used += bytes.saturating_sub(self.bytes_charged);
        self.bytes_charged = self.bytes_charged.max(bytes);
        if budget.bytes_used > budget.max_bytes {
            return Err(Stop::Memory);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_set_stores_only_the_words_between_full_and_empty() {
        let mut set = WindowSet::new(64 * 4);
        (0..64).for_each(|bit| set.insert(bit));
        set.insert(130);
        assert_eq!(set.window(), (1, &[0, 1 << 2][..]));
        set.remove(130);
        assert_eq!(set.window(), (1, &[][..]));
        set.remove(3);
        assert_eq!(set.window(), (0, &[!(1 << 3)][..]));
    }

    /// The cache relies on the window identifying the set: after any sequence of inserts and
    /// removes, the window must be exactly what a fresh computation from the bits gives.
    #[test]
    fn a_window_set_stays_canonical_under_random_inserts_and_removes() {
        const BITS: u32 = 64 * 5;
        let mut set = WindowSet::new(BITS as usize);
        let mut model = vec![false; BITS as usize];
        let mut seed = 7;
        for _ in 0..200_000 {
            seed = mix(seed);
            // Mostly fill from the bottom, as the search does, with some removals anywhere.
            let bit = (seed % u64::from(BITS)) as u32;
            let bit = if seed % 3 == 0 {
                bit
            } else {
                model.iter().position(|&b| !b).unwrap_or(0) as u32
            };
            if model[bit as usize] && seed % 5 < 2 {
                set.remove(bit);
                model[bit as usize] = false;
            } else if !model[bit as usize] {
                set.insert(bit);
                model[bit as usize] = true;
            }
            let words: Vec<u64> = model
                .chunks(64)
                .map(|chunk| {
                    chunk
                        .iter()
                        .rev()
                        .fold(0, |word, &b| word << 1 | u64::from(b))
                })
                .collect();
            let low = words
                .iter()
                .position(|&w| w != u64::MAX)
                .unwrap_or(words.len());
            let high = words
                .iter()
                .rposition(|&w| w != 0)
                .map_or(0, |last| last + 1);
            assert_eq!(set.window(), (low, &words[low..high.max(low)]));
        }
    }
}
