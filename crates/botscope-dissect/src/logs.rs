//! Log writers: JSON Lines (every event, `ts` in RFC 3339 plus `ts_epoch`)
//! and Zeek TSV (`conn.log`, `dns.log`, `irc.log`, `tftp.log`, `http.log`, `ftp.log`)
//! with Zeek's header lines, column names and types, so `zeek-cut` and
//! other Zeek tooling read them.

use crate::Record;
use botscope_core::events::{Conn, DnsEvent, Event, FtpEvent, HttpEvent, IrcEvent, TftpEvent};
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

/// Zeek column names and types of one log. Every log starts with the six
/// connection columns of [`ID_COLUMNS`]; `columns` are the ones after them.
pub struct Schema {
    /// `#path`.
    pub path: &'static str,
    /// (`#fields` name, `#types` type) of the columns after the id ones.
    pub columns: &'static [(&'static str, &'static str)],
}

/// `ts`, `uid` and `id.*`: the first columns of every log.
pub const ID_COLUMNS: [(&str, &str); 6] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
];

impl Schema {
    fn all(&self) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
        ID_COLUMNS.iter().chain(self.columns.iter())
    }
    /// The `#fields` names, id columns first.
    pub fn fields(&self) -> Vec<&'static str> {
        self.all().map(|c| c.0).collect()
    }
    /// The `#types`, id columns first.
    pub fn types(&self) -> Vec<&'static str> {
        self.all().map(|c| c.1).collect()
    }
}

/// conn.log.
pub const CONN: Schema = Schema {
    path: "conn",
    columns: &[
        ("proto", "enum"),
        ("service", "string"),
        ("duration", "interval"),
        ("orig_bytes", "count"),
        ("resp_bytes", "count"),
        ("conn_state", "string"),
        ("local_orig", "bool"),
        ("local_resp", "bool"),
        ("missed_bytes", "count"),
        ("history", "string"),
        ("orig_pkts", "count"),
        ("orig_ip_bytes", "count"),
        ("resp_pkts", "count"),
        ("resp_ip_bytes", "count"),
        ("tunnel_parents", "set[string]"),
        ("ip_proto", "count"),
    ],
};

/// dns.log.
pub const DNS: Schema = Schema {
    path: "dns",
    columns: &[
        ("proto", "enum"),
        ("trans_id", "count"),
        ("rtt", "interval"),
        ("query", "string"),
        ("qclass", "count"),
        ("qclass_name", "string"),
        ("qtype", "count"),
        ("qtype_name", "string"),
        ("rcode", "count"),
        ("rcode_name", "string"),
        ("AA", "bool"),
        ("TC", "bool"),
        ("RD", "bool"),
        ("RA", "bool"),
        ("Z", "count"),
        ("answers", "vector[string]"),
        ("TTLs", "vector[interval]"),
        ("rejected", "bool"),
        ("opcode", "count"),
        ("opcode_name", "string"),
    ],
};

/// irc.log.
pub const IRC: Schema = Schema {
    path: "irc",
    columns: &[
        ("nick", "string"),
        ("user", "string"),
        ("command", "string"),
        ("value", "string"),
        ("addl", "string"),
        ("dcc_file_name", "string"),
        ("dcc_file_size", "count"),
        ("dcc_mime_type", "string"),
        ("fuid", "string"),
    ],
};

/// tftp.log (spicy-tftp).
pub const TFTP: Schema = Schema {
    path: "tftp",
    columns: &[
        ("wrq", "bool"),
        ("fname", "string"),
        ("mode", "string"),
        ("uid_data", "string"),
        ("size", "count"),
        ("block_sent", "count"),
        ("block_acked", "count"),
        ("error_code", "count"),
        ("error_msg", "string"),
    ],
};

