//! Resolver-log readers. One entry point, [`read_input`], opens a file (or
//! `-` for standard input), undoes gzip/zstd compression found by magic
//! bytes, recognises the log format by content, and streams every query to
//! a callback. Bad records are counted by reason with their line (or frame)
//! number; a fatal problem (truncated compressed stream or dnstap frame,
//! I/O error) ends that file with an error after everything before it was
//! delivered.

pub mod bind;
pub mod csv;
pub mod dnstap;
mod lines;
pub mod mapped;
pub mod pcap;
pub mod stamp;
pub mod tz;
pub mod unbound;
pub mod zeek;

pub use tz::{Zone, ZoneError};

use botscope_core::error::SkipCounter;
use botscope_core::{Located, Location};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;

/// `ts_us` of a query whose line had no time stamp (delivered only with
/// [`ReadOptions::keep_undated`]).
pub const NO_TS: i64 = i64::MIN;

/// One client query as read from a log.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// Time, microseconds since the epoch ([`NO_TS`] when the line had
    /// none and undated lines are kept).
    pub ts_us: i64,
    /// The client (source) address.
    pub client: IpAddr,
    /// Query name as logged (case and trailing dot as found).
    pub qname: &'a [u8],
    /// The resolver's own address when the log names it.
    pub server: Option<IpAddr>,
    /// The response code (3 = NXDOMAIN) when the log gives it with the
    /// query (Zeek dns.log `rcode`/`rcode_name`); `None` otherwise.
    pub rcode: Option<u16>,
}

/// Log formats the readers understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// BIND 9 query log (any 9.x shape, syslog prefixes accepted).
    Bind,
    /// Unbound `log-queries` / `log-replies`.
    Unbound,
    /// dnstap Frame Streams.
    Dnstap,
    /// Zeek dns.log, tab-separated.
    ZeekTsv,
    /// Zeek dns.log, JSON Lines.
    ZeekJson,
    /// CSV with a column map.
    Csv,
    /// pcap or pcapng capture: DNS queries read through the capture engine.
    Pcap,
}

/// Which CSV columns hold what (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvColumns {
    /// Time column (epoch seconds or RFC 3339).
    pub ts: usize,
    /// Client address column.
    pub client: usize,
    /// Query name column.
    pub qname: usize,
    /// Resolver address column, if any.
    pub server: Option<usize>,
}

/// Why a `--csv-columns` value cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvColumnsError {
    /// A part is not `key=index`.
    #[error("expected key=index, got {0:?}")]
    NotKeyValue(String),
    /// The index is not a number.
    #[error("bad column index {0:?}")]
    BadIndex(String),
    /// A key other than ts, client, qname/query, server/resolver.
    #[error("unknown column key {0:?}")]
    UnknownKey(String),
    /// A required key is absent.
    #[error("missing {0}=")]
    Missing(&'static str),
}

impl std::str::FromStr for CsvColumns {
    type Err = CsvColumnsError;
    /// Parses `ts=0,client=1,qname=2[,server=3]`.
    fn from_str(s: &str) -> Result<Self, CsvColumnsError> {
        let (mut ts, mut client, mut qname, mut server) = (None, None, None, None);
        for part in s.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| CsvColumnsError::NotKeyValue(part.into()))?;
            let v: usize = v
                .trim()
                .parse()
                .map_err(|_| CsvColumnsError::BadIndex(v.into()))?;
            match k.trim() {
                "ts" => ts = Some(v),
                "client" => client = Some(v),
                "qname" | "query" => qname = Some(v),
                "server" | "resolver" => server = Some(v),
                other => return Err(CsvColumnsError::UnknownKey(other.into())),
            }
        }
        Ok(CsvColumns {
            ts: ts.ok_or(CsvColumnsError::Missing("ts"))?,
            client: client.ok_or(CsvColumnsError::Missing("client"))?,
            qname: qname.ok_or(CsvColumnsError::Missing("qname"))?,
            server,
        })
    }
}

