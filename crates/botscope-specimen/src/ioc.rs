//! Indicators in strings: FQDNs (validated against the public suffix list
//! compiled into `psl`), dotted IPv4 addresses and URLs.

use serde::Serialize;
use std::collections::BTreeSet;

/// Indicators found in a specimen, sorted and de-duplicated.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Iocs {
    /// Host names under a known public suffix (lowercased).
    pub fqdns: BTreeSet<String>,
    /// Dotted IPv4 addresses.
    pub ipv4: BTreeSet<String>,
    /// `http://`, `https://` and `ftp://` URLs.
    pub urls: BTreeSet<String>,
}

/// Parses a strict dotted quad (no leading zeros beyond `0`).
pub fn parse_ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty()
            || p.len() > 3
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        o[i] = p.parse().ok()?;
    }
    Some(std::net::Ipv4Addr::from(o))
}

/// A syntactically valid host name whose suffix is in the public suffix
/// list and which has at least one label below the registrable part's
/// suffix (so `com` or `co.uk` alone are not FQDNs).
pub fn is_fqdn(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    for label in s.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    if s.rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    match psl::domain(lower.as_bytes()) {
        Some(d) => d.suffix().is_known(),
        None => false,
    }
}

fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'
}

/// Collects indicators from one string.
pub fn scan_text(text: &str, into: &mut Iocs) {
    if text.contains("://") {
        let lower = text.to_ascii_lowercase();
        for scheme in ["http://", "https://", "ftp://"] {
            let mut from = 0;
            while let Some(p) = lower[from..].find(scheme) {
                let start = from + p;
                let end = text[start..]
                    .find(|c: char| {
                        c.is_whitespace() || c == '"' || c == '\'' || c == '<' || c == '>'
                    })
                    .map_or(text.len(), |e| start + e);
                if end > start + scheme.len() && into.urls.len() < 10_000 {
                    into.urls.insert(text[start..end].to_string());
                }
                from = end.max(start + 1);
            }
        }
    }
    // Host names and addresses all have a dot; most strings have none.
    if !text.contains('.') {
        return;
    }
    for word in text.split(|c: char| !host_char(c)) {
        let word = word.trim_matches(|c| c == '.' || c == '-');
        if word.len() < 4 || !word.contains('.') {
            continue;
        }
        if parse_ipv4(word).is_some() {
            if into.ipv4.len() < 10_000 {
                into.ipv4.insert(word.to_string());
            }
        } else if is_fqdn(word) && into.fqdns.len() < 10_000 {
            into.fqdns.insert(word.to_ascii_lowercase());
        }
    }
}
