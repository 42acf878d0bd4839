//! Zeek-style flow uids: `C` + the base-62 digits of a 96-bit value,
//! formatted once into inline text (no heap allocation); uids read from
//! logs are kept as written.

use super::{text_traits, CompactStr, INLINE_CAP};

/// A flow uid. Engine-made uids are inline text (`C` + up to 17 base-62
/// digits); uids read from Zeek logs or JSON are any text, kept exactly
/// (inline when short, shared on the heap when long). Cloning never
/// allocates.
#[derive(Clone, Default)]
pub struct Uid(CompactStr);

/// Base-62 digits of uids, as Zeek's.
pub const UID_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
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
    /// The uid of a 96-bit value: `prefix` (an ASCII letter, masked to 7
    /// bits) then the value's base-62 digits, most significant first,
    /// without leading zeros (Zeek's form).
    pub fn from_value(prefix: u8, v: u128) -> Uid {
        let v = v & ((1u128 << 96) - 1);
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
        // is never a leading zero.) 62^17 > 2^96, so at most 17 digits
        // plus the prefix: 18 ≤ INLINE_CAP bytes, all ASCII.
        let mut b = [0u8; INLINE_CAP];
        b[0] = prefix & 0x7f;
        for k in 0..i {
            b[1 + k] = tmp[i - 1 - k];
        }
        Uid(CompactStr::from_ascii_unchecked(b, i + 1))
    }

    /// The uid text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Uid {
    fn from(s: &str) -> Self {
        Uid(CompactStr::from(s))
    }
}

impl From<String> for Uid {
    fn from(s: String) -> Self {
        Uid(CompactStr::from(s.as_str()))
    }
}

impl From<&String> for Uid {
    fn from(s: &String) -> Self {
        Uid(CompactStr::from(s.as_str()))
    }
}

text_traits!(Uid);

#[cfg(test)]
mod tests {
    use super::*;

    /// Base 62 digit by digit with 128-bit divisions (the first
    /// definition of the uid text).
    fn reference(prefix: u8, mut v: u128) -> String {
        let mut digits = Vec::new();
        while v > 0 {
            digits.push(UID_DIGITS[(v % 62) as usize]);
            v /= 62;
        }
        digits.push(prefix);
        digits.reverse();
        String::from_utf8(digits).unwrap()
    }

    #[test]
    fn uid_text_equals_base62_digit_by_digit() {
        assert_eq!(62u64.pow(10), P62_10);
        let mut x = 0x9e37_79b9_7f4a_7c15_u128;
        let edges = [0, 1, 61, 62, 3843, 3844, P62_10 as u128 - 1, P62_10 as u128];
        for v in edges
            .into_iter()
            .chain([(1u128 << 96) - 1, u64::MAX as u128])
        {
            assert_eq!(Uid::from_value(b'C', v).as_str(), reference(b'C', v));
        }
        for _ in 0..50_000 {
            x = x
                .wrapping_mul(0x5851_f42d_4c95_7f2d)
                .wrapping_add(1442695040888963407);
            let v = x & ((1u128 << 96) - 1);
            let u = Uid::from_value(b'C', v);
            assert_eq!(u.as_str(), reference(b'C', v));
            assert!(u.0.is_inline());
        }
        assert_eq!(Uid::from_value(b'C', (1u128 << 96) - 1).len(), 18);
    }

    #[test]
    fn uids_from_logs_round_trip_exactly() {
        let long = format!("C{}", "z".repeat(200));
        for t in ["CHhAvVGS1DHFjwGM9", "", "-", "C\t,\\", long.as_str(), "Cé"] {
            let u = Uid::from(t);
            assert_eq!(u, t);
            let json = serde_json::to_string(&u).unwrap();
            assert_eq!(json, serde_json::to_string(t).unwrap());
            let back: Uid = serde_json::from_str(&json).unwrap();
            assert_eq!(back.as_str(), t);
        }
    }
}
