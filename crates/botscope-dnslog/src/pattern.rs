//! Watch-list patterns for names that rotate (issue 20): a bounded glob
//! syntax over DNS labels, matched without backtracking.
//!
//! Syntax (case-insensitive; a pattern is an entry that uses any of
//! `? [ { *` other than a leading `*.`):
//!
//! | form | matches |
//! |---|---|
//! | `a`–`z`, `0`–`9`, `-`, `_` | that character |
//! | `?` | any one label character |
//! | `[a-f0-9]`, `[!0-9]` (or `[^…]`) | one character of (not of) the class |
//! | `*` | any run of label characters, inside one label (possibly empty) |
//! | `X{n}`, `X{n,m}` | `X` (a character, `?` or a class) repeated n, or n to m, times (m ≤ 63) |
//! | `**` as the whole first label | one or more labels |
//!
//! Each pattern label matches exactly one name label (dots are never
//! matched by `?`, `*` or a class); the last label must be plain, so every
//! pattern has a literal suffix (`example.org` in `bot-??.example.org`)
//! that the watch list's prefilter and suffix lookup use like any zone.
//! Examples: `bot-??.example.org`, `[a-z]{12}.dyn.example`,
//! `**.cdn-[0-9]{2,3}.example.net`, `x*y.example.com`.
//!
//! Bounds: at most 253 characters and 32 labels a pattern, at most 128
//! positions a label once repetitions are unrolled. A label is matched by
//! simulating its automaton over a set of positions (a Thompson-style
//! simulation), so a match costs at most label length × positions steps —
//! there is no backtracking, hence no catastrophic case.

/// Why a pattern entry is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// More than 253 characters or 32 labels.
    #[error("pattern too long")]
    TooLong,
    /// An empty label (`a..b`, leading or trailing dot).
    #[error("empty label")]
    EmptyLabel,
    /// A character outside the syntax.
    #[error("invalid character {0:?}")]
    BadChar(char),
    /// `[` without `]`, or an empty class.
    #[error("bad character class")]
    BadClass,
    /// `{` not followed by `n}` or `n,m}` with n ≤ m ≤ 63, or after `*`.
    #[error("bad repetition")]
    BadRepeat,
    /// A label unrolls to more than 128 positions.
    #[error("label too complex")]
    TooComplex,
    /// The last label uses a wildcard, or `**` is not the first label.
    #[error("the last label must be plain and `**` may only be the first label")]
    Placement,
}

const MAX_POSITIONS: usize = 128;
const MAX_REPEAT: u32 = 63;

/// A set of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);
    fn add(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }
    #[inline]
    fn has(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
    fn label_chars() -> ByteSet {
        let mut s = ByteSet::EMPTY;
        for b in (b'a'..=b'z').chain(b'0'..=b'9').chain([b'-', b'_']) {
            s.add(b);
        }
        s
    }
}

/// How often a position's byte set is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Times {
    /// Exactly once.
    One,
    /// Zero or once.
    Optional,
    /// Any number of times.
    Star,
}

/// One label's automaton: positions in order.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LabelPat {
    items: Vec<(ByteSet, Times)>,
}

/// A position set over at most 129 positions.
#[derive(Clone, Copy, Default)]
struct States([u64; 3]);

impl States {
    #[inline]
    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }
    #[inline]
    fn has(&self, i: usize) -> bool {
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }
    fn is_empty(&self) -> bool {
        self.0 == [0; 3]
    }
}

impl LabelPat {
    /// Adds the positions reachable without reading a byte.
    #[inline]
    fn close(&self, s: &mut States) {
        for (i, (_, t)) in self.items.iter().enumerate() {
            if s.has(i) && *t != Times::One {
                s.set(i + 1);
            }
        }
    }

    fn matches(&self, label: &[u8]) -> bool {
        let mut cur = States::default();
        cur.set(0);
        self.close(&mut cur);
        for &b in label {
            let b = b.to_ascii_lowercase();
            let mut next = States::default();
            for (i, (set, t)) in self.items.iter().enumerate() {
                if cur.has(i) && set.has(b) {
                    next.set(if *t == Times::Star { i } else { i + 1 });
                }
            }
            self.close(&mut next);
            if next.is_empty() {
                return false;
            }
            cur = next;
        }
        cur.has(self.items.len())
    }

