//! dnstap in Frame Streams files (as `dnstap-output file`, `fstrm_capture`,
//! dnsdist and unbound write them).
//!
//! Frame Streams: a control frame is a zero length word then a length and
//! a control type (ACCEPT 1, START 2, STOP 3, READY 4, FINISH 5) with
//! fields; a data frame is a length then that many bytes. Each data frame
//! is a `dnstap.Dnstap` protobuf, decoded with hand-written prost structs
//! (field numbers from dnstap.proto). The query name is read from the DNS
//! message inside.
//!
//! Counted by default: CLIENT_QUERY and AUTH_QUERY (the client's own
//! address is `query_address`), and CLIENT_RESPONSE / AUTH_RESPONSE only
//! while the file has shown no query message (a tap configured for
//! responses only). Resolver-side messages (RESOLVER, FORWARDER, STUB,
//! TOOL, UPDATE) carry the resolver as `query_address`; they are counted
//! only with `dnstap_all_queries` (queries only).

use super::{FileStats, Query, ReadError, ReadOptions};
use botscope_core::error::SkipCounter;
use botscope_core::{Located, Location};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Largest data frame accepted (BIND caps its frames well below this).
pub const MAX_FRAME: usize = 1 << 20;

/// `dnstap.Dnstap`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dnstap {
    /// Server identity.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub identity: Option<Vec<u8>>,
    /// Server version.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub version: Option<Vec<u8>>,
    /// Extra data.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub extra: Option<Vec<u8>>,
    /// The message.
    #[prost(message, optional, tag = "14")]
    pub message: Option<Message>,
    /// Payload type (1 = MESSAGE).
    #[prost(int32, optional, tag = "15")]
    pub r#type: Option<i32>,
}

/// `dnstap.Message`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Message {
    /// Message type (1..14).
    #[prost(int32, optional, tag = "1")]
    pub r#type: Option<i32>,
    /// 1 = INET, 2 = INET6.
    #[prost(int32, optional, tag = "2")]
    pub socket_family: Option<i32>,
    /// 1 = UDP, 2 = TCP, 3 = DOT, 4 = DOH…
    #[prost(int32, optional, tag = "3")]
    pub socket_protocol: Option<i32>,
    /// Query (initiator) address.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub query_address: Option<Vec<u8>>,
    /// Response (responder) address.
    #[prost(bytes = "vec", optional, tag = "5")]
    pub response_address: Option<Vec<u8>>,
    /// Query port.
    #[prost(uint32, optional, tag = "6")]
    pub query_port: Option<u32>,
    /// Response port.
    #[prost(uint32, optional, tag = "7")]
    pub response_port: Option<u32>,
    /// Query time, seconds.
    #[prost(uint64, optional, tag = "8")]
    pub query_time_sec: Option<u64>,
    /// Query time, nanoseconds.
    #[prost(fixed32, optional, tag = "9")]
    pub query_time_nsec: Option<u32>,
    /// The query in DNS wire format.
    #[prost(bytes = "vec", optional, tag = "10")]
    pub query_message: Option<Vec<u8>>,
    /// Zone (for resolver messages).
    #[prost(bytes = "vec", optional, tag = "11")]
    pub query_zone: Option<Vec<u8>>,
    /// Response time, seconds.
    #[prost(uint64, optional, tag = "12")]
    pub response_time_sec: Option<u64>,
    /// Response time, nanoseconds.
    #[prost(fixed32, optional, tag = "13")]
    pub response_time_nsec: Option<u32>,
    /// The response in DNS wire format.
    #[prost(bytes = "vec", optional, tag = "14")]
    pub response_message: Option<Vec<u8>>,
}

/// dnstap message types, with BIND's two-letter codes.
pub const TYPE_CODES: [&str; 15] = [
    "", "AQ", "AR", "RQ", "RR", "CQ", "CR", "FQ", "FR", "SQ", "SR", "TQ", "TR", "UQ", "UR",
];

