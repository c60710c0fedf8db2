//! The event queue: ordered by (time, insertion sequence), with cancellation.
//!
//! Equal times pop in the order they were scheduled, which is what makes a run a function of
//! its inputs. The queue holds only small keys `(time, seq, slot)`; the events live in a slab,
//! so sifting moves 24 bytes, not whole events. A cancelled event (a re-armed timer, the timeout
//! of an operation that already completed) is emptied in place and skipped; the head is always
//! a live event, so `peek` tells the truth.
//!
//! The keys are split between a binary heap and a lane, a first-in first-out queue that takes
//! every event due no earlier than the lane's last one. Client timeouts, all armed the same
//! time ahead, land in the lane in order; most are cancelled (their operation completed) and
//! would otherwise fill the heap with dead keys that every pop sifts past. In the lane a dead
//! key costs nothing until it reaches the front. Any split gives the same order, since a pop
//! takes the earlier of the two heads.

use std::collections::VecDeque;

/// An event's place in the order, and its slot in the slab.
#[derive(Clone, Copy, Debug)]
struct Key {
    at_us: u64,
    seq: u64,
    slot: u32,
}

impl Key {
    /// Whether `self` pops before `other` (sequence numbers are unique).
    #[inline(always)]
    fn before(&self, other: &Key) -> bool {
        self.at_us < other.at_us || (self.at_us == other.at_us && self.seq < other.seq)
    }
}

#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// A binary min-heap: every key is no earlier than its parent.
    heap: Vec<Key>,
    /// Sorted: each key is no earlier than the one before it.
    lane: VecDeque<Key>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            lane: VecDeque::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `ev` at `at_us`; returns its slot, with which it can be cancelled.
    pub fn push(&mut self, at_us: u64, ev: E) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(ev);
                s
            }
            None => {
                self.slab.push(Some(ev));
                (self.slab.len() - 1) as u32
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = Key { at_us, seq, slot };
        if self.lane.back().is_none_or(|last| last.at_us <= at_us) {
            self.lane.push_back(key);
        } else {
            self.heap_push(key);
        }
        slot
    }

    /// When the next live event is due.
    pub fn peek_time(&self) -> Option<u64> {
        self.head().map(|k| k.at_us)
    }

    /// Removes and returns the earliest live event.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let key = match (self.heap.first(), self.lane.front()) {
            (Some(h), Some(l)) if l.before(h) => self.lane.pop_front(),
            (Some(_), _) => self.heap_pop(),
            (None, _) => self.lane.pop_front(),
        }?;
        let ev = self.slab[key.slot as usize].take();
        self.free.push(key.slot);
        self.drop_cancelled_heads();
        // The heads are always live (see `cancel`), so `ev` is present.
        ev.map(|e| (key.at_us, e))
    }

    /// Cancels the event in `slot` (which must not have been popped yet).
    pub fn cancel(&mut self, slot: u32) {
        if let Some(e) = self.slab.get_mut(slot as usize) {
            *e = None;
        }
        self.drop_cancelled_heads();
    }

    fn head(&self) -> Option<&Key> {
        match (self.heap.first(), self.lane.front()) {
            (Some(h), Some(l)) => Some(if l.before(h) { l } else { h }),
            (h, l) => h.or(l),
        }
    }

    fn is_dead(&self, key: &Key) -> bool {
        self.slab[key.slot as usize].is_none()
    }

    fn drop_cancelled_heads(&mut self) {
        while let Some(k) = self.heap.first().copied().filter(|k| self.is_dead(k)) {
            self.free.push(k.slot);
            self.heap_pop();
        }
        while let Some(k) = self.lane.front().copied().filter(|k| self.is_dead(k)) {
            self.free.push(k.slot);
            self.lane.pop_front();
        }
    }

    /// Adds `key` at the bottom of the heap and moves it up past every later parent.
    fn heap_push(&mut self, key: Key) {
        let mut i = self.heap.len();
        self.heap.push(key);
        while i > 0 {
            let parent = (i - 1) / 2;
            if !key.before(&self.heap[parent]) {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = key;
    }

    /// Takes the heap's earliest key; its last key moves down from the top past every earlier
    /// child.
    fn heap_pop(&mut self) -> Option<Key> {
        let last = self.heap.pop()?;
        let Some(&top) = self.heap.first() else {
            return Some(last);
        };
        let n = self.heap.len();
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.heap[right].before(&self.heap[left]) {
                right
            } else {
                left
            };
            if !self.heap[child].before(&last) {
                break;
            }
            self.heap[i] = self.heap[child];
            i = child;
        }
        self.heap[i] = last;
        Some(top)
    }

    /// Keys held, cancelled ones not yet skipped included.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order_and_cancelled_events_never_pop() {
        let mut q = EventQueue::default();
        q.push(5, "a");
        let b = q.push(5, "b");
        q.push(3, "c");
        q.push(5, "d");
        q.cancel(b);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(3, "c"), (5, "a"), (5, "d")]);
    }

    #[test]
    fn a_cancelled_head_does_not_show_in_peek() {
        let mut q = EventQueue::default();
        let a = q.push(1, 'a');
        q.push(9, 'b');
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(9));
        // Freed slots are reused.
        q.push(4, 'c');
        assert_eq!(q.pop(), Some((4, 'c')));
    }

    /// The order of a plain sort by (time, sequence), over pushes, pops and cancels mixed at
    /// random: whatever goes to the heap and whatever to the lane.
    #[test]
    fn pops_in_the_order_of_a_sort_under_any_mix() {
        let mut seed = 11u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut q = EventQueue::default();
        // The model: live events as (time, seq, slot).
        let mut live: Vec<(u64, u64, u32)> = Vec::new();
        let (mut now, mut seq) = (0u64, 0u64);
        for _ in 0..20_000 {
            match next(10) {
                0..=4 => {
                    let delay = if next(3) == 0 { 1_000 } else { next(30) };
                    let slot = q.push(now + delay, seq);
                    live.push((now + delay, seq, slot));
                    seq += 1;
                }
                5 if !live.is_empty() => {
                    let i = next(live.len() as u64) as usize;
                    q.cancel(live.swap_remove(i).2);
                }
                _ => {
                    live.sort();
                    let want = (!live.is_empty()).then(|| live.remove(0));
                    let got = q.pop();
                    assert_eq!(got, want.map(|(at, s, _)| (at, s)));
                    now = got.map_or(now, |g| g.0);
                }
            }
            live.sort();
            assert_eq!(q.peek_time(), live.first().map(|l| l.0));
        }
    }
}
