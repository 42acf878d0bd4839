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
use crate::pattern::{is_pattern, Pattern, PatternError};
use botscope_core::hash::FastMap;
use botscope_core::hash::FastSet;
use std::io::BufRead;

/// Names from a watch list. Lookups hash names read from logs (which an
/// attacker may choose, but cannot add to the set); the core hasher is
/// seeded per process and the sets are never iterated into output.
type NameHashSet = FastSet<Box<[u8]>>;

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
        reason: EntryError,
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
    exact: NameHashSet,
    /// Zones matching apex and subdomains.
    zones: NameHashSet,
    /// Zones matching subdomains only (`*.zone`).
    below: NameHashSet,
    /// Lengths of the `exact` entries.
    exact_lens: LenSet,
    /// Lengths of the `zones` and `below` entries.
    zone_lens: LenSet,
    /// Conservative test on a name's last bytes, before any hashing.
    tails: TailFilter,
    /// Patterns (`bot-??.example.org`), by their plain suffix.
    patterns: FastMap<Box<[u8]>, Vec<Pattern>>,
    /// Lengths of the patterns' plain suffixes.
    pattern_lens: LenSet,
    /// Entries as written (normalised), for reports.
    entries: Vec<String>,
}

/// Why a watch-list entry is refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// Not a valid name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A pattern that does not compile (see `crate::pattern`).
    #[error("bad pattern: {0}")]
    Pattern(#[from] PatternError),
}

/// A set of name lengths (0..=255): a suffix whose length no entry has is
/// never hashed.
#[derive(Default, Clone, Copy)]
struct LenSet([u64; 4]);

impl LenSet {
    fn insert(&mut self, len: usize) {
        let l = len.min(255);
        self.0[l >> 6] |= 1 << (l & 63);
    }

    #[inline]
    fn contains(&self, len: usize) -> bool {
        len < 256 && self.0[len >> 6] & (1 << (len & 63)) != 0
    }
}

/// Every entry (exact name, zone or `*.` zone) is a suffix of the names it
/// matches, so a name matches only if its last `k = min(8, entry length)`
/// bytes equal the entry's. The filter keeps, per `k` in use, a 64 Ki-bit
/// table of hashed 8-byte tails (case folded by setting bit 5 of each
/// byte, on both sides, so a logged name need not be lower-cased first).
/// A miss proves no entry can match; a hit (true match or collision) goes
/// on to the exact hash lookups. Costs one or two loads and multiplies a
/// name, where most resolver-log names share no tail with any C&C name.
#[derive(Clone)]
struct TailFilter {
    /// Bit `k` set: some entry has `min(8, len) == k`.
    widths: u16,
    bits: Box<[u64; TAIL_WORDS]>,
}

const TAIL_WORDS: usize = 1024;

impl Default for TailFilter {
    fn default() -> Self {
        TailFilter {
            widths: 0,
            bits: Box::new([0; TAIL_WORDS]),
        }
    }
}

/// Bit 5 of each byte: ASCII upper and lower case letters fold together.
const FOLD: u64 = 0x2020_2020_2020_2020;

impl TailFilter {
    /// The hash slot of the last `k` (1..=8) bytes, folded, of a name
    /// at least `k` bytes long.
    #[inline]
    fn slot(name: &[u8], k: usize) -> usize {
        let n = name.len();
        let word = if n >= 8 {
            let last8 = u64::from_le_bytes(name[n - 8..].try_into().unwrap_or([0; 8]));
            (last8 | FOLD) >> (8 * (8 - k))
        } else {
            let mut w = 0u64;
            for (i, b) in name[n - k..].iter().enumerate() {
                w |= ((*b | 0x20) as u64) << (8 * i);
            }
            w
        };
        let h = (word ^ ((k as u64) << 59)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 48) as usize
    }

    fn insert(&mut self, entry: &[u8]) {
        if entry.is_empty() {
            return;
        }
        let k = entry.len().min(8);
        self.widths |= 1 << k;
        let s = Self::slot(entry, k);
        self.bits[s >> 6] |= 1 << (s & 63);
    }

    /// False when no entry can be a suffix of `name` (case-insensitive).
    #[inline]
    fn may_match(&self, name: &[u8]) -> bool {
        let mut widths = self.widths;
        while widths != 0 {
            let k = widths.trailing_zeros() as usize;
            widths &= widths - 1;
            if k > name.len() {
                break;
            }
            let s = Self::slot(name, k);
            if self.bits[s >> 6] & (1 << (s & 63)) != 0 {
                return true;
            }
        }
        false
    }
}

impl NameSet {
    /// An empty set.
    pub fn new() -> NameSet {
        NameSet::default()
    }

