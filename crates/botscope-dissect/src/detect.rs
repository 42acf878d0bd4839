//! Protocol detection by content. Each direction's first bytes are
//! checked against what IRC, DNS, TFTP and HTTP must start with; the port
//! only breaks ties (and is never enough on its own), so IRC on 5562,
//! 65348 or 80 is found, and HTTP on 6667 is not taken for IRC.

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
}

impl Protocol {
    /// Name used in `conn.service`.
    pub fn service(self) -> &'static str {
        match self {
            Protocol::Irc => "irc",
            Protocol::Dns => "dns",
            Protocol::Tftp => "tftp",
            Protocol::Http => "http",
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

/// Client commands that open IRC sessions (and that bots send first).
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

/// Whether one line (without CR/LF) looks like an IRC message.
pub fn irc_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let upper: Vec<u8> = line
        .iter()
        .take(12)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if IRC_CLIENT.iter().any(|c| upper.starts_with(c)) {
        return true;
    }
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

/// TCP: decides from the first bytes of one direction (`from_orig` tells
/// which). `port` is the responder port, used only to break ties.
pub fn tcp(first: &[u8], from_orig: bool, port: u16) -> Verdict {
    if first.is_empty() {
        return Verdict::Undecided;
    }
    if http::plausible(first) {
        return Verdict::Is(Protocol::Http);
    }
    if let Some(nl) = memchr::memchr(b'\n', first) {
        if irc_line(&first[..nl]) {
            return Verdict::Is(Protocol::Irc);
        }
    } else if first.len() < 512 && irc_line(first) && first.len() > 8 {
        return Verdict::Is(Protocol::Irc);
    }
    // DNS over TCP: a 2-byte length then a sane header.
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
    let _ = from_orig;
    // Wait for a full first line for text protocols.
    if memchr::memchr(b'\n', first).is_none()
        && first.len() < 512
        && first.iter().all(|c| c.is_ascii() && *c != 0)
    {
        return Verdict::Undecided;
    }
    Verdict::Unknown
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
            tcp(b"NICK damn-0262937047\r\nUSER x", true, 80),
            Verdict::Is(Protocol::Irc)
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
}
