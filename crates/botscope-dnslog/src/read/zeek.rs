//! Zeek `dns.log`: the tab-separated form (columns found from its
//! `#fields` header, so extra columns such as `opcode` or `auth` are fine)
//! and the JSON Lines form (`ts` as epoch seconds or ISO 8601).
//! Records without a query name (`-`) carry no question and are skipped.

use super::{parse_epoch, parse_ip, Query};

/// Stateful TSV parser (it learns the columns from the header).
#[derive(Default)]
pub struct ZeekTsvParser {
    sep: Option<u8>,
    ts: usize,
    client: usize,
    query: usize,
    server: usize,
    /// `rcode` column (numeric), else `rcode_name`; `usize::MAX` when absent.
    rcode: usize,
    rcode_is_name: bool,
    width: usize,
    has_fields: bool,
}

impl ZeekTsvParser {
    /// Parses one line; header lines return `Ok(None)`.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Option<Query<'a>>, &'static str> {
        if let Some(h) = line.strip_prefix(b"#") {
            if let Some(s) = h.strip_prefix(b"separator ") {
                self.sep = Some(if s == b"\\x09" {
                    b'\t'
                } else if s.len() == 4 && s.starts_with(b"\\x") {
                    u8::from_str_radix(std::str::from_utf8(&s[2..]).unwrap_or("09"), 16)
                        .unwrap_or(b'\t')
                } else {
                    *s.first().unwrap_or(&b'\t')
                });
            } else if let Some(f) = h.strip_prefix(b"fields") {
                let sep = self.sep.unwrap_or(b'\t');
                let names: Vec<&[u8]> = f.split(|b| *b == sep).filter(|t| !t.is_empty()).collect();
                let find = |n: &[u8]| names.iter().position(|x| *x == n);
                match (find(b"ts"), find(b"id.orig_h"), find(b"query")) {
                    (Some(ts), Some(client), Some(query)) => {
                        self.ts = ts;
                        self.client = client;
                        self.query = query;
                        self.server = find(b"id.resp_h").unwrap_or(usize::MAX);
                        (self.rcode, self.rcode_is_name) =
                            match (find(b"rcode"), find(b"rcode_name")) {
                                (Some(i), _) => (i, false),
                                (None, Some(i)) => (i, true),
                                (None, None) => (usize::MAX, false),
                            };
                        self.width = ts.max(client).max(query) + 1;
                        self.has_fields = true;
                    }
                    _ => return Err("dns.log header lacks ts, id.orig_h or query"),
                }
            }
            return Ok(None);
        }
        if line.is_empty() {
            return Ok(None);
        }
        if !self.has_fields {
            return Err("record before the #fields header");
        }
        let sep = self.sep.unwrap_or(b'\t');
        let mut cols: [&[u8]; 64] = [&[]; 64];
        let mut n = 0;
        for c in line.split(|b| *b == sep) {
            if n == 64 {
                break;
            }
            cols[n] = c;
            n += 1;
        }
        if n < self.width {
            return Err("too few columns");
        }
        let ts_us = parse_epoch(cols[self.ts]).ok_or("bad ts")?;
        let client = parse_ip(cols[self.client]).ok_or("bad id.orig_h")?;
        let qname = cols[self.query];
        if qname == b"-" || qname == b"(empty)" || qname.is_empty() {
            return Err("no query name");
        }
        let server = if self.server < n {
            parse_ip(cols[self.server])
        } else {
            None
        };
        let rcode = if self.rcode < n {
            if self.rcode_is_name {
                rcode_from_name(cols[self.rcode])
            } else {
                std::str::from_utf8(cols[self.rcode])
                    .ok()
                    .and_then(|t| t.parse().ok())
            }
        } else {
            None
        };
        Ok(Some(Query {
            ts_us,
            client,
            qname,
            server,
            rcode,
        }))
    }
}

#[derive(serde::Deserialize)]
struct JsonRecord<'a> {
    ts: JsonTs<'a>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: std::borrow::Cow<'a, str>,
    #[serde(rename = "id.resp_h", borrow, default)]
    resp_h: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    query: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    rcode: Option<u16>,
    #[serde(borrow, default)]
    rcode_name: Option<std::borrow::Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum JsonTs<'a> {
    Epoch(f64),
    #[serde(borrow)]
    Text(std::borrow::Cow<'a, str>),
}

/// Parses one JSON line and hands its query (if any) to `sink`.
pub fn parse_json(line: &[u8], sink: &mut dyn FnMut(&Query<'_>)) -> Result<(), &'static str> {
    let r: JsonRecord<'_> =
        serde_json::from_slice(line).map_err(|_| "not a Zeek dns.log JSON record")?;
    let ts_us = match &r.ts {
        JsonTs::Epoch(f) if f.is_finite() && f.abs() < 1e12 => (f * 1e6).round() as i64,
        JsonTs::Text(t) => botscope_core::Ts::parse_rfc3339(t).ok_or("bad ts")?.0,
        _ => return Err("bad ts"),
    };
    let client = parse_ip(r.orig_h.as_bytes()).ok_or("bad id.orig_h")?;
    let qname = r.query.as_deref().ok_or("no query name")?;
    if qname.is_empty() {
        return Err("no query name");
    }
    let server = r.resp_h.as_deref().and_then(|s| parse_ip(s.as_bytes()));
    let rcode = r.rcode.or_else(|| {
        r.rcode_name
            .as_deref()
            .and_then(|n| rcode_from_name(n.as_bytes()))
    });
    sink(&Query {
        ts_us,
        client,
        qname: qname.as_bytes(),
        server,
        rcode,
    });
    Ok(())
}

/// The RCODE number of a Zeek `rcode_name` (the common ones; others `None`).
fn rcode_from_name(name: &[u8]) -> Option<u16> {
    Some(match name {
        b"NOERROR" => 0,
        b"FORMERR" => 1,
        b"SERVFAIL" => 2,
        b"NXDOMAIN" => 3,
        b"NOTIMP" => 4,
        b"REFUSED" => 5,
        _ => return None,
    })
}
