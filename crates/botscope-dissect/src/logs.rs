//! Log writers: JSON Lines (every event, `ts` in RFC 3339 plus `ts_epoch`)
//! and Zeek TSV (`conn.log`, `dns.log`, `irc.log`, `tftp.log`, `http.log`)
//! with Zeek's header lines, column names and types, so `zeek-cut` and
//! other Zeek tooling read them.

use crate::Record;
use botscope_core::events::{Conn, DnsEvent, Event, HttpEvent, IrcEvent, TftpEvent};
use botscope_core::{FlowKey, Ts};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines, all kinds in `events.jsonl`.
    Json,
    /// Zeek TSV, one `<path>.log` per kind.
    Zeek,
}

/// Zeek column names and types of one log.
pub struct Schema {
    /// `#path`.
    pub path: &'static str,
    /// `#fields`.
    pub fields: &'static [&'static str],
    /// `#types`.
    pub types: &'static [&'static str],
}

const ID: [&str; 6] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
];

/// conn.log.
pub const CONN: Schema = Schema {
    path: "conn",
    fields: &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ID[5],
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "local_orig",
        "local_resp",
        "missed_bytes",
        "history",
        "orig_pkts",
        "orig_ip_bytes",
        "resp_pkts",
        "resp_ip_bytes",
        "tunnel_parents",
        "ip_proto",
    ],
    types: &[
        "time",
        "string",
        "addr",
        "port",
        "addr",
        "port",
        "enum",
        "string",
        "interval",
        "count",
        "count",
        "string",
        "bool",
        "bool",
        "count",
        "string",
        "count",
        "count",
        "count",
        "count",
        "set[string]",
        "count",
    ],
};

/// dns.log.
pub const DNS: Schema = Schema {
    path: "dns",
    fields: &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ID[5],
        "proto",
        "trans_id",
        "rtt",
        "query",
        "qclass",
        "qclass_name",
        "qtype",
        "qtype_name",
        "rcode",
        "rcode_name",
        "AA",
        "TC",
        "RD",
        "RA",
        "Z",
        "answers",
        "TTLs",
        "rejected",
        "opcode",
        "opcode_name",
    ],
    types: &[
        "time",
        "string",
        "addr",
        "port",
        "addr",
        "port",
        "enum",
        "count",
        "interval",
        "string",
        "count",
        "string",
        "count",
        "string",
        "count",
        "string",
        "bool",
        "bool",
        "bool",
        "bool",
        "count",
        "vector[string]",
        "vector[interval]",
        "bool",
        "count",
        "string",
    ],
};

/// irc.log.
pub const IRC: Schema = Schema {
    path: "irc",
    fields: &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ID[5],
        "nick",
        "user",
        "command",
        "value",
        "addl",
        "dcc_file_name",
        "dcc_file_size",
        "dcc_mime_type",
        "fuid",
    ],
    types: &[
        "time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string",
        "string", "string", "count", "string", "string",
    ],
};

/// tftp.log (spicy-tftp).
pub const TFTP: Schema = Schema {
    path: "tftp",
    fields: &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ID[5],
        "wrq",
        "fname",
        "mode",
        "uid_data",
        "size",
        "block_sent",
        "block_acked",
        "error_code",
        "error_msg",
    ],
    types: &[
        "time", "string", "addr", "port", "addr", "port", "bool", "string", "string", "string",
        "count", "count", "count", "count", "string",
    ],
};

/// http.log.
pub const HTTP: Schema = Schema {
    path: "http",
    fields: &[
        ID[0],
        ID[1],
        ID[2],
        ID[3],
        ID[4],
        ID[5],
        "trans_depth",
        "method",
        "host",
        "uri",
        "referrer",
        "version",
        "user_agent",
        "origin",
        "request_body_len",
        "response_body_len",
        "status_code",
        "status_msg",
        "info_code",
        "info_msg",
        "tags",
        "username",
        "password",
        "proxied",
        "orig_fuids",
        "orig_filenames",
        "orig_mime_types",
        "resp_fuids",
        "resp_filenames",
        "resp_mime_types",
    ],
    types: &[
        "time",
        "string",
        "addr",
        "port",
        "addr",
        "port",
        "count",
        "string",
        "string",
        "string",
        "string",
        "string",
        "string",
        "string",
        "count",
        "count",
        "count",
        "string",
        "count",
        "string",
        "set[enum]",
        "string",
        "string",
        "set[string]",
        "vector[string]",
        "vector[string]",
        "vector[string]",
        "vector[string]",
        "vector[string]",
        "vector[string]",
    ],
};

