//! BIND 9 query-log lines, in the shapes 9.x writes them (and the
//! appliances built on it):
//!
//! ```text
//! 21-Apr-2005 00:00:00.123 queries: info: client @0x7f3a… 10.1.2.3#5353 (name): query: name IN A +E(0)K (192.0.2.53)
//! 21-Apr-2005 00:00:00.123 client 10.1.2.3#5353: query: name IN A + (192.0.2.53)            (9.9 and older)
//! 21-Apr-2005 00:00:00.123 client @0x… 10.1.2.3#5353 (name): view internal: query: name IN A +
//! … client @0x… 10.1.2.3#5353 (name): query: name IN A +E(0)K (192.0.2.53#53) [ECS 10.0.0.0/24/0]   (9.21+)
//! … client @0x… 10.1.2.3#5353 (name): response: name IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)     (9.20 responselog)
//! <30>Mar 11 23:51:31 host named[11042]: client @0x… 192.168.0.1#59735 (name): query: …     (syslog)
//! 2023-10-08T11:29:05.123456+02:00 host named[11042]: client @0x… …                         (rsyslog RFC 3339)
//! … client 192.168.0.1#57398 UDP: query: a1.foo.com IN A response: NOERROR +ED …        (Infoblox)
//! ```
//!
//! Time stamps: see [`super::stamp`] (BIND's own `DD-Mon-YYYY HH:MM:SS.mmm`
//! is checked first, the common case). Lines without `client … query: NAME`
//! (query failures, zone transfers, notifies, RPZ…) are skipped with a
//! reason.
//!
//! Response lines (9.20 `response:`, `answer:`) repeat a logged query when
//! query logging is on as well, so they are counted only while the file
//! has shown no query line (the first lines of the file are looked at
//! before counting starts). Infoblox's `UDP: query: … response: …` lines
//! carry `query:` and count as queries: a NIOS member logging both its
//! `queries` and `responses` categories into one file counts each query
//! twice in the query totals (distinct-client counts are unaffected).

use super::stamp::Clock;
use super::{parse_ip, Query, NO_TS};
use memchr::memmem::Finder;
use std::net::IpAddr;

/// Parses BIND query-log lines (stateful: see the module note on
/// response lines).
pub struct BindParser {
    client: Finder<'static>,
    query: Finder<'static>,
    clock: Clock,
    keep_undated: bool,
    seen_query: bool,
    /// Where `client ` started in the last line that had it: lines of one
    /// log share their prefix layout, so it is checked there first.
    client_at: usize,
    /// The last resolver address text (at most 46 bytes) and its parse:
    /// one resolver writes one address on every line.
    last_server: ([u8; 46], usize, Option<IpAddr>),
}

/// What a line is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Query,
    Response,
}

impl BindParser {
    /// A parser; `clock` reads the time stamps; with `keep_undated` a line
    /// without one is delivered with [`NO_TS`] instead of skipped.
    pub fn new(clock: Clock, keep_undated: bool) -> BindParser {
        BindParser {
            client: Finder::new(b"client "),
            query: Finder::new(b"query: "),
            clock,
            keep_undated,
            seen_query: false,
            client_at: 0,
            last_server: ([0; 46], usize::MAX, None),
        }
    }

    /// Looks at the first lines of a file: when one is a query line,
    /// response lines are not counted from the start.
    pub fn prescan(&mut self, head: &[u8]) {
        for line in head.split(|b| *b == b'\n').take(2000) {
            if let Ok((_, Kind::Query)) = self.fields(line) {
                self.seen_query = true;
                return;
            }
        }
    }

    /// Parses one line.
    #[inline]
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Query<'a>, &'static str> {
        let ((c, client, qname, server), kind) = self.fields(line)?;
        match kind {
            Kind::Query => self.seen_query = true,
            Kind::Response if self.seen_query => return Err("response line (queries are logged)"),
            Kind::Response => {}
        }
        let pre = &line[..c];
        let ts_us = match self
            .clock
            .bind_prefix(pre)
            .or_else(|| self.clock.stamp(pre))
        {
            Some(t) => t,
            None if self.keep_undated => NO_TS,
            None => return Err("no time stamp"),
        };
        Ok(Query {
            ts_us,
            client,
            qname,
            server,
            rcode: None,
        })
    }

