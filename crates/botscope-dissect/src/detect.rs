//! Protocol detection by content. Each direction's first bytes are
//! checked against what IRC, FTP, DNS, TFTP and HTTP must start with; the
//! port only breaks ties (and is never enough on its own), so IRC on 5562,
//! 65348 or 80 is found, and HTTP on 6667 is not taken for IRC.
//!
//! IRC must be *confirmed*, because FTP, POP3 and SMTP share its verbs
//! (`USER`, `PASS`, `QUIT`, `NOTICE`-less banners): a server line in IRC
//! grammar (`:prefix` then a numeric or a command word, `PING :x`,
//! `NOTICE AUTH :...`, `ERROR :...`, IRCv3 `@tags` first), or client lines
//! that only IRC has (`NICK` paired with a four-parameter `USER`, `JOIN
//! #chan`, `PRIVMSG target :text`, `PONG`, `CAP LS`). A server that opens
//! with a numeric reply (`220 ...`), `+OK`/`-ERR` or `* OK` is FTP, SMTP,
//! POP3 or IMAP, never IRC; it is FTP when the client answers with FTP
//! commands (or the banner names FTP, or the port is 21).

use crate::dns::parser as dns;
use crate::http::parser as http;
use crate::tftp::parser as tftp;

/// An application protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// IRC.
    Irc,
    /// DNS (UDP or TCP).
    Dns,
    /// A TFTP request flow.
    Tftp,
    /// HTTP/1.x.
    Http,
    /// An FTP control connection.
    Ftp,
    /// A remote Windows command shell (banner or prompt first).
    Shell,
    /// A Gnutella 0.4/0.6 peer link (`GNUTELLA CONNECT/`).
    Gnutella,
}

impl Protocol {
    /// Name used in `conn.service`.
    pub fn service(self) -> &'static str {
        match self {
            Protocol::Irc => "irc",
            Protocol::Dns => "dns",
            Protocol::Tftp => "tftp",
            Protocol::Http => "http",
            Protocol::Ftp => "ftp",
            Protocol::Shell => "shell",
            Protocol::Gnutella => "gnutella",
        }
    }
}

/// Outcome of looking at the bytes seen so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// This protocol.
    Is(Protocol),
    /// Need more bytes.
    Undecided,
    /// None of ours.
    Unknown,
}

/// Client commands that open IRC sessions (and that bots send first);
/// used to find line starts when resynchronising, not to decide.
const IRC_CLIENT: &[&[u8]] = &[
    b"NICK ",
    b"USER ",
    b"PASS ",
    b"JOIN ",
    b"CAP ",
    b"PING ",
    b"PONG ",
    b"PRIVMSG ",
    b"NOTICE ",
    b"MODE ",
    b"USERHOST ",
    b"QUIT",
    b"WHO ",
    b"SERVER ",
];

/// FTP commands (RFC 959, 2228, 2389, 2428, 3659) a client may send.
const FTP_VERBS: &[&str] = &[
    "USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "QUIT", "REIN", "PORT", "PASV", "TYPE", "STRU",
    "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD",
    "MKD", "PWD", "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT", "OPTS", "AUTH",
    "EPRT", "EPSV", "SIZE", "MDTM", "MLSD", "MLST", "XPWD", "XCWD", "XMKD", "XRMD", "LANG", "PBSZ",
    "PROT", "CLNT", "ADAT", "CCC",
];

/// FTP commands POP3 and SMTP do not have: on their own they mean FTP.
const FTP_ONLY_VERBS: &[&str] = &[
    "PORT", "PASV", "EPRT", "EPSV", "TYPE", "SYST", "FEAT", "CWD", "CDUP", "PWD", "XPWD", "STOR",
    "STOU", "APPE", "MKD", "RMD", "NLST", "SITE", "SIZE", "MDTM", "MLSD", "MLST", "STRU", "ALLO",
    "RNFR", "RNTO", "PBSZ", "PROT",
];

/// SMTP client commands.
const SMTP_VERBS: &[&str] = &[
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "STARTTLS",
];