    /// Adds one entry in the file syntax (`name`, `*.zone`, `zone:zone`,
    /// `.zone`, or a pattern such as `bot-??.zone`, see [`crate::pattern`]).
    pub fn add(&mut self, entry: &str) -> Result<(), EntryError> {
        let e = entry.trim();
        if is_pattern(e) {
            let p = Pattern::parse(e)?;
            let suffix = normalize_name(p.suffix())?;
            self.entries.push(e.to_ascii_lowercase());
            self.pattern_lens.insert(suffix.len());
            self.tails.insert(suffix.as_bytes());
            self.patterns
                .entry(suffix.into_bytes().into())
                .or_default()
                .push(p);
        } else if let Some(z) = e.strip_prefix("*.") {
            let n = normalize_name(z)?;
            self.entries.push(format!("*.{n}"));
            self.zone_lens.insert(n.len());
            self.tails.insert(n.as_bytes());
            self.below.insert(n.into_bytes().into());
        } else if let Some(z) = e.strip_prefix("zone:").or_else(|| e.strip_prefix('.')) {
            let n = normalize_name(z)?;
            self.entries.push(format!("zone:{n}"));
            self.zone_lens.insert(n.len());
            self.tails.insert(n.as_bytes());
            self.zones.insert(n.into_bytes().into());
        } else {
            let n = normalize_name(e)?;
            self.entries.push(n.clone());
            self.exact_lens.insert(n.len());
            self.tails.insert(n.as_bytes());
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

    /// A cheap test on a name as logged (any case, trailing dot or not):
    /// false means [`matches`](Self::matches) is false for its normalised
    /// form, so the caller can skip normalising and hashing it. True means
    /// "maybe" (the name's last bytes equal some entry's).
    #[inline]
    pub fn may_match_raw(&self, raw: &[u8]) -> bool {
        let name = raw.strip_suffix(b".").unwrap_or(raw);
        self.tails.may_match(name)
    }

    /// Whether a normalised (lower-case, no trailing dot) name matches.
    #[inline]
    pub fn matches(&self, name: &[u8]) -> bool {
        if !self.tails.may_match(name) {
            return false;
        }
        if self.exact_lens.contains(name.len()) && self.exact.contains(name) {
            return true;
        }
        if self.zone_lens.contains(name.len()) && self.zones.contains(name) {
            return true;
        }
        if self.zones.is_empty() && self.below.is_empty() && self.patterns.is_empty() {
            return false;
        }
        let mut rest = name;
        while let Some(p) = memchr::memchr(b'.', rest) {
            let head = &name[..name.len() - rest.len() + p];
            rest = &rest[p + 1..];
            if self.zone_lens.contains(rest.len())
                && (self.zones.contains(rest) || self.below.contains(rest))
            {
                return true;
            }
            if self.pattern_lens.contains(rest.len()) {
                if let Some(ps) = self.patterns.get(rest) {
                    if ps.iter().any(|p| p.matches_head(head)) {
                        return true;
                    }
                }
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

    /// The reference: every suffix at a label boundary looked up, no filter.
    fn naive(entries: &[&str], name: &str) -> bool {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        entries.iter().any(|e| {
            if let Some(z) = e.strip_prefix("*.") {
                name.ends_with(&format!(".{z}"))
            } else if let Some(z) = e.strip_prefix("zone:") {
                name == *z || name.ends_with(&format!(".{z}"))
            } else {
                name == *e
            }
        })
    }

    #[test]
    fn prefilter_never_hides_a_match() {
        // Short entries (tails under 8 bytes), long ones, all three kinds.
        let entries = [
            "cc.evil-c2.test",
            "zone:io",
            "*.b.co",
            "zone:dyn-botnet.example",
            "x.y",
            "*.deep.sub.zone.test",
        ];
        let mut s = NameSet::new();
        for e in entries {
            s.add(e).unwrap();
        }
        let labels = [
            "cc",
            "CC",
            "evil-c2",
            "EVIL-c2",
            "test",
            "io",
            "IO",
            "b",
            "co",
            "x",
            "y",
            "dyn-botnet",
            "example",
            "deep",
            "sub",
            "zone",
            "www",
            "a_b",
            "xn--mnchen-3ya",
        ];
        // Every name of 1..=4 labels drawn from the list (19^4 + … names),
        // with and without a trailing dot.
        let mut checked = 0;
        let mut hits = 0;
        let mut idx = [0usize; 4];
        for len in 1..=4 {
            let total = labels.len().pow(len as u32);
            for mut n in 0..total {
                for slot in idx.iter_mut().take(len) {
                    *slot = n % labels.len();
                    n /= labels.len();
                }
                let name: Vec<&str> = idx[..len].iter().map(|&i| labels[i]).collect();
                let name = name.join(".");
                for raw in [name.clone(), format!("{name}.")] {
                    let want = naive(&entries, &raw);
                    let lower = raw.strip_suffix('.').unwrap_or(&raw).to_ascii_lowercase();
                    assert_eq!(s.matches(lower.as_bytes()), want, "{raw}");
                    if want {
                        assert!(s.may_match_raw(raw.as_bytes()), "{raw}");
                        hits += 1;
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * (19 + 361 + 6859 + 130_321));
        assert!(hits > 1000, "{hits}");
        // Names sharing no tail with any entry are turned away before hashing.
        assert!(!s.may_match_raw(b"www.example.com"));
        assert!(!s.may_match_raw(b"WWW.EXAMPLE.ORG."));
        assert!(!s.may_match_raw(b"o"));
        assert!(!s.may_match_raw(b""));
        assert!(s.may_match_raw(b"CC.Evil-C2.Test."));
        assert!(s.may_match_raw(b"anything.IO"));
        // An empty set matches nothing.
        assert!(!NameSet::new().may_match_raw(b"cc.evil-c2.test"));
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
