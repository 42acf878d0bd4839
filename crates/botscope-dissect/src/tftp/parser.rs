//! TFTP packets (RFC 1350, options RFC 2347).

/// Most options kept from one request.
pub const MAX_OPTIONS: usize = 16;

/// Why a datagram is not a valid TFTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TftpError {
    /// Shorter than its opcode's fixed part.
    #[error("tftp_truncated")]
    Truncated,
    /// Opcode outside 1..=6.
    #[error("tftp_bad_opcode")]
    BadOpcode,
    /// A request without its NUL-terminated file name and mode.
    #[error("tftp_bad_request")]
    BadRequest,
}

/// A request's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// File name.
    pub filename: String,
    /// Mode as sent, lower-cased.
    pub mode: String,
    /// RFC 2347 options, name lower-cased.
    pub options: Vec<(String, String)>,
}

/// One TFTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request.
    Rrq(Request),
    /// Write request.
    Wrq(Request),
    /// Data block.
    Data {
        /// Block number.
        block: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Acknowledgement.
    Ack {
        /// Block number.
        block: u16,
    },
    /// Error.
    Error {
        /// Error code.
        code: u16,
        /// Message.
        msg: String,
    },
    /// Option acknowledgement.
    Oack {
        /// Accepted options.
        options: Vec<(String, String)>,
    },
}

fn strings(mut b: &[u8]) -> (Vec<String>, bool) {
    let mut v = Vec::new();
    let mut terminated = true;
    while !b.is_empty() && v.len() < 2 + 2 * MAX_OPTIONS {
        match memchr::memchr(0, b) {
            Some(i) => {
                v.push(String::from_utf8_lossy(&b[..i]).into_owned());
                b = &b[i + 1..];
            }
            None => {
                v.push(String::from_utf8_lossy(b).into_owned());
                terminated = false;
                break;
            }
        }
    }
    (v, terminated)
}

fn pairs(v: &[String]) -> Vec<(String, String)> {
    v.chunks(2)
        .filter(|c| c.len() == 2)
        .take(MAX_OPTIONS)
        .map(|c| (c[0].to_ascii_lowercase(), c[1].clone()))
        .collect()
}

/// Parses one datagram.
pub fn parse(b: &[u8]) -> Result<Packet<'_>, TftpError> {
    if b.len() < 2 {
        return Err(TftpError::Truncated);
    }
    let op = u16::from_be_bytes([b[0], b[1]]);
    let body = &b[2..];
    let num = || {
        body.get(..2)
            .map(|s| u16::from_be_bytes([s[0], s[1]]))
            .ok_or(TftpError::Truncated)
    };
    match op {
        1 | 2 => {
            let (v, terminated) = strings(body);
            if v.len() < 2 || v[0].is_empty() || !terminated && v.len() == 2 {
                return Err(TftpError::BadRequest);
            }
            let req = Request {
                filename: v[0].clone(),
                mode: v[1].to_ascii_lowercase(),
                options: pairs(&v[2..]),
            };
            Ok(if op == 1 {
                Packet::Rrq(req)
            } else {
                Packet::Wrq(req)
            })
        }
        3 => Ok(Packet::Data {
            block: num()?,
            data: &body[2..],
        }),
        4 => Ok(Packet::Ack { block: num()? }),
        5 => {
            let code = num()?;
            let msg = strings(&body[2..]).0.into_iter().next().unwrap_or_default();
            Ok(Packet::Error { code, msg })
        }
        6 => Ok(Packet::Oack {
            options: pairs(&strings(body).0),
        }),
        _ => Err(TftpError::BadOpcode),
    }
}

/// Whether a datagram is a plausible TFTP request (detection): opcode 1/2,
/// a printable NUL-terminated file name and a known mode.
pub fn plausible_request(b: &[u8]) -> bool {
    match parse(b) {
        Ok(Packet::Rrq(r)) | Ok(Packet::Wrq(r)) => {
            r.filename.len() <= 512
                && r.filename.bytes().all(|c| (0x20..0x7f).contains(&c))
                && matches!(r.mode.as_str(), "octet" | "netascii" | "mail")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_opcodes() {
        let rrq = b"\x00\x01rfc1350.txt\x00octet\x00blksize\x001428\x00";
        match parse(rrq).unwrap() {
            Packet::Rrq(r) => {
                assert_eq!(r.filename, "rfc1350.txt");
                assert_eq!(r.mode, "octet");
                assert_eq!(r.options, vec![("blksize".to_string(), "1428".to_string())]);
            }
            p => panic!("{p:?}"),
        }
        assert!(plausible_request(rrq));
        assert_eq!(
            parse(b"\x00\x03\x00\x07ab").unwrap(),
            Packet::Data {
                block: 7,
                data: b"ab"
            }
        );
        assert_eq!(
            parse(b"\x00\x04\x00\x31").unwrap(),
            Packet::Ack { block: 49 }
        );
        assert_eq!(
            parse(b"\x00\x05\x00\x01File not found\x00").unwrap(),
            Packet::Error {
                code: 1,
                msg: "File not found".into()
            }
        );
        assert_eq!(parse(b"\x00\x01abc"), Err(TftpError::BadRequest));
        assert_eq!(parse(b"\x00\x04\x00"), Err(TftpError::Truncated));
        assert_eq!(parse(b"\x00\x09"), Err(TftpError::BadOpcode));
        assert!(!plausible_request(b"\x00\x01GET / HTTP/1.0\x00xyz\x00"));
    }
}
