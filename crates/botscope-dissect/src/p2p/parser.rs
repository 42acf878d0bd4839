//! Gnutella 0.4/0.6 wire formats, pure and bounded: the handshake heads
//! (`GNUTELLA CONNECT/0.6`, `GNUTELLA/0.6 200 OK`, header lines) and the
//! 23-byte descriptor header (16-byte GUID, payload type, TTL, hops,
//! little-endian payload length) with the payloads botscope reads (pong:
//! a peer's address; query: its search text).

use std::net::Ipv4Addr;

/// Longest handshake head buffered; a longer one is not Gnutella.
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header lines kept from one head.
pub const MAX_HEADERS: usize = 64;
/// Bytes of a descriptor header.
pub const DESCRIPTOR_HEADER: usize = 23;
/// Largest descriptor payload accepted; a larger length means the
/// stream is not (or no longer) framed as Gnutella.
pub const MAX_PAYLOAD: u32 = 64 * 1024;
/// Longest query text kept.
pub const MAX_QUERY: usize = 256;

/// What a connecting peer sends first.
pub const CONNECT: &[u8] = b"GNUTELLA CONNECT/";

/// One handshake head: its first line and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeHead {
    /// `GNUTELLA CONNECT/0.6` or `GNUTELLA/0.6 200 OK`.
    pub start_line: String,
    /// The status code of a response line (`GNUTELLA OK` of 0.4 is 200).
    pub status: Option<u16>,
    /// Header lines, name as sent and value trimmed (at most [`MAX_HEADERS`]).
    pub headers: Vec<(String, String)>,
}

impl HandshakeHead {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this head opens a connection (`GNUTELLA CONNECT/...`).
    pub fn is_connect(&self) -> bool {
        self.start_line.as_bytes().starts_with(CONNECT)
    }

    /// Whether the sender compresses what follows (`Content-Encoding: deflate`).
    pub fn deflates(&self) -> bool {
        self.header("Content-Encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("deflate"))
    }
}

/// Result of looking for a head in buffered bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// More bytes needed.
    Partial,
    /// A head of this many bytes (its blank line included).
    Complete(HandshakeHead, usize),
    /// Not a Gnutella handshake head.
    Invalid,
}

/// Whether bytes start like a Gnutella handshake (either side).
pub fn plausible(first: &[u8]) -> bool {
    first.starts_with(CONNECT)
        || first.starts_with(b"GNUTELLA/0.")
        || first.starts_with(b"GNUTELLA OK")
}

