//! Zeek-style flow uids, stored inline (no heap allocation per flow).

use botscope_core::hash::mix64;

/// A Zeek-style uid stored inline (no heap allocation per flow).
#[derive(Clone, Copy)]
pub struct Uid {
    b: [u8; 20],
    len: u8,
}

/// Base-62 digits of uids, as Zeek's.
const UID_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^10, the largest power of 62 whose digits fit one u64 remainder.
const P62_10: u64 = 839_299_365_868_340_224;
/// Every two-digit base-62 string, by value (0..62²).
const UID_PAIRS: [[u8; 2]; 3844] = {
    let mut t = [[0u8; 2]; 3844];
    let mut v = 0;
    while v < 3844 {
        t[v] = [UID_DIGITS[v / 62], UID_DIGITS[v % 62]];
        v += 1;
    }
    t
};

impl Uid {
    pub(super) fn new(prefix: u8, seed: u64, n: u64) -> Uid {
        let a = mix64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let c = mix64(a ^ seed.rotate_left(17));
        let v: u128 = ((a as u128) << 32) | (c as u128 & 0xffff_ffff);
        // One 128-bit division splits the 96-bit value into two u64
        // halves whose digits come from u64 arithmetic (a constant
        // divisor: multiplications), instead of 17 128-bit divisions
        // (`__udivti3` calls: 6 % of the engine's instructions on
        // single-packet flows).
        let (hi, mut lo) = ((v / P62_10 as u128) as u64, (v % P62_10 as u128) as u64);
        // Digits are produced least significant first, two at a time
        // (one division by 62² and a table lookup per pair).
        let mut tmp = [0u8; 20];
        let mut i = 0;
        let mut pair = |x: u64, i: &mut usize| {
            let p = UID_PAIRS[x as usize];
            tmp[*i] = p[1];
            tmp[*i + 1] = p[0];
            *i += 2;
        };
        if hi != 0 {
            // The low part is exactly ten digits (zeros included).
            for _ in 0..5 {
                pair(lo % 3844, &mut i);
                lo /= 3844;
            }
            lo = hi;
        }
        while lo >= 62 {
            pair(lo % 3844, &mut i);
            lo /= 3844;
        }
        if lo > 0 {
            tmp[i] = UID_DIGITS[lo as usize];
            i += 1;
        }
        // (The top pair came from a value of at least 62: its high digit
        // is never a leading zero.)
        let mut b = [0u8; 20];
        b[0] = prefix & 0x7f;
        for k in 0..i {
            b[1 + k] = tmp[i - 1 - k];
        }
        Uid {
            b,
            len: (i + 1) as u8,
        }
    }
    /// The uid text.
    pub fn as_str(&self) -> &str {
        // SAFETY: `b` holds only ASCII: the prefix (masked to 7 bits in
        // `new`) and `UID_DIGITS`. Skipping the UTF-8 check matters: the
        // uid is handed to the sink with every packet.
        unsafe { std::str::from_utf8_unchecked(&self.b[..self.len as usize]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The uid text as first defined: 96-bit value in base 62 digit by
    /// digit with 128-bit divisions. The fast path must give the same
    /// uids, so logs of one input and seed stay the same across versions.
    fn reference_uid(seed: u64, n: u64) -> String {
        let a = mix64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let c = mix64(a ^ seed.rotate_left(17));
        let mut v: u128 = ((a as u128) << 32) | (c as u128 & 0xffff_ffff);
        let mut digits = Vec::new();
        while v > 0 {
            digits.push(UID_DIGITS[(v % 62) as usize]);
            v /= 62;
        }
        digits.push(b'C');
        digits.reverse();
        String::from_utf8(digits).unwrap()
    }

    #[test]
    fn uids_equal_the_digit_by_digit_definition() {
        assert_eq!(62u64.pow(10), P62_10);
        for seed in [0, 1, 0x626f_7473_636f_7065, u64::MAX] {
            for n in (0..20_000u64).chain([u64::MAX - 1, u64::MAX]) {
                assert_eq!(Uid::new(b'C', seed, n).as_str(), reference_uid(seed, n));
            }
        }
        // Short uids (a high part of zero) keep their length.
        let short = Uid::new(b'C', 0, 0);
        assert_eq!(short.as_str(), reference_uid(0, 0));
    }
}
