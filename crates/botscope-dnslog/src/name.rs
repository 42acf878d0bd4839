//! Domain-name normalisation for watch and allow lists: the one normaliser
//! of `botscope_core::name` (lower case, no trailing dot, UTS 46 and IDNA
//! A-labels, DNS length rules), plus the fast byte-level form used on every
//! query name read from a log. Names in resolver logs are already A-labels;
//! the full normaliser is for hand-written watch and allow lists.

pub use botscope_core::name::{Name, NameError};

/// Normalises a name given by a person (watch list, allow list): trims,
/// drops one trailing dot, lower-cases, encodes Unicode labels as A-labels
/// and validates (`botscope_core::name::Name::parse`).
pub fn normalize_name(input: &str) -> Result<String, NameError> {
    Name::parse(input).map(Name::into_string)
}

/// Normalises a query name from a log into `out` for matching: ASCII lower
/// case, trailing dot dropped. Non-ASCII bytes (logs normally carry
/// A-labels; BIND escapes others as `\DDD`) are kept as they are, so they
/// simply never match a valid watch-list entry. Returns false for names too
/// long to be DNS names (which cannot match either).
#[inline]
pub fn normalize_qname_into(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let raw = raw.strip_suffix(b".").unwrap_or(raw);
    out.clear();
    if raw.len() > 253 {
        return false;
    }
    out.extend(raw.iter().map(u8::to_ascii_lowercase));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_matches_rfc3492_and_idna_examples() {
        // RFC 3492 section 7.1 (L) and well-known IDNs.
        assert_eq!(
            normalize_name("3年B組金八先生.jp").unwrap(),
            "xn--3b-ww4c5e180e575a65lsy2b.jp"
        );
        assert_eq!(normalize_name("münchen.de").unwrap(), "xn--mnchen-3ya.de");
        assert_eq!(
            normalize_name("Bücher.Example.").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize_name("例え.テスト").unwrap(),
            "xn--r8jz45g.xn--zckzah"
        );
    }

    #[test]
    fn applies_uts46_mapping() {
        // Case folding of non-ASCII letters.
        assert_eq!(normalize_name("MÜNCHEN.DE").unwrap(), "xn--mnchen-3ya.de");
        // NFC: `u` + combining diaeresis is `ü`.
        assert_eq!(
            normalize_name("mu\u{308}nchen.de").unwrap(),
            "xn--mnchen-3ya.de"
        );
        // Full-width letters and the ideographic full stop.
        assert_eq!(
            normalize_name("ＥＸＡＭＰＬＥ。ｃｏｍ").unwrap(),
            "example.com"
        );
        // Nontransitional: `ß` is kept (IDNA 2008), not turned into `ss`.
        assert_eq!(normalize_name("faß.de").unwrap(), "xn--fa-hia.de");
        // Disallowed code points are rejected.
        assert_eq!(normalize_name("a\u{2028}b.com"), Err(NameError::Idna));
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(normalize_name(""), Err(NameError::Empty));
        assert_eq!(normalize_name("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(normalize_name("a b.com"), Err(NameError::BadChar(' ')));
        assert_eq!(normalize_name("-a.com"), Err(NameError::Hyphen));
        assert_eq!(
            normalize_name(&"a".repeat(64)),
            Err(NameError::LabelTooLong)
        );
        let long = vec!["abcdefghi"; 30].join(".");
        assert_eq!(normalize_name(&long), Err(NameError::NameTooLong));
        assert_eq!(
            normalize_name("_dmarc.Example.COM.").unwrap(),
            "_dmarc.example.com"
        );
    }
}
