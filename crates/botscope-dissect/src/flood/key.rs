//! Map keys of the per-packet tallies (floods and scans) that hash in one
//! or two machine words. A derived `Hash` on `IpAddr`, `&str` or `[u8; 6]`
//! goes through the hasher's byte-string path with a length prefix and an
//! enum tag, several times per packet; these keys keep the full values for
//! equality and feed the hasher a few folded words instead.

use std::net::IpAddr;

/// An address folded to one word for hashing (not unique: equality still
/// compares the addresses). IPv4 keeps its 32 bits.
#[inline]
pub(crate) fn addr_word(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(*a)),
        IpAddr::V6(a) => {
            let x = u128::from(*a);
            // The high bit marks IPv6 so ::a.b.c.d does not meet a.b.c.d.
            (x as u64) ^ ((x >> 64) as u64).rotate_left(32) ^ (1 << 63)
        }
    }
}

/// A pair of addresses folded to one word (IPv4: exact).
#[inline]
pub(crate) fn pair_word(a: &IpAddr, b: &IpAddr) -> u64 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => {
            (u64::from(u32::from(*x)) << 32) | u64::from(u32::from(*y))
        }
        _ => addr_word(a).rotate_left(29) ^ addr_word(b),
    }
}

/// An Ethernet address as one word (`None` is the word 2^48, no address).
#[inline]
pub(crate) fn mac_word(m: &Option<[u8; 6]>) -> u64 {
    match m {
        Some(m) => u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]),
        None => 1 << 48,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_ipv4_exact_and_tell_ipv6_apart() {
        let a: IpAddr = "10.1.2.3".parse().unwrap();
        let b: IpAddr = "192.0.2.9".parse().unwrap();
        let v6: IpAddr = "::a01:203".parse().unwrap();
        assert_eq!(addr_word(&a), 0x0a01_0203);
        assert_ne!(addr_word(&v6), addr_word(&a));
        assert_eq!(pair_word(&a, &b), 0x0a01_0203_c000_0209);
        assert_ne!(pair_word(&a, &b), pair_word(&b, &a));
        assert_eq!(mac_word(&Some([1, 2, 3, 4, 5, 6])), 0x0605_0403_0201);
        assert_ne!(mac_word(&None), mac_word(&Some([0; 6])));
    }
}
