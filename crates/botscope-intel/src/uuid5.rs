//! Name-based (version 5, SHA-1) UUIDs, RFC 9562 §5.5, so exports carry the
//! same identifiers every time they are produced from the same values.

use sha1::{Digest, Sha1};

/// The RFC 9562 DNS namespace.
pub const NS_DNS: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// The namespace STIX 2.1 fixes for deterministic SCO identifiers
/// (`00abedb4-aa42-466c-9c01-fed23315a9b7`, STIX 2.1 §2.9).
pub const NS_STIX_SCO: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];

/// A v5 UUID of `name` in `namespace`, as bytes.
pub fn v5_bytes(namespace: &[u8; 16], name: &[u8]) -> [u8; 16] {
    let mut h = Sha1::new();
    h.update(namespace);
    h.update(name);
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

/// Formats 16 bytes as `8-4-4-4-12` lower-case hex.
pub fn format(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A v5 UUID of `name` in `namespace`.
pub fn v5(namespace: &[u8; 16], name: &str) -> String {
    format(&v5_bytes(namespace, name.as_bytes()))
}

/// botscope's own namespace: v5 of `botscope.intel` in the DNS namespace.
pub fn botscope_ns() -> [u8; 16] {
    v5_bytes(&NS_DNS, b"botscope.intel")
}

/// A v5 UUID of `name` in botscope's namespace.
pub fn botscope(name: &str) -> String {
    v5(&botscope_ns(), name)
}

/// The deterministic STIX SCO id part for ID-contributing properties given
/// as a JSON object (serialised canonically: sorted keys, no spaces —
/// serde_json's map is sorted and its compact form has no spaces).
pub fn stix_sco(props: &serde_json::Value) -> String {
    v5(&NS_STIX_SCO, &props.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_example() {
        // RFC 9562 Appendix A.4: v5 of "www.example.com" in the DNS namespace.
        assert_eq!(
            v5(&NS_DNS, "www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn stix_sco_id_matches_spec_example() {
        // STIX 2.1 §2.9 example for ipv4-addr value 1.2.3.4... is not printed
        // there; the domain-name example from stix2's docs is deterministic too,
        // so check stability and format here and agreement with stix2 in the
        // integration test.
        let a = stix_sco(&serde_json::json!({"value": "example.com"}));
        assert_eq!(a, stix_sco(&serde_json::json!({"value": "example.com"})));
        assert_eq!(&a[14..15], "5");
    }
}