/// Zeek's escaping of one string field: `\` and non-printable bytes as
/// `\xNN`, an empty string as `(empty)`, a lone `-` as `\x2d`.
pub fn esc(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".into();
    }
    if s == "-" {
        return "\\x2d".into();
    }
    esc_inner(s, false)
}

fn esc_inner(s: &str, in_set: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\x5c"),
            ',' if in_set => o.push_str("\\x2c"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                o.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(esc).unwrap_or_else(|| "-".into())
}

fn optn<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

fn b(v: bool) -> String {
    if v { "T" } else { "F" }.into()
}

fn interval(v: f64) -> String {
    format!("{v:.6}")
}

fn vec_field(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.iter()
            .map(|s| {
                if s.is_empty() {
                    String::new()
                } else {
                    esc_inner(s, true)
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn id_cols(ts: Ts, uid: &str, k: &FlowKey) -> Vec<String> {
    vec![
        ts.zeek(),
        uid.to_string(),
        k.orig_h.to_string(),
        k.orig_p.to_string(),
        k.resp_h.to_string(),
        k.resp_p.to_string(),
    ]
}

/// conn.log row.
pub fn conn_row(c: &Conn) -> Vec<String> {
    let mut r = id_cols(c.ts, &c.uid, &c.id);
    r.extend([
        c.id.proto.to_string(),
        opt(&c.service),
        c.duration.map(interval).unwrap_or_else(|| "-".into()),
        optn(c.orig_bytes),
        optn(c.resp_bytes),
        c.conn_state.clone(),
        "-".into(),
        "-".into(),
        c.missed_bytes.to_string(),
        if c.history.is_empty() {
            "-".into()
        } else {
            esc(&c.history)
        },
        c.orig_pkts.to_string(),
        c.orig_ip_bytes.to_string(),
        c.resp_pkts.to_string(),
        c.resp_ip_bytes.to_string(),
        vec_field(&c.tunnel_parents),
        match c.id.proto {
            botscope_core::Proto::Tcp => "6".into(),
            botscope_core::Proto::Udp => "17".into(),
            botscope_core::Proto::Icmp => {
                if c.id.orig_h.is_ipv6() {
                    "58".into()
                } else {
                    "1".into()
                }
            }
            botscope_core::Proto::Other => "-".into(),
        },
    ]);
    r
}

/// dns.log row. Zeek logs `query` lower-cased; the JSON event keeps the
/// case as sent.
pub fn dns_row(d: &DnsEvent, opcode: Option<u8>) -> Vec<String> {
    let mut r = id_cols(d.ts, &d.uid, &d.id);
    r.extend([
        d.proto.clone(),
        d.trans_id.to_string(),
        d.rtt.map(interval).unwrap_or_else(|| "-".into()),
        d.query
            .as_ref()
            .map(|q| esc(&q.to_ascii_lowercase()))
            .unwrap_or_else(|| "-".into()),
        optn(d.qclass),
        opt(&d.qclass_name),
        optn(d.qtype),
        opt(&d.qtype_name),
        optn(d.rcode),
        opt(&d.rcode_name),
        b(d.aa),
        b(d.tc),
        b(d.rd),
        b(d.ra),
        d.z.to_string(),
        vec_field(&d.answers),
        if d.ttls.is_empty() {
            "-".into()
        } else {
            d.ttls
                .iter()
                .map(|t| interval(*t))
                .collect::<Vec<_>>()
                .join(",")
        },
        b(d.rejected),
        optn(opcode),
        opcode
            .map(crate::dns::parser::opcode_name)
            .unwrap_or_else(|| "-".into()),
    ]);
    r
}

/// irc.log rows for one message (JOIN with several channels gives several).
pub fn irc_rows(e: &IrcEvent) -> Vec<Vec<String>> {
    let base = |command: &str, value: String, addl: String, dcc: [String; 4]| {
        let mut r = id_cols(e.ts, &e.uid, &e.id);
        r.extend([opt(&e.nick), opt(&e.user), command.to_string(), value, addl]);
        r.extend(dcc);
        r
    };
    let none = || ["-".to_string(), "-".into(), "-".into(), "-".into()];
    if let Some(d) = &e.dcc {
        let dcc = [opt(&d.file_name), optn(d.size), "-".into(), "-".into()];
        return vec![base("DCC", opt(&e.value), opt(&e.addl), dcc)];
    }
    if e.command == "JOIN" {
        let chans = e.value.clone().unwrap_or_default();
        let keys: Vec<String> = e
            .addl
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        return chans
            .split(',')
            .filter(|c| !c.is_empty())
            .enumerate()
            .map(|(i, c)| {
                base(
                    "JOIN",
                    esc(c),
                    esc(keys.get(i).map(String::as_str).unwrap_or("")),
                    none(),
                )
            })
            .collect();
    }
    vec![base(&e.command, opt(&e.value), opt(&e.addl), none())]
}

/// tftp.log row.
pub fn tftp_row(t: &TftpEvent) -> Vec<String> {
    let mut r = id_cols(t.ts, &t.uid, &t.id);
    r.extend([
        b(t.wrq),
        esc(&t.fname),
        esc(&t.mode),
        opt(&t.uid_data),
        t.size.to_string(),
        t.block_sent.to_string(),
        t.block_acked.to_string(),
        optn(t.error_code),
        opt(&t.error_msg),
    ]);
    r
}

/// http.log row.
pub fn http_row(h: &HttpEvent) -> Vec<String> {
    let mut r = id_cols(h.ts, &h.uid, &h.id);
    r.extend([
        h.trans_depth.to_string(),
        opt(&h.method),
        opt(&h.host),
        opt(&h.uri),
        "-".into(),
        opt(&h.version),
        opt(&h.user_agent),
        "-".into(),
        h.request_body_len.to_string(),
        h.response_body_len.to_string(),
        optn(h.status_code),
        opt(&h.status_msg),
        "-".into(),
        "-".into(),
        "(empty)".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    r
}

/// The Zeek rows a record produces, with the schema each belongs to.
pub fn zeek_rows(r: &Record) -> Vec<(&'static Schema, Vec<String>)> {
    match &r.event {
        Event::Conn(c) => vec![(&CONN, conn_row(c))],
        Event::Dns(d) => vec![(&DNS, dns_row(d, r.dns_opcode))],
        Event::Irc(e) if r.irc_log_row => irc_rows(e).into_iter().map(|row| (&IRC, row)).collect(),
        Event::Irc(_) => Vec::new(),
        Event::Tftp(t) => vec![(&TFTP, tftp_row(t))],
        Event::Http(h) => vec![(&HTTP, http_row(h))],
    }
}

/// The event's own time.
pub fn event_ts(e: &Event) -> Ts {
    match e {
        Event::Conn(c) => c.ts,
        Event::Dns(d) => d.ts,
        Event::Irc(i) => i.ts,
        Event::Tftp(t) => t.ts,
        Event::Http(h) => h.ts,
    }
}

/// One JSON Lines line (without the newline): the event with its `kind`,
/// `ts` in RFC 3339 and `ts_epoch` in seconds.
pub fn json_line(r: &Record) -> String {
    let body = serde_json::to_string(&r.event).unwrap_or_else(|_| "{}".into());
    let epoch = event_ts(&r.event).zeek();
    let mut s = String::with_capacity(body.len() + 32);
    s.push_str("{\"ts_epoch\":");
    s.push_str(&epoch);
    if let Some(op) = r.dns_opcode {
        s.push_str(&format!(",\"opcode\":{op}"));
    }
    if body.len() > 2 {
        s.push(',');
        s.push_str(&body[1..]);
    } else {
        s.push('}');
    }
    s
}

fn zeek_time_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = botscope_core::time::civil_from_days(now.div_euclid(86_400));
    let s = now.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// Writes the Zeek header of one log.
pub fn write_zeek_header(w: &mut impl Write, s: &Schema) -> io::Result<()> {
    writeln!(w, "#separator \\x09")?;
    writeln!(w, "#set_separator\t,")?;
    writeln!(w, "#empty_field\t(empty)")?;
    writeln!(w, "#unset_field\t-")?;
    writeln!(w, "#path\t{}", s.path)?;
    writeln!(w, "#open\t{}", zeek_time_now())?;
    writeln!(w, "#fields\t{}", s.fields.join("\t"))?;
    writeln!(w, "#types\t{}", s.types.join("\t"))
}

/// Writes records into a folder as JSON Lines or Zeek logs. Files are
/// created on first use; nothing is held in memory beyond write buffers.
pub struct LogWriter {
    format: Format,
    dir: PathBuf,
    json: Option<BufWriter<File>>,
    zeek: BTreeMap<&'static str, BufWriter<File>>,
    /// Lines written per file name.
    pub written: BTreeMap<String, u64>,
}

impl LogWriter {
    /// A writer into `dir` (created if missing).
    pub fn new(dir: &Path, format: Format) -> io::Result<LogWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(LogWriter {
            format,
            dir: dir.to_path_buf(),
            json: None,
            zeek: BTreeMap::new(),
            written: BTreeMap::new(),
        })
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        match self.format {
            Format::Json => {
                if self.json.is_none() {
                    self.json = Some(BufWriter::with_capacity(
                        1 << 16,
                        File::create(self.dir.join("events.jsonl"))?,
                    ));
                }
                let w = self.json.as_mut().expect("opened");
                w.write_all(json_line(r).as_bytes())?;
                w.write_all(b"\n")?;
                *self.written.entry("events.jsonl".into()).or_default() += 1;
            }
            Format::Zeek => {
                for (schema, row) in zeek_rows(r) {
                    if !self.zeek.contains_key(schema.path) {
                        let mut w = BufWriter::with_capacity(
                            1 << 16,
                            File::create(self.dir.join(format!("{}.log", schema.path)))?,
                        );
                        write_zeek_header(&mut w, schema)?;
                        self.zeek.insert(schema.path, w);
                    }
                    let w = self.zeek.get_mut(schema.path).expect("opened");
                    w.write_all(row.join("\t").as_bytes())?;
                    w.write_all(b"\n")?;
                    *self
                        .written
                        .entry(format!("{}.log", schema.path))
                        .or_default() += 1;
                }
            }
        }
        Ok(())
    }

    /// Writes `#close` lines and flushes.
    pub fn finish(mut self) -> io::Result<BTreeMap<String, u64>> {
        if let Some(mut w) = self.json.take() {
            w.flush()?;
        }
        let close = zeek_time_now();
        for (_, mut w) in std::mem::take(&mut self.zeek) {
            writeln!(w, "#close\t{close}")?;
            w.flush()?;
        }
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_zeek() {
        assert_eq!(esc(""), "(empty)");
        assert_eq!(esc("-"), "\\x2d");
        assert_eq!(esc("a\tb"), "a\\x09b");
        assert_eq!(vec_field(&["a,b".into(), "c".into()]), "a\\x2cb,c");
        assert_eq!(vec_field(&[]), "-");
        assert_eq!(DNS.fields.len(), DNS.types.len());
        assert_eq!(CONN.fields.len(), CONN.types.len());
        assert_eq!(HTTP.fields.len(), HTTP.types.len());
        assert_eq!(IRC.fields.len(), IRC.types.len());
        assert_eq!(TFTP.fields.len(), TFTP.types.len());
    }
}
