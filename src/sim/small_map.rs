//! A map and a set for a few entries: a vector sorted by key. A node's armed timers, a
//! coordinator's forwarded reads, a candidate's votes: a handful at a time, where a `BTreeMap`
//! is slower and costs more wasm besides, since its code is built again for every key and value
//! type (some 2 to 7 KB each).

use std::borrow::Borrow;

/// Entries sorted by key; iteration is in key order, as a `BTreeMap`'s.
#[derive(Clone, PartialEq, Eq)]
pub struct SmallMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Found by anything the key borrows as (a `&str` for a `String` key), as in a `BTreeMap`.
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Sets `key` to `value`; returns the value it replaces, if there was one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// The value of `key`, set to `make()` first if there was none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SmallMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut m = SmallMap::new();
        m.extend(entries);
        m
    }
}

// As a map, in key order: the form a `BTreeMap` has, so a scenario file reads the same.
impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SmallMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, K, V> serde::Deserialize<'de> for SmallMap<K, V>
where
    K: serde::Deserialize<'de> + Ord,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = std::collections::BTreeMap::<K, V>::deserialize(d)?;
        Ok(m.into_iter().collect())
    }
}

impl<K: Ord, V> Extend<(K, V)> for SmallMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl<K, V> SmallMap<K, V> {
    /// The value of a key compared by `cmp` against the wanted one (a `String` key by a
    /// `&str`, say).
    pub fn get_by(&self, cmp: impl Fn(&K) -> std::cmp::Ordering) -> Option<&V> {
        let i = self.entries.binary_search_by(|(k, _)| cmp(k)).ok()?;
        Some(&self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl<K, V> IntoIterator for SmallMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// `for (k, v) in &map`, in key order.
impl<'a, K, V> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for SmallMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Values sorted, each once; iteration is in order, as a `BTreeSet`'s.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SmallSet<T> {
    items: Vec<T>,
}

impl<T: Ord> SmallSet<T> {
    pub fn new() -> Self {
        SmallSet { items: Vec::new() }
    }

    /// Adds `value`; returns whether it was new.
    pub fn insert(&mut self, value: T) -> bool {
        match self.items.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, value);
                true
            }
        }
    }

    pub fn contains(&self, value: &T) -> bool {
        self.items.binary_search(value).is_ok()
    }

    /// Removes `value`; returns whether it was there.
    pub fn remove(&mut self, value: &T) -> bool {
        match self.items.binary_search(value) {
            Ok(i) => {
                self.items.remove(i);
                true
            }
            Err(_) => false,
        }
    }
}

impl<T> SmallSet<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The values in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }
}

// Added all at once and sorted after, so that many values (a partition's cut links) do not
// each shift the vector.
impl<T: Ord> Extend<T> for SmallSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.items.extend(values);
        super::order::sort_by(&mut self.items, T::cmp);
        self.items.dedup();
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for SmallSet<T> {
    fn from(values: [T; N]) -> Self {
        let mut s = SmallSet::new();
        s.extend(values);
        s
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for SmallSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_value_per_key_in_key_order() {
        let mut m = SmallMap::new();
        assert_eq!(m.insert(3, 'a'), None);
        assert_eq!(m.insert(1, 'b'), None);
        assert_eq!(m.insert(3, 'c'), Some('a'));
        assert_eq!(m.len(), 2);
        assert_eq!(m.values().collect::<String>(), "bc");
        assert_eq!(m.get(&3), Some(&'c'));
        *m.get_mut(&1).unwrap() = 'd';
        assert_eq!(m.remove(&1), Some('d'));
        assert_eq!(m.remove(&1), None);
        assert!(m.get(&1).is_none());
        assert_eq!(format!("{m:?}"), "{3: 'c'}");
        m.clear();
        assert!(m.is_empty());
    }

    #[test]
    fn a_set_keeps_each_value_once_in_order() {
        let mut s = SmallSet::from([5, 2]);
        assert!(s.insert(3));
        assert!(!s.insert(5));
        s.extend([2, 9]);
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), [2, 3, 5, 9]);
        assert!(s.contains(&3) && !s.contains(&4));
        s.retain(|v| *v > 2);
        assert_eq!(format!("{s:?}"), "{3, 5, 9}");
        assert_eq!(s.len(), 3);
        s.clear();
        assert!(s.is_empty());
    }
}
