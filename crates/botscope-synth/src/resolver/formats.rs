//! Writers for each resolver-log format. Each renders a [`Query`] the way
//! the real software does (BIND 9.16+ query log, Unbound `log-queries`,
//! Zeek dns.log TSV and JSON, dnstap Frame Streams, plain CSV), and the
//! wrapped shapes real deployments produce (issue 15): Unbound through
//! rsyslog's RFC 3339 file format, BIND through a traditional syslog
//! wrapper (local time, no zone, no year), Infoblox NIOS query lines, and
//! BIND 9.18+ `answer:` response lines.

use super::{Query, ResolverSpec};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;

/// A resolver-log format the generator can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// BIND 9 query log (`queries: info: client @0x… addr#port (name): query: …`).
    Bind,
    /// Unbound `log-queries: yes` lines.
    Unbound,
    /// Zeek `dns.log`, tab-separated with its header.
    ZeekTsv,
    /// Zeek `dns.log`, JSON Lines.
    ZeekJson,
    /// dnstap CLIENT_QUERY messages in a Frame Streams file.
    Dnstap,
    /// CSV `ts,client,qname,qtype` (epoch seconds).
    Csv,
    /// Unbound query lines through rsyslog's default file format: an
    /// RFC 3339 stamp in the resolver's local time with its offset
    /// ([`LOCAL_OFFSET_S`]), `host unbound[pid]: [pid:0] info: …`.
    UnboundRfc3339,
    /// BIND query lines through a traditional syslog wrapper: `<30>Mon DD
    /// HH:MM:SS host named[pid]: client …`, local time with no zone and no
    /// year (read with `--log-tz +09:00 --log-year YYYY`).
    BindSyslog,
    /// Infoblox NIOS query logging: `client ADDR#PORT UDP: query: NAME IN
    /// TYPE response: NOERROR +…`, BIND's time stamp.
    Infoblox,
    /// BIND 9.18+ with only response logging on: `… (name): answer: NAME
    /// IN TYPE -> NOERROR`, one line per query.
    BindAnswer,
}

/// The resolver's local clock for the syslog-wrapped formats: UTC+09:00,
/// the study's Japanese ISP.
pub const LOCAL_OFFSET_S: i64 = 9 * 3600;

impl Format {
    /// Short name used as a key in the truth's file map.
    pub fn name(self) -> &'static str {
        match self {
            Format::Bind => "bind",
            Format::Unbound => "unbound",
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Dnstap => "dnstap",
            Format::Csv => "csv",
            Format::UnboundRfc3339 => "unbound-rfc3339",
            Format::BindSyslog => "bind-syslog",
            Format::Infoblox => "infoblox",
            Format::BindAnswer => "bind-answer",
        }
    }

    /// File name written in the output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Bind => "query.log",
            Format::Unbound => "unbound.log",
            Format::ZeekTsv => "dns.log",
            Format::ZeekJson => "dns.json",
            Format::Dnstap => "dnstap.fstrm",
            Format::Csv => "queries.csv",
            Format::UnboundRfc3339 => "unbound-syslog.log",
            Format::BindSyslog => "named-syslog.log",
            Format::Infoblox => "infoblox.log",
            Format::BindAnswer => "responses.log",
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(crate) struct Writer {
    format: Format,
    out: BufWriter<File>,
    /// The resolver address as text (written on every line of some formats).
    resolver_txt: Vec<u8>,
    resolver: IpAddr,
    /// (UTC day number, `DD-Mon-YYYY`) of the last BIND line.
    day_cache: (i64, Vec<u8>),
    n: u64,
    /// The line or frame being built (reused: no allocation per query).
    line: Vec<u8>,
    /// dnstap scratch buffers.
    wire: Vec<u8>,
    msg: Vec<u8>,
}

