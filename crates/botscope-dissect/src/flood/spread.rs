//! How many distinct sources sent toward one target, in bounded memory:
//! exact up to [`EXACT`] addresses, then a HyperLogLog (Flajolet et al.
//! 2007) with 2^[`PRECISION`] one-byte registers (512 bytes, standard
//! error 1.04/√512 ≈ 4.6 %), linear counting for small counts.

use std::net::IpAddr;

/// Addresses kept exactly before switching to the sketch.
pub const EXACT: usize = 8;
/// Register index bits.
pub const PRECISION: u32 = 9;
const M: usize = 1 << PRECISION;

/// Distinct-source counter. The first [`EXACT`] sources sit inline (most
/// targets never see more, and a per-target heap list cost an allocation
/// and a free per tally); the sketch is boxed when it is needed.
#[derive(Clone, Debug)]
pub struct SourceSpread {
    exact: [IpAddr; EXACT],
    /// Sources in `exact` (0 once the sketch took over).
    held: u8,
    registers: Option<Box<Registers>>,
}

impl Default for SourceSpread {
    fn default() -> Self {
        SourceSpread {
            exact: [IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED); EXACT],
            held: 0,
            registers: None,
        }
    }
}

/// The sketch with its harmonic sum kept up to date on every insert, so
/// an estimate (asked for on every tallied packet) costs no pass over the
/// 512 registers.
#[derive(Clone, Debug)]
struct Registers {
    rank: [u8; M],
    /// Σ 2^-rank in fixed point (2^64 = 1): exact, as every term is a power
    /// of two no smaller than 2^-64 and the sum is at most 512.
    sum: u128,
    zeros: usize,
    /// The estimate from `sum` and `zeros`, redone only when a register
    /// grows (rarely, once the sketch is warm): a spoofed-flood check
    /// asks for it on every tallied packet.
    estimate: u64,
}

impl Registers {
    fn new() -> Self {
        Self {
            rank: [0; M],
            sum: (M as u128) << 64,
            zeros: M,
            estimate: 0,
        }
    }

    /// Linear counting while registers are empty and the count small,
    /// the harmonic-mean estimate above.
    fn compute_estimate(&self) -> u64 {
        let m = M as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum = self.sum as f64 / 2f64.powi(64);
        let raw = alpha * m * m / sum;
        let e = if raw <= 2.5 * m && self.zeros > 0 {
            m * (m / self.zeros as f64).ln()
        } else {
            raw
        };
        e.round() as u64
    }

    fn add(&mut self, ip: &IpAddr) {
        let h = hash(ip);
        let idx = (h >> (64 - PRECISION)) as usize;
        let rank = ((h << PRECISION) | (1u64 << (PRECISION - 1))).leading_zeros() as u8 + 1;
        let old = self.rank[idx];
        if old < rank {
            self.sum -= 1u128 << (64 - u32::from(old));
            self.sum += 1u128 << (64 - u32::from(rank));
            self.zeros -= usize::from(old == 0);
            self.rank[idx] = rank;
            self.estimate = self.compute_estimate();
        }
    }
}

fn key(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(*a)) | (1u128 << 64),
        IpAddr::V6(a) => u128::from(*a),
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash(ip: &IpAddr) -> u64 {
    let k = key(ip);
    mix(mix(k as u64) ^ ((k >> 64) as u64).wrapping_mul(0x2545_F491_4F6C_DD1D))
}

impl SourceSpread {
    /// Adds a source.
    pub fn insert(&mut self, ip: IpAddr) {
        if let Some(r) = self.registers.as_mut() {
            r.add(&ip);
            return;
        }
        let held = usize::from(self.held);
        if self.exact[..held].contains(&ip) {
            return;
        }
        if held < EXACT {
            self.exact[held] = ip;
            self.held += 1;
            return;
        }
        let mut r = Box::new(Registers::new());
        for a in self.exact.iter().chain(std::iter::once(&ip)) {
            r.add(a);
        }
        self.held = 0;
        self.registers = Some(r);
    }

    /// Distinct sources (exact up to [`EXACT`], estimated above).
    pub fn estimate(&self) -> u64 {
        match self.registers.as_ref() {
            Some(r) => r.estimate,
            None => u64::from(self.held),
        }
    }

    /// Heap bytes held (the sketch; the exact sources are inline).
    pub fn bytes(&self) -> usize {
        self.registers
            .as_ref()
            .map_or(0, |_| std::mem::size_of::<Registers>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn exact_then_estimated_within_the_standard_error() {
        let mut s = SourceSpread::default();
        for i in 0..5u32 {
            s.insert(IpAddr::V4(Ipv4Addr::from(i)));
            s.insert(IpAddr::V4(Ipv4Addr::from(i)));
        }
        assert_eq!(s.estimate(), 5);
        for (n, tol) in [(100u32, 0.15), (10_000, 0.10), (200_000, 0.10)] {
            let mut s = SourceSpread::default();
            for i in 0..n {
                let a = i.wrapping_mul(2_654_435_761).wrapping_add(0x0b00_0000);
                s.insert(IpAddr::V4(Ipv4Addr::from(a)));
            }
            let e = s.estimate() as f64;
            assert!(
                (e - f64::from(n)).abs() <= tol * f64::from(n),
                "{n}: estimate {e}"
            );
            assert!(s.bytes() <= 512 + 64);
        }
    }

    #[test]
    fn running_sum_equals_a_pass_over_the_registers() {
        let mut s = SourceSpread::default();
        for i in 0..50_000u32 {
            s.insert(IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(40_503))));
            if i % 997 == 0 {
                let Some(r) = s.registers.as_ref() else {
                    continue;
                };
                let pass: u128 = r.rank.iter().map(|&x| 1u128 << (64 - u32::from(x))).sum();
                assert_eq!(r.sum, pass);
                assert_eq!(r.zeros, r.rank.iter().filter(|&&x| x == 0).count());
            }
        }
    }

    #[test]
    fn cached_estimate_equals_a_fresh_one() {
        let mut s = SourceSpread::default();
        for i in 0..20_000u32 {
            s.insert(IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761))));
            if let Some(r) = s.registers.as_ref() {
                assert_eq!(r.estimate, r.compute_estimate(), "after {i}");
            }
        }
        assert!((19_000..21_000).contains(&s.estimate()), "{}", s.estimate());
    }
}