/// http.log.
pub const HTTP: Schema = Schema {
    path: "http",
    columns: &[
        ("trans_depth", "count"),
        ("method", "string"),
        ("host", "string"),
        ("uri", "string"),
        ("referrer", "string"),
        ("version", "string"),
        ("user_agent", "string"),
        ("origin", "string"),
        ("request_body_len", "count"),
        ("response_body_len", "count"),
        ("status_code", "count"),
        ("status_msg", "string"),
        ("info_code", "count"),
        ("info_msg", "string"),
        ("tags", "set[enum]"),
        ("username", "string"),
        ("password", "string"),
        ("proxied", "set[string]"),
        ("orig_fuids", "vector[string]"),
        ("orig_filenames", "vector[string]"),
        ("orig_mime_types", "vector[string]"),
        ("resp_fuids", "vector[string]"),
        ("resp_filenames", "vector[string]"),
        ("resp_mime_types", "vector[string]"),
    ],
};

/// ftp.log.
pub const FTP: Schema = Schema {
    path: "ftp",
    columns: &[
        ("user", "string"),
        ("password", "string"),
        ("command", "string"),
        ("arg", "string"),
        ("mime_type", "string"),
        ("file_size", "count"),
        ("reply_code", "count"),
        ("reply_msg", "string"),
        ("data_channel.passive", "bool"),
        ("data_channel.orig_h", "addr"),
        ("data_channel.resp_h", "addr"),
        ("data_channel.resp_p", "port"),
        ("fuid", "string"),
    ],
};

/// Zeek's escaping of one string field: `\` and non-printable bytes as
/// `\xNN`, an empty string as `(empty)`, a lone `-` as `\x2d`.
pub fn esc(s: &str) -> String {
    let mut o = Vec::with_capacity(s.len());
    Tsv(&mut o).text(s);
    o.pop();
    String::from_utf8(o).unwrap_or_default()
}

/// Writes one Zeek TSV row straight into a byte buffer: each field is
/// followed by a tab, and [`Tsv::end`] turns the last tab into the line
/// end. No per-field allocation (logs are written per flow and event).
struct Tsv<'a>(&'a mut Vec<u8>);

impl Tsv<'_> {
    fn raw(&mut self, s: &[u8]) {
        self.0.extend_from_slice(s);
        self.0.push(b'\t');
    }
    fn unset(&mut self) {
        self.raw(b"-");
    }
    fn escaped(&mut self, s: &str, in_set: bool) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &c in s.as_bytes() {
            match c {
                b'\\' => self.0.extend_from_slice(b"\\x5c"),
                b',' if in_set => self.0.extend_from_slice(b"\\x2c"),
                c if c < 0x20 || c == 0x7f => {
                    self.0.extend_from_slice(&[
                        b'\\',
                        b'x',
                        HEX[(c >> 4) as usize],
                        HEX[(c & 15) as usize],
                    ]);
                }
                c => self.0.push(c),
            }
        }
    }
    /// A string field (Zeek's escaping, `(empty)`, `\x2d`).
    fn text(&mut self, s: &str) {
        match s {
            "" => self.raw(b"(empty)"),
            "-" => self.raw(b"\\x2d"),
            s => {
                self.escaped(s, false);
                self.0.push(b'\t');
            }
        }
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.unset(),
        }
    }
    fn num(&mut self, v: u64) {
        let mut b = [0u8; 20];
        let mut i = b.len();
        let mut v = v;
        loop {
            i -= 1;
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.raw(&b[i..]);
    }
    fn optn(&mut self, v: Option<u64>) {
        match v {
            Some(v) => self.num(v),
            None => self.unset(),
        }
    }
    fn flag(&mut self, v: bool) {
        self.raw(if v { b"T" } else { b"F" });
    }
    fn interval_value(&mut self, v: f64) {
        // Six decimals, as Zeek prints intervals.
        let _ = write!(self.0, "{v:.6}");
    }
    fn interval(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.interval_value(v);
                self.0.push(b'\t');
            }
            None => self.unset(),
        }
    }
    /// A set/vector of strings: `-` when empty, else comma-separated.
    fn set<S: AsRef<str>>(&mut self, v: &[S]) {
        if v.is_empty() {
            return self.unset();
        }
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            self.escaped(s.as_ref(), true);
        }
        self.0.push(b'\t');
    }
    fn ts(&mut self, ts: Ts) {
        let micros = ts.0.rem_euclid(1_000_000) as u64;
        let secs = ts.secs();
        if secs < 0 {
            let _ = write!(self.0, "{secs}");
        } else {
            self.num(secs as u64);
            self.0.pop();
        }
        let mut frac = *b".000000";
        let mut m = micros;
        for d in frac[1..].iter_mut().rev() {
            *d = b'0' + (m % 10) as u8;
            m /= 10;
        }
        self.raw(&frac);
    }
    fn addr(&mut self, a: std::net::IpAddr) {
        match a {
            // Dotted quad written directly: `Display` goes through the
            // formatting machinery, which showed in profiles (two
            // addresses per conn.log row).
            std::net::IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        self.0.push(b'.');
                    }
                    self.num(o as u64);
                    self.0.pop();
                }
                self.0.push(b'\t');
            }
            std::net::IpAddr::V6(_) => {
                let _ = write!(self.0, "{a}\t");
            }
        }
    }
    /// The six id columns.
    fn id(&mut self, ts: Ts, uid: &str, k: &FlowKey) {
        self.ts(ts);
        self.raw(uid.as_bytes());
        self.addr(k.orig_h);
        self.num(k.orig_p as u64);
        self.addr(k.resp_h);
        self.num(k.resp_p as u64);
    }
    /// Ends the row: the last tab becomes a newline.
    fn end(&mut self) {
        if let Some(l) = self.0.last_mut() {
            *l = b'\n';
        }
    }
}

