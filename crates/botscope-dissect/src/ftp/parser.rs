//! FTP wire parsing (RFC 959, RFC 2428): client command lines, reply
//! lines (single and multi-line), the data-channel arguments of PORT,
//! EPRT, 227 and 229, and the helpers Zeek's `ftp.log` uses (sizes in
//! reply text, paths). Pure functions over bounded byte slices.

use std::net::{IpAddr, Ipv4Addr};

/// Longest command verb kept (longer first words are not commands).
pub const MAX_VERB: usize = 16;
/// Longest argument, user or password kept (Zeek's `max_arg_length`).
pub const MAX_ARG: usize = 4096;

/// One client command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Verb, upper-cased.
    pub verb: String,
    /// Argument (the rest of the line after one space), at most [`MAX_ARG`] bytes.
    pub arg: String,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(MAX_ARG)]).into_owned()
}

/// Parses a client line (CR/LF removed). `None` when the first word is
/// not an ASCII word of at most [`MAX_VERB`] letters.
pub fn parse_command(line: &[u8]) -> Option<Command> {
    let end = memchr::memchr(b' ', line).unwrap_or(line.len());
    let verb = &line[..end];
    if verb.is_empty() || verb.len() > MAX_VERB || !verb.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let arg = line.get(end + 1..).unwrap_or(&[]);
    Some(Command {
        verb: String::from_utf8_lossy(verb).to_ascii_uppercase(),
        arg: text(arg),
    })
}

/// One server reply line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyLine {
    /// `ddd text` (or `ddd`): a complete reply, or the last line of a
    /// multi-line one.
    Final(u16, String),
    /// `ddd-text`: the first line of a multi-line reply.
    Begin(u16, String),
    /// Any other line (inside a multi-line reply).
    Other,
}

/// Parses a server line (CR/LF removed).
pub fn parse_reply(line: &[u8]) -> ReplyLine {
    if line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit) && line[0] != b'0' {
        let code =
            (line[0] - b'0') as u16 * 100 + (line[1] - b'0') as u16 * 10 + (line[2] - b'0') as u16;
        match line.get(3) {
            None => return ReplyLine::Final(code, String::new()),
            Some(b' ') => return ReplyLine::Final(code, text(&line[4..])),
            Some(b'-') => return ReplyLine::Begin(code, text(&line[4..])),
            _ => {}
        }
    }
    ReplyLine::Other
}

/// Numbers in `s` separated by `sep` (at most `max`), each at most `limit`.
fn numbers(s: &str, sep: char, max: usize, limit: u32) -> Option<Vec<u32>> {
    let mut v = Vec::new();
    for p in s.split(sep) {
        if v.len() == max {
            return None;
        }
        let p = p.trim();
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        if n > limit {
            return None;
        }
        v.push(n);
    }
    Some(v)
}

/// `h1,h2,h3,h4,p1,p2` (PORT's argument and 227's numbers).
pub fn parse_host_port(s: &str) -> Option<(IpAddr, u16)> {
    let v = numbers(s, ',', 6, 255)?;
    if v.len() != 6 {
        return None;
    }
    let ip = Ipv4Addr::new(v[0] as u8, v[1] as u8, v[2] as u8, v[3] as u8);
    Some((IpAddr::V4(ip), (v[4] * 256 + v[5]) as u16))
}

/// EPRT's argument: `<d>proto<d>address<d>port<d>` (RFC 2428).
pub fn parse_eprt(s: &str) -> Option<(IpAddr, u16)> {
    let d = s.chars().next()?;
    if d.is_ascii_alphanumeric() {
        return None;
    }
    let mut it = s[d.len_utf8()..].split(d);
    let proto = it.next()?;
    let addr: IpAddr = it.next()?.parse().ok()?;
    let port: u16 = it.next()?.parse().ok()?;
    match (proto, addr) {
        ("1", IpAddr::V4(_)) | ("2", IpAddr::V6(_)) => Some((addr, port)),
        _ => None,
    }
}

/// The data address of a 227 reply: the first `h1,h2,h3,h4,p1,p2` in the
/// text (in parentheses or not).
pub fn parse_pasv(msg: &str) -> Option<(IpAddr, u16)> {
    let b = msg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let end = b[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b',' || *c == b' '))
                .map_or(b.len(), |e| i + e);
            if let Some(hp) = parse_host_port(msg[i..end].trim_end_matches([',', ' '])) {
                return Some(hp);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// The port of a 229 reply: `(<d><d><d>port<d>)`.
pub fn parse_epsv(msg: &str) -> Option<u16> {
    let open = msg.find('(')?;
    let inner = &msg[open + 1..];
    let close = inner.find(')')?;
    let inner = &inner[..close];
    let d = inner.chars().next()?;
    let parts: Vec<&str> = inner.split(d).collect();
    if parts.len() != 5 {
        return None;
    }
    parts[3].parse().ok()
}

/// The size a 150 reply announces: the last number written right before
/// ` bytes` (`150 Opening BINARY mode data connection for a.exe (77 bytes).`
/// → 77). Zeek takes the last number of any text (`extract_count(msg, F)`),
/// which gives 5 for Pure-FTPd's `5289713.5 kbytes to download` and 1001
/// where a file name has digits; only a byte count is taken here.
pub fn bytes_in_reply(msg: &str) -> Option<u64> {
    let b = msg.as_bytes();
    let mut found = None;
    for (i, _) in msg.match_indices(" bytes") {
        let start = b[..i]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |s| s + 1);
        if start < i {
            if let Ok(n) = msg[start..i].parse() {
                found = Some(n);
            }
        }
    }
    found
}

