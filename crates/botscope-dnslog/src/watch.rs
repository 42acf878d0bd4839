//! Watch lists and allow lists: which query names count.
//!
//! File format: one name a line; `#` starts a comment (whole line or after
//! the name); blank lines ignored. A plain name matches exactly that name.
//! A zone entry matches the name and everything below it, written either
//! `*.example.com` (subdomains only, not `example.com` itself — the DNS
//! wildcard meaning) or `zone:example.com` / `.example.com` (the apex and
//! every subdomain). Matching is case-insensitive, ignores a trailing dot,
//! and Unicode names are stored as A-labels (`xn--…`). The output of
//! `botscope specimen export --bot-fqdns` (one FQDN a line) is a valid
//! watch list as it is.

use crate::name::{normalize_name, NameError};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::BufRead;

/// FNV-1a: names in the set come from a trusted list, lookups from logs;
/// a fast non-keyed hash is enough because an attacker cannot grow the set.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastSet = HashSet<Box<[u8]>, BuildHasherDefault<Fnv>>;

/// A watch-list file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A line holds an invalid name.
    #[error("{file} line {line}: invalid name {name:?}: {reason}")]
    BadName {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The text found.
        name: String,
        /// What is wrong.
        reason: NameError,
    },
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A set of exact names and zones.
#[derive(Default)]
pub struct NameSet {
    exact: FastSet,
    /// Zones matching apex and subdomains.
    zones: FastSet,
    /// Zones matching subdomains only (`*.zone`).
    below: FastSet,
    /// Entries as written (normalised), for reports.
    entries: Vec<String>,
}

impl NameSet {
    /// An empty set.
    pub fn new() -> NameSet {
        NameSet::default()
    }

    /// Adds one entry in the file syntax (`name`, `*.zone`, `zone:zone`, `.zone`).
    pub fn add(&mut self, entry: &str) -> Result<(), NameError> {
        let e = entry.trim();
        if let Some(z) = e.strip_prefix("*.") {
            let n = normalize_name(z)?;
            self.entries.push(format!("*.{n}"));
            self.below.insert(n.into_bytes().into());
        } else if let Some(z) = e.strip_prefix("zone:").or_else(|| e.strip_prefix('.')) {
            let n = normalize_name(z)?;
            self.entries.push(format!("zone:{n}"));
            self.zones.insert(n.into_bytes().into());
        } else {
            let n = normalize_name(e)?;
            self.entries.push(n.clone());
            self.exact.insert(n.into_bytes().into());
        }
        Ok(())
    }

    /// Reads entries from a reader; `file` names it in errors.
    pub fn read(&mut self, r: impl BufRead, file: &str) -> Result<(), WatchError> {
        for (i, line) in r.lines().enumerate() {
            let line = line.map_err(|source| WatchError::Io {
                file: file.into(),
                source,
            })?;
            let text = line.split('#').next().unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            self.add(text).map_err(|reason| WatchError::BadName {
                file: file.into(),
                line: i + 1,
                name: text.into(),
                reason,
            })?;
        }
        Ok(())
    }

    /// Loads a file.
    pub fn from_file(path: &std::path::Path) -> Result<NameSet, WatchError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| WatchError::Io {
            file: file.clone(),
            source,
        })?;
        let mut s = NameSet::new();
        s.read(std::io::BufReader::new(f), &file)?;
        Ok(s)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, normalised.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Whether a normalised (lower-case, no trailing dot) name matches.
    #[inline]
    pub fn matches(&self, name: &[u8]) -> bool {
        if self.exact.contains(name) || self.zones.contains(name) {
            return true;
        }
        if self.zones.is_empty() && self.below.is_empty() {
            return false;
        }
        let mut rest = name;
        while let Some(p) = memchr::memchr(b'.', rest) {
            rest = &rest[p + 1..];
            if self.zones.contains(rest) || self.below.contains(rest) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_zone_and_wildcard_entries() {
        let mut s = NameSet::new();
        s.read(
            "# C&C names\nCC.Evil.test.\n*.dyn.example  # whole zone\nzone:bots.test\nmünchen.test\n".as_bytes(),
            "w",
        )
        .unwrap();
        assert_eq!(s.len(), 4);
        assert!(s.matches(b"cc.evil.test"));
        assert!(!s.matches(b"x.cc.evil.test"));
        assert!(s.matches(b"a.b.dyn.example"));
        assert!(!s.matches(b"dyn.example"));
        assert!(s.matches(b"bots.test"));
        assert!(s.matches(b"irc.bots.test"));
        assert!(!s.matches(b"notbots.test"));
        assert!(s.matches(b"xn--mnchen-3ya.test"));
    }

    #[test]
    fn invalid_name_is_rejected_with_its_line() {
        let mut s = NameSet::new();
        let e = s
            .read("ok.test\n\n# c\nbad name.test\n".as_bytes(), "list.txt")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "list.txt line 4: invalid name \"bad name.test\": invalid character ' '"
        );
    }
}
