//! Where keys go: the six placement algorithms the lab compares, each as its paper gives it,
//! over one membership (servers with stable ids and weights).
//!
//! - `mod-n`: server `hash(key) mod N` of the members in id order.
//! - `ring`: consistent hashing (Karger et al., STOC 1997) with `vnodes` points per server
//!   (times its weight); a key belongs to the first point clockwise from its hash.
//! - `jump`: jump consistent hash (Lamping and Veach, 2014): bucket `ch(hash(key), N)`, the
//!   members in id order as buckets 0..N.
//! - `rendezvous`: highest random weight (Thaler and Ravishankar, 1998): the server with the
//!   largest `hash(key, server)`; with weights, the largest `w / -ln(u)` (Resch's weighted form),
//!   which picks the same server when the weights are equal.
//! - `maglev`: Maglev's lookup table (Eisenbud et al., NSDI 2016, section 3.4): each backend's
//!   permutation from an offset and a skip, turns taken in order until the table is full.
//! - `bounded`: consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam,
//!   SODA 2018): keys placed in order, each walking clockwise past servers already holding
//!   `ceil((1 + eps) * m / N)` keys (weighted in proportion).
//!
//! Preference lists (the replicas of a key, and where a request falls back to) are, for the
//! ring and bounded loads, the first distinct servers clockwise (Dynamo's rule); for
//! rendezvous the highest scores; for Maglev the distinct backends of the following table
//! slots; for mod-N and jump the server the key would go to if those before it were gone.

use super::hash;

/// The algorithms, by their names in links and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    ModN,
    Ring,
    Jump,
    Rendezvous,
    Maglev,
    Bounded,
}

pub const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::ModN,
    Algorithm::Ring,
    Algorithm::Jump,
    Algorithm::Rendezvous,
    Algorithm::Maglev,
    Algorithm::Bounded,
];

/// The names, in the order of [`ALGORITHMS`] (a choice parameter's options).
pub const NAMES: &[&str] = &["mod-n", "ring", "jump", "rendezvous", "maglev", "bounded"];

impl Algorithm {
    pub fn name(self) -> &'static str {
        NAMES[ALGORITHMS.iter().position(|a| *a == self).unwrap_or(0)]
    }

    pub fn parse(name: &str) -> Option<Algorithm> {
        NAMES.iter().position(|n| *n == name).map(|i| ALGORITHMS[i])
    }

    /// Whether it places servers' points on a ring (and so has virtual nodes).
    pub fn has_ring(self) -> bool {
        matches!(self, Algorithm::Ring | Algorithm::Bounded)
    }

    /// Whether a server's weight changes its share.
    pub fn weighted(self) -> bool {
        matches!(
            self,
            Algorithm::Ring | Algorithm::Bounded | Algorithm::Rendezvous
        )
    }
}

/// How to place: the algorithm and its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    pub algorithm: Algorithm,
    /// Points per server (times its weight), for the ring and bounded loads.
    pub vnodes: u32,
    /// Maglev's table size (a prime).
    pub table: u32,
    /// Bounded loads' ε, in parts per million.
    pub eps_ppm: u32,
    /// Varies the hashed names (experiments' trials); 0 in the lab.
    pub salt: u64,
}

/// A server in the membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    pub id: u32,
    pub weight: u32,
}

/// The index built for one membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub setup: Setup,
    /// In id order.
    pub members: Vec<Member>,
    /// Ring points (hash, member index), sorted (ring and bounded loads).
    pub points: Vec<(u64, u32)>,
    /// Maglev's lookup table: a member index per slot.
    pub table: Vec<u32>,
}

impl Placement {
    pub fn new(setup: Setup, members: &[Member]) -> Placement {
        let mut members = members.to_vec();
        crate::sim::order::sort_by(&mut members, |a, b| a.id.cmp(&b.id));
        let mut p = Placement {
            setup,
            members,
            points: Vec::new(),
            table: Vec::new(),
        };
        if setup.algorithm.has_ring() {
            p.points = ring_points(&setup, &p.members);
        }
        if setup.algorithm == Algorithm::Maglev && !p.members.is_empty() {
            p.table = maglev_table(&p.maglev_pairs(), setup.table);
        }
        p
    }