/// Reader settings.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<LogFormat>,
    /// CSV column map (CSV is only chosen when this is set).
    pub csv_columns: Option<CsvColumns>,
    /// Year for syslog time stamps that carry none (`Mar 11 23:51:31`);
    /// `None`: the year of [`reference_time_us`](Self::reference_time_us),
    /// one less for months after its month (see [`stamp::YearRule`]).
    pub syslog_year: Option<i64>,
    /// Zone of stamps that carry none (BIND's `DD-Mon-YYYY HH:MM:SS`,
    /// syslog's `Mon DD HH:MM:SS`, zone-less ISO 8601); UTC by default.
    pub tz: Zone,
    /// The instant (UTC µs) the year of yearless stamps is judged from;
    /// `None`: the file's modification time ([`read_input`] and
    /// [`crate::parallel::read_parallel`] fill it in), else the current time.
    pub reference_time_us: Option<i64>,
    /// Deliver query lines that carry no time stamp (with `ts_us` =
    /// [`NO_TS`], counted in [`FileStats::undated`]) instead of skipping
    /// them; for `--window all`.
    pub keep_undated: bool,
    /// Count dnstap resolver-side messages (RESOLVER/FORWARDER/STUB
    /// queries) as well as client-side ones.
    pub dnstap_all_queries: bool,
    /// Checksum validation for packet captures (`On` by default; the
    /// `dns` command defaults to `Auto`, see `docs/capture.md`).
    pub checksums: botscope_capture::ChecksumMode,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            csv_columns: None,
            syslog_year: None,
            tz: Zone::Fixed(0),
            reference_time_us: None,
            dnstap_all_queries: false,
            keep_undated: false,
            checksums: botscope_capture::ChecksumMode::On,
        }
    }
}

/// What reading one input did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileStats {
    /// The file name (`-` for standard input).
    pub file: String,
    /// Format found.
    pub format: Option<LogFormat>,
    /// Queries delivered.
    pub queries: u64,
    /// Records skipped (see the skip counter for reasons).
    pub skipped: u64,
    /// Lines or frames looked at.
    pub records: u64,
    /// Queries delivered without a time stamp ([`ReadOptions::keep_undated`]).
    pub undated: u64,
    /// The error that ended the file early, if any.
    pub error: Option<String>,
    /// Packet captures: checksum mode in effect and bad IP/TCP/UDP counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksums: Option<botscope_capture::ChecksumStats>,
}

/// A fatal input error.
pub type ReadError = Located;

/// Longest line accepted; longer lines are skipped (counted) without
/// buffering them whole.
pub const MAX_LINE: usize = 64 * 1024;

/// Opens a path (`-` = stdin) and undoes compression by magic bytes.
pub fn open(path: &str) -> std::io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    let mut br = BufReader::with_capacity(256 * 1024, raw);
    let head = br.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(br),
        )))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            zstd::Decoder::with_buffer(br)?,
        )))
    } else {
        Ok(Box::new(br))
    }
}

/// Guesses the format from the first bytes (after decompression).
pub fn detect(head: &[u8], opts: &ReadOptions) -> Option<LogFormat> {
    if let Some(f) = opts.format {
        return Some(f);
    }
    if pcap::is_capture(head) {
        return Some(LogFormat::Pcap);
    }
    if head.len() >= 4 && head[..4] == [0, 0, 0, 0] {
        return Some(LogFormat::Dnstap);
    }
    if head.starts_with(b"#separator") {
        return Some(LogFormat::ZeekTsv);
    }
    if opts.csv_columns.is_some() {
        return Some(LogFormat::Csv);
    }
    // Look at the first few lines.
    for line in head.split(|b| *b == b'\n').take(20) {
        let t = line.trim_ascii_start();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        if t.starts_with(b"{") {
            return Some(LogFormat::ZeekJson);
        }
        let has = |w: &[u8]| memchr::memmem::find(t, w).is_some();
        // A BIND query line first: its name may contain `unbound`.
        if has(b"client ") && (has(b"query: ") || has(b"response: ") || has(b"answer: ")) {
            return Some(LogFormat::Bind);
        }
        if has(b"unbound") && (has(b" info: ") || has(b" query: ") || has(b" reply: ")) {
            return Some(LogFormat::Unbound);
        }
        if memchr::memmem::find(t, b"client ").is_some()
            || memchr::memmem::find(t, b"named[").is_some()
        {
            return Some(LogFormat::Bind);
        }
    }
    None
}