/// conn.log row.
fn conn_row(t: &mut Tsv<'_>, c: &Conn) {
    t.id(c.ts, &c.uid, &c.id);
    t.raw(c.id.proto.to_string().as_bytes());
    t.opt(c.service.as_deref());
    t.interval(c.duration);
    t.optn(c.orig_bytes);
    t.optn(c.resp_bytes);
    t.raw(c.conn_state.as_bytes());
    t.unset();
    t.unset();
    t.num(c.missed_bytes);
    if c.history.is_empty() {
        t.unset();
    } else {
        t.text(&c.history);
    }
    t.num(c.orig_pkts);
    t.num(c.orig_ip_bytes);
    t.num(c.resp_pkts);
    t.num(c.resp_ip_bytes);
    t.set(&c.tunnel_parents);
    match c.id.proto {
        botscope_core::Proto::Tcp => t.raw(b"6"),
        botscope_core::Proto::Udp => t.raw(b"17"),
        botscope_core::Proto::Icmp if c.id.orig_h.is_ipv6() => t.raw(b"58"),
        botscope_core::Proto::Icmp => t.raw(b"1"),
        botscope_core::Proto::Other => t.unset(),
    }
    t.end();
}

/// dns.log row. Zeek logs `query` lower-cased; the JSON event keeps the
/// case as sent.
fn dns_row(t: &mut Tsv<'_>, d: &DnsEvent, opcode: Option<u8>) {
    t.id(d.ts, &d.uid, &d.id);
    t.raw(d.proto.as_bytes());
    t.num(d.trans_id as u64);
    t.interval(d.rtt);
    t.opt(d.query.as_ref().map(|q| q.to_ascii_lowercase()).as_deref());
    t.optn(d.qclass.map(u64::from));
    t.opt(d.qclass_name.as_deref());
    t.optn(d.qtype.map(u64::from));
    t.opt(d.qtype_name.as_deref());
    t.optn(d.rcode.map(u64::from));
    t.opt(d.rcode_name.as_deref());
    t.flag(d.aa);
    t.flag(d.tc);
    t.flag(d.rd);
    t.flag(d.ra);
    t.num(d.z as u64);
    t.set(&d.answers);
    if d.ttls.is_empty() {
        t.unset();
    } else {
        for (i, v) in d.ttls.iter().enumerate() {
            if i > 0 {
                t.0.push(b',');
            }
            t.interval_value(*v);
        }
        t.0.push(b'\t');
    }
    t.flag(d.rejected);
    t.optn(opcode.map(u64::from));
    match opcode {
        Some(o) => t.raw(crate::dns::parser::opcode_name(o).as_bytes()),
        None => t.unset(),
    }
    t.end();
}