impl Writer {
    pub fn create(format: Format, path: &Path, spec: &ResolverSpec) -> io::Result<Writer> {
        let mut out = BufWriter::with_capacity(1 << 18, File::create(path)?);
        match format {
            Format::ZeekTsv => {
                let open = botscope_core::Ts::from_secs_micros(spec.start_ts, 0).rfc3339();
                let open = open[..19].replace([':', 'T'], "-");
                out.write_all(
                    b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n",
                )?;
                writeln!(out, "#open\t{open}")?;
                out.write_all(b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n")?;
                out.write_all(b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n")?;
            }
            Format::Csv => out.write_all(b"ts,client,qname,qtype\n")?,
            Format::Dnstap => {
                // Frame Streams START control frame with the dnstap content type.
                let ct = b"protobuf:dnstap.Dnstap";
                out.write_all(&0u32.to_be_bytes())?;
                out.write_all(&(12 + ct.len() as u32).to_be_bytes())?;
                out.write_all(&2u32.to_be_bytes())?;
                out.write_all(&1u32.to_be_bytes())?;
                out.write_all(&(ct.len() as u32).to_be_bytes())?;
                out.write_all(ct)?;
            }
            _ => {}
        }
        let mut resolver_txt = Vec::new();
        push_ip(&mut resolver_txt, spec.resolver);
        Ok(Writer {
            format,
            out,
            resolver_txt,
            resolver: spec.resolver,
            day_cache: (i64::MIN, Vec::new()),
            n: 0,
            line: Vec::with_capacity(512),
            wire: Vec::with_capacity(128),
            msg: Vec::with_capacity(256),
        })
    }

    pub fn write(&mut self, q: &Query<'_>) -> io::Result<()> {
        self.n += 1;
        let secs = q.ts_us.div_euclid(1_000_000);
        let micros = q.ts_us.rem_euclid(1_000_000);
        let l = &mut self.line;
        l.clear();
        let qname = q.qname.as_bytes();
        let qtype = q.qtype.as_bytes();
        match self.format {
            Format::Bind | Format::Infoblox | Format::BindAnswer => {
                push_bind_stamp(l, &mut self.day_cache, secs, micros);
                if self.format == Format::Infoblox {
                    l.extend_from_slice(b" client ");
                } else {
                    l.extend_from_slice(b" queries: info: client @0x7f3a");
                    push_client_object(l, self.n);
                    l.push(b' ');
                }
                push_ip(l, q.client);
                l.push(b'#');
                push_u64(l, q.port as u64);
                match self.format {
                    Format::Infoblox => {
                        l.extend_from_slice(b" UDP: query: ");
                        push_question(l, qname, qtype);
                        l.extend_from_slice(b" response: ");
                        l.extend_from_slice(rcode_name(q.rcode.unwrap_or(0)));
                        l.extend_from_slice(b" +\n");
                    }
                    Format::BindAnswer => {
                        push_paren_name(l, qname);
                        l.extend_from_slice(b"answer: ");
                        push_question(l, qname, qtype);
                        l.extend_from_slice(b" -> ");
                        l.extend_from_slice(rcode_name(q.rcode.unwrap_or(0)));
                        l.push(b'\n');
                    }
                    _ => push_query(l, qname, qtype, b" +E(0)K (", &self.resolver_txt),
                }
            }
            Format::BindSyslog => {
                // <30> is daemon.info; syslog pads the day with a space.
                let (_, m, d, hms) = local_civil(secs);
                l.extend_from_slice(b"<30>");
                l.extend_from_slice(MONTHS[(m - 1) as usize].as_bytes());
                l.push(b' ');
                if d < 10 {
                    l.push(b' ');
                }
                push_u64(l, d as u64);
                l.push(b' ');
                push_hms(l, hms);
                l.extend_from_slice(b" resolver1 named[3121]: client @0x7f3a");
                push_client_object(l, self.n);
                l.push(b' ');
                push_ip(l, q.client);
                l.push(b'#');
                push_u64(l, q.port as u64);
                push_query(l, qname, qtype, b" + (", &self.resolver_txt);
            }
            Format::UnboundRfc3339 => {
                let (y, m, d, hms) = local_civil(secs);
                push_pad(l, y as u64, 4);
                l.push(b'-');
                push_pad(l, m as u64, 2);
                l.push(b'-');
                push_pad(l, d as u64, 2);
                l.push(b'T');
                push_hms(l, hms);
                l.push(b'.');
                push_pad(l, micros as u64, 6);
                l.extend_from_slice(b"+09:00 resolver1 unbound[4242]: [4242:0] info: ");
                push_ip(l, q.client);
                l.push(b' ');
                l.extend_from_slice(qname);
                l.extend_from_slice(b". ");
                l.extend_from_slice(qtype);
                l.extend_from_slice(b" IN\n");
            }
            Format::Unbound => {
                l.push(b'[');
                push_i64(l, secs);
                l.extend_from_slice(b"] unbound[4242:0] info: ");
                push_ip(l, q.client);
                l.push(b' ');
                l.extend_from_slice(qname);
                l.extend_from_slice(b". ");
                l.extend_from_slice(qtype);
                l.extend_from_slice(b" IN\n");
            }
            Format::ZeekTsv => zeek_tsv_line(l, q, (secs, micros), self.n, &self.resolver_txt),
            Format::ZeekJson => zeek_json_line(l, q, (secs, micros), self.n, &self.resolver_txt),
            Format::Csv => {
                push_i64(l, secs);
                l.push(b'.');
                push_pad(l, micros as u64, 6);
                l.push(b',');
                push_ip(l, q.client);
                l.push(b',');
                l.extend_from_slice(qname);
                l.push(b',');
                l.extend_from_slice(qtype);
                l.push(b'\n');
            }
            Format::Dnstap => {
                dnstap_client_query(
                    l,
                    &mut self.wire,
                    &mut self.msg,
                    q,
                    self.resolver,
                    secs,
                    (micros * 1000) as u32,
                );
            }
        }
        self.out.write_all(l)
    }

    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            Format::ZeekTsv => writeln!(self.out, "#close\t2099-01-01-00-00-00")?,
            Format::Dnstap => {
                // STOP control frame.
                self.out.write_all(&0u32.to_be_bytes())?;
                self.out.write_all(&4u32.to_be_bytes())?;
                self.out.write_all(&3u32.to_be_bytes())?;
            }
            _ => {}
        }
        self.out.flush()
    }
}

