//! Time stamps in front of a resolver-log message, in every shape the
//! servers and the common syslog wrappers write (tests cite the source of
//! each):
//!
//! | shape | example | zone |
//! |---|---|---|
//! | Unbound epoch | `[1696757345] unbound[1:0] info: …` | UTC |
//! | BIND `print-time yes` | `08-Oct-2023 11:29:05.123 …` | local (`--log-tz`) |
//! | BIND `print-time iso8601` / `iso8601-utc` | `2023-10-08T11:29:05.123` / `…Z` | local / UTC |
//! | RFC 3339 (rsyslog file default, RFC 5424, Unbound `log-time-iso`) | `2023-10-08T11:29:05.123456+02:00` | as written |
//! | journald `short-iso`, `short-iso-precise` | `2023-10-08T11:29:05+0200` | as written |
//! | journald `short-unix` | `1696757345.123456` | UTC |
//! | journald `short-full` | `Sun 2023-10-08 11:29:05 CEST` (abbreviation ignored) | local |
//! | traditional syslog, Unbound `log-time-ascii`, journald `short`/`short-precise` | `Oct  8 11:29:05[.123456]` | local, no year |
//!
//! An optional `<PRI>` and RFC 5424 version (`<30>1 `) are skipped. When a
//! line carries several stamps the one with a zone wins, then BIND's own
//! (it has a year and milliseconds), then a zone-less ISO one, then the
//! traditional one. Parsing allocates nothing.

use super::tz::{parse_fixed, LocalClock, Zone};

/// How the year of a traditional syslog stamp (which has none) is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YearRule {
    /// Always this year (`--log-year`).
    Fixed(i64),
    /// The year of a reference instant (the file's modification time),
    /// minus one for months later than the reference's month: a log is
    /// taken to cover at most the twelve months up to its last write.
    Before {
        /// Reference year (in the log's zone).
        year: i64,
        /// Reference month, 1–12.
        month: i64,
    },
}

impl YearRule {
    /// The rule for a file last written at UTC microseconds `ref_us`, read
    /// in `zone`.
    pub fn before(ref_us: i64, zone: &Zone) -> YearRule {
        let secs = ref_us.div_euclid(1_000_000);
        let local = secs + zone.offset_at(secs) as i64;
        let (year, month, _) = botscope_core::time::civil_from_days(local.div_euclid(86_400));
        YearRule::Before { year, month }
    }

    #[inline]
    fn year_of(&self, month: i64) -> i64 {
        match *self {
            YearRule::Fixed(y) => y,
            YearRule::Before { year, month: m } => year - i64::from(month > m),
        }
    }
}

/// Turns stamps into UTC microseconds.
#[derive(Clone, Debug)]
pub struct Clock {
    local: LocalClock,
    year: YearRule,
    /// The last BIND date and second (`DD-Mon-YYYY HH:MM:SS`) read and its
    /// local µs: a busy resolver logs many queries a second.
    last_bind_sec: std::cell::Cell<([u8; 20], i64)>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(Zone::Fixed(0), YearRule::Fixed(1970))
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

#[inline]
fn month(b: &[u8]) -> Option<i64> {
    if b.len() != 3 {
        return None;
    }
    MONTHS.iter().position(|m| b == *m).map(|p| p as i64 + 1)
}

#[inline]
fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, d| a * 10 + (d - b'0') as i64))
}

/// Up to six fraction digits → microseconds.
#[inline]
fn frac_us(f: &[u8]) -> i64 {
    let mut micros = 0i64;
    for i in 0..6 {
        micros = micros * 10 + f.get(i).map(|d| (d - b'0') as i64).unwrap_or(0);
    }
    micros
}