/// irc.log rows for one message (JOIN with several channels gives several).
fn irc_rows(t: &mut Tsv<'_>, e: &IrcEvent) {
    let row = |t: &mut Tsv<'_>, command: &str, value: Option<&str>, addl: Option<&str>| {
        t.id(e.ts, &e.uid, &e.id);
        t.opt(e.nick.as_deref());
        t.opt(e.user.as_deref());
        t.raw(command.as_bytes());
        t.opt(value);
        t.opt(addl);
        match &e.dcc {
            Some(d) => {
                t.opt(d.file_name.as_deref());
                t.optn(d.size);
            }
            None => {
                t.unset();
                t.unset();
            }
        }
        t.unset();
        t.unset();
        t.end();
    };
    if e.dcc.is_some() {
        return row(t, "DCC", e.value.as_deref(), e.addl.as_deref());
    }
    if e.command == "JOIN" {
        let chans = e.value.as_deref().unwrap_or_default();
        let mut keys = e.addl.as_deref().unwrap_or("").split(',');
        for c in chans.split(',') {
            let key = keys.next().unwrap_or("");
            if !c.is_empty() {
                row(t, "JOIN", Some(c), Some(key));
            }
        }
        return;
    }
    row(t, &e.command, e.value.as_deref(), e.addl.as_deref())
}

/// tftp.log row.
fn tftp_row(w: &mut Tsv<'_>, t: &TftpEvent) {
    w.id(t.ts, &t.uid, &t.id);
    w.flag(t.wrq);
    w.text(&t.fname);
    w.text(&t.mode);
    w.opt(t.uid_data.as_deref());
    w.num(t.size);
    w.num(t.block_sent);
    w.num(t.block_acked);
    w.optn(t.error_code.map(u64::from));
    w.opt(t.error_msg.as_deref());
    w.end();
}

/// http.log row.
fn http_row(t: &mut Tsv<'_>, h: &HttpEvent) {
    t.id(h.ts, &h.uid, &h.id);
    t.num(h.trans_depth as u64);
    t.opt(h.method.as_deref());
    t.opt(h.host.as_deref());
    t.opt(h.uri.as_deref());
    t.unset();
    t.opt(h.version.as_deref());
    t.opt(h.user_agent.as_deref());
    t.unset();
    t.num(h.request_body_len);
    t.num(h.response_body_len);
    t.optn(h.status_code.map(u64::from));
    t.opt(h.status_msg.as_deref());
    t.unset();
    t.unset();
    t.raw(b"(empty)");
    for _ in 0..9 {
        t.unset();
    }
    t.end();
}

/// ftp.log row (the password hidden unless the user is a guest, as Zeek).
fn ftp_row(t: &mut Tsv<'_>, f: &FtpEvent) {
    t.id(f.ts, &f.uid, &f.id);
    t.text(&f.user);
    t.opt(crate::ftp::state::shown_password(&f.user, f.password.as_deref()).as_deref());
    t.text(&f.command);
    t.opt(f.arg.as_deref());
    t.opt(f.mime_type.as_deref());
    t.optn(f.file_size);
    t.optn(f.reply_code.map(u64::from));
    t.opt(f.reply_msg.as_deref());
    match &f.data_channel {
        Some(d) => {
            t.flag(d.passive);
            t.addr(d.orig_h);
            t.addr(d.resp_h);
            t.num(d.resp_p as u64);
        }
        None => {
            for _ in 0..4 {
                t.unset();
            }
        }
    }
    t.unset();
    t.end();
}

