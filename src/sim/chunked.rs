//! A vector that clones cheaply: values live in fixed-size chunks behind `Arc`s, so a clone
//! shares every chunk and writing copies only the chunk written. Keyframes (clones of a whole
//! world) of a long run share one copy of what grows with it: a Raft log, the client history.

use std::sync::Arc;

/// Values per shared chunk of a [`Chunked`] vector.
const CHUNK: usize = 256;

/// A vector stored in fixed-size chunks behind `Arc`s, so cloning it (a keyframe of the whole
/// world, a message) copies pointers, not entries: keyframes share every full chunk, and an
/// hour-long run keeps one copy of each log however many keyframes hold it. Writing copies at
/// most the last chunk, once per clone.
#[derive(Clone)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => Arc::make_mut(c).push(v),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(v);
                self.chunks.push(Arc::new(c));
            }
        }
        self.len += 1;
    }

    /// Keeps the first `len` values.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.len = len;
        self.chunks.truncate(len.div_ceil(CHUNK));
        if let Some(c) = self.chunks.last_mut() {
            let keep = len - (len - 1) / CHUNK * CHUNK;
            if c.len() > keep {
                Arc::make_mut(c).truncate(keep);
            }
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    /// The value at `i`, to change; copies its chunk first if a clone shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        self.chunks
            .get_mut(i / CHUNK)
            .and_then(|c| Arc::make_mut(c).get_mut(i % CHUNK))
    }

    /// Drops the first chunk's values (a bounded history forgets its oldest at once); returns
    /// how many went.
    pub fn drop_first_chunk(&mut self) -> usize {
        if self.chunks.is_empty() {
            return 0;
        }
        let gone = self.chunks.remove(0).len();
        self.len -= gone;
        gone
    }
}

impl<T: PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, o: &Self) -> bool {
        // Chunk boundaries are canonical (all full but the last), so chunks compare pairwise.
        self.len == o.len
            && self
                .chunks
                .iter()
                .zip(&o.chunks)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }
}
impl<T: Eq> Eq for Chunked<T> {}

impl<T: std::fmt::Debug> std::fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.chunks.iter().flat_map(|c| c.iter()))
            .finish()
    }
}
