//! The event queue: ordered by (time, insertion sequence), with cancellation.
//!
//! Equal times pop in the order they were scheduled, which is what makes a run a function of
//! its inputs. The heap holds only small keys `(time, seq, slot)`; the events live in a slab,
//! so sifting moves 24 bytes, not whole events. A cancelled event (a re-armed timer, the timeout
//! of an operation that already completed) is emptied in place and skipped; the head of the
//! heap is always a live event, so `peek` tells the truth.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
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
        self.heap.push(Reverse((at_us, seq, slot)));
        slot
    }

    /// When the next live event is due.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns the earliest live event.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let Reverse((at, _, slot)) = self.heap.pop()?;
        let ev = self.slab[slot as usize].take();
        self.free.push(slot);
        self.drop_cancelled_head();
        // The head is always live (see `cancel`), so `ev` is present.
        ev.map(|e| (at, e))
    }

    /// Cancels the event in `slot` (which must not have been popped yet).
    pub fn cancel(&mut self, slot: u32) {
        if let Some(e) = self.slab.get_mut(slot as usize) {
            *e = None;
        }
        self.drop_cancelled_head();
    }

    fn drop_cancelled_head(&mut self) {
        while let Some(Reverse((_, _, slot))) = self.heap.peek() {
            let slot = *slot;
            if self.slab[slot as usize].is_some() {
                break;
            }
            self.heap.pop();
            self.free.push(slot);
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
