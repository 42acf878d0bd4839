//! Writers for each resolver-log format. Each renders a [`Query`] the way
//! the real software does (BIND 9.16+ query log, Unbound `log-queries`,
//! Zeek dns.log TSV and JSON, dnstap Frame Streams, plain CSV).

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
}

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
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(crate) struct Writer {
    format: Format,
    out: BufWriter<File>,
    resolver: IpAddr,
    day_cache: (i64, String),
    n: u64,
}

impl Writer {
    pub fn create(format: Format, path: &Path, spec: &ResolverSpec) -> io::Result<Writer> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
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
        Ok(Writer {
            format,
            out,
            resolver: spec.resolver,
            day_cache: (i64::MIN, String::new()),
            n: 0,
        })
    }

    pub fn write(&mut self, q: &Query<'_>) -> io::Result<()> {
        self.n += 1;
        let secs = q.ts_us.div_euclid(1_000_000);
        let micros = q.ts_us.rem_euclid(1_000_000);
        match self.format {
            Format::Bind => {
                let day = secs.div_euclid(86_400);
                if self.day_cache.0 != day {
                    let (y, m, d) = botscope_core::time::civil_from_days(day);
                    self.day_cache = (day, format!("{d:02}-{}-{y:04}", MONTHS[(m - 1) as usize]));
                }
                let sod = secs.rem_euclid(86_400);
                writeln!(
                    self.out,
                    "{} {:02}:{:02}:{:02}.{:03} queries: info: client @0x7f3a{:08x} {}#{} ({}): query: {} IN {} +E(0)K ({})",
                    self.day_cache.1,
                    sod / 3600,
                    (sod / 60) % 60,
                    sod % 60,
                    micros / 1000,
                    (self.n.wrapping_mul(0x9E37_79B9) as u32) & 0xffff_fff0,
                    q.client,
                    q.port,
                    q.qname,
                    q.qname,
                    q.qtype,
                    self.resolver
                )
            }
            Format::Unbound => writeln!(
                self.out,
                "[{secs}] unbound[4242:0] info: {} {}. {} IN",
                q.client, q.qname, q.qtype
            ),
            Format::ZeekTsv => writeln!(
                self.out,
                "{secs}.{micros:06}\tC{:016x}\t{}\t{}\t{}\t53\tudp\t{}\t-\t{}\t1\tC_INTERNET\t{}\t{}\t-\t-\tF\tF\tT\tF\t0\t-\t-\tF",
                self.n,
                q.client,
                q.port,
                self.resolver,
                q.id,
                q.qname,
                qtype_num(q.qtype),
                q.qtype
            ),
            Format::ZeekJson => writeln!(
                self.out,
                "{{\"ts\":{secs}.{micros:06},\"uid\":\"C{:016x}\",\"id.orig_h\":\"{}\",\"id.orig_p\":{},\"id.resp_h\":\"{}\",\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":{},\"query\":\"{}\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":{},\"qtype_name\":\"{}\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":false,\"Z\":0,\"rejected\":false}}",
                self.n,
                q.client,
                q.port,
                self.resolver,
                q.id,
                q.qname,
                qtype_num(q.qtype),
                q.qtype
            ),
            Format::Csv => writeln!(self.out, "{secs}.{micros:06},{},{},{}", q.client, q.qname, q.qtype),
            Format::Dnstap => {
                let frame = dnstap_client_query(q, self.resolver, secs, (micros * 1000) as u32);
                self.out.write_all(&(frame.len() as u32).to_be_bytes())?;
                self.out.write_all(&frame)
            }
        }
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

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A dnstap `Dnstap{type=MESSAGE, message=Message{type=CLIENT_QUERY, …}}`
/// protobuf with the DNS query in wire format.
fn dnstap_client_query(q: &Query<'_>, resolver: IpAddr, secs: i64, nanos: u32) -> Vec<u8> {
    let mut wire = Vec::with_capacity(32 + q.qname.len());
    wire.extend_from_slice(&q.id.to_be_bytes());
    wire.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in q.qname.trim_end_matches('.').split('.') {
        wire.push(label.len().min(63) as u8);
        wire.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    wire.push(0);
    wire.extend_from_slice(&qtype_num(q.qtype).to_be_bytes());
    wire.extend_from_slice(&1u16.to_be_bytes());

    let mut msg = Vec::with_capacity(64 + wire.len());
    field_varint(&mut msg, 1, 5); // CLIENT_QUERY
    field_varint(&mut msg, 2, if q.client.is_ipv4() { 1 } else { 2 });
    field_varint(&mut msg, 3, 1); // UDP
    field_bytes(&mut msg, 4, &ip_bytes(q.client));
    field_bytes(&mut msg, 5, &ip_bytes(resolver));
    field_varint(&mut msg, 6, q.port as u64);
    field_varint(&mut msg, 7, 53);
    field_varint(&mut msg, 8, secs as u64);
    varint(&mut msg, (9 << 3) | 5); // fixed32
    msg.extend_from_slice(&nanos.to_le_bytes());
    field_bytes(&mut msg, 10, &wire);

    let mut top = Vec::with_capacity(msg.len() + 16);
    field_bytes(&mut top, 1, b"synth");
    field_bytes(&mut top, 14, &msg);
    field_varint(&mut top, 15, 1); // MESSAGE
    top
}
