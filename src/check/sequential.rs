//! Sequential consistency (Lamport 1979): is there one order of all the operations that keeps
//! each client's own order and gives every client the answers it saw? Real time does not
//! count: a read may return a value long overwritten, as long as every client sees the writes
//! in one order.
//!
//! Unlike linearizability this is not compositional: keys cannot be searched one at a time,
//! since two keys' orders must agree. The search therefore walks the whole history: a
//! configuration is how far each client has got plus every partition's state, and it chooses
//! which client goes next, depth first, trying clients in the order of their next operation's
//! call (so a history that is linearizable is usually found at once), remembering every
//! configuration it has explored. Two refinements prune it without changing the verdict:
//!
//! - a completed operation that only observes and fits the current state is taken at once: it
//!   changes nothing, and moving it forward in its client's order breaks nothing;
//! - a pending operation (outcome unknown) may take effect or not: it is tried both ways, and
//!   it never has to take effect for the search to finish.
//!
//! The search shares the linearizability checker's budget of steps and memory.
//!
//! A client issues one operation at a time. Where a history's client has operations that
//! overlap (a test harness's threads sharing a process number, say), its operations are split
//! into [`sessions`]: chains of operations each of which returned before the next was called.
//! Both this search and the session guarantees take each chain as one client, so a
//! linearizable history is always sequentially consistent here too.

use super::fast_hash::FastMap;
use super::history::{History, Status};
use super::model::{Partition, StateId};
use super::search::{Budget, Stop};

/// The answer of the search.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sequential {
    Consistent,
    /// No order exists; `offending` (an index into the history) is, at the deepest point the
    /// search reached, the earliest-called operation that could not go next.
    Inconsistent {
        offending: usize,
    },
    Stopped(Stop),
}

/// One operation in its client's order: its partition and its number there.
#[derive(Clone, Copy)]
struct Step {
    partition: u32,
    op: u32,
    call_us: u64,
    completed: bool,
}

/// A way on from a configuration: client `client` applies its next operation, or (`skip`)
/// leaves its pending next operation out.
#[derive(Clone, Copy)]
struct Move {
    client: u32,
    skip: bool,
}

/// What to restore when a move is undone.
#[derive(Clone, Copy)]
struct Undo {
    client: u32,
    partition: u32,
    state: StateId,
    completed: bool,
}

struct Walk<'p> {
    partitions: &'p mut [Partition],
    clients: Vec<Vec<Step>>,
    position: Vec<u32>,
    states: Vec<StateId>,
    /// Completed operations not yet applied: the search succeeds at zero.
    remaining: usize,
    /// (Values unused: the map type the list states already use.)
    seen: FastMap<Box<[u32]>, StateId>,
    /// For each depth, the start of its moves in `moves` and the next one to try.
    levels: Vec<(usize, usize)>,
    moves: Vec<Move>,
    undo: Vec<Undo>,
    deepest: (usize, Option<usize>),
}

/// The session of each operation (indices into [`History::operations`]): each client's
/// operations in call order, a new session started whenever one overlaps all the client's
/// sessions so far (it is put in the first whose last operation returned before its call).
pub(crate) fn sessions(history: &History) -> Vec<u32> {
    let ops = &history.operations;
    let mut order: Vec<usize> = (0..ops.len()).collect();
    let end = |i: usize| {
        ops[i]
            .return_us
            .filter(|_| ops[i].status != Status::Unknown)
    };
    crate::sim::order::sort_by_key(&mut order, |&i| {
        (ops[i].client, ops[i].call_us, end(i).unwrap_or(u64::MAX), i)
    });
    let mut session = vec![0; ops.len()];
    // The current client's sessions: (number, when its last operation returned).
    let mut open: Vec<(u32, u64)> = Vec::new();
    let mut next = 0u32;
    for (position, &i) in order.iter().enumerate() {
        if position == 0 || ops[order[position - 1]].client != ops[i].client {
            open.clear();
        }
        let free = open
            .iter_mut()
            .find(|(_, returned)| *returned < ops[i].call_us);
        let slot = match free {
            Some(slot) => slot,
            None => {
                open.push((next, 0));
                next += 1;
                open.last_mut().expect("just pushed")
            }
        };
        session[i] = slot.0;
        slot.1 = end(i).unwrap_or(u64::MAX);
    }
    session
}

/// Searches `partitions` (all of one history) for a sequentially consistent order.
pub(crate) fn search(
    history: &History,
    partitions: &mut [Partition],
    budget: &mut Budget<'_>,
) -> Sequential {
    Walk::new(history, partitions).run(budget)
}

impl<'p> Walk<'p> {
    fn new(history: &History, partitions: &'p mut [Partition]) -> Self {
        let session = sessions(history);
        let mut steps: Vec<(u32, Step)> = Vec::new();
        for (partition, part) in partitions.iter().enumerate() {
            for (op, compiled) in part.ops.iter().enumerate() {
                let client = session[compiled.index];
                let step = Step {
                    partition: partition as u32,
                    op: op as u32,
                    call_us: compiled.call_us,
                    completed: compiled.return_us.is_some(),
                };
                steps.push((client, step));
            }
        }
        crate::sim::order::sort_by_key(&mut steps, |(client, s)| {
            (*client, s.call_us, s.partition, s.op)
        });
        let mut clients: Vec<Vec<Step>> = Vec::new();
        for (i, &(client, step)) in steps.iter().enumerate() {
            if i == 0 || steps[i - 1].0 != client {
                clients.push(Vec::new());
            }
            if let Some(own) = clients.last_mut() {
                own.push(step);
            }
        }
        let remaining = clients.iter().flatten().filter(|s| s.completed).count();
        Walk {
            position: vec![0; clients.len()],
            states: partitions.iter().map(|p| p.initial).collect(),
            partitions,
            clients,
            remaining,
            seen: FastMap::default(),
            levels: Vec::new(),
            moves: Vec::new(),
            undo: Vec::new(),
            deepest: (0, None),
        }
    }

