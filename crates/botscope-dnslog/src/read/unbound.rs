//! Unbound `log-queries: yes` and `log-replies: yes` lines:
//!
//! ```text
//! [1114041600] unbound[4242:0] info: 10.1.2.3 name.example. A IN
//! [1114041600] unbound[4242:0] reply: 10.1.2.3 name.example. A IN NOERROR 0.000000 0 45
//! Apr 21 00:00:00 unbound[4242:0] info: 10.1.2.3 name.example. A IN      (log-time-ascii)
//! Apr 21 00:00:00 host unbound: [4242:0] info: 10.1.2.3 name.example. A IN   (syslog)
//! ```
//!
//! Reply lines (`reply:` in 1.17+, or `info:` with rcode and timing
//! fields) repeat a logged query when both options are on, so they are
//! counted only while the file has shown no query line: a log with only
//! `log-replies` is counted from its replies, a log with both from its
//! queries.

use super::{parse_epoch, parse_ip, Query};

/// Parses Unbound log lines (stateful: see the module note on replies).
pub struct UnboundParser {
    syslog_year: i64,
    seen_query: bool,
}

impl UnboundParser {
    /// A parser; `syslog_year` completes `log-time-ascii` stamps.
    pub fn new(syslog_year: i64) -> UnboundParser {
        UnboundParser {
            syslog_year,
            seen_query: false,
        }
    }

    fn timestamp(&self, pre: &[u8]) -> Option<i64> {
        let pre = pre.trim_ascii_start();
        if let Some(r) = pre.strip_prefix(b"[") {
            let end = memchr::memchr(b']', r)?;
            return parse_epoch(&r[..end]);
        }
        // `Mon DD HH:MM:SS` (log-time-ascii or syslog), year from the options.
        let line = std::str::from_utf8(pre.get(..15)?).ok()?;
        let mo = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|m| line.starts_with(m))? as i64
            + 1;
        let d: i64 = line[4..6].trim().parse().ok()?;
        let h: i64 = line[7..9].parse().ok()?;
        let mi: i64 = line[10..12].parse().ok()?;
        let s: i64 = line[13..15].parse().ok()?;
        if !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = botscope_core::time::days_from_civil(self.syslog_year, mo, d);
        Some(((days * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000)
    }

    /// Parses one line.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Query<'a>, &'static str> {
        let (p, reply_kw) = match memchr::memmem::find(line, b"] info: ")
            .map(|p| (p + 8, false))
            .or_else(|| memchr::memmem::find(line, b" info: ").map(|p| (p + 7, false)))
            .or_else(|| memchr::memmem::find(line, b" reply: ").map(|p| (p + 8, true)))
        {
            Some(x) => x,
            None => return Err("not a query line"),
        };
        if memchr::memmem::find(&line[..p], b"unbound").is_none() {
            return Err("not an unbound line");
        }
        let mut toks = line[p..].split(|b| *b == b' ').filter(|t| !t.is_empty());
        let client = parse_ip(toks.next().ok_or("not a query line")?).ok_or("not a query line")?;
        let qname = toks.next().ok_or("no query name")?;
        let _qtype = toks.next().ok_or("no query type")?;
        let _qclass = toks.next().ok_or("no query class")?;
        let is_reply = reply_kw || toks.next().is_some();
        if is_reply {
            if self.seen_query {
                return Err("reply line (queries are logged)");
            }
        } else {
            self.seen_query = true;
        }
        let ts_us = self.timestamp(&line[..p]).ok_or("no time stamp")?;
        Ok(Query {
            ts_us,
            client,
            qname,
            server: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbound_shapes() {
        let mut p = UnboundParser::new(2005);
        let q = p
            .parse(b"[1114041600] unbound[4242:0] info: 10.1.2.3 Name.Example. A IN")
            .unwrap();
        assert_eq!(
            (q.ts_us, q.client.to_string(), q.qname),
            (
                1_114_041_600_000_000,
                "10.1.2.3".into(),
                &b"Name.Example."[..]
            )
        );
        assert_eq!(
            p.parse(b"[1114041600] unbound[4242:0] info: 10.1.2.3 Name.Example. A IN NOERROR 0.000000 0 45").unwrap_err(),
            "reply line (queries are logged)"
        );
        let q = p
            .parse(b"Apr 21 00:00:01 host unbound: [4242:0] info: ::1 x.test. AAAA IN")
            .unwrap();
        assert_eq!(
            (q.ts_us, q.client.to_string()),
            (1_114_041_601_000_000, "::1".into())
        );
        assert_eq!(
            p.parse(b"[1114041600] unbound[4242:0] info: start of service (unbound 1.17.1).")
                .unwrap_err(),
            "not a query line"
        );
        let mut only_replies = UnboundParser::new(2005);
        assert!(only_replies
            .parse(b"[1114041600] unbound[1:0] reply: 10.0.0.9 a.test. A IN NOERROR 0.000000 0 45")
            .is_ok());
    }
}
