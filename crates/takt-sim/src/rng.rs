//! Seeded random streams. Every random process (arrivals, each machine's processing, each failure mode,
//! ...) has its own stream, keyed by *names* rather than positions, so two variants of a plant run with
//! the same seed share random numbers wherever they share the process (common random numbers).

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

pub type Stream = Xoshiro256PlusPlus;

/// FNV-1a: a stable hash (the standard library's is not guaranteed across releases).
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: spreads nearby seeds apart.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of replication `replication` of a run seeded `seed`.
pub fn replication_seed(seed: u64, replication: u32) -> u64 {
    mix(seed ^ mix(u64::from(replication).wrapping_add(0x5eed)))
}

/// A stream for the process named by `parts` (e.g. `["process", "M1", "0"]`).
pub fn stream(seed: u64, parts: &[&str]) -> Stream {
    let mut h = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        h = fnv1a(p.as_bytes(), h);
        h = fnv1a(&[0xff], h); // separator: ["ab","c"] != ["a","bc"]
    }
    Stream::seed_from_u64(mix(seed ^ h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_stable_and_distinct() {
        let a = stream(42, &["process", "M1", "0"]).next_u64();
        assert_eq!(a, stream(42, &["process", "M1", "0"]).next_u64());
        assert_ne!(a, stream(42, &["process", "M2", "0"]).next_u64());
        assert_ne!(a, stream(43, &["process", "M1", "0"]).next_u64());
        assert_ne!(
            stream(1, &["ab", "c"]).next_u64(),
            stream(1, &["a", "bc"]).next_u64()
        );
        assert_ne!(replication_seed(1, 0), replication_seed(1, 1));
    }
}
