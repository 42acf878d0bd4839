//! Flow uid derivation: the one place that says which 96-bit value a
//! flow's uid holds. The text form (`C` + base 62, inline, no heap
//! allocation) is `botscope_core::compact::Uid`'s.

pub use botscope_core::compact::Uid;
use botscope_core::hash::mix64;

/// The uid of flow (or tunnel) number `n` under `seed`: `prefix` and the
/// base-62 digits of a 96-bit mix of both.
pub(super) fn derive_uid(prefix: u8, seed: u64, n: u64) -> Uid {
    Uid::from_value(prefix, uid_value(seed, n))
}

/// The 96-bit value behind a uid.
fn uid_value(seed: u64, n: u64) -> u128 {
    let a = mix64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let c = mix64(a ^ seed.rotate_left(17));
    ((a as u128) << 32) | (c as u128 & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::compact::UID_DIGITS;

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
        for seed in [0, 1, 0x626f_7473_636f_7065, u64::MAX] {
            for n in (0..20_000u64).chain([u64::MAX - 1, u64::MAX]) {
                assert_eq!(derive_uid(b'C', seed, n).as_str(), reference_uid(seed, n));
            }
        }
        // Short uids (a high part of zero) keep their length.
        let short = derive_uid(b'C', 0, 0);
        assert_eq!(short.as_str(), reference_uid(0, 0));
    }
}
