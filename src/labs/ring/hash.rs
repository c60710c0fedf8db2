//! The one hash function of the partitioning lab: XXH64 (the xxHash specification), over
//! little-endian bytes, with a seed per use. Keys and servers are hashed by number, so a key's
//! place is the same natively, in the browser and in every release (the golden values below).
//!
//! `salt` varies the names in experiments (trial `t` hashes other keys and other servers); the
//! lab uses salt 0.

use xxhash_rust::xxh64::xxh64;

/// Seeds that separate the uses, so a key's hash and a server's point never coincide by
/// construction.
const KEY: u64 = 0x6b65_7973; // "keys"
const POINT: u64 = 0x706f_696e_7473; // "points"
const SCORE: u64 = 0x7363_6f72_6573; // "scores"
const OFFSET: u64 = 0x6f66_6673_6574; // "offset"
const SKIP: u64 = 0x736b_6970; // "skip"

/// A key's hash: its place on the ring, jump hash's key, Maglev's lookup.
pub fn key(salt: u64, id: u64) -> u64 {
    xxh64(&id.to_le_bytes(), salt ^ KEY)
}

/// Virtual node `v` of server `server` on the ring.
pub fn point(salt: u64, server: u32, v: u32) -> u64 {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&server.to_le_bytes());
    b[4..].copy_from_slice(&v.to_le_bytes());
    xxh64(&b, salt ^ POINT)
}

/// Rendezvous hashing's score of a server for a key (Thaler and Ravishankar: hash the pair).
pub fn score(salt: u64, key_hash: u64, server: u32) -> u64 {
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&key_hash.to_le_bytes());
    b[8..].copy_from_slice(&server.to_le_bytes());
    xxh64(&b, salt ^ SCORE)
}

/// Maglev's two hashes of a backend's name, for its offset and its skip.
pub fn maglev_pair(salt: u64, server: u32) -> (u64, u64) {
    let b = server.to_le_bytes();
    (xxh64(&b, salt ^ OFFSET), xxh64(&b, salt ^ SKIP))
}

/// A hash as a fraction of the hash space, in [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    // XXH64's published test vectors (the xxHash repository's sanity checks): the crate is
    // the specification's function.
    #[test]
    fn xxh64_matches_the_specification_vectors() {
        assert_eq!(xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
    }

    // Golden values: if any changes, every saved link's ring changes with it.
    #[test]
    fn the_labs_hashes_are_stable() {
        assert_eq!(key(0, 0), GOLDEN[0]);
        assert_eq!(key(0, 1), GOLDEN[1]);
        assert_eq!(point(0, 1, 0), GOLDEN[2]);
        assert_eq!(score(0, key(0, 0), 1), GOLDEN[3]);
        assert_eq!(maglev_pair(0, 1), (GOLDEN[4], GOLDEN[5]));
        assert_ne!(key(1, 0), key(0, 0), "the salt changes the names");
    }

    const GOLDEN: [u64; 6] = [
        0x8609_8cb1_c83e_5ddd,
        0xbe1b_dced_38da_e45f,
        0xa4e7_5064_30fa_a1c1,
        0x78dd_af68_0f93_c558,
        0xa25e_e262_4786_85c8,
        0xdc6a_cf63_6fd5_012e,
    ];
}