    /// Each member's Maglev (offset, skip), from the two hashes of its name.
    pub fn maglev_pairs(&self) -> Vec<(u64, u64)> {
        let t = self.setup.table as u64;
        self.members
            .iter()
            .map(|m| {
                let (a, b) = hash::maglev_pair(self.setup.salt, m.id);
                (a % t, b % (t - 1).max(1) + 1)
            })
            .collect()
    }

    pub fn n(&self) -> usize {
        self.members.len()
    }

    /// The member a key hash belongs to, by index (bounded loads: its ring owner, before
    /// capacity applies; see [`Placement::assign`]).
    pub fn owner_index(&self, h: u64) -> Option<usize> {
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        Some(match self.setup.algorithm {
            Algorithm::ModN => (h % n as u64) as usize,
            Algorithm::Ring | Algorithm::Bounded => self.points[self.successor(h)].1 as usize,
            Algorithm::Jump => jump(h, n as u32) as usize,
            Algorithm::Rendezvous => self.best_score(h, &[]),
            Algorithm::Maglev => self.table[(h % self.table.len() as u64) as usize] as usize,
        })
    }

    /// The server id a key hash belongs to.
    pub fn owner(&self, h: u64) -> Option<u32> {
        self.owner_index(h).map(|i| self.members[i].id)
    }

    /// The index of the first ring point at or after `h` (wrapping).
    pub fn successor(&self, h: u64) -> usize {
        let i = self.points.partition_point(|p| p.0 < h);
        if i == self.points.len() {
            0
        } else {
            i
        }
    }