    fn parse(text: &[u8]) -> Result<LabelPat, PatternError> {
        let any = ByteSet::label_chars();
        let mut items: Vec<(ByteSet, Times)> = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let (set, star) = match text[i] {
                b'?' => (any, false),
                b'*' => (any, true),
                b'[' => {
                    let end = text[i..]
                        .iter()
                        .position(|&b| b == b']')
                        .ok_or(PatternError::BadClass)?;
                    let set = parse_class(&text[i + 1..i + end])?;
                    i += end;
                    (set, false)
                }
                b => {
                    let b = b.to_ascii_lowercase();
                    if !any.has(b) {
                        return Err(PatternError::BadChar(b as char));
                    }
                    let mut s = ByteSet::EMPTY;
                    s.add(b);
                    (s, false)
                }
            };
            i += 1;
            let (lo, hi) = if text.get(i) == Some(&b'{') {
                if star {
                    return Err(PatternError::BadRepeat);
                }
                let end = text[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or(PatternError::BadRepeat)?;
                let r = parse_repeat(&text[i + 1..i + end])?;
                i += end + 1;
                r
            } else {
                (1, 1)
            };
            if star {
                items.push((set, Times::Star));
            } else {
                items.extend((0..lo).map(|_| (set, Times::One)));
                items.extend((lo..hi).map(|_| (set, Times::Optional)));
            }
            if items.len() > MAX_POSITIONS {
                return Err(PatternError::TooComplex);
            }
        }
        Ok(LabelPat { items })
    }
}

fn parse_class(body: &[u8]) -> Result<ByteSet, PatternError> {
    let (neg, body) = match body.first() {
        Some(b'!') | Some(b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let any = ByteSet::label_chars();
    let mut s = ByteSet::EMPTY;
    let mut i = 0;
    while i < body.len() {
        let a = body[i].to_ascii_lowercase();
        if !any.has(a) {
            return Err(PatternError::BadClass);
        }
        if body.get(i + 1) == Some(&b'-') && i + 2 < body.len() {
            let z = body[i + 2].to_ascii_lowercase();
            if !any.has(z) || z < a {
                return Err(PatternError::BadClass);
            }
            for b in a..=z {
                if any.has(b) {
                    s.add(b);
                }
            }
            i += 3;
        } else {
            s.add(a);
            i += 1;
        }
    }
    if neg {
        for w in 0..4 {
            s.0[w] = !s.0[w] & any.0[w];
        }
    }
    if s == ByteSet::EMPTY {
        return Err(PatternError::BadClass);
    }
    Ok(s)
}

fn parse_repeat(body: &[u8]) -> Result<(u32, u32), PatternError> {
    let text = std::str::from_utf8(body).map_err(|_| PatternError::BadRepeat)?;
    let num = |t: &str| t.trim().parse::<u32>().map_err(|_| PatternError::BadRepeat);
    let (lo, hi) = match text.split_once(',') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let n = num(text)?;
            (n, n)
        }
    };
    if lo > hi || hi > MAX_REPEAT {
        return Err(PatternError::BadRepeat);
    }
    Ok((lo, hi))
}

/// A compiled watch-list pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// Leading `**`: one or more labels before `labels`.
    any_prefix: bool,
    /// The wildcard labels, left to right (after `**`, before the suffix).
    labels: Vec<LabelPat>,
    /// The plain labels at the end, lower case, dot-joined.
    suffix: String,
}

/// True when an entry uses the pattern syntax (not just a leading `*.`).
pub fn is_pattern(entry: &str) -> bool {
    let body = entry.strip_prefix("*.").unwrap_or(entry);
    body.contains(['?', '[', '{', '*'])
}

impl Pattern {
    /// Compiles a pattern (see the module documentation).
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let text = text.trim().trim_end_matches('.');
        if text.len() > 253 {
            return Err(PatternError::TooLong);
        }
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() > 32 {
            return Err(PatternError::TooLong);
        }
        if parts.iter().any(|p| p.is_empty()) {
            return Err(PatternError::EmptyLabel);
        }
        let wild = |p: &str| p.contains(['?', '[', '{', '*']);
        let plain_from = parts.iter().rposition(|p| wild(p)).map_or(0, |i| i + 1);
        if plain_from == parts.len() {
            return Err(PatternError::Placement);
        }
        let any_prefix = parts[0] == "**";
        let first = usize::from(any_prefix);
        if parts[first..].contains(&"**") {
            return Err(PatternError::Placement);
        }
        let labels = parts[first..plain_from.max(first)]
            .iter()
            .map(|p| LabelPat::parse(p.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pattern {
            any_prefix,
            labels,
            suffix: parts[plain_from..].join(".").to_ascii_lowercase(),
        })
    }