/// Appends the Zeek TSV lines (newline-terminated) a record produces to
/// `buf`, and returns the schema they belong to (`None`: no Zeek row, as
/// for IRC messages that are not `irc.log` rows).
pub fn write_zeek_rows(r: &Record, buf: &mut Vec<u8>) -> Option<&'static Schema> {
    let t = &mut Tsv(buf);
    match &r.event {
        Event::Conn(c) => {
            conn_row(t, c);
            Some(&CONN)
        }
        Event::Dns(d) => {
            dns_row(t, d, r.dns_opcode);
            Some(&DNS)
        }
        Event::Irc(e) if r.irc_log_row => {
            irc_rows(t, e);
            Some(&IRC)
        }
        Event::Irc(_) => None,
        Event::Tftp(x) => {
            tftp_row(t, x);
            Some(&TFTP)
        }
        Event::Http(h) => {
            http_row(t, h);
            Some(&HTTP)
        }
        Event::Ftp(f) => {
            ftp_row(t, f);
            Some(&FTP)
        }
        Event::Shell(_)
        | Event::Exploit(_)
        | Event::Binary(_)
        | Event::Flood { .. }
        | Event::Scan(_)
        | Event::Relay(_)
        | Event::P2p(_) => None,
    }
}

/// The Zeek rows a record produces, with the schema each belongs to, as
/// field strings (for comparisons; the writer uses [`write_zeek_rows`]).
pub fn zeek_rows(r: &Record) -> Vec<(&'static Schema, Vec<String>)> {
    let mut buf = Vec::new();
    let Some(schema) = write_zeek_rows(r, &mut buf) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&buf)
        .lines()
        .map(|l| (schema, l.split('\t').map(str::to_string).collect()))
        .collect()
}

/// The event's own time.
pub fn event_ts(e: &Event) -> Ts {
    match e {
        Event::Conn(c) => c.ts,
        Event::Dns(d) => d.ts,
        Event::Irc(i) => i.ts,
        Event::Tftp(t) => t.ts,
        Event::Http(h) => h.ts,
        Event::Ftp(f) => f.ts,
        Event::Shell(s) => s.ts,
        Event::Exploit(e) => e.ts,
        Event::Binary(b) => b.ts,
        Event::Flood { flood } => flood.start,
        Event::Scan(s) => s.start,
        Event::Relay(r) => r.ts,
        Event::P2p(p) => p.ts,
    }
}

/// Appends one JSON Lines line (with its newline) to `buf`: the event
/// with its `kind`, `ts` in RFC 3339 and `ts_epoch` in seconds. `scratch`
/// is reused between calls.
pub fn write_json_line(r: &Record, buf: &mut Vec<u8>, scratch: &mut Vec<u8>) {
    scratch.clear();
    if serde_json::to_writer(&mut *scratch, &r.event).is_err() {
        scratch.clear();
        scratch.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"{\"ts_epoch\":");
    Tsv(buf).ts(event_ts(&r.event));
    buf.pop();
    if let Some(op) = r.dns_opcode {
        let _ = write!(buf, ",\"opcode\":{op}");
    }
    if scratch.len() > 2 {
        buf.push(b',');
        buf.extend_from_slice(&scratch[1..]);
    } else {
        buf.push(b'}');
    }
    buf.push(b'\n');
}

/// One JSON Lines line (without the newline).
pub fn json_line(r: &Record) -> String {
    let mut buf = Vec::new();
    write_json_line(r, &mut buf, &mut Vec::new());
    buf.pop();
    String::from_utf8(buf).unwrap_or_default()
}

/// Writes the Zeek header of one log.
pub fn write_zeek_header(w: &mut impl Write, s: &Schema) -> io::Result<()> {
    writeln!(w, "#separator \\x09")?;
    writeln!(w, "#set_separator\t,")?;
    writeln!(w, "#empty_field\t(empty)")?;
    writeln!(w, "#unset_field\t-")?;
    writeln!(w, "#path\t{}", s.path)?;
    writeln!(w, "#open\t{}", botscope_capture::connlog::zeek_time_now())?;
    writeln!(w, "#fields\t{}", s.fields().join("\t"))?;
    writeln!(w, "#types\t{}", s.types().join("\t"))
}

