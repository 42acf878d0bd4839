//! BIND 9 query-log lines, in the shapes 9.x writes them:
//!
//! ```text
//! 21-Apr-2005 00:00:00.123 queries: info: client @0x7f3a… 10.1.2.3#5353 (name): query: name IN A +E(0)K (192.0.2.53)
//! 21-Apr-2005 00:00:00.123 client 10.1.2.3#5353: query: name IN A + (192.0.2.53)            (9.9 and older)
//! 21-Apr-2005 00:00:00.123 client @0x… 10.1.2.3#5353 (name): view internal: query: name IN A +
//! <30>Mar 11 23:51:31 host named[11042]: client @0x… 192.168.0.1#59735 (name): query: …     (syslog)
//! … client 192.168.0.1#57398 UDP: query: a1.foo.com IN A response: NOERROR +ED …        (Infoblox)
//! ```
//!
//! The time is BIND's own `DD-Mon-YYYY HH:MM:SS.mmm` when present (taken as
//! UTC), else an RFC 3339 stamp, else the syslog `Mon DD HH:MM:SS` with the
//! configured year. Lines without `client … query: NAME` (query failures,
//! zone transfers, notifies, RPZ…) are skipped with a reason.

use super::{parse_ip, Query};
use memchr::memmem::Finder;

/// Parses BIND query-log lines.
pub struct BindParser {
    client: Finder<'static>,
    query: Finder<'static>,
    syslog_year: i64,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month(b: &[u8]) -> Option<i64> {
    MONTHS
        .iter()
        .position(|m| &b[..3.min(b.len())] == *m)
        .map(|p| p as i64 + 1)
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, d| a * 10 + (d - b'0') as i64))
}