/// Reads one input, calling `sink` for every query. Skipped records go to
/// `skips`. Returns the file's statistics; on a fatal error the statistics
/// up to that point are returned with `error` set (everything before it
/// was delivered).
pub fn read_input(
    path: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
) -> FileStats {
    let mut stats = FileStats {
        file: path.to_string(),
        ..Default::default()
    };
    let with_ref;
    let opts = if opts.reference_time_us.is_none() && opts.syslog_year.is_none() {
        with_ref = ReadOptions {
            reference_time_us: Some(reference_time(path)),
            ..opts.clone()
        };
        &with_ref
    } else {
        opts
    };
    // A plain regular file is read straight out of the page cache.
    if let Some(map) = mapped::Mapped::open(path).filter(|m| mappable(m.bytes(), opts)) {
        let all = 0..map.bytes().len();
        if let Err(e) = read_mapped(&map, all, path, opts, sink, skips, &mut stats) {
            stats.error = Some(e.to_string());
        }
        return stats;
    }
    let mut r = match open(path) {
        Ok(r) => r,
        Err(e) => {
            stats.error = Some(format!("{path}: {e}"));
            return stats;
        }
    };
    // A capture goes to the capture engine, which wants an owned stream.
    let is_capture = match r.fill_buf() {
        Ok(head) => !head.is_empty() && detect(head, opts) == Some(LogFormat::Pcap),
        Err(e) => {
            stats.error = Some(format!("{path}: {e}"));
            return stats;
        }
    };
    let res = if is_capture {
        stats.format = Some(LogFormat::Pcap);
        pcap::read_capture_with(Box::new(r), path, opts.checksums, sink, skips, &mut stats)
    } else {
        read_from(&mut r, path, opts, sink, skips, &mut stats)
    };
    if let Err(e) = res {
        stats.error = Some(e.to_string());
    }
    stats
}

/// The instant yearless stamps of `path` are judged from: its modification
/// time, or now (standard input, or no such file).
pub fn reference_time(path: &str) -> i64 {
    let t = if path == "-" {
        None
    } else {
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    };
    let t = t.unwrap_or_else(std::time::SystemTime::now);
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// The clock the line readers use for `opts`.
pub fn clock(opts: &ReadOptions) -> stamp::Clock {
    let year = match opts.syslog_year {
        Some(y) => stamp::YearRule::Fixed(y),
        None => {
            let r = opts
                .reference_time_us
                .unwrap_or_else(|| reference_time("-"));
            stamp::YearRule::before(r, &opts.tz)
        }
    };
    stamp::Clock::new(opts.tz.clone(), year)
}

/// Whether a mapped file's bytes are read from the map: not compressed
/// (the decoders stream) and not a capture (the capture engine owns its
/// stream).
pub(crate) fn mappable(bytes: &[u8], opts: &ReadOptions) -> bool {
    let head = &bytes[..bytes.len().min(HEAD)];
    !head.starts_with(&[0x1f, 0x8b])
        && !head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        && detect(head, opts) != Some(LogFormat::Pcap)
}

/// How much of a mapped file (or range) is looked at to recognise the
/// format and prescan: what one buffered read holds.
const HEAD: usize = 256 * 1024;

/// Where a text log's bytes come from.
enum Source<'a> {
    /// A reader (compressed input, standard input, pipes).
    Stream(&'a mut dyn BufRead),
    /// Bytes of a mapped file: `data` is `map.bytes()[base..]` cut to a range.
    Mapped {
        data: &'a [u8],
        map: &'a mapped::Mapped,
    },
}

impl Source<'_> {
    /// Calls `f` with every line (number, bytes), bounded as
    /// [`lines::for_each_line`] is.
    fn each_line(
        &mut self,
        name: &str,
        stats: &mut FileStats,
        f: impl FnMut(u64, &[u8], &mut FileStats),
    ) -> Result<(), ReadError> {
        match self {
            Source::Stream(r) => lines::for_each_line(*r, name, stats, f),
            Source::Mapped { data, map } => lines::for_each_line_in(data, stats, *map, f)
                .map_err(|line| shrank(name, map, Some(line))),
        }
    }
}