    fn best_score(&self, h: u64, skip: &[usize]) -> usize {
        let weighted = self.members.iter().any(|m| m.weight != 1);
        let mut best = (f64::MIN, 0u64, usize::MAX);
        for (i, m) in self.members.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            let s = hash::score(self.setup.salt, h, m.id);
            let w = if weighted {
                let u = (hash::unit(s) + 0.5 / (1u64 << 53) as f64).min(1.0 - 1e-16);
                m.weight as f64 / -libm::log(u)
            } else {
                0.0
            };
            if (w, s) > (best.0, best.1) {
                best = (w, s, i);
            }
        }
        best.2
    }

    /// The first `rf` distinct servers for a key hash (fewer if there are fewer members),
    /// starting with its owner (or `first`, bounded loads' owner under capacity).
    pub fn preference(&self, h: u64, rf: usize, first: Option<u32>) -> Vec<u32> {
        let rf = rf.min(self.members.len());
        let mut out: Vec<usize> = Vec::with_capacity(rf);
        if let Some(i) = first.and_then(|id| self.members.iter().position(|m| m.id == id)) {
            out.push(i);
        }
        match self.setup.algorithm {
            Algorithm::Ring | Algorithm::Bounded => {
                let start = self.successor(h);
                let len = self.points.len();
                for k in 0..len {
                    if out.len() >= rf {
                        break;
                    }
                    let m = self.points[(start + k) % len].1 as usize;
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
            Algorithm::Rendezvous => {
                while out.len() < rf {
                    let b = self.best_score(h, &out);
                    out.push(b);
                }
            }
            Algorithm::Maglev => {
                let len = self.table.len();
                let start = (h % len as u64) as usize;
                for k in 0..len {
                    if out.len() >= rf {
                        break;
                    }
                    let m = self.table[(start + k) % len] as usize;
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
            Algorithm::ModN | Algorithm::Jump => {
                while out.len() < rf {
                    let rest: Vec<usize> = (0..self.members.len())
                        .filter(|i| !out.contains(i))
                        .collect();
                    let k = rest.len() as u64;
                    let pick = if self.setup.algorithm == Algorithm::Jump {
                        jump(h, k as u32) as usize
                    } else {
                        (h % k) as usize
                    };
                    out.push(rest[pick]);
                }
            }
        }
        out.iter().map(|i| self.members[*i].id).collect()
    }

    /// The owner of each of `m` keys (key `i` hashing to `hash_of(i)`), by server id; bounded
    /// loads place them in order under their capacities.
    pub fn assign(&self, m: u64, hash_of: &dyn Fn(u64) -> u64) -> Vec<u32> {
        if self.members.is_empty() {
            return Vec::new();
        }
        if self.setup.algorithm != Algorithm::Bounded {
            return (0..m)
                .map(|i| self.owner(hash_of(i)).unwrap_or(0))
                .collect();
        }
        let caps = self.capacities(m);
        let mut load = vec![0u64; self.members.len()];
        let len = self.points.len();
        (0..m)
            .map(|i| {
                let start = self.successor(hash_of(i));
                let mut pick = self.points[start].1 as usize;
                for k in 0..len {
                    let c = self.points[(start + k) % len].1 as usize;
                    if load[c] < caps[c] {
                        pick = c;
                        break;
                    }
                }
                load[pick] += 1;
                self.members[pick].id
            })
            .collect()
    }

    /// Bounded loads' capacity of each member for `m` keys: `ceil((1 + eps) * m * w / W)`.
    pub fn capacities(&self, m: u64) -> Vec<u64> {
        let total: u64 = self.members.iter().map(|x| x.weight as u64).sum();
        let eps = self.setup.eps_ppm as u128;
        self.members
            .iter()
            .map(|x| {
                let num = (1_000_000 + eps) * m as u128 * x.weight as u128;
                let den = 1_000_000u128 * total.max(1) as u128;
                num.div_ceil(den) as u64
            })
            .collect()
    }
}

/// The ring's points: `vnodes * weight` per member, sorted by hash (ties by member).
fn ring_points(setup: &Setup, members: &[Member]) -> Vec<(u64, u32)> {
    let mut points = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let k = setup.vnodes.saturating_mul(m.weight.max(1));
        points.extend((0..k).map(|v| (hash::point(setup.salt, m.id, v), i as u32)));
    }
    crate::sim::order::sort_by(&mut points, |a, b| a.cmp(b));
    points
}

/// Jump consistent hash, as the paper's code gives it.
pub fn jump(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// Maglev's population (the paper's Pseudocode 1): backends, each an (offset, skip) pair,
/// take turns claiming the next free slot of their permutation until the table of size `m` is
/// full. Returns the backend index of each slot.
pub fn maglev_table(pairs: &[(u64, u64)], m: u32) -> Vec<u32> {
    maglev_populate(pairs, m).0
}

/// Maglev's population, with the turn at which each slot was filled (0 for the first).
pub fn maglev_populate(pairs: &[(u64, u64)], m: u32) -> (Vec<u32>, Vec<u32>) {
    let m = m as u64;
    let mut entry = vec![u32::MAX; m as usize];
    let mut order = vec![0u32; m as usize];
    if pairs.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut next = vec![0u64; pairs.len()];
    let mut filled = 0;
    loop {
        for (i, &(offset, skip)) in pairs.iter().enumerate() {
            let mut c = (offset + next[i] * skip) % m;
            while entry[c as usize] != u32::MAX {
                next[i] += 1;
                c = (offset + next[i] * skip) % m;
            }
            entry[c as usize] = i as u32;
            order[c as usize] = filled as u32;
            next[i] += 1;
            filled += 1;
            if filled == m {
                return (entry, order);
            }
        }
    }
}

/// How evenly a load is spread over servers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Balance {
    pub mean: f64,
    pub stddev_over_mean: f64,
    pub max_over_mean: f64,
    /// The 99th percentile server's load (nearest rank) over the mean.
    pub p99_over_mean: f64,
}

pub fn balance(loads: &[u64]) -> Balance {
    let n = loads.len().max(1) as f64;
    let mean = loads.iter().sum::<u64>() as f64 / n;
    let var = loads
        .iter()
        .map(|&l| (l as f64 - mean) * (l as f64 - mean))
        .sum::<f64>()
        / n;
    let mut sorted = loads.to_vec();
    crate::sim::order::sort_by(&mut sorted, |a, b| a.cmp(b));
    let rank = ((0.99 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    let p99 = sorted.get(rank - 1).copied().unwrap_or(0) as f64;
    let max = sorted.last().copied().unwrap_or(0) as f64;
    let over = |x: f64| if mean > 0.0 { x / mean } else { 0.0 };
    Balance {
        mean,
        stddev_over_mean: over(f64::sqrt(var)),
        max_over_mean: over(max),
        p99_over_mean: over(p99),
    }
}

/// Keys per server id (`owners` by server id), for the servers in `members`.
pub fn loads(owners: &[u32], members: &[Member]) -> Vec<u64> {
    let top = members.iter().map(|m| m.id).max().unwrap_or(0) as usize;
    let mut by_id = vec![0u64; top + 1];
    for &o in owners {
        if let Some(c) = by_id.get_mut(o as usize) {
            *c += 1;
        }
    }
    members.iter().map(|m| by_id[m.id as usize]).collect()
}

/// The fraction of the keys a change of membership moves when every server holds exactly its
/// share (1/(n + 1) for a join to n servers): the growth of every
/// server's share (shares in proportion to weight where the algorithm weighs servers).
pub fn ideal_fraction(a: Algorithm, before: &[Member], after: &[Member]) -> f64 {
    let share = |ms: &[Member], id: u32| {
        let w = |m: &Member| if a.weighted() { m.weight as f64 } else { 1.0 };
        let total: f64 = ms.iter().map(w).sum();
        ms.iter()
            .find(|m| m.id == id)
            .map_or(0.0, |m| w(m) / total.max(1.0))
    };
    after
        .iter()
        .map(|m| (share(after, m.id) - share(before, m.id)).max(0.0))
        .sum()
}

/// The paper's expected standard deviation over the mean of a ring's load with `k` virtual
/// nodes per server and `n` servers: sqrt((n - 1) / (k n + 1)).
pub fn ring_theory(n: f64, k: f64) -> f64 {
    f64::sqrt((n - 1.0) / (k * n + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(ids: impl IntoIterator<Item = u32>) -> Vec<Member> {
        ids.into_iter().map(|id| Member { id, weight: 1 }).collect()
    }

    fn setup(a: Algorithm) -> Setup {
        Setup {
            algorithm: a,
            vnodes: 100,
            table: 65_537,
            eps_ppm: 250_000,
            salt: 0,
        }
    }

    // Maglev's Table 1, from the paper's own offsets and skips.
    #[test]
    fn maglev_builds_the_papers_worked_example() {
        let t = maglev_table(&[(3, 4), (0, 2), (3, 1)], 7);
        assert_eq!(t, vec![1, 0, 1, 0, 2, 2, 0]);
        // B1 removed: B0 and B2 remain, as indices 0 and 1.
        let t = maglev_table(&[(3, 4), (3, 1)], 7);
        let names: Vec<u32> = t.iter().map(|&i| [0, 2][i as usize]).collect();
        assert_eq!(names, vec![0, 0, 0, 0, 2, 2, 2]);
    }

    // The paper's code, checked on its own property: growing from n to n+1 buckets moves a
    // key only into the new bucket.
    #[test]
    fn jump_moves_keys_only_to_the_new_bucket() {
        for i in 0..10_000u64 {
            let h = hash::key(0, i);
            for n in 1..40 {
                let (a, b) = (jump(h, n), jump(h, n + 1));
                assert!(a < n);
                assert!(b == a || b == n, "key {i}: {a} -> {b} at {n}");
            }
        }
    }

    #[test]
    fn every_algorithm_gives_every_key_one_owner_among_the_members() {
        let ms = members([2, 5, 7, 11, 12]);
        for a in ALGORITHMS {
            let p = Placement::new(setup(a), &ms);
            let owners = p.assign(2_000, &|i| hash::key(0, i));
            assert_eq!(owners.len(), 2_000);
            assert!(
                owners.iter().all(|o| ms.iter().any(|m| m.id == *o)),
                "{a:?}"
            );
        }
    }

    #[test]
    fn bounded_loads_keep_every_server_under_its_capacity() {
        let ms = members(0..10);
        for eps in [0, 100_000, 250_000, 1_000_000] {
            let p = Placement::new(
                Setup {
                    eps_ppm: eps,
                    ..setup(Algorithm::Bounded)
                },
                &ms,
            );
            let m = 10_007;
            let loads = loads(&p.assign(m, &|i| hash::key(0, i)), &ms);
            let cap = ((1.0 + eps as f64 / 1e6) * m as f64 / 10.0).ceil() as u64;
            assert!(
                loads.iter().all(|&l| l <= cap),
                "eps {eps}: {loads:?} cap {cap}"
            );
            assert_eq!(loads.iter().sum::<u64>(), m);
        }
    }

    #[test]
    fn balance_reads_a_known_spread() {
        let b = balance(&[10, 10, 10, 30]);
        assert_eq!(b.mean, 15.0);
        assert_eq!(b.max_over_mean, 2.0);
        assert_eq!(b.p99_over_mean, 2.0);
        assert!((b.stddev_over_mean - f64::sqrt(75.0) / 15.0).abs() < 1e-12);
    }
}