/// `HH:MM:SS[.fff…]` → (microseconds of the day, bytes used).
#[inline]
fn time_prefix(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&b[0..2])?, num(&b[3..5])?, num(&b[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut used = 8;
    let mut micros = 0;
    if b.get(8) == Some(&b'.') || b.get(8) == Some(&b',') {
        let n = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        micros = frac_us(&b[9..9 + n]);
        used = 9 + n;
    }
    Some(((h * 3600 + m * 60 + s) * 1_000_000 + micros, used))
}

/// What may follow `HH:MM:SS` in a stamp: nothing, or `.` / `,` and at
/// least one digit (as [`time_prefix`] reads it) → microseconds.
#[inline]
fn fraction(b: &[u8]) -> Option<i64> {
    match b.split_first() {
        None => Some(0),
        Some((b'.' | b',', f)) if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => {
            Some(frac_us(f))
        }
        Some(_) => None,
    }
}

/// `HH:MM:SS[.fff…]`, nothing after.
#[inline]
pub(crate) fn time_of_day(b: &[u8]) -> Option<i64> {
    match time_prefix(b)? {
        (t, n) if n == b.len() => Some(t),
        _ => None,
    }
}

#[inline]
fn day_us(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1..=9999).contains(&y) {
        return None;
    }
    Some(botscope_core::time::days_from_civil(y, m, d) * 86_400_000_000)
}

/// BIND's `DD-Mon-YYYY` → local midnight, microseconds.
#[inline]
pub(crate) fn bind_date(b: &[u8]) -> Option<i64> {
    if b.len() != 11 || b[2] != b'-' || b[6] != b'-' {
        return None;
    }
    day_us(num(&b[7..11])?, month(&b[3..6])?, num(&b[0..2])?)
}

/// `YYYY-MM-DD` → midnight, microseconds.
#[inline]
fn iso_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    day_us(num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?)
}

/// A zone suffix: `Z`, `+02:00`, `+0200`, `+02` → seconds east.
#[inline]
fn zone_suffix(b: &[u8]) -> Option<i32> {
    if b == b"Z" || b == b"z" {
        return Some(0);
    }
    parse_fixed(b)
}

/// ISO 8601 date-time `YYYY-MM-DDTHH:MM:SS[.f][zone]` → (µs, zone offset).
/// The µs are UTC when a zone was given, local wall clock otherwise.
#[inline]
pub(crate) fn iso(t: &[u8]) -> Option<(i64, Option<i32>)> {
    if t.len() < 19 || t[10] != b'T' {
        return None;
    }
    let d = iso_date(&t[..10])?;
    let (tod, used) = time_prefix(&t[11..])?;
    let rest = &t[11 + used..];
    if rest.is_empty() {
        return Some((d + tod, None));
    }
    let z = zone_suffix(rest)?;
    Some((d + tod - z as i64 * 1_000_000, Some(z)))
}

/// The best stamp found so far (higher rank wins).
#[derive(Clone, Copy)]
enum Found {
    /// Local wall clock with a year: BIND's stamp (rank 3) or zone-less
    /// ISO (rank 2).
    Local(i64, u8),
    /// Traditional syslog: (month, day, µs of the day).
    NoYear(i64, i64, i64),
}

impl Clock {
    /// A clock reading zone-less stamps in `zone` and completing yearless
    /// ones by `year`.
    pub fn new(zone: Zone, year: YearRule) -> Clock {
        Clock {
            local: LocalClock::new(zone),
            year,
            last_bind_sec: std::cell::Cell::new(([0; 20], 0)),
        }
    }

    /// Local wall-clock microseconds → UTC.
    #[inline]
    pub fn local_to_utc(&self, local_us: i64) -> i64 {
        self.local.to_utc_us(local_us)
    }

    /// The year rule.
    pub fn year_rule(&self) -> YearRule {
        self.year
    }

    /// Fast path: `pre` starts with BIND's `DD-Mon-YYYY HH:MM:SS.mmm `.
    #[inline]
    pub fn bind_prefix(&self, pre: &[u8]) -> Option<i64> {
        if pre.len() > 20 && pre[11] == b' ' {
            let t = &pre[12..];
            let end = memchr::memchr(b' ', t).unwrap_or(t.len());
            let tod = &t[..end];
            if tod.len() < 8 {
                return None;
            }
            let key: &[u8; 20] = pre[..20].try_into().ok()?;
            let (last, last_us) = self.last_bind_sec.get();
            // The zeroed initial key is never a valid stamp, so never a hit.
            let sec = if *key == last {
                last_us
            } else {
                let sec = bind_date(&pre[..11])? + time_of_day(&tod[..8])?;
                self.last_bind_sec.set((*key, sec));
                sec
            };
            return Some(self.local_to_utc(sec + fraction(&tod[8..])?));
        }
        None
    }