/// Appends `v` in decimal.
/// BIND's `DD-Mon-YYYY HH:MM:SS.mmm` (UTC), the date part cached per day.
/// The mnemonic of a response code (the ones the generator writes).
fn rcode_name(r: u16) -> &'static [u8] {
    match r {
        0 => b"NOERROR",
        2 => b"SERVFAIL",
        3 => b"NXDOMAIN",
        5 => b"REFUSED",
        _ => b"FORMERR",
    }
}

fn push_bind_stamp(l: &mut Vec<u8>, day_cache: &mut (i64, Vec<u8>), secs: i64, micros: i64) {
    let day = secs.div_euclid(86_400);
    if day_cache.0 != day {
        let (y, m, d) = botscope_core::time::civil_from_days(day);
        *day_cache = (
            day,
            format!("{d:02}-{}-{y:04}", MONTHS[(m - 1) as usize]).into_bytes(),
        );
    }
    l.extend_from_slice(&day_cache.1);
    l.push(b' ');
    push_hms(l, secs.rem_euclid(86_400) as u64);
    l.push(b'.');
    push_pad(l, micros as u64 / 1000, 3);
}

/// (year, month, day, second of day) of `secs` on the resolver's local
/// clock ([`LOCAL_OFFSET_S`]).
fn local_civil(secs: i64) -> (i64, u32, u32, u64) {
    let local = secs + LOCAL_OFFSET_S;
    let (y, m, d) = botscope_core::time::civil_from_days(local.div_euclid(86_400));
    (y, m as u32, d as u32, local.rem_euclid(86_400) as u64)
}