/// One decoded dnstap message, ready for rendering or counting.
#[derive(Clone, Debug, PartialEq)]
pub struct DnstapRecord {
    /// Message type number (1..14).
    pub kind: i32,
    /// Time of the query (odd types) or response (even types), µs.
    pub ts_us: i64,
    /// Initiator address and port.
    pub query_addr: Option<(IpAddr, u16)>,
    /// Responder address and port.
    pub response_addr: Option<(IpAddr, u16)>,
    /// Transport (1 UDP, 2 TCP…).
    pub protocol: Option<i32>,
    /// Size of the DNS message carried.
    pub size: usize,
    /// Question name, class and type from the DNS message.
    pub question: Option<(String, u16, u16)>,
}

impl DnstapRecord {
    /// True for query-side types (odd numbers).
    pub fn is_query(&self) -> bool {
        self.kind % 2 == 1
    }
}

fn ip(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))),
        _ => None,
    }
}

/// Reads the first question (name, type, class) of a DNS message. Name
/// compression is followed with a hop cap; the name is rendered with dots
/// and without a trailing dot (root as `.`).
pub fn dns_question(msg: &[u8]) -> Option<(String, u16, u16)> {
    if msg.len() < 12 || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
        return None;
    }
    let mut name = String::new();
    let mut pos = 12usize;
    let mut end_of_name = None;
    let mut hops = 0;
    loop {
        let len = *msg.get(pos)? as usize;
        if len & 0xC0 == 0xC0 {
            let ptr = ((len & 0x3F) << 8) | *msg.get(pos + 1)? as usize;
            if end_of_name.is_none() {
                end_of_name = Some(pos + 2);
            }
            hops += 1;
            if hops > 16 || ptr >= msg.len() {
                return None;
            }
            pos = ptr;
            continue;
        }
        if len & 0xC0 != 0 {
            return None;
        }
        if len == 0 {
            pos += 1;
            break;
        }
        let label = msg.get(pos + 1..pos + 1 + len)?;
        if !name.is_empty() {
            name.push('.');
        }
        for &b in label {
            // Escape as BIND's presentation format does.
            if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                name.push(b as char);
            } else {
                name.push_str(&format!("\\{b:03}"));
            }
        }
        if name.len() > 1024 {
            return None;
        }
        pos += 1 + len;
    }
    let p = end_of_name.unwrap_or(pos);
    let qtype = u16::from_be_bytes([*msg.get(p)?, *msg.get(p + 1)?]);
    let qclass = u16::from_be_bytes([*msg.get(p + 2)?, *msg.get(p + 3)?]);
    if name.is_empty() {
        name.push('.');
    }
    Some((name, qtype, qclass))
}

/// Decodes one dnstap protobuf payload (a data frame).
pub fn decode_frame(frame: &[u8]) -> Result<DnstapRecord, &'static str> {
    let d = <Dnstap as prost::Message>::decode(frame).map_err(|_| "bad dnstap protobuf")?;
    if d.r#type != Some(1) {
        return Err("dnstap payload is not a MESSAGE");
    }
    let m = d.message.ok_or("dnstap MESSAGE without message")?;
    let kind = m.r#type.ok_or("dnstap message without type")?;
    if !(1..=14).contains(&kind) {
        return Err("unknown dnstap message type");
    }
    let is_query = kind % 2 == 1;
    let (sec, nsec) = if is_query {
        (m.query_time_sec, m.query_time_nsec)
    } else {
        (m.response_time_sec, m.response_time_nsec)
    };
    let nsec = nsec.unwrap_or(0);
    if nsec >= 1_000_000_000 {
        return Err("dnstap nanoseconds out of range");
    }
    let sec = sec.ok_or("dnstap message without time")?;
    if sec > i64::MAX as u64 / 2_000_000 {
        return Err("dnstap time out of range");
    }
    let ts_us = sec as i64 * 1_000_000 + (nsec / 1000) as i64;
    let dns = if is_query {
        m.query_message.as_deref()
    } else {
        m.response_message.as_deref()
    };
    let pair =
        |a: &Option<Vec<u8>>, p: Option<u32>| Some((ip(a.as_deref()?)?, p.unwrap_or(0) as u16));
    Ok(DnstapRecord {
        kind,
        ts_us,
        query_addr: pair(&m.query_address, m.query_port),
        response_addr: pair(&m.response_address, m.response_port),
        protocol: m.socket_protocol,
        size: dns.map(<[u8]>::len).unwrap_or(0),
        question: dns.and_then(dns_question),
    })
}

