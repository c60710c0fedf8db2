//! A node's armed timers: a few at a time (an election timer, a heartbeat, one per request in
//! service), so a vector sorted by timer beats a `BTreeMap` for speed, and for size too: one
//! map's code for every protocol's timer type costs each lab some 7 KB of wasm.

use super::world::ArmedTimer;

/// Armed timers by timer, sorted by timer (iteration order is a map's).
#[derive(Clone, PartialEq, Eq)]
pub struct Timers<T> {
    armed: Vec<(T, ArmedTimer)>,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers { armed: Vec::new() }
    }
}

impl<T: Ord> Timers<T> {
    fn find(&self, timer: &T) -> Result<usize, usize> {
        self.armed.binary_search_by(|(t, _)| t.cmp(timer))
    }

    pub fn get(&self, timer: &T) -> Option<&ArmedTimer> {
        self.find(timer).ok().map(|i| &self.armed[i].1)
    }

    /// Arms `timer`; returns what it replaces, if it was armed already.
    pub fn insert(&mut self, timer: T, armed: ArmedTimer) -> Option<ArmedTimer> {
        match self.find(&timer) {
            Ok(i) => Some(std::mem::replace(&mut self.armed[i].1, armed)),
            Err(i) => {
                self.armed.insert(i, (timer, armed));
                None
            }
        }
    }

    pub fn remove(&mut self, timer: &T) -> Option<ArmedTimer> {
        self.find(timer).ok().map(|i| self.armed.remove(i).1)
    }
}

impl<T> Timers<T> {
    /// The armed timers in timer order.
    pub fn values(&self) -> impl Iterator<Item = &ArmedTimer> {
        self.armed.iter().map(|(_, a)| a)
    }

    pub fn len(&self) -> usize {
        self.armed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Timers<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.armed.iter().map(|(t, a)| (t, a)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armed(token: u64) -> ArmedTimer {
        ArmedTimer {
            token,
            set_us: 0,
            fire_us: token,
            slot: 0,
        }
    }

    #[test]
    fn keeps_one_per_timer_in_order() {
        let mut t = Timers::default();
        assert_eq!(t.insert(3, armed(1)), None);
        assert_eq!(t.insert(1, armed(2)), None);
        assert_eq!(t.insert(3, armed(4)).map(|a| a.token), Some(1));
        assert_eq!(t.len(), 2);
        let tokens: Vec<u64> = t.values().map(|a| a.token).collect();
        assert_eq!(tokens, [2, 4]);
        assert_eq!(t.get(&3).map(|a| a.token), Some(4));
        assert_eq!(t.remove(&1).map(|a| a.token), Some(2));
        assert_eq!(t.remove(&1), None);
        assert!(t.get(&1).is_none());
    }
}
