//! The load balancer's choice of backend, one function over the algorithms, shared by the
//! lab's balancer node and the `load-balancing` experiment, so the experiment measures the
//! code the lab runs.
//!
//! - round robin: the eligible backends in turn;
//! - weighted round robin: nginx's smooth variant (each pick adds every weight to its
//!   backend's credit, takes the richest and charges it the total), so a backend of weight 3
//!   gets three picks in five among weights 3, 1, 1, spread out;
//! - least connections: the fewest requests outstanding (ties: the first from a random start);
//! - IP hash: a hash of the client, sticky while the pool stays the same;
//! - random: uniform over the pool;
//! - power of two choices (Mitzenmacher): two distinct backends at random, the less loaded.

/// A balancing algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    RoundRobin,
    WeightedRoundRobin,
    LeastConnections,
    IpHash,
    Random,
    PowerOfTwo,
}

/// Each algorithm's name in links and on the command line, in [`Algorithm`] order.
pub const NAMES: &[&str] = &[
    "round-robin",
    "weighted-round-robin",
    "least-connections",
    "ip-hash",
    "random",
    "power-of-two",
];

const ALL: [Algorithm; 6] = [
    Algorithm::RoundRobin,
    Algorithm::WeightedRoundRobin,
    Algorithm::LeastConnections,
    Algorithm::IpHash,
    Algorithm::Random,
    Algorithm::PowerOfTwo,
];

impl Algorithm {
    pub fn parse(name: &str) -> Option<Algorithm> {
        NAMES.iter().position(|n| *n == name).map(|i| ALL[i])
    }
}

/// What round robin remembers between picks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    next: u64,
    /// Smooth weighted round robin's credit per backend.
    credit: Vec<i64>,
}

/// One pick's inputs.
pub struct Choice<'a> {
    /// The eligible backends (indices), ascending.
    pub pool: &'a [u32],
    /// Requests outstanding per backend (every backend, not only the pool).
    pub load: &'a [u32],
    /// Weight per backend; a missing one is 1.
    pub weights: &'a [u32],
    /// The client (IP hash).
    pub client: u64,
    /// A random word for this pick (from the run's seeded workload stream).
    pub draw: u64,
}

/// splitmix64's finaliser: a well-mixed word from any word.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The backend `algo` picks, or `None` with an empty pool.
pub fn pick(algo: Algorithm, cur: &mut Cursor, c: &Choice) -> Option<u32> {
    let len = c.pool.len() as u64;
    if len == 0 {
        return None;
    }
    let load = |b: u32| c.load.get(b as usize).copied().unwrap_or(0);
    let at = |i: u64| c.pool[(i % len) as usize];
    Some(match algo {
        Algorithm::RoundRobin => {
            cur.next = cur.next.wrapping_add(1);
            at(cur.next - 1)
        }
        Algorithm::WeightedRoundRobin => smooth_weighted(cur, c),
        Algorithm::LeastConnections => {
            let start = mix(c.draw) % len;
            (0..len).map(|i| at(start + i)).min_by_key(|b| load(*b))?
        }
        Algorithm::IpHash => at(mix(c.client)),
        Algorithm::Random => at(mix(c.draw)),
        Algorithm::PowerOfTwo => {
            let i = mix(c.draw) % len;
            if len == 1 {
                return Some(at(i));
            }
            let mut j = mix(c.draw ^ 0x5851_f42d_4c95_7f2d) % (len - 1);
            if j >= i {
                j += 1;
            }
            let (a, b) = (at(i), at(j));
            if load(b) < load(a) {
                b
            } else {
                a
            }
        }
    })
}

fn smooth_weighted(cur: &mut Cursor, c: &Choice) -> u32 {
    let weight = |b: u32| c.weights.get(b as usize).copied().unwrap_or(1).max(1) as i64;
    let need = c.pool.iter().map(|b| *b as usize + 1).max().unwrap_or(0);
    if cur.credit.len() < need {
        cur.credit.resize(need, 0);
    }
    let mut total = 0;
    let mut best = c.pool[0];
    for &b in c.pool {
        cur.credit[b as usize] += weight(b);
        total += weight(b);
        if cur.credit[b as usize] > cur.credit[best as usize] {
            best = b;
        }
    }
    cur.credit[best as usize] -= total;
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(algo: Algorithm, weights: &[u32], k: usize) -> Vec<u32> {
        let mut cur = Cursor::default();
        let pool = [0, 1, 2];
        (0..k as u64)
            .map(|i| {
                let c = Choice {
                    pool: &pool,
                    load: &[0, 0, 0],
                    weights,
                    client: 7,
                    draw: i,
                };
                pick(algo, &mut cur, &c).unwrap()
            })
            .collect()
    }

    // Smooth weighted round robin spreads a heavy backend's turns: weights 3, 1, 1 give
    // nginx's sequence a, b, a, c, a (here 0 1 0 2 0), then repeat.
    #[test]
    fn weighted_round_robin_is_nginx_smooth_sequence() {
        assert_eq!(
            picks(Algorithm::WeightedRoundRobin, &[3, 1, 1], 10),
            [0, 1, 0, 2, 0, 0, 1, 0, 2, 0]
        );
        assert_eq!(picks(Algorithm::RoundRobin, &[], 4), [0, 1, 2, 0]);
    }

    // Power of two choices never takes the busier of its two candidates.
    #[test]
    fn power_of_two_takes_the_less_loaded_of_two() {
        let mut cur = Cursor::default();
        for d in 0..200u64 {
            let c = Choice {
                pool: &[0, 1],
                load: &[5, 1],
                weights: &[],
                client: 0,
                draw: d,
            };
            assert_eq!(pick(Algorithm::PowerOfTwo, &mut cur, &c), Some(1));
        }
    }
}