/// Write buffer size per log file.
const WRITE_BUFFER: usize = 1 << 20;

/// One open log file and its line count.
struct LogFile {
    w: BufWriter<File>,
    lines: u64,
}

/// Writes records into a folder as JSON Lines or Zeek logs. Files are
/// created on first use; nothing is held in memory beyond write buffers.
pub struct LogWriter {
    format: Format,
    dir: PathBuf,
    /// Open files by log path (`events` for JSON Lines).
    files: Vec<(&'static str, LogFile)>,
    line: Vec<u8>,
    scratch: Vec<u8>,
}

impl LogWriter {
    /// A writer into `dir` (created if missing).
    pub fn new(dir: &Path, format: Format) -> io::Result<LogWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(LogWriter {
            format,
            dir: dir.to_path_buf(),
            files: Vec::new(),
            line: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(4096),
        })
    }

    /// The open file of a log (created, with its Zeek header, on first use).
    fn file(&mut self, path: &'static str, schema: Option<&Schema>) -> io::Result<&mut LogFile> {
        let i = match self.files.iter().position(|f| f.0 == path) {
            Some(i) => i,
            None => {
                let name = match schema {
                    Some(_) => format!("{path}.log"),
                    None => format!("{path}.jsonl"),
                };
                let mut w =
                    BufWriter::with_capacity(WRITE_BUFFER, File::create(self.dir.join(name))?);
                if let Some(s) = schema {
                    write_zeek_header(&mut w, s)?;
                }
                self.files.push((path, LogFile { w, lines: 0 }));
                self.files.len() - 1
            }
        };
        Ok(&mut self.files[i].1)
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        self.line.clear();
        let (path, schema) = match self.format {
            Format::Json => {
                write_json_line(r, &mut self.line, &mut self.scratch);
                ("events", None)
            }
            Format::Zeek => match write_zeek_rows(r, &mut self.line) {
                Some(s) => (s.path, Some(s)),
                None => return Ok(()),
            },
        };
        let line = std::mem::take(&mut self.line);
        let rows = line.iter().filter(|&&b| b == b'\n').count() as u64;
        let res = self.file(path, schema).and_then(|f| {
            f.lines += rows;
            f.w.write_all(&line)
        });
        self.line = line;
        res
    }

    /// Lines written per file name so far.
    pub fn written(&self) -> BTreeMap<String, u64> {
        self.files
            .iter()
            .map(|(p, f)| (file_name(p, self.format), f.lines))
            .collect()
    }

    /// Writes `#close` lines and flushes.
    pub fn finish(mut self) -> io::Result<BTreeMap<String, u64>> {
        let written = self.written();
        let close = botscope_capture::connlog::zeek_time_now();
        for (_, mut f) in std::mem::take(&mut self.files) {
            if self.format == Format::Zeek {
                writeln!(f.w, "#close\t{close}")?;
            }
            f.w.flush()?;
        }
        Ok(written)
    }
}

fn file_name(path: &str, format: Format) -> String {
    match format {
        Format::Json => format!("{path}.jsonl"),
        Format::Zeek => format!("{path}.log"),
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
        let mut b = Vec::new();
        let mut t = Tsv(&mut b);
        t.set(&["a,b", "c"]);
        t.set::<&str>(&[]);
        t.ts(Ts(1_320_279_566_452_687));
        t.num(0);
        t.num(u64::MAX);
        t.addr("10.0.255.7".parse().unwrap());
        t.addr("::ffff:10.0.0.1".parse().unwrap());
        t.end();
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "a\\x2cb,c\t-\t1320279566.452687\t0\t18446744073709551615\t10.0.255.7\t::ffff:10.0.0.1\n"
        );
        assert_eq!(CONN.fields().len(), 22);
        assert_eq!(DNS.fields().len(), 26);
        assert_eq!(HTTP.fields().len(), 30);
        assert_eq!(IRC.fields().len(), 15);
        assert_eq!(TFTP.fields().len(), 15);
        assert_eq!(FTP.fields().len(), 19);
    }
}
