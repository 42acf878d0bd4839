//! A small seeded, mergeable HyperLogLog (Flajolet et al. 2007) with the
//! 64-bit-hash refinement: no large-range correction is needed, and small
//! cardinalities use linear counting. Standard error is `1.04 / sqrt(m)`
//! with `m = 2^precision` registers (precision 14: 0.81 %, 16 KiB).

/// Why two sketches cannot be merged.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("HyperLogLog sketches differ in precision or seed")]
pub struct MergeError;

/// A HyperLogLog sketch over 128-bit keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hll {
    precision: u8,
    seed: u64,
    registers: Vec<u8>,
}

#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Hll {
    /// A sketch with `2^precision` registers (precision clamped to 4..=18).
    pub fn new(precision: u8, seed: u64) -> Hll {
        let p = precision.clamp(4, 18);
        Hll {
            precision: p,
            seed,
            registers: vec![0; 1 << p],
        }
    }

    /// The seeded hash of a key.
    #[inline]
    pub fn hash(&self, key: u128) -> u64 {
        mix(mix((key as u64) ^ self.seed)
            ^ ((key >> 64) as u64).wrapping_add(self.seed.rotate_left(17)))
    }

    /// Adds a key.
    #[inline]
    pub fn insert(&mut self, key: u128) {
        let h = self.hash(key);
        let p = self.precision as u32;
        let idx = (h >> (64 - p)) as usize;
        let rank = ((h << p) | (1u64 << (p - 1))).leading_zeros() as u8 + 1;
        if self.registers[idx] < rank {
            self.registers[idx] = rank;
        }
    }

    /// Folds another sketch (same precision and seed) into this one.
    pub fn merge(&mut self, other: &Hll) -> Result<(), MergeError> {
        if other.precision != self.precision || other.seed != self.seed {
            return Err(MergeError);
        }
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
        Ok(())
    }

    /// Estimated number of distinct keys.
    pub fn estimate(&self) -> f64 {
        let m = self.registers.len() as f64;
        let alpha = match self.registers.len() {
            16 => 0.673,
            32 => 0.697,
            64 => 0.709,
            _ => 0.7213 / (1.0 + 1.079 / m),
        };
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for &r in &self.registers {
            sum += 2f64.powi(-(r as i32));
            zeros += (r == 0) as usize;
        }
        let raw = alpha * m * m / sum;
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }

    /// The stated relative standard error, `1.04 / sqrt(m)`.
    pub fn relative_error(&self) -> f64 {
        1.04 / (self.registers.len() as f64).sqrt()
    }

    /// Memory used by the registers, bytes.
    pub fn bytes(&self) -> usize {
        self.registers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_within_three_standard_errors() {
        for &n in &[10u128, 1_000, 100_000, 1_000_000] {
            let mut h = Hll::new(14, 7);
            for k in 0..n {
                h.insert(k * 2_654_435_761);
                h.insert(k * 2_654_435_761); // duplicates do not count
            }
            let e = h.estimate();
            let rel = (e - n as f64).abs() / n as f64;
            assert!(rel < 3.0 * h.relative_error() + 0.001, "n={n} estimate={e}");
        }
    }

    #[test]
    fn merge_equals_union() {
        let (mut a, mut b, mut u) = (Hll::new(12, 1), Hll::new(12, 1), Hll::new(12, 1));
        for k in 0..50_000u128 {
            if k % 3 == 0 {
                a.insert(k)
            } else {
                b.insert(k)
            }
            u.insert(k);
        }
        a.merge(&b).unwrap();
        assert_eq!(a, u);
        assert_eq!(a.merge(&Hll::new(12, 2)), Err(MergeError));
    }
}