    /// Finds the time stamp among the first words of `pre` (the part of a
    /// line before the message); UTC microseconds.
    pub fn stamp(&self, pre: &[u8]) -> Option<i64> {
        let mut toks: [&[u8]; 12] = [&[]; 12];
        let mut n = 0;
        for t in pre.split(|b| *b == b' ').filter(|t| !t.is_empty()) {
            if n == toks.len() {
                break;
            }
            toks[n] = t;
            n += 1;
        }
        let toks = &mut toks[..n];
        // `<PRI>` and the RFC 5424 version.
        let mut first = 0;
        if let Some(t0) = toks.first_mut() {
            if t0.first() == Some(&b'<') {
                if let Some(p) = memchr::memchr(b'>', t0) {
                    *t0 = &t0[p + 1..];
                    if t0.is_empty() || *t0 == b"1" {
                        first = 1;
                    }
                }
            }
        }
        let toks = &toks[first..];
        // Unbound's `[epoch]` opens the line.
        if let Some(r) = toks.first().and_then(|t| t.strip_prefix(b"[")) {
            if let Some(r) = r.strip_suffix(b"]") {
                if let Some(us) = super::parse_epoch(r) {
                    return Some(us);
                }
            }
        }
        // journald `-o short-unix`: bare epoch seconds open the line.
        if let Some(t) = toks.first() {
            let int = t.iter().take_while(|c| c.is_ascii_digit()).count();
            if (9..=11).contains(&int) && (int == t.len() || t[int] == b'.') {
                if let Some(us) = super::parse_epoch(t) {
                    return Some(us);
                }
            }
        }
        let mut best: Option<Found> = None;
        let rank = |f: &Option<Found>| match f {
            None => 0,
            Some(Found::NoYear(..)) => 1,
            Some(Found::Local(_, r)) => *r,
        };
        for i in 0..toks.len() {
            let t = toks[i];
            let c = t[0];
            if c.is_ascii_digit() {
                if let Some((us, z)) = iso(t) {
                    if z.is_some() {
                        return Some(us);
                    }
                    if rank(&best) < 2 {
                        best = Some(Found::Local(us, 2));
                    }
                    continue;
                }
                if i + 1 < toks.len() {
                    if let Some(d) = bind_date(t) {
                        if let Some(tod) = time_of_day(toks[i + 1]) {
                            best = Some(Found::Local(d + tod, 3));
                            continue;
                        }
                    }
                    // `YYYY-MM-DD HH:MM:SS[.f][zone]` (two words).
                    if let Some(d) = iso_date(t) {
                        let nx = toks[i + 1];
                        if let Some((tod, used)) = time_prefix(nx) {
                            let rest = &nx[used..];
                            if rest.is_empty() {
                                if rank(&best) < 2 {
                                    best = Some(Found::Local(d + tod, 2));
                                }
                            } else if let Some(z) = zone_suffix(rest) {
                                return Some(d + tod - z as i64 * 1_000_000);
                            }
                        }
                    }
                }
            } else if c.is_ascii_uppercase() && i + 2 < toks.len() && rank(&best) < 1 {
                if let (Some(mo), Some(d)) = (month(t), num(toks[i + 1])) {
                    if (1..=31).contains(&d) {
                        if let Some(tod) = time_of_day(toks[i + 2]) {
                            best = Some(Found::NoYear(mo, d, tod));
                        }
                    }
                }
            }
        }
        match best? {
            Found::Local(us, _) => Some(self.local_to_utc(us)),
            Found::NoYear(mo, d, tod) => {
                let y = self.year.year_of(mo);
                Some(self.local_to_utc(day_us(y, mo, d)? + tod))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_us(s: &str) -> i64 {
        botscope_core::Ts::parse_rfc3339(s).unwrap().0
    }

    fn utc_clock() -> Clock {
        Clock::new(Zone::Fixed(0), YearRule::Fixed(2023))
    }

    #[test]
    fn syslog_and_server_stamps() {
        let c = utc_clock();
        let want = utc_us("2023-10-08T09:29:05.123456Z");
        // rsyslog RSYSLOG_FileFormat (the file default since rsyslog 8.x;
        // rsyslog doc "templates", `%TIMESTAMP:::date-rfc3339%`).
        assert_eq!(
            c.stamp(b"2023-10-08T11:29:05.123456+02:00 host unbound[7]: "),
            Some(want)
        );
        // RFC 5424 §6: `<PRI>VERSION SP TIMESTAMP SP HOSTNAME …`.
        assert_eq!(
            c.stamp(b"<30>1 2023-10-08T11:29:05.123456+02:00 host named 123 - - "),
            Some(want)
        );
        // journalctl -o short-iso-precise (`%z`, no colon).
        assert_eq!(
            c.stamp(b"2023-10-08T11:29:05.123456+0200 host named[123]: "),
            Some(want)
        );
        // journalctl -o short-iso: whole seconds.
        assert_eq!(
            c.stamp(b"2023-10-08T11:29:05+0200 host named[123]: "),
            Some(utc_us("2023-10-08T09:29:05Z"))
        );
        // Unbound 1.22 log-time-iso (util/log.c: `%Y-%m-%dT%H:%M:%S.%3d` + `+hh:mm`).
        assert_eq!(
            c.stamp(b"2023-10-08T11:29:05.123+02:00 unbound[7:0] "),
            Some(utc_us("2023-10-08T09:29:05.123Z"))
        );
        // BIND print-time iso8601-utc (lib/isc/time.c isc_time_formatISO8601ms).
        assert_eq!(
            c.stamp(b"2023-10-08T09:29:05.123Z queries: info: "),
            Some(utc_us("2023-10-08T09:29:05.123Z"))
        );
        // RFC 3164 / rsyslog RSYSLOG_TraditionalFileFormat: `Oct  8` (day
        // space-padded), no year, local time.
        assert_eq!(
            c.stamp(b"Oct  8 11:29:05 host named[123]: "),
            Some(utc_us("2023-10-08T11:29:05Z"))
        );
        // journalctl -o short-precise: `Oct 08 11:29:05.123456`.
        assert_eq!(
            c.stamp(b"Oct 08 11:29:05.123456 host named[123]: "),
            Some(utc_us("2023-10-08T11:29:05.123456Z"))
        );
        // `<PRI>` glued to a traditional stamp (RFC 3164 on the wire).
        assert_eq!(
            c.stamp(b"<30>Oct  8 11:29:05 host named[123]: "),
            Some(utc_us("2023-10-08T11:29:05Z"))
        );
        // Unbound's default `[epoch]` (util/log.c `"[" ARG_LL "d] …"`).
        assert_eq!(
            c.stamp(b"[1696757345] unbound[7:0] "),
            Some(1_696_757_345_000_000)
        );
        // BIND's stamp inside a syslog line wins over the syslog one.
        assert_eq!(
            c.stamp(b"Oct  8 11:29:05 host named[1]: 08-Oct-2023 11:29:04.999 queries: info: "),
            Some(utc_us("2023-10-08T11:29:04.999Z"))
        );
        // A zoned stamp wins over BIND's zone-less one.
        assert_eq!(
            c.stamp(b"2023-10-08T11:29:05+02:00 host named[1]: 08-Oct-2023 11:29:04.999 queries: "),
            Some(utc_us("2023-10-08T09:29:05Z"))
        );
        // journalctl -o short-unix: `1696757345.123456 host named[1]:`.
        assert_eq!(
            c.stamp(b"1696757345.123456 host named[123]: "),
            Some(utc_us("2023-10-08T09:29:05.123456Z"))
        );
        // journalctl -o short-full: the zone abbreviation is ignored, the
        // stamp is read as local time.
        assert_eq!(
            c.stamp(b"Sun 2023-10-08 11:29:05 CEST host named[123]: "),
            Some(utc_us("2023-10-08T11:29:05Z"))
        );
        assert_eq!(c.stamp(b"host named[1]: queries: info: "), None);
        assert_eq!(c.stamp(b"Oct 32 11:29:05 host "), None);
        assert_eq!(c.stamp(b"2023-13-08T11:29:05Z "), None);
        assert_eq!(c.stamp(b"[4242:0] "), None);
    }

    #[test]
    fn bind_prefix_second_cache_keeps_fractions_and_checks() {
        let c = utc_clock();
        let read = |l: &str| c.bind_prefix(l.as_bytes());
        assert_eq!(
            read("21-Apr-2005 13:14:15.123 queries: info: "),
            Some(utc_us("2005-04-21T13:14:15.123Z"))
        );
        // Same second (cached): the fraction is still read and checked.
        assert_eq!(
            read("21-Apr-2005 13:14:15.9 queries: info: "),
            Some(utc_us("2005-04-21T13:14:15.900Z"))
        );
        assert_eq!(
            read("21-Apr-2005 13:14:15 queries: info: "),
            Some(utc_us("2005-04-21T13:14:15Z"))
        );
        assert_eq!(read("21-Apr-2005 13:14:15. queries: info: "), None);
        assert_eq!(read("21-Apr-2005 13:14:15.1x queries: info: "), None);
        assert_eq!(read("21-Apr-2005 13:14:15x queries: info: "), None);
        // Next second, next day, then a bad date with a cached-looking time.
        assert_eq!(
            read("21-Apr-2005 13:14:16.000 q"),
            Some(utc_us("2005-04-21T13:14:16Z"))
        );
        assert_eq!(
            read("22-Apr-2005 13:14:16.000 q"),
            Some(utc_us("2005-04-22T13:14:16Z"))
        );
        assert_eq!(read("22-Abc-2005 13:14:16.000 q"), None);
    }

    #[test]
    fn zone_less_stamps_use_the_log_zone() {
        let tokyo = Clock::new(Zone::Fixed(9 * 3600), YearRule::Fixed(2023));
        assert_eq!(
            tokyo.stamp(b"Oct  8 11:29:05 host named[123]: "),
            Some(utc_us("2023-10-08T02:29:05Z"))
        );
        assert_eq!(
            tokyo.bind_prefix(b"08-Oct-2023 11:29:05.123 queries: "),
            Some(utc_us("2023-10-08T02:29:05.123Z"))
        );
        // A stamp with its own zone ignores the log zone.
        assert_eq!(
            tokyo.stamp(b"2023-10-08T11:29:05+02:00 host "),
            Some(utc_us("2023-10-08T09:29:05Z"))
        );
    }

    #[test]
    fn year_from_the_reference_time() {
        // File last written 2 Jan 2024: January lines are 2024, December
        // lines 2023 (the year turned inside the file).
        let rule = YearRule::before(utc_us("2024-01-02T08:00:00Z"), &Zone::Fixed(0));
        assert_eq!(
            rule,
            YearRule::Before {
                year: 2024,
                month: 1
            }
        );
        let c = Clock::new(Zone::Fixed(0), rule);
        assert_eq!(
            c.stamp(b"Dec 31 23:59:59 h named[1]: "),
            Some(utc_us("2023-12-31T23:59:59Z"))
        );
        assert_eq!(
            c.stamp(b"Jan  1 00:00:01 h named[1]: "),
            Some(utc_us("2024-01-01T00:00:01Z"))
        );
        // The reference is read in the log's zone: 31 Dec 2023 20:00 UTC is
        // already January 2024 in Tokyo.
        let rule = YearRule::before(utc_us("2023-12-31T20:00:00Z"), &Zone::Fixed(9 * 3600));
        assert_eq!(
            rule,
            YearRule::Before {
                year: 2024,
                month: 1
            }
        );
    }

    #[test]
    fn truncated_and_mangled_prefixes_never_panic() {
        let c = Clock::new(Zone::parse("+05:30").unwrap(), YearRule::Fixed(2023));
        let lines: [&[u8]; 6] = [
            b"<30>1 2023-10-08T11:29:05.123456+02:00 host named 123 - - ",
            b"08-Oct-2023 11:29:05.123 queries: info: ",
            b"Oct  8 11:29:05.5 host named[1]: 08-Oct-2023 11:29:04.999 q ",
            b"2023-10-08 11:29:05,25+0200 host ",
            b"[1696757345.123] unbound[7:0] ",
            b"<3>Oct 08 11:29:05 h ",
        ];
        let mut found = 0;
        for l in lines {
            for end in 0..=l.len() {
                let cut = &l[..end];
                found += usize::from(c.stamp(cut).is_some());
                let _ = c.bind_prefix(cut);
                let mut m = cut.to_vec();
                for i in 0..m.len() {
                    let keep = m[i];
                    for b in [
                        b' ', b'-', b':', b'.', b'T', b'+', b'9', b'<', b'>', b'[', 0xff,
                    ] {
                        m[i] = b;
                        let _ = c.stamp(&m);
                        let _ = c.bind_prefix(&m);
                    }
                    m[i] = keep;
                }
            }
        }
        // Every full line (and many of its truncations) has a stamp.
        assert!(found > 6 * 10, "{found}");
    }
}
