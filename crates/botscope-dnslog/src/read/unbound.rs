//! Unbound `log-queries: yes` and `log-replies: yes` lines:
//!
//! ```text
//! [1114041600] unbound[4242:0] info: 10.1.2.3 name.example. A IN
//! [1114041600] unbound[4242:0] info: 10.1.2.3 name.example. A IN NOERROR 0.000000 0 45   (log-replies)
//! [1114041600] unbound[4242:0] query: 10.1.2.3 name.example. A IN          (log-tag-queryreply)
//! [1114041600] unbound[4242:0] reply: 10.1.2.3 name.example. A IN NOERROR 0.000000 0 45 on udp 127.0.0.1 53
//! Apr 21 00:00:00 unbound[4242:0] info: 10.1.2.3 name.example. A IN      (log-time-ascii)
//! 2005-04-21T00:00:00.000+02:00 unbound[4242:0] info: …                   (log-time-iso, 1.22+)
//! Apr 21 00:00:00 host unbound: [4242:0] info: 10.1.2.3 name.example. A IN   (syslog)
//! 2005-04-21T00:00:00.123456+02:00 host unbound[4242]: [4242:0] info: …      (rsyslog RFC 3339)
//! ```
//!
//! Sources: `util/log.c` `log_vmsg` (the stamp and `ident[pid:tid] type:`),
//! `util/net_help.c` `log_query_in` and `util/data/msgreply.c`
//! `log_reply_info` (the fields). Time stamps: see [`super::stamp`].
//!
//! Reply lines (`reply:`, or `info:` with rcode and timing fields) repeat
//! a logged query when both options are on, so they are counted only while
//! the file has shown no query line (the first lines of the file are
//! looked at before counting starts): a log with only `log-replies` is
//! counted from its replies, a log with both from its queries.

use super::stamp::Clock;
use super::{parse_ip, Query, NO_TS};

/// Parses Unbound log lines (stateful: see the module note on replies).
pub struct UnboundParser {
    clock: Clock,
    keep_undated: bool,
    seen_query: bool,
}

impl UnboundParser {
    /// A parser; `clock` reads the time stamps; with `keep_undated` a line
    /// without one is delivered with [`NO_TS`] instead of skipped.
    pub fn new(clock: Clock, keep_undated: bool) -> UnboundParser {
        UnboundParser {
            clock,
            keep_undated,
            seen_query: false,
        }
    }

    /// Looks at the first lines of a file: when one is a query line,
    /// reply lines are not counted from the start.
    pub fn prescan(&mut self, head: &[u8]) {
        for line in head.split(|b| *b == b'\n').take(2000) {
            if let Ok((_, _, _, false)) = fields(line) {
                self.seen_query = true;
                return;
            }
        }
    }

    /// Parses one line.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Query<'a>, &'static str> {
        let (p, client, qname, is_reply) = fields(line)?;
        if is_reply {
            if self.seen_query {
                return Err("reply line (queries are logged)");
            }
        } else {
            self.seen_query = true;
        }
        let ts_us = match self.clock.stamp(&line[..p]) {
            Some(t) => t,
            None if self.keep_undated => NO_TS,
            None => return Err("no time stamp"),
        };
        Ok(Query {
            ts_us,
            client,
            qname,
            server: None,
            rcode: None,
        })
    }
}