/// The line without a leading IRCv3 tag section (`@k=v;... `).
fn strip_tags(line: &[u8]) -> &[u8] {
    match line.strip_prefix(b"@") {
        Some(r) => {
            let sp = memchr::memchr(b' ', r).unwrap_or(r.len());
            let mut rest = &r[sp..];
            while let Some(x) = rest.strip_prefix(b" ") {
                rest = x;
            }
            rest
        }
        None => line,
    }
}

/// The first word, upper-cased (at most 12 bytes), and what follows it.
fn verb(line: &[u8]) -> (String, &[u8]) {
    let end = memchr::memchr(b' ', line).unwrap_or(line.len());
    let w = &line[..end.min(12)];
    (
        String::from_utf8_lossy(w).to_ascii_uppercase(),
        &line[end..],
    )
}

/// Whether one line (without CR/LF) looks like an IRC message: a client
/// command or a prefixed server line (IRCv3 tags allowed). Liberal — used
/// to find line starts after a gap; detection uses the stricter checks.
pub fn irc_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = strip_tags(line);
    let upper: Vec<u8> = line
        .iter()
        .take(12)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if IRC_CLIENT.iter().any(|c| upper.starts_with(c)) {
        return true;
    }
    prefixed_irc_line(line)
}

/// `:prefix CMD ...` with a 3-digit numeric or a command word.
fn prefixed_irc_line(line: &[u8]) -> bool {
    // ":server 001 nick :Welcome", ":server NOTICE AUTH :...", ":n!u@h PRIVMSG ..."
    if let Some(rest) = line.strip_prefix(b":") {
        let Some(sp) = memchr::memchr(b' ', rest) else {
            return false;
        };
        let prefix = &rest[..sp];
        if prefix.is_empty() || !prefix.iter().all(|c| c.is_ascii_graphic()) {
            return false;
        }
        let cmd_part = &rest[sp + 1..];
        let end = memchr::memchr(b' ', cmd_part).unwrap_or(cmd_part.len());
        let cmd = &cmd_part[..end];
        let numeric = cmd.len() == 3 && cmd.iter().all(u8::is_ascii_digit);
        let word = !cmd.is_empty() && cmd.len() <= 16 && cmd.iter().all(u8::is_ascii_alphabetic);
        return (numeric || word) && end < cmd_part.len();
    }
    false
}

/// Whether a line from the server confirms IRC: a prefixed line, or one of
/// the unprefixed lines IRC servers open with.
pub fn irc_server_line(line: &[u8]) -> bool {
    let line = strip_tags(line.strip_suffix(b"\r").unwrap_or(line));
    if prefixed_irc_line(line) {
        return true;
    }
    let (v, rest) = verb(line);
    match v.as_str() {
        "PING" | "ERROR" => rest.starts_with(b" :") || rest.len() > 1,
        "NOTICE" => {
            // NOTICE AUTH :*** Looking up... / NOTICE * :...
            let r = rest.strip_prefix(b" ").unwrap_or(rest);
            r.starts_with(b"AUTH ") || r.starts_with(b"* ") || r.starts_with(b"auth ")
        }
        _ => false,
    }
}

