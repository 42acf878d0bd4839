//! Domain-name normalisation: lower case, no trailing dot, non-ASCII labels
//! turned into their IDNA A-label (`xn--` punycode) form, checked against
//! the DNS length rules.
//!
//! Deviation from full IDNA 2008 / UTS 46: Unicode labels are lower-cased
//! with Rust's `char::to_lowercase` and punycode-encoded as given; no NFC
//! normalisation or mapping table is applied. Names in resolver logs are
//! already A-labels, so this only matters for hand-written watch lists.

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
    let mut out = String::with_capacity(s.len());
    for (i, label) in s.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        let ascii = if label.is_ascii() {
            label.to_ascii_lowercase()
        } else {
            let lower: String = label.chars().flat_map(char::to_lowercase).collect();
            format!(
                "xn--{}",
                punycode_encode(&lower).ok_or(NameError::LabelTooLong)?
            )
        };
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

/// RFC 3492 punycode encoding of one label (no `xn--` prefix). Returns
/// `None` on arithmetic overflow (absurdly long input).
pub fn punycode_encode(label: &str) -> Option<String> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    fn adapt(mut delta: u32, numpoints: u32, first: bool) -> u32 {
        delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / numpoints;
        let mut k = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            k += BASE;
        }
        k + (BASE - TMIN + 1) * delta / (delta + SKEW)
    }
    fn digit(d: u32) -> char {
        (if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        }) as char
    }
    let input: Vec<u32> = label.chars().map(|c| c as u32).collect();
    if input.len() > 256 {
        return None;
    }
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    let mut handled = basic;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (128u32, 0u32, 72u32);
    while (handled as usize) < input.len() {
        let m = *input.iter().filter(|&&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        TMIN
                    } else if k >= bias + TMAX {
                        TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_matches_rfc3492_and_idna_examples() {
        // RFC 3492 section 7.1 (L) and well-known IDNs.
        assert_eq!(punycode_encode("bücher").unwrap(), "bcher-kva");
        assert_eq!(punycode_encode("münchen").unwrap(), "mnchen-3ya");
        assert_eq!(
            punycode_encode("3年b組金八先生").unwrap(),
            "3b-ww4c5e180e575a65lsy2b"
        );
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