    fn bytes(&self) -> usize {
        const ENTRY_BYTES: usize = 40;
        let key = 4 * (self.position.len() + self.states.len());
        self.seen.len() * (key + ENTRY_BYTES) + self.moves.capacity() * 8
    }

    fn run(&mut self, budget: &mut Budget<'_>) -> Sequential {
        self.remember();
        self.open_level();
        loop {
            if self.remaining == 0 {
                return Sequential::Consistent;
            }
            if let Err(stop) = budget.tick() {
                return Sequential::Stopped(stop);
            }
            if !self.advance() {
                let offending = self.deepest.1.unwrap_or(0);
                return Sequential::Inconsistent { offending };
            }
            let bytes = self.bytes();
            if budget.bytes_used + bytes > budget.max_bytes {
                return Sequential::Stopped(Stop::Memory);
            }
        }
    }

    /// Tries the next move of the deepest open level; on success opens the level after it,
    /// when none is left closes the level and undoes the move that led to it. Returns false
    /// once the first level is exhausted: no order exists.
    fn advance(&mut self) -> bool {
        let Some(&(start, next)) = self.levels.last() else {
            return false;
        };
        let depth = self.levels.len() - 1;
        if start + next >= self.moves.len() {
            self.note_dead_end();
            self.moves.truncate(start);
            self.levels.pop();
            if let Some(undo) = self.undo.pop() {
                self.take_back(undo);
            }
            return !self.levels.is_empty();
        }
        self.levels[depth].1 += 1;
        let chosen = self.moves[start + next];
        if self.apply(chosen) {
            if self.remember() {
                self.open_level();
            } else if let Some(undo) = self.undo.pop() {
                self.take_back(undo);
            }
        }
        true
    }

    /// Records the current configuration; false if it was explored before.
    fn remember(&mut self) -> bool {
        let key: Box<[u32]> = self.position.iter().chain(&self.states).copied().collect();
        self.seen.insert(key, 0).is_none()
    }

    fn next_step(&self, client: usize) -> Option<Step> {
        self.clients[client]
            .get(self.position[client] as usize)
            .copied()
    }

    /// Lists the moves from the current configuration: a completed observation that fits goes
    /// alone; otherwise completed operations by call time, then pending ones, then skips.
    fn open_level(&mut self) {
        let start = self.moves.len();
        let mut ready: Vec<(bool, u64, u32)> = Vec::new();
        for client in 0..self.clients.len() {
            let Some(step) = self.next_step(client) else {
                continue;
            };
            let effect = self.partitions[step.partition as usize].ops[step.op as usize].effect;
            let observes = step.completed && effect.only_observes();
            if observes && self.fits(step) {
                ready.clear();
                ready.push((false, 0, client as u32));
                break;
            }
            ready.push((!step.completed, step.call_us, client as u32));
        }
        crate::sim::order::sort_by(&mut ready, Ord::cmp);
        let applies = ready.iter().map(|&(_, _, client)| Move {
            client,
            skip: false,
        });
        self.moves.extend(applies);
        let skips = ready
            .iter()
            .filter(|r| r.0)
            .map(|&(_, _, client)| Move { client, skip: true });
        self.moves.extend(skips);
        self.levels.push((start, 0));
    }

    fn fits(&mut self, step: Step) -> bool {
        let partition = &mut self.partitions[step.partition as usize];
        let state = self.states[step.partition as usize];
        let effect = partition.ops[step.op as usize].effect;
        partition.states.apply(state, effect).is_some()
    }

    /// Makes `chosen` if the model allows it; a pointless pending operation is not applied
    /// (skipping it does the same and more).
    fn apply(&mut self, chosen: Move) -> bool {
        let client = chosen.client as usize;
        let Some(step) = self.next_step(client) else {
            return false;
        };
        let p = step.partition as usize;
        let before = self.states[p];
        if !chosen.skip {
            let effect = self.partitions[p].ops[step.op as usize].effect;
            match self.partitions[p].states.apply(before, effect) {
                Some(after) if after != before || step.completed => self.states[p] = after,
                _ => return false,
            }
        }
        self.position[client] += 1;
        self.remaining -= usize::from(step.completed);
        self.undo.push(Undo {
            client: chosen.client,
            partition: step.partition,
            state: before,
            completed: step.completed,
        });
        true
    }

    fn take_back(&mut self, undo: Undo) {
        self.position[undo.client as usize] -= 1;
        self.states[undo.partition as usize] = undo.state;
        self.remaining += usize::from(undo.completed);
    }

    /// At a configuration with no way on: if it is the deepest yet, its earliest-called
    /// completed next operation is the one that could not be placed.
    fn note_dead_end(&mut self) {
        let depth = self.undo.len();
        if self.deepest.1.is_some() && depth <= self.deepest.0 {
            return;
        }
        let blocked = (0..self.clients.len())
            .filter_map(|client| self.next_step(client))
            .filter(|step| step.completed)
            .min_by_key(|step| (step.call_us, step.partition, step.op));
        if let Some(step) = blocked {
            let index = self.partitions[step.partition as usize].ops[step.op as usize].index;
            self.deepest = (depth, Some(index));
        }
    }
}