/// The error that ends a mapped file which shrank while it was read.
fn shrank(name: &str, map: &mapped::Mapped, line: Option<u64>) -> ReadError {
    let at = map.truncated_at();
    Located {
        location: Location {
            file: name.to_string(),
            offset: at,
            line,
            ..Default::default()
        },
        reason: format!(
            "the file shrank while it was read (mapped {} bytes, gone from offset {})",
            map.bytes().len(),
            at.unwrap_or(0)
        ),
    }
}

/// Like [`read_input`] for the bytes `range` of a mapped file (text logs
/// and dnstap), reported under `name`; a file that shrinks meanwhile ends
/// with an error naming the offset and line reached.
pub fn read_mapped(
    map: &mapped::Mapped,
    range: std::ops::Range<usize>,
    name: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    let data = map.bytes().get(range).unwrap_or_default();
    let head = &data[..data.len().min(HEAD)];
    read_source(
        Source::Mapped { data, map },
        head,
        name,
        opts,
        sink,
        skips,
        stats,
    )
}

/// Like [`read_input`] for an already opened reader (text logs and dnstap;
/// captures need [`read_input`] or [`pcap::read_capture`]).
pub fn read_from(
    r: &mut dyn BufRead,
    name: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    let head = r.fill_buf().map_err(|e| Located {
        location: Location {
            file: name.to_string(),
            offset: Some(0),
            ..Default::default()
        },
        reason: e.to_string(),
    })?;
    // The head is copied out: the reader is borrowed again for the lines.
    let head = head.to_vec();
    read_source(Source::Stream(r), &head, name, opts, sink, skips, stats)
}

#[allow(clippy::too_many_arguments)]
fn read_source(
    mut src: Source<'_>,
    head: &[u8],
    name: &str,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    let fatal = |offset: Option<u64>, line: Option<u64>, reason: String| Located {
        location: Location {
            file: name.to_string(),
            offset,
            line,
            ..Default::default()
        },
        reason,
    };
    if head.is_empty() {
        return Ok(());
    }
    let format = detect(head, opts).ok_or_else(|| {
        fatal(
            Some(0),
            None,
            "unrecognised log format (use --format or --csv-columns)".into(),
        )
    })?;
    stats.format = Some(format);
    let mut count_skip = |line: u64, reason: &str, stats: &mut FileStats| {
        stats.skipped += 1;
        skips.add(&Located {
            location: Location {
                file: name.to_string(),
                line: Some(line),
                ..Default::default()
            },
            reason: reason.to_string(),
        });
    };
    let result = match format {
        LogFormat::Pcap => Err(fatal(
            Some(0),
            None,
            "a capture must be opened by path (read_input), not as a borrowed stream".into(),
        )),
        LogFormat::Dnstap => match &mut src {
            Source::Stream(r) => dnstap::read_frames(*r, name, opts, sink, skips, stats),
            Source::Mapped { data, map } => {
                let mut bytes: &[u8] = data;
                let res = dnstap::read_frames(&mut bytes, name, opts, sink, skips, stats);
                if map.is_truncated() {
                    Err(shrank(name, map, None))
                } else {
                    res
                }
            }
        },
        LogFormat::Bind => {
            let mut p = bind::BindParser::new(clock(opts), opts.keep_undated);
            p.prescan(head);
            src.each_line(name, stats, |n, line, stats| match p.parse(line) {
                Ok(q) => {
                    stats.queries += 1;
                    stats.undated += u64::from(q.ts_us == NO_TS);
                    sink(&q)
                }
                Err(reason) => count_skip(n, reason, stats),
            })
        }
        LogFormat::Unbound => {
            let mut p = unbound::UnboundParser::new(clock(opts), opts.keep_undated);
            p.prescan(head);
            src.each_line(name, stats, |n, line, stats| match p.parse(line) {
                Ok(q) => {
                    stats.queries += 1;
                    stats.undated += u64::from(q.ts_us == NO_TS);
                    sink(&q)
                }
                Err(reason) => count_skip(n, reason, stats),
            })
        }
        LogFormat::ZeekTsv => {
            let mut p = zeek::ZeekTsvParser::default();
            src.each_line(name, stats, |n, line, stats| match p.parse(line) {
                Ok(Some(q)) => {
                    stats.queries += 1;
                    sink(&q)
                }
                Ok(None) => {}
                Err(reason) => count_skip(n, reason, stats),
            })
        }
        LogFormat::ZeekJson => src.each_line(name, stats, |n, line, stats| {
            if line.trim_ascii().is_empty() {
                return;
            }
            match zeek::parse_json(line, &mut |q| {
                stats.queries += 1;
                sink(q)
            }) {
                Ok(()) => {}
                Err(reason) => count_skip(n, reason, stats),
            }
        }),
        LogFormat::Csv => {
            let cols = opts
                .csv_columns
                .ok_or_else(|| fatal(None, None, "CSV input needs --csv-columns".into()))?;
            src.each_line(name, stats, |n, line, stats| {
                if line.trim_ascii().is_empty() {
                    return;
                }
                match csv::parse(line, &cols) {
                    Ok(q) => {
                        stats.queries += 1;
                        sink(&q)
                    }
                    // A header line is expected, not an error.
                    Err(_) if n == 1 => {}
                    Err(reason) => count_skip(n, reason, stats),
                }
            })
        }
    };
    for line in lines::take_overlong() {
        skips.add(&Located {
            location: Location {
                file: name.to_string(),
                line: Some(line),
                ..Default::default()
            },
            reason: format!("line longer than {MAX_LINE} bytes"),
        });
    }
    result
}