/// `HH:MM:SS` of a second of the day.
fn push_hms(l: &mut Vec<u8>, sod: u64) {
    push_pad(l, sod / 3600, 2);
    l.push(b':');
    push_pad(l, (sod / 60) % 60, 2);
    l.push(b':');
    push_pad(l, sod % 60, 2);
}

/// ` (name): ` — the client's question name BIND 9.9+ puts in parentheses.
fn push_paren_name(l: &mut Vec<u8>, qname: &[u8]) {
    l.extend_from_slice(b" (");
    l.extend_from_slice(qname);
    l.extend_from_slice(b"): ");
}

/// The client object's address BIND prints (`@0x7f3a…`), made up per line.
fn push_client_object(l: &mut Vec<u8>, n: u64) {
    push_hex(
        l,
        ((n.wrapping_mul(0x9E37_79B9) as u32) & 0xffff_fff0) as u64,
        8,
    );
}

/// ` (name): query: name IN TYPE<flags>resolver)` and the line end.
fn push_query(l: &mut Vec<u8>, qname: &[u8], qtype: &[u8], flags: &[u8], resolver: &[u8]) {
    push_paren_name(l, qname);
    l.extend_from_slice(b"query: ");
    push_question(l, qname, qtype);
    l.extend_from_slice(flags);
    l.extend_from_slice(resolver);
    l.extend_from_slice(b")\n");
}

/// `name IN TYPE`.
fn push_question(l: &mut Vec<u8>, qname: &[u8], qtype: &[u8]) {
    l.extend_from_slice(qname);
    l.extend_from_slice(b" IN ");
    l.extend_from_slice(qtype);
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Appends `v` in decimal, zero-padded to `width` digits.
fn push_pad(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    while v > 0 || tmp.len() - i < width {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends `v` in lower-case hex, zero-padded to `width` digits.
fn push_hex(out: &mut Vec<u8>, v: u64, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for k in (0..width).rev() {
        out.push(HEX[((v >> (4 * k)) & 0xf) as usize]);
    }
}

/// Appends an address the way `Display` writes it.
fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            for (i, o) in a.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, *o as u64);
            }
        }
        // Rare (IPv6 clients are opt-in): the standard formatter handles
        // zero compression.
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