/// Message start, client, name and whether the line is a reply.
fn fields(line: &[u8]) -> Result<(usize, std::net::IpAddr, &[u8], bool), &'static str> {
    // `info:` (log-queries / log-replies), `query:` / `reply:`
    // (log-tag-queryreply: yes).
    let mut found = None;
    for (kw, reply) in [
        (&b" info: "[..], false),
        (b" query: ", false),
        (b" reply: ", true),
    ] {
        if let Some(p) = memchr::memmem::find(line, kw) {
            found = Some((p, p + kw.len(), reply));
            break;
        }
    }
    let (k, p, reply_kw) = found.ok_or("not a query line")?;
    if memchr::memmem::find(&line[..k], b"unbound").is_none() {
        return Err("not an unbound line");
    }
    let mut toks = line[p..].split(|b| *b == b' ').filter(|t| !t.is_empty());
    let client = parse_ip(toks.next().ok_or("not a query line")?).ok_or("not a query line")?;
    let qname = toks.next().ok_or("no query name")?;
    let _qtype = toks.next().ok_or("no query type")?;
    let _qclass = toks.next().ok_or("no query class")?;
    if qname == b"-" {
        // log_reply_info of a FORMERR: `ADDR - - - FORMERR - - -`.
        return Err("reply without a question");
    }
    let is_reply = reply_kw || toks.next().is_some();
    Ok((k, client, qname, is_reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::stamp::YearRule;
    use crate::read::tz::Zone;

    fn parser(year: i64) -> UnboundParser {
        UnboundParser::new(Clock::new(Zone::Fixed(0), YearRule::Fixed(year)), false)
    }

    #[test]
    fn unbound_shapes() {
        let mut p = parser(2005);
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
        let mut only_replies = parser(2005);
        assert!(only_replies
            .parse(b"[1114041600] unbound[1:0] reply: 10.0.0.9 a.test. A IN NOERROR 0.000000 0 45")
            .is_ok());
    }

    fn utc(s: &str) -> i64 {
        botscope_core::Ts::parse_rfc3339(s).unwrap().0
    }

    #[test]
    fn tagged_iso_and_syslog_shapes() {
        // log-tag-queryreply: yes (util/log.c log_query / log_reply; the
        // reply adds ` on udp ADDR PORT` since 1.19.3, msgreply.c).
        let mut p = parser(2023);
        let q = p
            .parse(b"[1696757345] unbound[7:0] query: 192.0.2.7 cc.evil.test. A IN")
            .unwrap();
        assert_eq!(
            (q.ts_us, q.client.to_string(), q.qname),
            (
                1_696_757_345_000_000,
                "192.0.2.7".into(),
                &b"cc.evil.test."[..]
            )
        );
        assert_eq!(
            p.parse(b"[1696757345] unbound[7:0] reply: 192.0.2.7 cc.evil.test. A IN NOERROR 0.000000 1 46 on udp 127.0.0.1 53")
                .unwrap_err(),
            "reply line (queries are logged)"
        );
        // log-time-iso (1.22, util/log.c `%Y-%m-%dT%H:%M:%S.%3d` + `+hh:mm`).
        assert_eq!(
            p.parse(b"2023-10-08T11:29:05.123+02:00 unbound[7:0] info: 192.0.2.7 x.test. A IN")
                .unwrap()
                .ts_us,
            utc("2023-10-08T09:29:05.123Z")
        );
        // The issue's line: rsyslog RFC 3339 around syslog(3)'s message.
        assert_eq!(
            p.parse(b"2023-10-08T11:29:05.123456+02:00 host unbound[812]: [812:0] info: 192.0.2.7 x.test. A IN").unwrap().ts_us,
            utc("2023-10-08T09:29:05.123456Z")
        );
        // Traditional syslog with a space-padded day.
        assert_eq!(
            p.parse(b"Oct  8 11:29:05 host unbound: [812:0] info: 192.0.2.7 x.test. A IN")
                .unwrap()
                .ts_us,
            utc("2023-10-08T11:29:05Z")
        );
        // A FORMERR reply has no question (msgreply.c: `%s - - - %s - - -`).
        let mut r = parser(2023);
        assert_eq!(
            r.parse(b"[1696757345] unbound[7:0] reply: 192.0.2.7 - - - FORMERR - - -")
                .unwrap_err(),
            "reply without a question"
        );
        // prescan: a query line in the head stops replies from the start.
        let mut r = parser(2023);
        r.prescan(b"[1] unbound[7:0] info: 192.0.2.7 x.test. A IN NOERROR 0.000000 0 45\n[1] unbound[7:0] info: 192.0.2.7 x.test. A IN\n");
        assert_eq!(
            r.parse(b"[1] unbound[7:0] info: 192.0.2.7 x.test. A IN NOERROR 0.000000 0 45")
                .unwrap_err(),
            "reply line (queries are logged)"
        );
    }
}
