//! Checksums several crates need the same way: one definition each, so the
//! generator and the reader cannot disagree.

/// Adler-32 (RFC 1950), as UPX records it in its pack header for both
/// streams (`u_adler`, `c_adler`): the generator writes it, the specimen
/// reader checks it.
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the longest run before `b` could overflow 32 bits.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    #[test]
    fn adler32_known_values() {
        // RFC 1950's definition; zlib's adler32() gives the same.
        assert_eq!(super::adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(super::adler32(b""), 1);
        // Past one 5552-byte chunk: Python's zlib.adler32(b"\xff" * 6000).
        assert_eq!(super::adler32(&[0xff; 6000]), 0xa497_59ea);
    }
}