/// Parses a textual IP address from bytes.
#[inline]
pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if b.is_empty() || b.len() > 45 {
        return None;
    }
    // IPv4 fast path: parse octets by hand (the common case in ISP logs).
    if let Some(v4) = parse_v4(b) {
        return Some(IpAddr::V4(v4));
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

#[inline]
fn parse_v4(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut oct = [0u8; 4];
    let mut i = 0;
    let mut cur: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c.is_ascii_digit() {
            cur = cur * 10 + (c - b'0') as u32;
            digits += 1;
            if digits > 3 || cur > 255 {
                return None;
            }
        } else if c == b'.' {
            if digits == 0 || i >= 3 {
                return None;
            }
            oct[i] = cur as u8;
            i += 1;
            cur = 0;
            digits = 0;
        } else {
            return None;
        }
    }
    if i != 3 || digits == 0 {
        return None;
    }
    oct[3] = cur as u8;
    Some(std::net::Ipv4Addr::from(oct))
}

/// Parses epoch seconds with an optional fraction (`1114041600.123456`).
pub(crate) fn parse_epoch(b: &[u8]) -> Option<i64> {
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || int.len() > 12 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs: i64 = std::str::from_utf8(int).ok()?.parse().ok()?;
    let mut micros = 0i64;
    for i in 0..6 {
        micros = micros * 10 + frac.get(i).map(|d| (d - b'0') as i64).unwrap_or(0);
    }
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_epochs() {
        assert_eq!(parse_ip(b"10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(parse_ip(b"fe80::1"), Some("fe80::1".parse().unwrap()));
        assert_eq!(parse_ip(b"256.1.1.1"), None);
        assert_eq!(parse_ip(b"1.2.3"), None);
        assert_eq!(
            parse_epoch(b"1547188415.857497"),
            Some(1_547_188_415_857_497)
        );
        assert_eq!(parse_epoch(b"12.5"), Some(12_500_000));
        assert_eq!(parse_epoch(b"XXXXXXXXXX.XXXXXX"), None);
        let c: CsvColumns = "ts=2,client=0,qname=1".parse().unwrap();
        assert_eq!((c.ts, c.client, c.qname, c.server), (2, 0, 1, None));
        assert!("ts=1,client=2".parse::<CsvColumns>().is_err());
    }
}
