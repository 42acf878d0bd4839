//! Domain-name normalisation: lower case, no trailing dot, non-ASCII names
//! mapped by UTS 46 (case folding, NFC, width and compatibility mappings,
//! ideographic full stops as dots; nontransitional, so `ß` stays `ß`) and
//! turned into IDNA A-labels (`xn--` punycode) with the `idna` crate, then
//! checked against the DNS length rules. Names in resolver logs are
//! already A-labels; this is for hand-written watch and allow lists.

/// Why a name was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name has no labels.
    #[error("empty name")]
    Empty,
    /// A label is empty (`a..b`).
    #[error("empty label")]
    EmptyLabel,
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// The whole name is longer than 253 octets.
    #[error("name longer than 253 octets")]
    NameTooLong,
    /// A character that has no place in a host name.
    #[error("invalid character {0:?}")]
    BadChar(char),
    /// A label starts or ends with a hyphen.
    #[error("label starts or ends with '-'")]
    Hyphen,
    /// UTS 46 mapping failed (disallowed code point, bad bidi or joiner
    /// use, invalid punycode).
    #[error("not a valid internationalised name (UTS 46)")]
    Idna,
}

/// Normalises a name given by a person (watch list, allow list): trims,
/// drops one trailing dot, lower-cases, encodes Unicode labels as A-labels
/// and validates. Underscores are accepted (service labels, and bot herders
/// use them).
pub fn normalize_name(input: &str) -> Result<String, NameError> {
    let s = input.trim();
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    // UTS 46 works on the whole name: some mappings produce dots.
    let mapped;
    let s = if s.is_ascii() {
        s
    } else {
        mapped = idna::domain_to_ascii_cow(s.as_bytes(), idna::AsciiDenyList::URL)
            .map_err(|_| NameError::Idna)?;
        mapped.strip_suffix('.').unwrap_or(&mapped)
    };
    let mut out = String::with_capacity(s.len());
    for (i, label) in s.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        let ascii = label.to_ascii_lowercase();
        if ascii.len() > 63 {
            return Err(NameError::LabelTooLong);
        }
        if let Some(c) = ascii
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(NameError::BadChar(c));
        }
        if ascii.starts_with('-') || ascii.ends_with('-') {
            return Err(NameError::Hyphen);
        }
        out.push_str(&ascii);
    }
    if out.len() > 253 {
        return Err(NameError::NameTooLong);
    }
    Ok(out)
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
