//! A Raft log: entries indexed from 1, each with the term it was created in.
//!
//! Besides the entries the log keeps, per entry, a *chain* value: a hash of the entry and the
//! chain of the entry before it. It is ghost data, never sent and never read by the protocol;
//! it lets the property checks compare whole prefixes of two logs in O(1) (equal chains at
//! index `i` mean identical logs up to `i`), so Log Matching and State Machine Safety stay
//! cheap enough to check after every step of a long run. Every node computes chains from its
//! own log, so a broken follower that appends after a mismatched prefix gets a different chain.

use super::kv::Cmd;
pub use crate::sim::chunked::Chunked;
use crate::sim::trace::StableHasher;
use std::hash::{Hash, Hasher};

pub type Term = u64;
pub type Index = u64;

/// One log entry: the leader's term when it was created and the client command. The command
/// is shared: the leader's entry, the copies in AppendEntries and every follower's log hold
/// the same one, so a long run keeps one command per index, not one per server (hashing and
/// comparing still look at the command itself).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub term: Term,
    pub cmd: std::sync::Arc<Cmd>,
}

impl Entry {
    pub fn new(term: Term, cmd: Cmd) -> Entry {
        Entry {
            term,
            cmd: std::sync::Arc::new(cmd),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    entries: Chunked<Entry>,
    /// Ghost: `chains[i]` covers entries `1..=i+1`.
    chains: Chunked<u64>,
}

/// The chain value of the empty prefix.
pub const CHAIN_EMPTY: u64 = 0;

fn chain_next(prev: u64, e: &Entry) -> u64 {
    let mut h = StableHasher::default();
    prev.hash(&mut h);
    e.hash(&mut h);
    // FNV on its own mixes the last bytes poorly; a SplitMix finaliser spreads them.
    let mut z = h.finish();
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Log {
    pub fn new() -> Self {
        Log::default()
    }

    pub fn last_index(&self) -> Index {
        self.entries.len() as Index
    }

    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term of entry `i`; index 0 (before the first entry) has term 0.
    pub fn term_at(&self, i: Index) -> Option<Term> {
        if i == 0 {
            return Some(0);
        }
        self.entry(i).map(|e| e.term)
    }

    pub fn entry(&self, i: Index) -> Option<&Entry> {
        let i = usize::try_from(i).ok()?.checked_sub(1)?;
        self.entries.get(i)
    }

    /// Every entry, from index 1.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.entries.iter()
    }

    /// Ghost: the chain value of the prefix `1..=i` (`None` past the end).
    pub fn chain_at(&self, i: Index) -> Option<u64> {
        if i == 0 {
            return Some(CHAIN_EMPTY);
        }
        self.chains.get(usize::try_from(i).ok()? - 1).copied()
    }

    pub fn push(&mut self, e: Entry) {
        let prev = self.chains.last().copied().unwrap_or(CHAIN_EMPTY);
        self.chains.push(chain_next(prev, &e));
        self.entries.push(e);
    }

    /// Keeps entries `1..=last_kept` and deletes the rest.
    pub fn truncate(&mut self, last_kept: Index) {
        let keep = usize::try_from(last_kept).unwrap_or(usize::MAX);
        self.entries.truncate(keep);
        self.chains.truncate(keep);
    }

    /// Up to `max` entries starting at index `from`.
    pub fn slice_from(&self, from: Index, max: usize) -> Vec<Entry> {
        (from.max(1)..=self.last_index())
            .take(max)
            .filter_map(|i| self.entry(i).cloned())
            .collect()
    }

    /// Section 5.4.1: is a log ending in (`last_term`, `last_index`) at least as up-to-date as
    /// this one? Compare the last terms; with equal terms the longer log wins.
    pub fn is_up_to_date(&self, last_term: Term, last_index: Index) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::raft::kv::KvOp;

    fn e(term: Term, v: &str) -> Entry {
        Entry::new(
            term,
            Cmd::internal(KvOp::Put {
                key: "x".into(),
                value: v.into(),
            }),
        )
    }

    #[test]
    fn chains_match_exactly_when_prefixes_match() {
        let mut a = Log::new();
        let mut b = Log::new();
        for (t, v) in [(1, "a"), (1, "b"), (2, "c")] {
            a.push(e(t, v));
            b.push(e(t, v));
        }
        assert_eq!(a.chain_at(3), b.chain_at(3));
        b.truncate(1);
        b.push(e(1, "z"));
        b.push(e(2, "c"));
        assert_eq!(a.chain_at(1), b.chain_at(1));
        assert_ne!(a.chain_at(2), b.chain_at(2));
        // Same entry at index 3, different prefix: different chain.
        assert_eq!(a.entry(3), b.entry(3));
        assert_ne!(a.chain_at(3), b.chain_at(3));
    }

    #[test]
    fn chunked_vectors_share_chunks_and_keep_values_through_push_and_truncate() {
        let mut a: Chunked<u32> = Chunked::default();
        let mut model = Vec::new();
        for i in 0..300 {
            a.push(i);
            model.push(i);
        }
        let b = a.clone();
        for keep in [300, 257, 256, 255, 129, 128, 64, 63, 1, 0] {
            a.truncate(keep);
            model.truncate(keep);
            assert_eq!(a.iter().copied().collect::<Vec<_>>(), model, "keep {keep}");
            assert_eq!(a.len(), keep);
            a.push(7);
            model.push(7);
            assert_eq!(a.last(), Some(&7));
        }
        assert_eq!(b.len(), 300, "the clone was never touched");
        assert_eq!(b.get(299), Some(&299));
        let mut c = b.clone();
        assert_eq!(c, b);
        c.truncate(299);
        c.push(299);
        assert_eq!(c, b, "equal values compare equal whatever was shared");
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let mut l = Log::new();
        l.push(e(1, "a"));
        l.push(e(2, "b"));
        assert!(l.is_up_to_date(2, 2));
        assert!(l.is_up_to_date(3, 1));
        assert!(!l.is_up_to_date(2, 1));
        assert!(!l.is_up_to_date(1, 9));
    }
}