    /// Client, name, server and kind of a line.
    #[inline]
    #[allow(clippy::type_complexity)]
    fn fields<'a>(
        &mut self,
        line: &'a [u8],
    ) -> Result<((usize, IpAddr, &'a [u8], Option<IpAddr>), Kind), &'static str> {
        let c = self.find_client(line).ok_or("not a query line")?;
        if let Some((client, qname)) = scan_common(&line[c + 7..]) {
            let server = self.server_of(line);
            return Ok(((c, client, qname, server), Kind::Query));
        }
        self.searched(line, c)
    }

    /// [`fields`](Self::fields) for any shape: the keyword, the client
    /// word and the name found by search.
    #[allow(clippy::type_complexity)]
    fn searched<'a>(
        &mut self,
        line: &'a [u8],
        c: usize,
    ) -> Result<((usize, IpAddr, &'a [u8], Option<IpAddr>), Kind), &'static str> {
        let after = &line[c + 7..];
        let (q, kw, kind) = match self.query.find(after) {
            Some(q) => (q, 7, Kind::Query),
            None => {
                // BIND 9.20 `responses` category and the `answer:` form.
                if let Some(q) = memchr::memmem::find(after, b"response: ") {
                    (q, 10, Kind::Response)
                } else if let Some(q) = memchr::memmem::find(after, b"answer: ") {
                    (q, 8, Kind::Response)
                } else {
                    return Err("not a query line");
                }
            }
        };
        // The keyword must start a word (not `rewriting query: …` forms).
        if q > 0 && after[q - 1] != b' ' {
            return Err("not a query line");
        }
        let head = &after[..q];
        let (mut tok, next) = word(head, 0).ok_or("no client address")?;
        if tok.starts_with(b"@0x") {
            tok = word(head, next).ok_or("no client address")?.0;
        }
        let hash = memchr::memrchr(b'#', tok).ok_or("no client address")?;
        let client = parse_ip(&tok[..hash]).ok_or("bad client address")?;
        let rest = &after[q + kw..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        let qname = &rest[..end];
        if qname.is_empty() || qname == b"-" {
            return Err("empty query name");
        }
        let server = self.server_of(line);
        Ok(((c, client, qname, server), kind))
    }

    /// The resolver's own address, which closes the line in parentheses
    /// (9.21+: with `#port`), before an optional ` [ECS …]`.
    #[inline]
    fn server_of(&mut self, line: &[u8]) -> Option<IpAddr> {
        let tail = line.trim_ascii_end();
        let tail = match tail.strip_suffix(b"]") {
            Some(t) => memchr::memmem::rfind(t, b" [ECS ").map_or(tail, |p| &t[..p]),
            None => tail,
        };
        let t = tail.strip_suffix(b")")?;
        let p = memchr::memrchr(b'(', t)?;
        self.server(&t[p + 1..])
    }

    /// The first `client ` of `line`. Tried first at the previous line's
    /// offset: it is the first one when no `c` before it starts another
    /// (a single SIMD pass over the prefix instead of a substring search).
    #[inline]
    fn find_client(&mut self, line: &[u8]) -> Option<usize> {
        let p = self.client_at;
        if line.get(p..p + 7) == Some(b"client ")
            && !memchr::memchr_iter(b'c', &line[..p]).any(|i| line[i..].starts_with(b"client "))
        {
            return Some(p);
        }
        let c = self.client.find(line)?;
        self.client_at = c;
        Some(c)
    }

    /// The resolver address in `(ADDR)` or `(ADDR#PORT)`, parsed once per
    /// distinct text.
    #[inline]
    fn server(&mut self, a: &[u8]) -> Option<IpAddr> {
        let (buf, len, ip) = &mut self.last_server;
        if *len == a.len() && buf[..a.len()] == *a {
            return *ip;
        }
        let parsed = parse_ip(a).or_else(|| parse_ip(&a[..memchr::memrchr(b'#', a)?]));
        if a.len() <= buf.len() {
            buf[..a.len()].copy_from_slice(a);
            *len = a.len();
            *ip = parsed;
        }
        parsed
    }
}

/// BIND's common query shape, walked once from just after `client `:
/// `[@0x… ]IPV4#PORT (NAME): query: NAME ` or (9.9)
/// `IPV4#PORT: query: NAME `. Returns the client and the query name, or
/// `None` when the line differs in any way (IPv6, views, TSIG keys,
/// responses, odd spacing); the general search then reads it. Where it
/// answers, it answers as the general search does: no `query: ` can start
/// before the one it finds (the address and port hold no `q`, and the
/// parenthesised name, ended by the first space after `(`, holds no space).
#[inline]
pub fn scan_common(s: &[u8]) -> Option<(IpAddr, &[u8])> {
    let mut i = 0;
    if s.starts_with(b"@0x") {
        // The client object's address: any word, as the search takes it.
        i = 4 + memchr::memchr(b' ', &s[3..])?;
    }
    // The IPv4 address up to `#`, octet by octet (as `parse_v4` reads it).
    let (mut oct, mut k, mut cur, mut digits) = ([0u8; 4], 0, 0u32, 0);
    loop {
        match *s.get(i)? {
            b @ b'0'..=b'9' => {
                cur = cur * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 || cur > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && k < 3 => {
                oct[k] = cur as u8;
                k += 1;
                cur = 0;
                digits = 0;
            }
            b'#' if digits > 0 && k == 3 => break,
            _ => return None,
        }
        i += 1;
    }
    oct[3] = cur as u8;
    i += 1;
    let port = i;
    while s.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == port {
        return None;
    }
    match s.get(i)? {
        b':' if s[i..].starts_with(b": query: ") => i += 2,
        b' ' if s.get(i + 1) == Some(&b'(') => {
            // ` (NAME): query: `, NAME ending at the first space.
            let sp = i + 2 + memchr::memchr(b' ', s.get(i + 2..)?)?;
            if s[..sp].ends_with(b"):") && s[sp + 1..].starts_with(b"query: ") {
                i = sp + 1;
            } else {
                return None;
            }
        }
        _ => return None,
    }
    let rest = &s[i + 7..];
    let qname = &rest[..memchr::memchr(b' ', rest).unwrap_or(rest.len())];
    if qname.is_empty() || qname == b"-" {
        return None;
    }
    Some((IpAddr::V4(std::net::Ipv4Addr::from(oct)), qname))
}

/// The space-separated word starting at or after `from` (leading spaces
/// skipped) and the index just past it.
#[inline]
fn word(s: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let start = from + s.get(from..)?.iter().position(|b| *b != b' ')?;
    let end = memchr::memchr(b' ', &s[start..]).map_or(s.len(), |p| start + p);
    Some((&s[start..end], end))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::read::stamp::YearRule;
    use crate::read::tz::Zone;

    fn parser() -> BindParser {
        BindParser::new(Clock::new(Zone::Fixed(0), YearRule::Fixed(2022)), false)
    }

    fn p(l: &str) -> Result<(i64, String, String, Option<String>), &'static str> {
        let q = parser().parse(l.as_bytes())?;
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

    fn utc(s: &str) -> i64 {
        botscope_core::Ts::parse_rfc3339(s).unwrap().0
    }

    #[test]
    fn syslog_wrapped_and_newer_shapes() {
        // The issue's line: rsyslog's default file format (RFC 3339 with
        // offset) around the message of lib/ns/query.c `log_query`.
        assert_eq!(
            p("2023-10-08T11:29:05.123456+02:00 host named[812]: client @0x7f0a2c0 192.0.2.7#41000 (cc.evil.test): query: cc.evil.test IN A +E(0)K (192.0.2.53)").unwrap(),
            (utc("2023-10-08T09:29:05.123456Z"), "192.0.2.7".into(), "cc.evil.test".into(), Some("192.0.2.53".into()))
        );
        // Traditional syslog (RFC 3164), year from the parser's rule.
        assert_eq!(
            p("Oct  8 11:29:05 host named[123]: client @0x7f0a2c0 192.0.2.7#41000 (x.test): query: x.test IN A + (192.0.2.53)").unwrap().0,
            utc("2022-10-08T11:29:05Z")
        );
        // BIND 9.21+ prints the destination with its port
        // (lib/ns/query.c log_query: isc_sockaddr_format of destsockaddr),
        // and ECS after it (ns_client_log_ecs).
        assert_eq!(
            p("08-Oct-2023 11:29:05.123 queries: info: client @0x1 192.0.2.7#41000 (x.test): query: x.test IN A +E(0)K (192.0.2.53#53) [ECS 198.51.100.0/24/0]").unwrap().3,
            Some("192.0.2.53".into())
        );
        // TSIG-signed: `#port/key NAME` (ns_client_logv `sep1 = "/key "`).
        assert_eq!(
            p("08-Oct-2023 11:29:05.123 client @0x1 192.0.2.7#41000/key k1 (x.test): query: x.test IN A -S (192.0.2.53)").unwrap().1,
            "192.0.2.7"
        );
        // print-time no: no stamp.
        assert_eq!(
            p("queries: info: client @0x1 192.0.2.7#41000 (x.test): query: x.test IN A + (192.0.2.53)"),
            Err("no time stamp")
        );
        let mut keep = BindParser::new(Clock::default(), true);
        assert_eq!(
            keep.parse(b"client @0x1 192.0.2.7#41000 (x.test): query: x.test IN A + (192.0.2.53)")
                .unwrap()
                .ts_us,
            NO_TS
        );
    }

    #[test]
    fn client_offset_hint_still_finds_the_first_client() {
        let mut p = parser();
        let a = "21-Dec-2005 13:14:15.123 queries: info: client @0x1 10.1.2.3#5353 (x.test): query: x.test IN A + (192.0.2.53)";
        assert_eq!(
            p.parse(a.as_bytes()).unwrap().client.to_string(),
            "10.1.2.3"
        );
        // `client ` at the same offset, but an earlier one comes first, as
        // the full search finds it (and its word is no address).
        let b = "21-Dec-2005 13:14:15.123 client 1.2.3.4 client @0x1 10.1.2.3#5353 (x.test): query: x.test IN A + (192.0.2.53)";
        assert_eq!(&b[40..47], "client ");
        assert_eq!(p.parse(b.as_bytes()).unwrap_err(), "no client address");
        // A shorter prefix, then the long one again.
        let c = "21-Dec-2005 13:14:15.123 client 10.7.7.7#1: query: z.test IN A + (192.0.2.53)";
        assert_eq!(
            p.parse(c.as_bytes()).unwrap().client.to_string(),
            "10.7.7.7"
        );
        assert_eq!(
            p.parse(a.as_bytes()).unwrap().client.to_string(),
            "10.1.2.3"
        );
        assert_eq!(p.parse(b"short").unwrap_err(), "not a query line");
    }

    #[test]
    fn the_one_pass_scan_reads_what_the_search_reads() {
        let base = "21-Apr-2005 13:14:15.123 queries: info: client @0x7f3a00000010 10.1.2.3#5353 (cc.evil.test): query: cc.evil.test IN A +E(0)K (192.0.2.53)";
        let variants = [
            base.to_string(),
            base.replace("@0x7f3a00000010 ", ""),
            base.replace(" (cc.evil.test): ", ": "),
            base.replace("(cc.evil.test)", "(other.test)"),
            base.replace("(cc.evil.test)", "(query:x)"),
            base.replace("(cc.evil.test)", "(a b)"),
            base.replace("(cc.evil.test)", "(cc.evil)"),
            base.replace("(cc.evil.test)", "()"),
            base.replace("query: cc.evil.test", "query: cc.evil.test.longer"),
            base.replace(
                "query: cc.evil.test IN A +E(0)K (192.0.2.53)",
                "query: cc.evil.test",
            ),
            base.replace("query: cc.evil.test", "query: -"),
            base.replace("query: ", "query:  "),
            base.replace("query: ", "view internal: query: "),
            base.replace("query: ", "response: "),
            base.replace("#5353", "#5353/key k1"),
            base.replace("#5353", "#"),
            base.replace("10.1.2.3", "10.1.2.300"),
            base.replace("10.1.2.3", "10.1.2"),
            base.replace("10.1.2.3", "10.1.2.3.4"),
            base.replace("10.1.2.3", "2001:db8::1"),
            base.replace("10.1.2.3", "010.01.2.3"),
            base.replace("@0x7f3a00000010", "@0xZZ"),
            base.replace("@0x7f3a00000010 ", "@0x1  "),
            base.replace("client @", "client 1.2.3.4 client @"),
            base.replace("(192.0.2.53)", "(192.0.2.53#53) [ECS 10.0.0.0/24/0]"),
            base.replace("(cc.evil.test)", "(a)b)"),
            base.replace("(cc.evil.test): ", "(x):query: (y): "),
            base.replace("#5353 (cc.evil.test)", "#5353query: (x)"),
            base.replace("#5353 (cc.evil.test): ", "#5353query: query: "),
            base.replace("(cc.evil.test): query: ", "(x): query: query: "),
        ];
        let mut fast = 0;
        for l in &variants {
            let b = l.as_bytes();
            let c = parser().find_client(b).unwrap();
            let searched = parser().searched(b, c);
            if let Some((client, qname)) = scan_common(&b[c + 7..]) {
                fast += 1;
                let ((_, sc, sq, _), kind) = searched.unwrap();
                assert_eq!((client, qname, kind), (sc, sq, Kind::Query), "{l}");
            }
            assert_eq!(parser().fields(b), searched, "{l}");
            // Every prefix of the line too (cut lines).
            for end in c + 7..b.len() {
                let cut = &b[..end];
                assert_eq!(
                    parser().fields(cut),
                    parser().searched(cut, c),
                    "{l} cut at {end}"
                );
            }
        }
        // The common shapes do take the one-pass walk.
        assert_eq!(fast, 14);
    }

    #[test]
    fn response_lines() {
        // BIND 9.20 `responselog yes;`: lib/ns/query.c log_response,
        // "response: %s %s %s %s %u %u %u %s (%s)%s" (name class type rcode
        // an au ad flags (destination) ECS).
        let resp = "08-Oct-2023 11:29:05.123 responses: info: client @0x7f0a 192.0.2.7#41000 (cc.evil.test): response: cc.evil.test IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)";
        let mut only = parser();
        let q = only.parse(resp.as_bytes()).unwrap();
        assert_eq!(
            (
                q.ts_us,
                q.client.to_string(),
                q.qname,
                q.server.map(|s| s.to_string())
            ),
            (
                utc("2023-10-08T11:29:05.123Z"),
                "192.0.2.7".into(),
                &b"cc.evil.test"[..],
                Some("192.0.2.53".into())
            )
        );
        // The `answer: NAME … -> RCODE` form reported in issue 15.
        let ans = "08-Oct-2023 11:29:05.123 client @0x7f0a 192.0.2.7#41000 (x.test): answer: x.test IN A -> NOERROR";
        assert_eq!(only.parse(ans.as_bytes()).unwrap().qname, b"x.test");
        // Infoblox NIOS "Capturing DNS Queries and Responses" (response
        // logging): a `query:` line with the response appended.
        let ib = "07-Apr-2013 20:16:49.083 client 11.22.33.44#57398 UDP: query: a2.foo.com IN A response: NOERROR +AED a2.foo.com. 28800 IN A 1.1.1.2;";
        let q = only.parse(ib.as_bytes()).unwrap();
        assert_eq!(
            (q.ts_us, q.client.to_string(), q.qname, q.server),
            (
                utc("2013-04-07T20:16:49.083Z"),
                "11.22.33.44".into(),
                &b"a2.foo.com"[..],
                None
            )
        );
        // Infoblox query line (same source): `client A#P: query: … (server)`.
        let ibq = "30-Apr-2013 13:35:02.187 client 10.120.20.32#42386: query: foo.com IN A + (100.90.80.102)";
        let q = only.parse(ibq.as_bytes()).unwrap();
        assert_eq!(
            (q.client.to_string(), q.server.map(|s| s.to_string())),
            ("10.120.20.32".into(), Some("100.90.80.102".into()))
        );
        // Once a query line was seen, responses are not counted again.
        assert_eq!(
            only.parse(resp.as_bytes()).unwrap_err(),
            "response line (queries are logged)"
        );
        assert!(only.parse(ib.as_bytes()).is_ok());
        // prescan: a query line in the head stops responses from the start.
        let mut pre = parser();
        pre.prescan(format!("{resp}\n{ibq}\n").as_bytes());
        assert_eq!(
            pre.parse(resp.as_bytes()).unwrap_err(),
            "response line (queries are logged)"
        );
        // A FORMERR response has no name.
        assert_eq!(
            parser().parse(b"08-Oct-2023 11:29:05.123 client @0x1 192.0.2.7#1: response: - IN A FORMERR 0 0 0 - (192.0.2.53)").unwrap_err(),
            "empty query name"
        );
    }
}