    /// The plain suffix (`example.org` in `bot-??.example.org`), to be
    /// checked as a name by the caller ([`crate::name::normalize_name`]).
    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// Whether a normalised name matches, given that it ends with
    /// `.` + [`suffix`](Self::suffix) (`head` is the part before that dot).
    pub fn matches_head(&self, head: &[u8]) -> bool {
        let mut rest = head;
        // Right to left: the last wildcard label is the one before the suffix.
        for lp in self.labels.iter().rev() {
            let (before, label) = match memchr::memrchr(b'.', rest) {
                Some(p) => (&rest[..p], &rest[p + 1..]),
                None => (&b""[..], rest),
            };
            if label.is_empty() || !lp.matches(label) {
                return false;
            }
            rest = before;
        }
        // Labels left over are taken by a leading `**` only, which needs one.
        rest.is_empty() != self.any_prefix
    }

    /// Whether a normalised name (lower case, no trailing dot) matches.
    pub fn matches(&self, name: &[u8]) -> bool {
        let s = self.suffix.as_bytes();
        if name.len() <= s.len() + 1 || !name.ends_with(s) || name[name.len() - s.len() - 1] != b'.'
        {
            return false;
        }
        self.matches_head(&name[..name.len() - s.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str) -> Pattern {
        Pattern::parse(t).unwrap()
    }

    #[test]
    fn glob_forms() {
        let b = p("bot-??.example.org");
        assert_eq!(b.suffix(), "example.org");
        assert!(b.matches(b"bot-01.example.org"));
        assert!(b.matches(b"bot-ab.example.org"));
        assert!(!b.matches(b"bot-1.example.org"));
        assert!(!b.matches(b"bot-123.example.org"));
        assert!(!b.matches(b"x.bot-01.example.org"));
        assert!(!b.matches(b"bot-01.example.org.evil"));
        assert!(!b.matches(b"bot-01example.org"));
        let c = p("[a-z]{12}.dyn.example");
        assert!(c.matches(b"abcdefghijkl.dyn.example"));
        assert!(!c.matches(b"abcdefghijk.dyn.example"));
        assert!(!c.matches(b"abcdefghijk1.dyn.example"));
        let r = p("**.cdn-[0-9]{2,3}.example.net");
        assert!(r.matches(b"a.cdn-12.example.net"));
        assert!(r.matches(b"a.b.cdn-123.example.net"));
        assert!(!r.matches(b"cdn-12.example.net"));
        assert!(!r.matches(b"a.cdn-1234.example.net"));
        let s = p("x*y.example.com");
        assert!(s.matches(b"xy.example.com"));
        assert!(s.matches(b"x-any-thing-y.example.com"));
        assert!(!s.matches(b"x.y.example.com"));
        let n = p("[!0-9]?.example.com");
        assert!(n.matches(b"a1.example.com"));
        assert!(!n.matches(b"1a.example.com"));
        let two = p("a?.b*.example.com");
        assert!(two.matches(b"ax.b.example.com"));
        assert!(!two.matches(b"ax.example.com"));
        assert!(!two.matches(b"z.ax.b.example.com"));
    }

    #[test]
    fn refuses_bad_patterns() {
        assert_eq!(Pattern::parse("bot.*"), Err(PatternError::Placement));
        assert_eq!(Pattern::parse("a.**.example"), Err(PatternError::Placement));
        assert_eq!(Pattern::parse("a..example"), Err(PatternError::EmptyLabel));
        assert_eq!(Pattern::parse("[a-.example"), Err(PatternError::BadClass));
        assert_eq!(
            Pattern::parse("a{64}.example"),
            Err(PatternError::BadRepeat)
        );
        assert_eq!(
            Pattern::parse("a{3,2}.example"),
            Err(PatternError::BadRepeat)
        );
        assert_eq!(Pattern::parse("*{2}.example"), Err(PatternError::BadRepeat));
        assert_eq!(
            Pattern::parse("a b?.example"),
            Err(PatternError::BadChar(' '))
        );
        assert_eq!(
            Pattern::parse("?{63}?{63}?{63}.example"),
            Err(PatternError::TooComplex)
        );
        assert!(is_pattern("bot-??.example.org"));
        assert!(!is_pattern("*.example.org"));
        assert!(is_pattern("*.a*.example.org"));
    }

    #[test]
    fn no_catastrophic_backtracking() {
        // The classic exponential case for backtracking matchers:
        // (a?){n}a{n} against a^n, and many stars against a near miss.
        let q = p("a{0,30}a{30}.example");
        let name = format!("{}.example", "a".repeat(30));
        let t = std::time::Instant::now();
        assert!(q.matches(name.as_bytes()));
        let stars = p("*a*a*a*a*a*a*a*a*a*a*b.example");
        let miss = format!("{}.example", "a".repeat(63));
        for _ in 0..1000 {
            assert!(!stars.matches(miss.as_bytes()));
        }
        // 1,000 worst-case label matches take well under a second even in
        // a debug build (a backtracking matcher needs ~63^10 steps for one).
        assert!(t.elapsed().as_secs_f64() < 2.0, "{:?}", t.elapsed());
    }
}