/// `HH:MM:SS[.fff…]` → microseconds of the day.
fn time_of_day(b: &[u8]) -> Option<i64> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&b[0..2])?, num(&b[3..5])?, num(&b[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut micros = 0i64;
    if b.len() > 8 {
        if b[8] != b'.' {
            return None;
        }
        let frac = &b[9..];
        if !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for i in 0..6 {
            micros = micros * 10 + frac.get(i).map(|d| (d - b'0') as i64).unwrap_or(0);
        }
    }
    Some((h * 3600 + m * 60 + s) * 1_000_000 + micros)
}

fn day_us(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(botscope_core::time::days_from_civil(y, m, d) * 86_400_000_000)
}

/// `DD-Mon-YYYY` → microseconds at midnight UTC.
fn bind_date(b: &[u8]) -> Option<i64> {
    if b.len() != 11 || b[2] != b'-' || b[6] != b'-' {
        return None;
    }
    day_us(num(&b[7..11])?, month(&b[3..6])?, num(&b[0..2])?)
}

impl BindParser {
    /// A parser; `syslog_year` completes syslog stamps that carry no year.
    pub fn new(syslog_year: i64) -> BindParser {
        BindParser {
            client: Finder::new(b"client "),
            query: Finder::new(b"query: "),
            syslog_year,
        }
    }

    /// Finds the time stamp in the part of the line before `client`.
    fn timestamp(&self, pre: &[u8]) -> Option<i64> {
        // Fast path: the line starts with BIND's own stamp.
        if pre.len() > 20 && pre[11] == b' ' {
            if let Some(d) = bind_date(&pre[..11]) {
                let t = &pre[12..];
                let end = memchr::memchr(b' ', t).unwrap_or(t.len());
                if let Some(t) = time_of_day(&t[..end]) {
                    return Some(d + t);
                }
            }
        }
        let toks: Vec<&[u8]> = pre
            .split(|b| *b == b' ')
            .filter(|t| !t.is_empty())
            .take(12)
            .collect();
        // BIND's own stamp wins (it is the more precise one).
        for w in toks.windows(2) {
            if let (Some(d), Some(t)) = (bind_date(w[0]), time_of_day(w[1])) {
                return Some(d + t);
            }
        }
        for t in &toks {
            let t = t
                .strip_prefix(b"<")
                .map(|r| &r[memchr::memchr(b'>', r).map(|p| p + 1).unwrap_or(0)..])
                .unwrap_or(t);
            if t.len() >= 19 && t[4] == b'-' && t[10] == b'T' {
                let s = std::str::from_utf8(t).ok()?;
                if let Some(ts) = botscope_core::Ts::parse_rfc3339(s) {
                    return Some(ts.0);
                }
            }
        }
        // Syslog `Mon DD HH:MM:SS`, possibly after a `<PRI>`.
        for w in toks.windows(3) {
            let m0 = w[0];
            let m0 = if m0.first() == Some(&b'<') {
                &m0[memchr::memchr(b'>', m0).map(|p| p + 1).unwrap_or(0)..]
            } else {
                m0
            };
            if m0.len() == 3 {
                if let (Some(mo), Some(d), Some(t)) = (month(m0), num(w[1]), time_of_day(w[2])) {
                    return Some(day_us(self.syslog_year, mo, d)? + t);
                }
            }
        }
        None
    }

    /// Parses one line.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Query<'a>, &'static str> {
        let c = self.client.find(line).ok_or("not a query line")?;
        let after = &line[c + 7..];
        let q = self.query.find(after).ok_or("not a query line")?;
        // `query: ` must start a word (not `rewriting query: …` forms).
        if q > 0 && after[q - 1] != b' ' {
            return Err("not a query line");
        }
        let mut head = after[..q].split(|b| *b == b' ').filter(|t| !t.is_empty());
        let mut tok = head.next().ok_or("no client address")?;
        if tok.starts_with(b"@0x") {
            tok = head.next().ok_or("no client address")?;
        }
        let tok = tok.strip_suffix(b":").unwrap_or(tok);
        let hash = memchr::memrchr(b'#', tok).ok_or("no client address")?;
        let client = parse_ip(&tok[..hash]).ok_or("bad client address")?;
        let rest = &after[q + 7..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        let qname = &rest[..end];
        if qname.is_empty() {
            return Err("empty query name");
        }
        let ts_us = self.timestamp(&line[..c]).ok_or("no time stamp")?;
        // The resolver's own address closes the line in parentheses.
        let tail = line.trim_ascii_end();
        let server = if tail.ends_with(b")") {
            memchr::memrchr(b'(', tail).and_then(|p| parse_ip(&tail[p + 1..tail.len() - 1]))
        } else {
            None
        };
        Ok(Query {
            ts_us,
            client,
            qname,
            server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(l: &str) -> Result<(i64, String, String, Option<String>), &'static str> {
        let q = BindParser::new(2022).parse(l.as_bytes())?;
        Ok((
            q.ts_us,
            q.client.to_string(),
            String::from_utf8_lossy(q.qname).into_owned(),
            q.server.map(|s| s.to_string()),
        ))
    }

    #[test]
    fn bind_shapes() {
        let ts = botscope_core::Ts::parse_rfc3339("2005-04-21T13:14:15.123Z")
            .unwrap()
            .0;
        assert_eq!(
            p("21-Apr-2005 13:14:15.123 queries: info: client @0x7f3a00000010 10.1.2.3#5353 (Cc.Evil.test): query: Cc.Evil.test IN A +E(0)K (192.0.2.53)").unwrap(),
            (ts, "10.1.2.3".into(), "Cc.Evil.test".into(), Some("192.0.2.53".into()))
        );
        assert_eq!(
            p("21-Apr-2005 13:14:15.123 client 10.1.2.3#5353: query: x.test IN A + (192.0.2.53)")
                .unwrap()
                .2,
            "x.test"
        );
        assert_eq!(
            p("21-Apr-2005 13:14:15.123 client @0x1 2001:db8::7#5353 (x.test): view internal: query: x.test IN AAAA -E(0)DC").unwrap(),
            (ts, "2001:db8::7".into(), "x.test".into(), None)
        );
        assert_eq!(p("21-Apr-2005 13:14:15.123 client @0x1 10.0.0.1#1 (x.test): query failed (REFUSED) for x.test/IN/A at query.c:10288"), Err("not a query line"));
    }
}