/// The size in a `213` reply to SIZE (RFC 3659: `213 <digits>`).
pub fn size_reply(msg: &str) -> Option<u64> {
    let t = msg.trim();
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The path in a 257 reply (`257 "/pub" is the current directory`): the
/// first run that starts with `/` (or a drive letter) up to a quote or space.
pub fn extract_path(msg: &str) -> Option<String> {
    let b = msg.as_bytes();
    let start = (0..b.len()).find(|&i| {
        b[i] == b'/'
            || (b[i].is_ascii_alphabetic()
                && b.get(i + 1) == Some(&b':')
                && matches!(b.get(i + 2), Some(b'/' | b'\\')))
    })?;
    let end = b[start..]
        .iter()
        .position(|&c| c == b'"' || c == b' ')
        .map_or(b.len(), |e| start + e);
    Some(msg[start..end].to_string())
}

/// Zeek's `build_path`: `file` when absolute, else `dir/file`.
pub fn build_path(dir: &str, file: &str) -> String {
    let abs = file.starts_with('/')
        || (file.len() >= 3
            && file.as_bytes()[0].is_ascii_alphabetic()
            && file.as_bytes()[1] == b':'
            && matches!(file.as_bytes()[2], b'/' | b'\\'));
    if abs || dir.is_empty() {
        return file.to_string();
    }
    let sep = if dir.ends_with('/') { "" } else { "/" };
    format!("{dir}{sep}{file}")
}

/// Zeek's `compress_path`: `//` and `/./` collapse, `dir/..` is removed.
pub fn compress_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for (i, seg) in p.split('/').enumerate() {
        match seg {
            "" => {}
            "." if i > 0 => {}
            ".." => match out.last() {
                Some(&l) if l != ".." && l != "." => {
                    out.pop();
                }
                _ if abs => {}
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    let trailing = if p.len() > 1 && p.ends_with('/') && !joined.is_empty() {
        "/"
    } else {
        ""
    };
    if abs {
        format!("/{joined}{trailing}")
    } else {
        format!("{joined}{trailing}")
    }
}

/// Zeek's `build_url_ftp`: `ftp://host/path` for a file command.
pub fn url(host: IpAddr, cwd: &str, arg: &str) -> String {
    let mut p = compress_path(&build_path(cwd, arg));
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    match host {
        IpAddr::V4(a) => format!("ftp://{a}{p}"),
        IpAddr::V6(a) => format!("ftp://[{a}]{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_replies() {
        assert_eq!(
            parse_command(b"retr x.exe"),
            Some(Command {
                verb: "RETR".into(),
                arg: "x.exe".into()
            })
        );
        assert_eq!(parse_command(b"PASV").unwrap().arg, "");
        assert!(parse_command(b"\x16\x03").is_none());
        assert_eq!(
            parse_reply(b"227 Entering Passive Mode (199,233,217,249,221,90)"),
            ReplyLine::Final(227, "Entering Passive Mode (199,233,217,249,221,90)".into())
        );
        assert_eq!(parse_reply(b"230-"), ReplyLine::Begin(230, String::new()));
        assert_eq!(parse_reply(b"    EXPORT NOTICE"), ReplyLine::Other);
    }

    #[test]
    fn parses_data_channels() {
        // Values from Zeek's ftp-ipv4 and ftp-ipv6 baselines.
        assert_eq!(
            parse_host_port("141,142,220,235,131,46"),
            Some(("141.142.220.235".parse().unwrap(), 33582))
        );
        assert_eq!(
            parse_pasv("Entering Passive Mode (199,233,217,249,221,90)"),
            Some(("199.233.217.249".parse().unwrap(), 56666))
        );
        assert_eq!(
            parse_pasv("Entering Passive Mode 10,0,0,1,4,1."),
            Some(("10.0.0.1".parse().unwrap(), 1025))
        );
        assert_eq!(
            parse_epsv("Entering Extended Passive Mode (|||57086|)"),
            Some(57086)
        );
        assert_eq!(
            parse_eprt("|2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|"),
            Some((
                "2001:470:1f11:81f:c999:d94:aa7c:2e3e".parse().unwrap(),
                49189
            ))
        );
        assert_eq!(parse_host_port("1,2,3,4,256,1"), None);
        assert_eq!(parse_host_port("1,2,3,4,5"), None);
        assert_eq!(parse_eprt("|1|::1|21|"), None);
    }

    #[test]
    fn sizes_and_paths_like_zeek() {
        assert_eq!(
            bytes_in_reply("Opening BINARY mode data connection for robots.txt (77 bytes)."),
            Some(77)
        );
        assert_eq!(
            bytes_in_reply(
                "Opening BINARY mode data connection for /rfc/rfc1001.txt (154427 bytes)."
            ),
            Some(154427)
        );
        assert_eq!(bytes_in_reply("5289713.5 kbytes to download"), None);
        assert_eq!(
            bytes_in_reply("Opening BINARY mode data connection for /README"),
            None
        );
        assert_eq!(bytes_in_reply("no digits"), None);
        assert_eq!(size_reply("5416666670"), Some(5416666670));
        assert_eq!(size_reply("20140327165243 "), Some(20140327165243));
        assert_eq!(size_reply("File not found"), None);
        assert_eq!(
            extract_path("\"/pub/data\" is the current directory"),
            Some("/pub/data".into())
        );
        assert_eq!(
            url("199.233.217.249".parse().unwrap(), ".", "robots.txt"),
            "ftp://199.233.217.249/./robots.txt"
        );
        assert_eq!(
            url("2001:470:4867:99::21".parse().unwrap(), "/", "robots.txt"),
            "ftp://[2001:470:4867:99::21]/robots.txt"
        );
        assert_eq!(compress_path("/a/b/../c//./d"), "/a/c/d");
        assert_eq!(compress_path("./pub/../x"), "./x");
    }
}