fn qtype_num(t: &str) -> u16 {
    match t {
        "AAAA" => 28,
        "MX" => 15,
        "TXT" => 16,
        _ => 1,
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(out: &mut Vec<u8>, tag: u32, b: &[u8]) {
    varint(out, ((tag << 3) | 2) as u64);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn field_varint(out: &mut Vec<u8>, tag: u32, v: u64) {
    varint(out, (tag << 3) as u64);
    varint(out, v);
}

fn push_ip_bytes(out: &mut Vec<u8>, tag: u32, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => field_bytes(out, tag, &a.octets()),
        IpAddr::V6(a) => field_bytes(out, tag, &a.octets()),
    }
}

/// A dnstap `Dnstap{type=MESSAGE, message=Message{type=CLIENT_QUERY, …}}`
/// protobuf with the DNS query in wire format, written into `frame` with
/// its Frame Streams length prefix (`wire` and `msg` are scratch).
fn dnstap_client_query(
    frame: &mut Vec<u8>,
    wire: &mut Vec<u8>,
    msg: &mut Vec<u8>,
    q: &Query<'_>,
    resolver: IpAddr,
    secs: i64,
    nanos: u32,
) {
    wire.clear();
    wire.extend_from_slice(&q.id.to_be_bytes());
    wire.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in q.qname.trim_end_matches('.').split('.') {
        wire.push(label.len().min(63) as u8);
        wire.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    wire.push(0);
    wire.extend_from_slice(&qtype_num(q.qtype).to_be_bytes());
    wire.extend_from_slice(&1u16.to_be_bytes());

    msg.clear();
    field_varint(msg, 1, 5); // CLIENT_QUERY
    field_varint(msg, 2, if q.client.is_ipv4() { 1 } else { 2 });
    field_varint(msg, 3, 1); // UDP
    push_ip_bytes(msg, 4, q.client);
    push_ip_bytes(msg, 5, resolver);
    field_varint(msg, 6, q.port as u64);
    field_varint(msg, 7, 53);
    field_varint(msg, 8, secs as u64);
    varint(msg, (9 << 3) | 5); // fixed32
    msg.extend_from_slice(&nanos.to_le_bytes());
    field_bytes(msg, 10, wire);

    // Length prefix first, filled in once the frame is built.
    frame.extend_from_slice(&[0; 4]);
    field_bytes(frame, 1, b"synth");
    field_bytes(frame, 14, msg);
    field_varint(frame, 15, 1); // MESSAGE
    let len = (frame.len() - 4) as u32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
}

/// One line of Zeek's dns.log in TSV (`secs`, `micros`: the query's
/// time, as `Writer::write` split it).
fn zeek_tsv_line(
    l: &mut Vec<u8>,
    q: &Query<'_>,
    (secs, micros): (i64, i64),
    n: u64,
    resolver_txt: &[u8],
) {
    let (qname, qtype) = (q.qname.as_bytes(), q.qtype.as_bytes());
    push_i64(l, secs);
    l.push(b'.');
    push_pad(l, micros as u64, 6);
    l.extend_from_slice(b"\tC");
    push_hex(l, n, 16);
    l.push(b'\t');
    push_ip(l, q.client);
    l.push(b'\t');
    push_u64(l, q.port as u64);
    l.push(b'\t');
    l.extend_from_slice(resolver_txt);
    l.extend_from_slice(b"\t53\tudp\t");
    push_u64(l, q.id as u64);
    l.extend_from_slice(b"\t-\t");
    l.extend_from_slice(qname);
    l.extend_from_slice(b"\t1\tC_INTERNET\t");
    push_u64(l, qtype_num(q.qtype) as u64);
    l.push(b'\t');
    l.extend_from_slice(qtype);
    match q.rcode {
        Some(r) => {
            l.push(b'\t');
            push_u64(l, r as u64);
            l.push(b'\t');
            l.extend_from_slice(rcode_name(r));
        }
        None => l.extend_from_slice(b"\t-\t-"),
    }
    l.extend_from_slice(b"\tF\tF\tT\tF\t0\t-\t-\tF\n");
}

/// One line of Zeek's dns.log as JSON (time as for [`zeek_tsv_line`]).
fn zeek_json_line(
    l: &mut Vec<u8>,
    q: &Query<'_>,
    (secs, micros): (i64, i64),
    n: u64,
    resolver_txt: &[u8],
) {
    let (qname, qtype) = (q.qname.as_bytes(), q.qtype.as_bytes());
    l.extend_from_slice(b"{\"ts\":");
    push_i64(l, secs);
    l.push(b'.');
    push_pad(l, micros as u64, 6);
    l.extend_from_slice(b",\"uid\":\"C");
    push_hex(l, n, 16);
    l.extend_from_slice(b"\",\"id.orig_h\":\"");
    push_ip(l, q.client);
    l.extend_from_slice(b"\",\"id.orig_p\":");
    push_u64(l, q.port as u64);
    l.extend_from_slice(b",\"id.resp_h\":\"");
    l.extend_from_slice(resolver_txt);
    l.extend_from_slice(b"\",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":");
    push_u64(l, q.id as u64);
    l.extend_from_slice(b",\"query\":\"");
    l.extend_from_slice(qname);
    l.extend_from_slice(b"\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":");
    push_u64(l, qtype_num(q.qtype) as u64);
    l.extend_from_slice(b",\"qtype_name\":\"");
    l.extend_from_slice(qtype);
    if let Some(r) = q.rcode {
        l.extend_from_slice(b"\",\"rcode\":");
        push_u64(l, r as u64);
        l.extend_from_slice(b",\"rcode_name\":\"");
        l.extend_from_slice(rcode_name(r));
    }
    l.extend_from_slice(
        b"\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":false,\"Z\":0,\"rejected\":false}\n",
    );
}