/// Parses one handshake head from the start of `buf`: lines ending in
/// CRLF (or LF), closed by an empty line.
pub fn parse_head(buf: &[u8]) -> Head {
    let start = &buf[..buf.len().min(8)];
    if start != &b"GNUTELLA"[..start.len()] {
        return Head::Invalid;
    }
    let Some(end) = head_end(buf) else {
        return if buf.len() >= MAX_HEAD {
            Head::Invalid
        } else {
            Head::Partial
        };
    };
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let start_line = lines.next().unwrap_or_default().to_string();
    if !plausible(start_line.as_bytes()) {
        return Head::Invalid;
    }
    let status = if start_line.starts_with("GNUTELLA OK") {
        Some(200)
    } else if start_line.as_bytes().starts_with(CONNECT) {
        None
    } else {
        start_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
    };
    let mut headers = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        if headers.len() >= MAX_HEADERS {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    Head::Complete(
        HandshakeHead {
            start_line,
            status,
            headers,
        },
        end,
    )
}

/// Where the head ends: after the first empty line (`\r\n\r\n` or `\n\n`).
fn head_end(buf: &[u8]) -> Option<usize> {
    let lim = &buf[..buf.len().min(MAX_HEAD)];
    let crlf = memchr::memmem::find(lim, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(lim, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A descriptor header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DescriptorHeader {
    /// Descriptor id.
    pub guid: [u8; 16],
    /// Payload type (0x00 ping, 0x01 pong, 0x02 bye, 0x30 QRP, 0x31/0x32
    /// vendor, 0x40 push, 0x80 query, 0x81 query hit).
    pub payload_type: u8,
    /// Time to live.
    pub ttl: u8,
    /// Hops taken.
    pub hops: u8,
    /// Payload length.
    pub len: u32,
}

/// Reads a descriptor header from the first 23 bytes; `None` when fewer
/// bytes are given or the length exceeds [`MAX_PAYLOAD`].
pub fn parse_descriptor_header(b: &[u8]) -> Option<DescriptorHeader> {
    let h = b.get(..DESCRIPTOR_HEADER)?;
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&h[..16]);
    let len = u32::from_le_bytes([h[19], h[20], h[21], h[22]]);
    (len <= MAX_PAYLOAD).then_some(DescriptorHeader {
        guid,
        payload_type: h[16],
        ttl: h[17],
        hops: h[18],
        len,
    })
}

/// The peer a pong advertises (`port` little-endian, then the IPv4
/// address), when it is a routable-looking address and port.
pub fn pong_peer(payload: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let p = payload.get(..6)?;
    let port = u16::from_le_bytes([p[0], p[1]]);
    let ip = Ipv4Addr::new(p[2], p[3], p[4], p[5]);
    (port != 0 && !ip.is_unspecified()).then_some((ip, port))
}

/// The search text of a query (after the 2-byte minimum speed, up to
/// its NUL), at most [`MAX_QUERY`] bytes, lossy UTF-8.
pub fn query_text(payload: &[u8]) -> Option<String> {
    let rest = payload.get(2..)?;
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    let t = &rest[..end.min(MAX_QUERY)];
    (!t.is_empty()).then(|| String::from_utf8_lossy(t).into_owned())
}

/// Peers listed in an `X-Try-Ultrapeers` / `X-Try` header value
/// (`a.b.c.d:port,...`, each optionally followed by a time stamp).
pub fn try_peers(value: &str) -> impl Iterator<Item = (Ipv4Addr, u16)> + '_ {
    value.split(',').filter_map(|item| {
        let item = item.split_whitespace().next()?;
        let (ip, port) = item.split_once(':')?;
        Some((ip.parse().ok()?, port.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_heads() {
        let c = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: gtk-gnutella/1.2.2\r\nX-Ultrapeer: False\r\n\r\n\x00rest";
        let Head::Complete(h, n) = parse_head(c) else {
            panic!("complete")
        };
        assert_eq!(n, c.len() - 5);
        assert!(h.is_connect());
        assert_eq!(h.status, None);
        assert_eq!(h.header("user-agent"), Some("gtk-gnutella/1.2.2"));
        let r = b"GNUTELLA/0.6 503 No QRP\r\nX-Try-Ultrapeers: 1.2.3.4:6346 2024-01-01T00:00Z,5.6.7.8:1\r\nContent-Encoding: deflate\r\n\r\n";
        let Head::Complete(h, _) = parse_head(r) else {
            panic!("complete")
        };
        assert_eq!(h.status, Some(503));
        assert!(h.deflates());
        let peers: Vec<_> = try_peers(h.header("X-Try-Ultrapeers").unwrap()).collect();
        assert_eq!(
            peers,
            vec![
                ("1.2.3.4".parse().unwrap(), 6346),
                ("5.6.7.8".parse().unwrap(), 1)
            ]
        );
        let Head::Complete(h, _) = parse_head(b"GNUTELLA OK\n\n") else {
            panic!("0.4")
        };
        assert_eq!(h.status, Some(200));
        assert_eq!(parse_head(b"GNUTELLA CONN"), Head::Partial);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\n\r\n"), Head::Invalid);
        let long = [b"GNUTELLA CONNECT/0.6\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        assert_eq!(parse_head(&long), Head::Invalid);
    }

    #[test]
    fn descriptors() {
        let mut d = vec![7u8; 16];
        d.extend_from_slice(&[0x01, 3, 1, 14, 0, 0, 0]);
        let h = parse_descriptor_header(&d).unwrap();
        assert_eq!((h.payload_type, h.ttl, h.hops, h.len), (1, 3, 1, 14));
        assert!(parse_descriptor_header(&d[..22]).is_none());
        let mut big = d.clone();
        big[19..23].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
        assert!(parse_descriptor_header(&big).is_none());
        let pong = [0xca, 0x18, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(pong_peer(&pong), Some(("10.0.0.9".parse().unwrap(), 6346)));
        assert_eq!(pong_peer(&pong[..5]), None);
        assert_eq!(
            query_text(b"\x00\x00.update http://x/y.exe\x00extra").as_deref(),
            Some(".update http://x/y.exe")
        );
        assert_eq!(query_text(b"\x00\x00\x00"), None);
    }
}
