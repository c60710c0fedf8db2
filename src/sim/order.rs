//! Sorting with one compiled sort.
//!
//! Every `sort_by_key` of a different element type or key compiles a sort of its own, about
//! five kilobytes of WebAssembly each, and the browser build had over a dozen. These helpers
//! sort an index array with one comparator behind a reference (one sort in the whole build),
//! then move the elements into place. Stable, like `slice::sort_by`; for the short vectors of
//! views, protocols and the checker (messages in flight, labels, a cluster's match indices, a
//! history's events): the sort itself is a small part of their work.

use std::cmp::Ordering;

/// Sorts `v` by `key`, stably.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` by `cmp`, stably.
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<u32> = (0..v.len() as u32).collect();
    sort_indices(&mut order, &|a, b| cmp(&v[a as usize], &v[b as usize]));
    apply_order(v, &mut order);
}

/// The one sort.
#[inline(never)]
fn sort_indices(order: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    order.sort_by(|a, b| cmp(*a, *b));
}

/// Moves the element at `order[i]` to `i` for every `i`, following each cycle of the
/// permutation with swaps (`order` is used up as the marks of what is done).
fn apply_order<T>(v: &mut [T], order: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for start in 0..v.len() {
        let mut i = start;
        while order[i] != DONE {
            let from = order[i] as usize;
            order[i] = DONE;
            if from == start {
                break;
            }
            v.swap(i, from);
            i = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_the_standard_sort() {
        let mut seed = 7u64;
        for n in [0usize, 1, 2, 3, 10, 100, 1000] {
            let v: Vec<(u8, u32)> = (0..n as u32)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((seed >> 60) as u8, i)
                })
                .collect();
            let mut ours = v.clone();
            sort_by_key(&mut ours, |p| p.0);
            let mut std_sorted = v.clone();
            std_sorted.sort_by_key(|p| p.0);
            assert_eq!(ours, std_sorted, "n = {n}");
        }
        let mut floats = vec![3.5, -1.0, 2.0, 0.0];
        sort_by(&mut floats, f64::total_cmp);
        assert_eq!(floats, vec![-1.0, 0.0, 2.0, 3.5]);
    }
}
