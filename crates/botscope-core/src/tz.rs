//! Time zones, the one parser every `--tz` / `--log-tz` goes through
//! (resolver-log stamps without a zone, `analyze`'s diurnal table, `synth`):
//! UTC, a fixed offset (`+09:00`, `-0530`, `UTC+2`), a few abbreviations
//! that name a fixed standard offset (`JST`, `CET`, `EST`, `PST`...), or an
//! IANA name read from the system's compiled zone files
//! (`/usr/share/zoneinfo/NAME`, or `$TZDIR`; letter case as the user likes)
//! by a small TZif reader (RFC 8536, versions 1–4, with the POSIX TZ rule
//! of the footer for times after the last listed transition).
//!
//! Local → UTC: a wall-clock time that occurs twice (the hour when
//! daylight saving ends) reads as the *later* occurrence (standard time);
//! one that does not occur (the hour skipped when it starts) reads with the
//! offset in force before the gap.

use std::cell::Cell;
use std::sync::Arc;

/// A zone for stamps without one.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    /// Seconds east of UTC (0 = UTC).
    Fixed(i32),
    /// A zone read from a TZif file.
    Rules(Arc<TzRules>),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(0)
    }
}

/// Transitions and the trailing rule of a TZif file.
#[derive(Debug, PartialEq)]
pub struct TzRules {
    /// The name it was loaded under.
    pub name: String,
    /// Transition instants (UTC seconds), ascending.
    trans: Vec<i64>,
    /// Offset (seconds east) in force from each transition on.
    trans_off: Vec<i32>,
    /// Offset before the first transition.
    first_off: i32,
    /// Rule for instants after the last transition, if the file has one.
    footer: Option<Posix>,
}

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`).
#[derive(Clone, Debug, PartialEq)]
struct Posix {
    std_off: i32,
    dst: Option<(i32, RuleDay, i32, RuleDay, i32)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum RuleDay {
    /// `Jn`: day 1..=365, 29 February never counted.
    Julian1(i32),
    /// `n`: day 0..=365, leap days counted.
    Julian0(i32),
    /// `Mm.w.d`: day d (0 = Sunday) of week w (5 = last) of month m.
    Month(i32, i32, i32),
}

/// Why a `--tz` / `--log-tz` value cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// A `+HH:MM`-style offset out of range or malformed.
    #[error("bad UTC offset {0:?} (expected e.g. +09:00 or -0530)")]
    BadOffset(String),
    /// Not a zone name (empty, absolute, `..`, odd characters).
    #[error("bad time zone {0:?}")]
    BadName(String),
    /// The zone file could not be read.
    #[error("time zone {name:?}: {path}: {source}")]
    Io {
        /// Zone name asked for.
        name: String,
        /// File looked at.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The zone file is not TZif.
    #[error("time zone {name:?}: {path} is not a TZif file")]
    NotTzif {
        /// Zone name asked for.
        name: String,
        /// File looked at.
        path: String,
    },
}

impl Zone {
    /// Parses `UTC`, `Z`, `GMT`, `+09:00`, `-0530`, `+9`, `UTC+02:00` or an
    /// IANA zone name (read from `$TZDIR` or `/usr/share/zoneinfo`).
    pub fn parse(s: &str) -> Result<Zone, ZoneError> {
        let s = s.trim();
        if let Some((_, off)) = ABBREVIATIONS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
        {
            return Ok(Zone::Fixed(*off));
        }
        let off = s
            .strip_prefix("UTC")
            .or_else(|| s.strip_prefix("GMT"))
            .unwrap_or(s);
        if off.starts_with(['+', '-']) {
            return parse_fixed(off.as_bytes())
                .map(Zone::Fixed)
                .ok_or_else(|| ZoneError::BadOffset(s.into()));
        }
        if s.is_empty()
            || s.starts_with('/')
            || s.split('/').any(|p| p.is_empty() || p == "." || p == "..")
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        {
            return Err(ZoneError::BadName(s.into()));
        }
        let dir = std::env::var_os("TZDIR").unwrap_or_else(|| "/usr/share/zoneinfo".into());
        let dir = std::path::Path::new(&dir);
        let path = dir.join(s);
        let data = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // `asia/tokyo` names the same zone as `Asia/Tokyo`.
                match find_ignoring_case(dir, s) {
                    Some(p) => std::fs::read(&p),
                    None => Err(e),
                }
            }
            r => r,
        }
        .map_err(|source| ZoneError::Io {
            name: s.into(),
            path: path.display().to_string(),
            source,
        })?;
        let rules = TzRules::from_tzif(s, &data).ok_or_else(|| ZoneError::NotTzif {
            name: s.into(),
            path: path.display().to_string(),
        })?;
        Ok(Zone::Rules(Arc::new(rules)))
    }

    /// Offset east of UTC in force at UTC instant `t` (seconds).
    pub fn offset_at(&self, t: i64) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Rules(r) => r.offset_at(t),
        }
    }

    /// The UTC instant (seconds) of local wall-clock seconds `local`.
    pub fn local_to_utc(&self, local: i64) -> i64 {
        match self {
            Zone::Fixed(o) => local - *o as i64,
            Zone::Rules(r) => {
                let off = |t: i64| r.offset_at(t) as i64;
                // The offsets a day either side cover both readings near a
                // transition (offsets are under a day).
                let (o1, o2) = (off(local - 86_400), off(local + 86_400));
                let (u1, u2) = (local - o1, local - o2);
                match (off(u1) == o1, off(u2) == o2) {
                    (true, true) => u1.max(u2),
                    (true, false) => u1,
                    (false, true) => u2,
                    (false, false) => {
                        let a = off(local);
                        if off(local - a) == a {
                            local - a
                        } else {
                            // A gap: the offset in force before it.
                            u1
                        }
                    }
                }
            }
        }
    }
}

/// Names that stand for one fixed offset (seconds east): UTC and its
/// spellings, and the standard-time abbreviations `--tz` has always taken
/// that tzdata has no file for (`CET` and `EST` are tzdata zones: `CET`
/// keeps CEST in summer).
/// An abbreviation is the standard offset all year (`PST` is never PDT);
/// give an IANA name for daylight saving.
pub const ABBREVIATIONS: [(&str, i32); 7] = [
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("JST", 9 * 3600),
    ("KST", 9 * 3600),
    ("CST-China", 8 * 3600),
    ("PST", -8 * 3600),
];

/// The file under `dir` whose path equals `name` ignoring ASCII case, one
/// directory listing per component (zone names have two or three).
fn find_ignoring_case(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    let mut at = dir.to_path_buf();
    for part in name.split('/') {
        let hit = std::fs::read_dir(&at)
            .ok()?
            .filter_map(Result::ok)
            .take(10_000)
            .find(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|f| f.eq_ignore_ascii_case(part))
            })?;
        at = hit.path();
    }
    Some(at)
}

/// `+09:00`, `-0530`, `+9`, `+09` → seconds east.
pub fn parse_fixed(b: &[u8]) -> Option<i32> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let r = &b[1..];
    let d = |x: &[u8]| -> Option<i32> {
        if x.is_empty() || x.len() > 2 || !x.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(x.iter().fold(0, |a, c| a * 10 + (c - b'0') as i32))
    };
    let (h, m) = match r.len() {
        1 | 2 => (d(r)?, 0),
        4 => (d(&r[..2])?, d(&r[2..])?),
        5 if r[2] == b':' => (d(&r[..2])?, d(&r[3..])?),
        _ => return None,
    };
    if h > 15 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

impl TzRules {
    /// Reads a TZif file (RFC 8536).
    pub fn from_tzif(name: &str, data: &[u8]) -> Option<TzRules> {
        let mut c = Cursor(data);
        let header = |c: &mut Cursor| -> Option<(u8, [usize; 6])> {
            if c.take(4)? != b"TZif" {
                return None;
            }
            let v = c.take(1)?[0];
            c.take(15)?;
            let mut n = [0usize; 6];
            for x in n.iter_mut() {
                *x = c.u32()? as usize;
                // Real files list a few hundred transitions at most.
                if *x > 100_000 {
                    return None;
                }
            }
            Some((v, n))
        };
        let (v, n) = header(&mut c)?;
        let [isut, isstd, leap, timecnt, typecnt, charcnt] = n;
        if v >= b'2' {
            // Skip the version 1 block; the 64-bit one follows.
            c.take(timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut)?;
            let (_, n2) = header(&mut c)?;
            return Self::block(name, &mut c, n2, 8, true);
        }
        Self::block(name, &mut c, n, 4, false)
    }

    fn block(
        name: &str,
        c: &mut Cursor,
        n: [usize; 6],
        tsize: usize,
        footer: bool,
    ) -> Option<TzRules> {
        let [isut, isstd, leap, timecnt, typecnt, charcnt] = n;
        if typecnt == 0 {
            return None;
        }
        let times = c.take(timecnt * tsize)?;
        let idx = c.take(timecnt)?;
        let types = c.take(typecnt * 6)?;
        c.take(charcnt + leap * (tsize + 4) + isstd + isut)?;
        let off_of = |i: usize| -> Option<i32> {
            let t = types.get(i * 6..i * 6 + 4)?;
            Some(i32::from_be_bytes(t.try_into().ok()?))
        };
        let mut trans = Vec::with_capacity(timecnt);
        let mut trans_off = Vec::with_capacity(timecnt);
        for k in 0..timecnt {
            let t = &times[k * tsize..(k + 1) * tsize];
            let t = if tsize == 8 {
                i64::from_be_bytes(t.try_into().ok()?)
            } else {
                i32::from_be_bytes(t.try_into().ok()?) as i64
            };
            if trans.last().is_some_and(|&l| t <= l) {
                return None;
            }
            trans.push(t);
            trans_off.push(off_of(idx[k] as usize)?);
        }
        let footer = if footer {
            let rest = c.0.strip_prefix(b"\n")?;
            let end = rest.iter().position(|&b| b == b'\n')?;
            let s = &rest[..end];
            if s.is_empty() {
                None
            } else {
                Some(Posix::parse(s)?)
            }
        } else {
            None
        };
        Some(TzRules {
            name: name.to_string(),
            trans,
            trans_off,
            first_off: off_of(0)?,
            footer,
        })
    }

    fn offset_at(&self, t: i64) -> i32 {
        let i = self.trans.partition_point(|&x| x <= t);
        if i == 0 {
            return self.first_off;
        }
        if i == self.trans.len() {
            if let Some(p) = &self.footer {
                return p.offset_at(t);
            }
        }
        self.trans_off[i - 1]
    }
}

impl Posix {
    fn parse(s: &[u8]) -> Option<Posix> {
        let mut p = s;
        let name = |p: &mut &[u8]| -> Option<()> {
            if let Some(r) = p.strip_prefix(b"<") {
                let e = r.iter().position(|&b| b == b'>')?;
                *p = &r[e + 1..];
            } else {
                let e = p
                    .iter()
                    .position(|b| !b.is_ascii_alphabetic())
                    .unwrap_or(p.len());
                if e < 3 {
                    return None;
                }
                *p = &p[e..];
            }
            Some(())
        };
        // [+-]hh[:mm[:ss]], hours up to 167 (rule times).
        let hms = |p: &mut &[u8]| -> Option<i32> {
            let mut sign = 1;
            if let Some(r) = p.strip_prefix(b"-") {
                sign = -1;
                *p = r;
            } else if let Some(r) = p.strip_prefix(b"+") {
                *p = r;
            }
            let mut total = 0;
            for (k, mul) in [3600, 60, 1].into_iter().enumerate() {
                if k > 0 {
                    match p.strip_prefix(b":") {
                        Some(r) => *p = r,
                        None => break,
                    }
                }
                let e = p
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(p.len());
                if e == 0 || e > 3 {
                    return None;
                }
                let v: i32 = std::str::from_utf8(&p[..e]).ok()?.parse().ok()?;
                total += v * mul;
                *p = &p[e..];
            }
            Some(sign * total)
        };
        let num = |p: &mut &[u8]| -> Option<i32> {
            let e = p
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(p.len());
            if e == 0 || e > 3 {
                return None;
            }
            let v = std::str::from_utf8(&p[..e]).ok()?.parse().ok()?;
            *p = &p[e..];
            Some(v)
        };
        let rule = |p: &mut &[u8]| -> Option<(RuleDay, i32)> {
            let day = if let Some(r) = p.strip_prefix(b"M") {
                *p = r;
                let m = num(p)?;
                *p = p.strip_prefix(b".")?;
                let w = num(p)?;
                *p = p.strip_prefix(b".")?;
                let d = num(p)?;
                if !(1..=12).contains(&m) || !(1..=5).contains(&w) || d > 6 {
                    return None;
                }
                RuleDay::Month(m, w, d)
            } else if let Some(r) = p.strip_prefix(b"J") {
                *p = r;
                let n = num(p)?;
                if !(1..=365).contains(&n) {
                    return None;
                }
                RuleDay::Julian1(n)
            } else {
                let n = num(p)?;
                if n > 365 {
                    return None;
                }
                RuleDay::Julian0(n)
            };
            let time = match p.strip_prefix(b"/") {
                Some(r) => {
                    *p = r;
                    hms(p)?
                }
                None => 7200,
            };
            Some((day, time))
        };
        name(&mut p)?;
        // POSIX offsets are west-positive.
        let std_off = -hms(&mut p)?;
        if p.is_empty() {
            return Some(Posix { std_off, dst: None });
        }
        name(&mut p)?;
        let dst_off = if p.first().is_some_and(|b| *b != b',') {
            -hms(&mut p)?
        } else {
            std_off + 3600
        };
        // A DST name without rules: no rule to apply; stay on standard time.
        let Some(r) = p.strip_prefix(b",") else {
            return p.is_empty().then_some(Posix { std_off, dst: None });
        };
        p = r;
        let (d0, t0) = rule(&mut p)?;
        p = p.strip_prefix(b",")?;
        let (d1, t1) = rule(&mut p)?;
        if !p.is_empty() {
            return None;
        }
        Some(Posix {
            std_off,
            dst: Some((dst_off, d0, t0, d1, t1)),
        })
    }

    fn offset_at(&self, t: i64) -> i32 {
        let Some((dst_off, d0, t0, d1, t1)) = self.dst else {
            return self.std_off;
        };
        let (y, _, _) = crate::time::civil_from_days(t.div_euclid(86_400));
        // Both changes of year y as UTC instants: the start is given in
        // standard local time, the end in daylight local time.
        let start = rule_day(y, d0) * 86_400 + t0 as i64 - self.std_off as i64;
        let end = rule_day(y, d1) * 86_400 + t1 as i64 - dst_off as i64;
        let in_dst = if start < end {
            t >= start && t < end
        } else {
            !(t >= end && t < start)
        };
        if in_dst {
            dst_off
        } else {
            self.std_off
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since the epoch of a rule's day in year `y`.
fn rule_day(y: i64, d: RuleDay) -> i64 {
    use crate::time::days_from_civil;
    let jan1 = days_from_civil(y, 1, 1);
    match d {
        RuleDay::Julian0(n) => jan1 + n as i64,
        RuleDay::Julian1(n) => {
            let n = n as i64;
            jan1 + n - 1 + i64::from(is_leap(y) && n >= 60)
        }
        RuleDay::Month(m, w, wd) => {
            let first = days_from_civil(y, m as i64, 1);
            // 1970-01-01 was a Thursday (4).
            let first_wd = (first + 4).rem_euclid(7);
            let mut day = first + (wd as i64 - first_wd).rem_euclid(7) + 7 * (w as i64 - 1);
            let next_month = if m == 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m as i64 + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
        }
    }
}

/// Local wall-clock microseconds → UTC microseconds, with a one-entry
/// cache of the last stretch of constant offset (so a zone with rules
/// costs a comparison per line away from its transitions).
#[derive(Debug, Default)]
pub struct LocalClock {
    zone: Zone,
    /// Local seconds `[lo, hi)` that map with offset `off`.
    cache: Cell<(i64, i64, i64)>,
}

impl Clone for LocalClock {
    fn clone(&self) -> Self {
        LocalClock::new(self.zone.clone())
    }
}

impl LocalClock {
    /// A converter for `zone`.
    pub fn new(zone: Zone) -> LocalClock {
        LocalClock {
            zone,
            cache: Cell::new((0, 0, 0)),
        }
    }

    /// The zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Local wall-clock microseconds → UTC microseconds.
    #[inline]
    pub fn to_utc_us(&self, local_us: i64) -> i64 {
        match &self.zone {
            Zone::Fixed(o) => local_us - *o as i64 * 1_000_000,
            Zone::Rules(_) => {
                let secs = local_us.div_euclid(1_000_000);
                let (lo, hi, off) = self.cache.get();
                if secs >= lo && secs < hi {
                    return local_us - off * 1_000_000;
                }
                let u = self.zone.local_to_utc(secs);
                let off = secs - u;
                // Widen the cache to the hour around `secs` when the offset
                // is the same two hours either side (no transition near).
                let (a, b) = (
                    secs - secs.rem_euclid(3600),
                    secs - secs.rem_euclid(3600) + 3600,
                );
                if self.zone.local_to_utc(a - 7200) == a - 7200 - off
                    && self.zone.local_to_utc(b + 7200) == b + 7200 - off
                {
                    self.cache.set((a, b, off));
                }
                local_us - off * 1_000_000
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        crate::Ts::parse_rfc3339(s).unwrap().secs()
    }

    #[test]
    fn fixed_offsets() {
        assert_eq!(Zone::parse("+09:00").unwrap(), Zone::Fixed(32_400));
        assert_eq!(Zone::parse("-0530").unwrap(), Zone::Fixed(-19_800));
        assert_eq!(Zone::parse("UTC+2").unwrap(), Zone::Fixed(7_200));
        assert_eq!(Zone::parse("utc").unwrap(), Zone::Fixed(0));
        assert!(Zone::parse("+25:00").is_err());
        assert!(Zone::parse("../etc/passwd").is_err());
        assert!(Zone::parse("Nowhere/Atlantis").is_err());
    }

    #[test]
    fn posix_rules() {
        // The footer of Europe/Berlin (tzfile(5) / RFC 8536 §3.3).
        let p = Posix::parse(b"CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2023: CEST from 26 March 01:00 UTC to 29 October 01:00 UTC.
        assert_eq!(p.offset_at(utc("2023-03-26T00:59:59Z")), 3600);
        assert_eq!(p.offset_at(utc("2023-03-26T01:00:00Z")), 7200);
        assert_eq!(p.offset_at(utc("2023-10-29T00:59:59Z")), 7200);
        assert_eq!(p.offset_at(utc("2023-10-29T01:00:00Z")), 3600);
        // Southern hemisphere: Australia/Sydney, DST across the new year.
        let p = Posix::parse(b"AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(p.offset_at(utc("2024-01-15T00:00:00Z")), 39_600);
        assert_eq!(p.offset_at(utc("2024-07-15T00:00:00Z")), 36_000);
        let p = Posix::parse(b"<+0330>-3:30").unwrap();
        assert_eq!(p.offset_at(0), 12_600);
        assert!(Posix::parse(b"CET-1CEST,M13.5.0,M10.5.0").is_none());
    }

    #[test]
    fn system_zone_files() {
        let Ok(z) = Zone::parse("Europe/Berlin") else {
            panic!("tzdata must be installed (scripts/setup.sh)");
        };
        let c = LocalClock::new(z.clone());
        // 8 Oct 2023 11:29:05 CEST = 09:29:05Z; 8 Jan 2023 CET = +01:00.
        assert_eq!(
            c.to_utc_us(utc("2023-10-08T11:29:05Z") * 1_000_000 + 123_456),
            utc("2023-10-08T09:29:05Z") * 1_000_000 + 123_456
        );
        assert_eq!(
            c.to_utc_us(utc("2023-01-08T11:29:05Z") * 1_000_000),
            utc("2023-01-08T10:29:05Z") * 1_000_000
        );
        // 1 July 2050 is past the file's transitions: the footer rule.
        assert_eq!(
            z.local_to_utc(utc("2050-07-01T12:00:00Z")),
            utc("2050-07-01T10:00:00Z")
        );
        // 29 Oct 2023 02:30 local happens twice: the later (CET) reading.
        assert_eq!(
            z.local_to_utc(utc("2023-10-29T02:30:00Z")),
            utc("2023-10-29T01:30:00Z")
        );
        // New York, 5 Nov 2023 01:30 happens twice: the EST reading.
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.local_to_utc(utc("2023-11-05T01:30:00Z")),
            utc("2023-11-05T06:30:00Z")
        );
        // 26 Mar 2023 02:30 local does not exist: read with CET (+01:00).
        assert_eq!(
            z.local_to_utc(utc("2023-03-26T02:30:00Z")),
            utc("2023-03-26T01:30:00Z")
        );
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(
            tokyo.local_to_utc(utc("2023-10-08T18:00:00Z")),
            utc("2023-10-08T09:00:00Z")
        );
        assert_eq!(ny.offset_at(utc("2023-07-01T00:00:00Z")), -4 * 3600);
        assert_eq!(ny.offset_at(utc("2023-12-01T00:00:00Z")), -5 * 3600);
    }

    /// The assertions of behaviour's old `parse_tz` (the `analyze --tz`
    /// parser this module replaced), through the one parser.
    #[test]
    fn accepts_what_analyze_accepted() {
        let off = |s: &str| Zone::parse(s).ok().map(|z| z.offset_at(0));
        assert_eq!(off("+09:00"), Some(32_400));
        assert_eq!(off("-0530"), Some(-19_800));
        assert_eq!(off("UTC+9"), Some(32_400));
        assert_eq!(off("Asia/Tokyo"), Some(32_400));
        assert_eq!(off("utc"), Some(0));
        assert_eq!(off("+25:00"), None);
        assert_eq!(off("Mars/Olympus"), None);
        // Its abbreviations, at a winter instant (standard time).
        let jan = utc("2024-01-15T00:00:00Z");
        for (name, want) in [
            ("JST", 9 * 3600),
            ("KST", 9 * 3600),
            ("CST-China", 8 * 3600),
            ("CET", 3600),
            ("EST", -5 * 3600),
            ("PST", -8 * 3600),
            ("GMT", 0),
            ("Z", 0),
            ("Asia/Seoul", 9 * 3600),
            ("Asia/Shanghai", 8 * 3600),
            ("Europe/Berlin", 3600),
            ("America/New_York", -5 * 3600),
        ] {
            let z = Zone::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(z.offset_at(jan), want, "{name}");
        }
    }

    /// Every zone `synth --tz` took by name (its old table, standard
    /// offsets) parses to that offset in standard time, in any letter case:
    /// what synth accepts, analyze accepts.
    #[test]
    fn accepts_what_synth_accepted() {
        let jan = utc("2024-01-15T00:00:00Z");
        let jul = utc("2024-07-15T00:00:00Z");
        for (name, std_off, dst) in [
            ("UTC", 0, false),
            ("GMT", 0, false),
            ("Z", 0, false),
            ("Asia/Tokyo", 9 * 3600, false),
            ("JST", 9 * 3600, false),
            ("Asia/Seoul", 9 * 3600, false),
            ("Asia/Shanghai", 8 * 3600, false),
            ("Asia/Kolkata", 19_800, false),
            ("Europe/London", 0, true),
            ("Europe/Berlin", 3600, true),
            ("Europe/Paris", 3600, true),
            ("America/New_York", -5 * 3600, true),
            ("America/Chicago", -6 * 3600, true),
            ("America/Los_Angeles", -8 * 3600, true),
        ] {
            for spelling in [name.to_string(), name.to_ascii_lowercase()] {
                let z = Zone::parse(&spelling).unwrap_or_else(|e| panic!("{spelling}: {e}"));
                assert_eq!(z.offset_at(jan), std_off, "{spelling} January");
                let summer = std_off + if dst { 3600 } else { 0 };
                assert_eq!(z.offset_at(jul), summer, "{spelling} July");
            }
        }
        // Southern hemisphere: standard time in July.
        let syd = Zone::parse("australia/sydney").unwrap();
        assert_eq!(syd.offset_at(jul), 10 * 3600);
        assert_eq!(syd.offset_at(jan), 11 * 3600);
        // Synth's offsets: `+09:00`, `-0500`, `+9`, `UTC+5`.
        for (s, want) in [
            ("+09:00", 32_400),
            ("-0500", -18_000),
            ("+9", 32_400),
            ("UTC+5", 18_000),
        ] {
            assert_eq!(Zone::parse(s).unwrap(), Zone::Fixed(want), "{s}");
        }
    }
}