fn nick_ok(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-_[]\\`^{}|".contains(&c))
}

/// What the client's first lines say.
#[derive(Default)]
struct ClientLines {
    nick: bool,
    irc_user: bool,
    irc_only: bool,
    ftp: bool,
    ftp_only: bool,
    smtp: bool,
    first_ftp: bool,
}

fn client_lines(lines: &[&[u8]]) -> ClientLines {
    let mut c = ClientLines::default();
    for (i, l) in lines.iter().enumerate() {
        let l = strip_tags(l);
        let (v, rest) = verb(l);
        let args: Vec<&[u8]> = rest
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
            .collect();
        let trailing = memchr::memmem::find(rest, b" :").is_some();
        match v.as_str() {
            "NICK" => {
                let n = args.first().map(|a| a.strip_prefix(b":").unwrap_or(a));
                if args.len() <= 2 && n.is_some_and(nick_ok) {
                    c.nick = true;
                }
            }
            // USER user mode unused :real name (RFC 2812; RFC 1459: host server).
            "USER" if args.len() >= 4 => c.irc_user = true,
            "JOIN"
                if args.first().is_some_and(|a| {
                    matches!(a.first(), Some(b'#' | b'&' | b'+' | b'!')) || *a == b"0"
                }) =>
            {
                c.irc_only = true
            }
            "PRIVMSG" | "NOTICE" if args.len() >= 2 && trailing => c.irc_only = true,
            "PONG" | "PING" if !args.is_empty() => c.irc_only = true,
            "CAP"
                if args
                    .first()
                    .is_some_and(|a| matches!(*a, b"LS" | b"REQ" | b"END" | b"LIST")) =>
            {
                c.irc_only = true
            }
            "USERHOST" | "WHO" | "WHOIS" | "ISON" if !args.is_empty() => c.irc_only = true,
            _ => {}
        }
        if FTP_VERBS.contains(&v.as_str()) {
            c.ftp = true;
            if i == 0 {
                c.first_ftp = true;
            }
        }
        if FTP_ONLY_VERBS.contains(&v.as_str()) {
            c.ftp_only = true;
        }
        if SMTP_VERBS.contains(&v.as_str()) {
            c.smtp = true;
        }
    }
    c
}

/// Complete lines at the start of a head (at most 16), CR removed.
fn lines_of(head: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut rest = head;
    while v.len() < 16 {
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            break;
        };
        let l = &rest[..nl];
        v.push(l.strip_suffix(b"\r").unwrap_or(l));
        rest = &rest[nl + 1..];
    }
    v
}

/// Whether the head is text a line protocol could send (no NUL, ASCII
/// control bytes only as tab/CR/LF, in its first line).
fn textual(head: &[u8]) -> bool {
    let first = &head[..memchr::memchr(b'\n', head).unwrap_or(head.len()).min(512)];
    first
        .iter()
        .all(|&c| c == b'\t' || c == b'\r' || c >= 0x20 || c == 0x01 || c == 0x02 || c == 0x03)
}

/// An FTP/SMTP-style reply line: three digits then a space, a dash or the end.
pub fn numeric_reply(line: &[u8]) -> bool {
    line.len() >= 3
        && matches!(line[0], b'1'..=b'5')
        && line[1..3].iter().all(u8::is_ascii_digit)
        && matches!(line.get(3), None | Some(b' ' | b'-'))
}

/// DNS over TCP on one direction's head.
fn dns_tcp(first: &[u8], port: u16) -> Verdict {
    if first.len() >= 2 {
        let len = u16::from_be_bytes([first[0], first[1]]) as usize;
        if len >= 12 {
            if first.len() >= 2 + len {
                if dns::plausible(&first[2..2 + len]) {
                    return Verdict::Is(Protocol::Dns);
                }
            } else if first.len() < 2 + 12 {
                return Verdict::Undecided;
            } else if dns::header_plausible(&first[2..]) && (port == 53 || len > 512) {
                // A long message (TSIG/TKEY, zone transfers) still arriving.
                return Verdict::Is(Protocol::Dns);
            }
        } else if first.len() < 2 && port == 53 {
            return Verdict::Undecided;
        }
    }
    Verdict::Unknown
}

/// TCP: decides from the first bytes of both directions (`orig` from the
/// connection's originator, `resp` from the responder; either may be
/// empty). `port` is the responder port, used only to break ties.
pub fn tcp_flow(orig: &[u8], resp: &[u8], port: u16) -> Verdict {
    if orig.is_empty() && resp.is_empty() {
        return Verdict::Undecided;
    }
    if orig.starts_with(crate::p2p::parser::CONNECT) {
        return Verdict::Is(Protocol::Gnutella);
    }
    for h in [orig, resp] {
        if !h.is_empty() && http::plausible(h) {
            return Verdict::Is(Protocol::Http);
        }
    }
    // A command shell's banner or prompt, from either side (bind shell:
    // the responder; connect-back shell: the originator).
    if crate::shell::parser::is_greeting(resp) || crate::shell::parser::is_greeting(orig) {
        return Verdict::Is(Protocol::Shell);
    }
    let c_lines = lines_of(orig);
    let s_lines = lines_of(resp);
    let client = client_lines(&c_lines);
    // A server line still arriving already shows IRC's grammar.
    if s_lines.is_empty() && resp.len() > 8 && resp.len() < 512 && irc_server_line(resp) {
        return Verdict::Is(Protocol::Irc);
    }
    // The server's opening line settles most flows.
    if let Some(&s) = s_lines.first() {
        let s = s.strip_suffix(b"\r").unwrap_or(s);
        if irc_server_line(s) {
            return Verdict::Is(Protocol::Irc);
        }
        if s.starts_with(b"+OK") || s.starts_with(b"-ERR") || s.starts_with(b"* OK") {
            return Verdict::Unknown;
        }
        if numeric_reply(s) {
            let banner = String::from_utf8_lossy(s).to_ascii_uppercase();
            if client.smtp || banner.contains("SMTP") {
                return Verdict::Unknown;
            }
            if client.first_ftp || client.ftp_only {
                return Verdict::Is(Protocol::Ftp);
            }
            if c_lines.is_empty() && (banner.contains("FTP") || port == 21) {
                return Verdict::Is(Protocol::Ftp);
            }
            if !c_lines.is_empty() {
                return Verdict::Unknown;
            }
        }
    }
    // The client's lines alone: IRC by NICK/USER pairing or IRC-only
    // grammar; FTP by commands POP3 and SMTP do not have.
    if client.irc_only || (client.nick && client.irc_user) {
        return Verdict::Is(Protocol::Irc);
    }
    if client.ftp_only && !client.smtp && s_lines.is_empty() {
        return Verdict::Is(Protocol::Ftp);
    }
    let d = [dns_tcp(orig, port), dns_tcp(resp, port)];
    if d.contains(&Verdict::Is(Protocol::Dns)) {
        return Verdict::Is(Protocol::Dns);
    }
    if d.contains(&Verdict::Undecided) {
        return Verdict::Undecided;
    }
    // None of ours once both sides said something that cannot start one
    // of our protocols (binary, or a first line no rule above accepts).
    let client_foreign = !orig.is_empty()
        && (!textual(orig)
            || c_lines.first().is_some_and(|l| {
                let l = strip_tags(l);
                let (v, _) = verb(l);
                !irc_line(l) && !FTP_VERBS.contains(&v.as_str())
            }));
    let server_foreign = !resp.is_empty() && (!textual(resp) || !s_lines.is_empty());
    if client_foreign && server_foreign {
        return Verdict::Unknown;
    }
    Verdict::Undecided
}

/// TCP, one direction only (kept for callers that see one side): the
/// same rules as [`tcp_flow`] with the other direction silent.
pub fn tcp(first: &[u8], from_orig: bool, port: u16) -> Verdict {
    let v = if from_orig {
        tcp_flow(first, &[], port)
    } else {
        tcp_flow(&[], first, port)
    };
    if v == Verdict::Undecided && !first.is_empty() && !textual(first) {
        return Verdict::Unknown;
    }
    if v == Verdict::Undecided && from_orig {
        if let Some(l) = lines_of(first).first() {
            let (w, _) = verb(strip_tags(l));
            if !irc_line(l) && !FTP_VERBS.contains(&w.as_str()) {
                return Verdict::Unknown;
            }
        }
    }
    v
}

/// UDP: decides from one datagram.
pub fn udp(payload: &[u8], orig_port: u16, resp_port: u16) -> Verdict {
    let is_tftp = tftp::plausible_request(payload);
    let is_dns = dns::plausible(payload);
    match (is_tftp, is_dns) {
        (true, false) => Verdict::Is(Protocol::Tftp),
        (false, true) => Verdict::Is(Protocol::Dns),
        (true, true) => {
            if resp_port == 69 || orig_port == 69 {
                Verdict::Is(Protocol::Tftp)
            } else {
                Verdict::Is(Protocol::Dns)
            }
        }
        (false, false) => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_protocols_by_content_not_port() {
        assert_eq!(
            tcp(
                b"NICK damn-0262937047\r\nUSER ghmfeirsfnw 0 0 :damn-0262937047\r\n",
                true,
                80
            ),
            Verdict::Is(Protocol::Irc)
        );
        // NICK alone waits for the pairing or the server.
        assert_eq!(
            tcp(b"NICK damn-0262937047\r\n", true, 80),
            Verdict::Undecided
        );
        assert_eq!(
            tcp(b":hunt3d.devilz.net NOTICE AUTH :*** Looking", false, 65348),
            Verdict::Is(Protocol::Irc)
        );
        assert_eq!(
            tcp(b"GET / HTTP/1.1\r\n", true, 6667),
            Verdict::Is(Protocol::Http)
        );
        assert_eq!(tcp(b"NICK da", true, 5562), Verdict::Undecided);
        assert_eq!(
            tcp(
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x9a\x11\x00\x00\x00\x01\xff\xfe\x80",
                true,
                443
            ),
            Verdict::Unknown
        );
        assert_eq!(
            udp(b"\x00\x01a.exe\x00octet\x00", 1234, 69),
            Verdict::Is(Protocol::Tftp)
        );
        assert_eq!(udp(b"hello world, not dns", 1, 53), Verdict::Unknown);
    }

    #[test]
    fn confirms_irc_and_rejects_protocols_that_share_its_verbs() {
        // FTP on a bot's port: banner, then USER/PASS: FTP, never IRC.
        let banner = b"220 StnyFtpd 0wns j0\r\n";
        assert_eq!(tcp_flow(b"", banner, 5554), Verdict::Is(Protocol::Ftp));
        assert_eq!(
            tcp_flow(
                b"USER 1\r\nPASS 1\r\n",
                b"220 Reptile welcomes you..\r\n",
                5554
            ),
            Verdict::Is(Protocol::Ftp)
        );
        // USER/PASS from the client alone could be FTP, POP3 or IRC: wait.
        assert_eq!(
            tcp_flow(b"USER anonymous\r\nPASS test\r\n", b"", 2121),
            Verdict::Undecided
        );
        assert_eq!(
            tcp_flow(b"USER anonymous\r\nPORT 10,0,0,1,4,1\r\n", b"", 2121),
            Verdict::Is(Protocol::Ftp)
        );
        // SMTP and POP3 greetings are not IRC even when the client says USER/PASS.
        assert_eq!(
            tcp_flow(b"EHLO x\r\n", b"220 mx.example ESMTP Postfix\r\n", 25),
            Verdict::Unknown
        );
        assert_eq!(
            tcp_flow(b"USER bob\r\n", b"+OK POP3 ready\r\n", 110),
            Verdict::Unknown
        );
        assert_eq!(tcp_flow(b"", b"220 mail ESMTP\r\n", 6667), Verdict::Unknown);
        // HTTP on the IRC port.
        assert_eq!(
            tcp_flow(b"GET / HTTP/1.0\r\n\r\n", b"", 6667),
            Verdict::Is(Protocol::Http)
        );
        // IRC confirmed by the server (numerics, NOTICE AUTH, IRCv3 tags).
        assert_eq!(
            tcp_flow(b"PASS x\r\n", b":irc.x 001 bot :Welcome\r\n", 5562),
            Verdict::Is(Protocol::Irc)
        );
        assert_eq!(
            tcp_flow(b"", b"NOTICE AUTH :*** Looking up your hostname\r\n", 65348),
            Verdict::Is(Protocol::Irc)
        );
        assert_eq!(
            tcp_flow(
                b"",
                b"@time=2025-07-28T20:48:30.026Z :ircd1.local CAP * ACK :server-time\r\n",
                6667
            ),
            Verdict::Is(Protocol::Irc)
        );
        // By client grammar: a bot picked up mid-session.
        assert_eq!(
            tcp_flow(b"PRIVMSG #s03 :[DOWNLOAD]: done\r\n", b"", 6667),
            Verdict::Is(Protocol::Irc)
        );
        // FTP's MODE/QUIT are not IRC.
        assert_eq!(
            tcp_flow(b"MODE S\r\nQUIT\r\n", b"", 6667),
            Verdict::Undecided
        );
    }
}
