//! The one fast, non-cryptographic hasher for in-memory maps and sets, and
//! the 64-bit mixer behind reproducible ids.
//!
//! [`FastHasher`] replaces std's SipHash-1-3 where a map is looked up per
//! packet, per flow or per log line. It folds each 64-bit word (16 bytes of
//! a byte string) into its state with one 64×64→128-bit multiplication,
//! keeping both halves (the "folded multiply" of foldhash and ahash).
//!
//! # When it is safe
//!
//! Keys an attacker chooses can be picked to collide, which turns a hash
//! table's lookups linear (hash flooding): 5-tuples on a capture, query
//! names in a resolver log, anything read off the wire. [`FastHasher`] is
//! therefore **seeded per process**: two 64-bit keys drawn from the OS
//! (through std's `RandomState`) on first use, one the initial state and
//! one folded into every byte-string block. Without the keys, an attacker
//! cannot compute which inputs share a bucket, and a multiply whose high
//! half is folded back leaves no input bits that the bucket index ignores
//! (unlike a plain multiply-rotate, where keys differing only in their high
//! bits all land in one bucket). This is the protection std's `HashMap`
//! gives by default, at a lower strength: it is not a keyed PRF, and an
//! attacker who can *measure* lookups long enough might still learn
//! something of the keys. Where that matters (a long-running service whose
//! map keys and timing a remote party both control), use std's SipHash.
//!
//! Consequences of the seed:
//! - iteration order of a [`FastMap`]/[`FastSet`] differs from run to run,
//!   as std's does: never let it reach output (sort first);
//! - hash values must not be stored or compared across processes.
//!
//! [`mix64`] is different: a fixed, unkeyed bijection (the splitmix64
//! finalizer) for turning counters into well-spread, *reproducible* values
//! such as Zeek-style uids. It is not for hash tables.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// A `HashMap` with [`FastHasher`]: `FastMap::default()` builds one.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
/// A `HashSet` with [`FastHasher`]: `FastSet::default()` builds one.
pub type FastSet<T> = HashSet<T, BuildHasherDefault<FastHasher>>;

/// Multiplier for integer words (the digits of pi, as foldhash's).
const WORD_MULT: u64 = 0x243f_6a88_85a3_08d3;

/// The process's two keys, drawn once.
fn keys() -> &'static [u64; 2] {
    static KEYS: OnceLock<[u64; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        use std::hash::BuildHasher;
        // std's RandomState is keyed from the OS's random source; hashing
        // two constants with two fresh states yields two random words
        // without another dependency.
        let draw = |salt: u64| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(salt);
            h.finish()
        };
        // The second key is the multiplier partner of attacker-chosen
        // words: forcing it odd keeps it from being zero.
        [draw(1), draw(2) | 1]
    })
}

/// 64×64→128-bit multiply, the two halves xor-ed together.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Little-endian u64 from the first 8 bytes of `b` (which holds at least 8).
#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The fast per-process-seeded hasher; see the [module docs](self) for
/// when it is safe.
#[derive(Clone, Copy)]
pub struct FastHasher {
    acc: u64,
    /// Key folded into byte-string blocks.
    key: u64,
}

impl Default for FastHasher {
    #[inline]
    fn default() -> Self {
        let k = keys();
        FastHasher {
            acc: k[0],
            key: k[1],
        }
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes the bucket from the low bits and a tag from the
        // top seven; the fold already mixes both ways, the rotation moves
        // the better-mixed middle bits into the tag.
        self.acc.rotate_left(26)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        let (a, b) = if n <= 16 {
            if n >= 8 {
                // Two overlapping reads cover 8..=16 bytes.
                (le64(bytes), le64(&bytes[n - 8..]))
            } else if n >= 4 {
                let lo = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as u64;
                let t = &bytes[n - 4..];
                let hi = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as u64;
                (lo, hi)
            } else if n > 0 {
                // First, middle and last byte cover 1..=3 bytes.
                (
                    bytes[0] as u64,
                    ((bytes[n / 2] as u64) << 8) | bytes[n - 1] as u64,
                )
            } else {
                (0, 0)
            }
        } else {
            let mut rest = bytes;
            while rest.len() > 16 {
                self.acc = fold_mul(self.acc ^ le64(rest), self.key ^ le64(&rest[8..]));
                rest = &rest[16..];
            }
            // The last 16 bytes (overlapping what came before).
            (le64(&bytes[n - 16..]), le64(&bytes[n - 8..]))
        };
        // The length goes in too, so that the overlapping reads cannot make
        // a string and its prefix collide.
        self.acc = fold_mul(self.acc ^ a, self.key ^ b ^ (n as u64));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.acc = fold_mul(self.acc ^ i, WORD_MULT);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
}

/// The splitmix64 finalizer: a fixed bijection on u64 that spreads every
/// input bit over the output. Reproducible (unkeyed), for ids derived from
/// counters; not a hash-table hasher.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn h<T: Hash + ?Sized>(v: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(v)
    }

    #[test]
    fn mix64_is_splitmix64() {
        // splitmix64's first outputs from state 0 (Vigna's reference
        // generator: the state advances by the constant, then mixes).
        assert_eq!(mix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn equal_keys_hash_equal_and_the_map_works() {
        assert_eq!(h("example.com"), h("example.com"));
        assert_eq!(h(&(1u32, 2u16)), h(&(1u32, 2u16)));
        let mut m: FastMap<Vec<u8>, usize> = FastMap::default();
        for i in 0..1000usize {
            m.insert(i.to_string().into_bytes(), i);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(b"777".as_slice()), Some(&777));
        assert_eq!(m.get(b"1000".as_slice()), None);
    }

    #[test]
    fn every_byte_of_strings_up_to_40_bytes_matters() {
        // Each length takes a different read path (0, 1..=3, 4..=7,
        // 8..=16, the 16-byte loop): flipping any one bit of any byte
        // must change the hash, as must a prefix of the same bytes.
        let base: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..=base.len() {
            let s = &base[..n];
            let hs = h(s);
            for i in 0..n {
                for bit in 0..8 {
                    let mut t = s.to_vec();
                    t[i] ^= 1 << bit;
                    assert_ne!(h(&t[..]), hs, "len {n} byte {i} bit {bit}");
                }
            }
            if n > 0 {
                assert_ne!(h(&s[..n - 1]), hs, "prefix of len {n}");
            }
        }
    }

    #[test]
    fn keys_differing_only_in_high_bits_spread_over_buckets() {
        // A plain multiply (no fold) sends these 4096 keys, which differ
        // only above bit 40, to one bucket of a 4096-bucket table.
        let mut buckets = std::collections::HashSet::new();
        for i in 0..4096u64 {
            buckets.insert(h(&(i << 40)) & 4095);
        }
        // Random placement fills about 63 % of the buckets.
        assert!(buckets.len() > 2400, "{} buckets", buckets.len());
    }
}
