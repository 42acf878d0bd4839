//! Pure parser of a relay request from the first client bytes.

/// Longest HTTP `CONNECT` line read for its target.
pub const MAX_CONNECT_LINE: usize = 300;

/// What the first client bytes ask for: the protocol (`socks4`,
/// `socks5`, `http_connect`, `redirect`) and the relay target port when
/// the request names it.
pub type RelayRequest = (&'static str, Option<u16>);

/// Kind of a relay request from the first client bytes, with the relay
/// target port when the request names it. A SOCKS5 greeting alone gives
/// `("socks5", None)`: its CONNECT follows the server's reply.
pub fn relay_request(first: &[u8]) -> Option<RelayRequest> {
    if first.len() >= 8 && first[0] == 4 && first[1] == 1 {
        return Some(("socks4", Some(u16::from_be_bytes([first[2], first[3]]))));
    }
    // SOCKS5 greeting `05 n methods...`; the CONNECT follows the reply.
    if first.len() >= 3
        && first[0] == 5
        && (1..=8).contains(&first[1])
        && first.len() == usize::from(first[1]) + 2
    {
        return Some(("socks5", None));
    }
    if first.len() >= 10 && first[0] == 5 && first[1] == 1 && first[2] == 0 && first[3] == 1 {
        return Some(("socks5", Some(u16::from_be_bytes([first[8], first[9]]))));
    }
    if first.len() > 8 && first[..8].eq_ignore_ascii_case(b"CONNECT ") {
        let line = &first[8..first.len().min(MAX_CONNECT_LINE)];
        let end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(line.len());
        let target = std::str::from_utf8(&line[..end]).ok()?;
        let port = target.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
        return Some(("http_connect", port));
    }
    if first.len() >= 5
        && (first[..5].eq_ignore_ascii_case(b"HELO ") || first[..5].eq_ignore_ascii_case(b"EHLO "))
    {
        return Some(("redirect", Some(25)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_requests_by_first_bytes() {
        assert_eq!(
            relay_request(&[4, 1, 0, 25, 10, 0, 0, 1, 0]),
            Some(("socks4", Some(25)))
        );
        assert_eq!(relay_request(&[5, 1, 0]), Some(("socks5", None)));
        assert_eq!(
            relay_request(&[5, 1, 0, 1, 10, 0, 0, 1, 0, 25]),
            Some(("socks5", Some(25)))
        );
        assert_eq!(
            relay_request(b"CONNECT 10.0.0.1:25 HTTP/1.0\r\n\r\n"),
            Some(("http_connect", Some(25)))
        );
        assert_eq!(
            relay_request(b"HELO localhost\r\n"),
            Some(("redirect", Some(25)))
        );
        assert_eq!(relay_request(b"GET / HTTP/1.0\r\n"), None);
    }
}