/// Reads a Frame Streams file, delivering the selected queries.
pub(crate) fn read_frames(
    r: &mut dyn Read,
    name: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    let mut offset: u64 = 0;
    let mut frame_no: u64 = 0;
    let mut buf = Vec::new();
    let mut seen_query = false;
    let err = |offset: u64, frame: u64, reason: String| Located {
        location: Location {
            file: name.into(),
            packet: Some(frame),
            offset: Some(offset),
            ..Default::default()
        },
        reason,
    };
    loop {
        let mut word = [0u8; 4];
        match read_full(r, &mut word) {
            Ok(0) => return Ok(()),
            Ok(4) => {}
            Ok(_) => return Err(err(offset, frame_no + 1, "truncated frame length".into())),
            Err(e) => return Err(err(offset, frame_no + 1, format!("input ends early: {e}"))),
        }
        let len = u32::from_be_bytes(word) as usize;
        frame_no += 1;
        if len == 0 {
            // Control frame.
            let mut lw = [0u8; 4];
            if read_full(r, &mut lw).map_err(|e| err(offset, frame_no, e.to_string()))? != 4 {
                return Err(err(offset, frame_no, "truncated control frame".into()));
            }
            let clen = u32::from_be_bytes(lw) as usize;
            if !(4..=512).contains(&clen) {
                return Err(err(
                    offset,
                    frame_no,
                    format!("bad control frame length {clen}"),
                ));
            }
            buf.resize(clen, 0);
            if read_full(r, &mut buf).map_err(|e| err(offset, frame_no, e.to_string()))? != clen {
                return Err(err(offset, frame_no, "truncated control frame".into()));
            }
            offset += 8 + clen as u64;
            let ctype = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            if ctype == 3 || ctype == 5 {
                return Ok(()); // STOP / FINISH
            }
            continue;
        }
        if len > MAX_FRAME {
            return Err(err(
                offset,
                frame_no,
                format!("frame length {len} over the {MAX_FRAME} cap"),
            ));
        }
        buf.resize(len, 0);
        let got = read_full(r, &mut buf)
            .map_err(|e| err(offset, frame_no, format!("input ends early: {e}")))?;
        if got != len {
            return Err(err(
                offset,
                frame_no,
                format!("truncated frame: {got} of {len} bytes"),
            ));
        }
        offset += 4 + len as u64;
        stats.records += 1;
        let skip = |reason: &str, skips: &mut SkipCounter, stats: &mut FileStats| {
            stats.skipped += 1;
            skips.add(&Located {
                location: Location {
                    file: name.into(),
                    packet: Some(frame_no),
                    ..Default::default()
                },
                reason: reason.into(),
            });
        };
        let rec = match decode_frame(&buf) {
            Ok(rec) => rec,
            Err(reason) => {
                skip(reason, skips, stats);
                continue;
            }
        };
        let client_side = matches!(rec.kind, 1 | 5);
        let wanted = if client_side {
            seen_query = true;
            true
        } else if matches!(rec.kind, 2 | 6) {
            !seen_query
        } else {
            opts.dnstap_all_queries && rec.is_query()
        };
        if !wanted {
            continue;
        }
        let Some((client, _)) = rec.query_addr else {
            skip("dnstap message without query address", skips, stats);
            continue;
        };
        let Some((qname, _, _)) = &rec.question else {
            skip("dnstap message without a DNS question", skips, stats);
            continue;
        };
        stats.queries += 1;
        sink(&Query {
            ts_us: rec.ts_us,
            client,
            qname: qname.as_bytes(),
            server: rec.response_addr.map(|a| a.0),
            rcode: None,
        });
    }
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
