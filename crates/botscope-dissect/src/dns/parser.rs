//! DNS wire format: header, questions and resource records, with name
//! compression followed under a jump cap (no recursion, loops end).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Most compression pointers followed while reading one name.
pub const MAX_POINTERS: usize = 16;
/// Longest name rendered (RFC 1035 allows 255 octets on the wire).
pub const MAX_NAME: usize = 255;
/// Most records of one section parsed; the rest are counted as skipped.
pub const MAX_RECORDS: usize = 512;

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Shorter than the 12-byte header.
    #[error("dns_truncated_header")]
    TruncatedHeader,
    /// A name ran past the end of the message.
    #[error("dns_truncated_name")]
    TruncatedName,
    /// Compression pointers formed a loop or chain longer than the cap.
    #[error("dns_compression_loop")]
    CompressionLoop,
    /// A name was longer than 255 octets.
    #[error("dns_name_too_long")]
    NameTooLong,
    /// A label type other than plain or pointer (0x40/0x80 prefixes).
    #[error("dns_bad_label_type")]
    BadLabel,
    /// A record's fixed fields or rdata ran past the end.
    #[error("dns_truncated_record")]
    TruncatedRecord,
}

/// DNS header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Transaction id.
    pub id: u16,
    /// Response flag.
    pub qr: bool,
    /// Opcode (0 query, 4 notify, 5 update).
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Z bits (incl. AD and CD), as Zeek counts them.
    pub z: u8,
    /// Response code (low 4 bits).
    pub rcode: u8,
    /// Question count.
    pub qdcount: u16,
    /// Answer count.
    pub ancount: u16,
    /// Authority count.
    pub nscount: u16,
    /// Additional count.
    pub arcount: u16,
}

impl Header {
    /// Parses the fixed 12 bytes.
    pub fn parse(b: &[u8]) -> Result<Header, DnsError> {
        if b.len() < 12 {
            return Err(DnsError::TruncatedHeader);
        }
        let f = u16::from_be_bytes([b[2], b[3]]);
        Ok(Header {
            id: u16::from_be_bytes([b[0], b[1]]),
            qr: f & 0x8000 != 0,
            opcode: ((f >> 11) & 0xf) as u8,
            aa: f & 0x0400 != 0,
            tc: f & 0x0200 != 0,
            rd: f & 0x0100 != 0,
            ra: f & 0x0080 != 0,
            z: ((f >> 4) & 0x7) as u8,
            rcode: (f & 0xf) as u8,
            qdcount: u16::from_be_bytes([b[4], b[5]]),
            ancount: u16::from_be_bytes([b[6], b[7]]),
            nscount: u16::from_be_bytes([b[8], b[9]]),
            arcount: u16::from_be_bytes([b[10], b[11]]),
        })
    }
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// Name as sent (case kept), dot-separated, no trailing dot.
    pub name: String,
    /// Type.
    pub qtype: u16,
    /// Class.
    pub qclass: u16,
}

/// Section a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Answer (update: prerequisite).
    Answer,
    /// Authority (update: update).
    Authority,
    /// Additional.
    Additional,
}

/// Decoded record data (only what botscope renders).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// A single domain name (NS, CNAME, PTR, MX exchange, SRV target, SOA mname).
    Name(String),
    /// Character strings (TXT, SPF).
    Strings(Vec<Vec<u8>>),
    /// RRSIG: type covered and signer.
    Rrsig {
        /// Record type the signature covers.
        type_covered: u16,
        /// Signer's name.
        signer: String,
    },
    /// DNSKEY algorithm.
    Dnskey {
        /// Algorithm number.
        algorithm: u8,
    },
    /// DS algorithm and digest type.
    Ds {
        /// Algorithm number.
        algorithm: u8,
        /// Digest type number.
        digest_type: u8,
    },
    /// NSEC next name.
    Nsec {
        /// Next owner name.
        next: String,
    },
    /// SSHFP fingerprint.
    Sshfp {
        /// Fingerprint bytes.
        fingerprint: Vec<u8>,
    },
    /// LOC size, horizontal and vertical precision.
    Loc {
        /// Size (RFC 1876 exponent form).
        size: u8,
        /// Horizontal precision.
        horiz: u8,
        /// Vertical precision.
        vert: u8,
    },
    /// NAPTR fields.
    Naptr {
        /// Order.
        order: u16,
        /// Preference.
        preference: u16,
        /// Flags.
        flags: String,
        /// Service.
        service: String,
        /// Regular expression.
        regexp: String,
        /// Replacement name.
        replacement: String,
    },
    /// Anything else (or empty rdata).
    Other,
}

/// One resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner name.
    pub name: String,
    /// Type.
    pub rtype: u16,
    /// Class (for OPT: UDP payload size).
    pub class: u16,
    /// TTL (for OPT: extended rcode and flags).
    pub ttl: u32,
    /// Rdata length.
    pub rdlen: u16,
    /// Decoded data.
    pub data: Rdata,
    /// Section.
    pub section: Section,
}

/// A parsed message. Records after the first error are not parsed; the
/// error is kept so the caller reports a malformed message yet still logs
/// what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Header.
    pub header: Header,
    /// Questions.
    pub questions: Vec<Question>,
    /// Answer, authority and additional records, in order.
    pub records: Vec<Record>,
    /// EDNS UDP payload size when an OPT record was present.
    pub edns_udp_size: Option<u16>,
    /// First error met after the header.
    pub error: Option<DnsError>,
}

/// Longest rendered name: 255 wire octets, each label byte at most four
/// characters (`\xNN`), fits.
const MAX_RENDERED: usize = 4 * MAX_NAME;

/// A name rendered on the stack, so reading one allocates nothing until
/// the caller keeps it ([`NameBuf::to_string`] allocates exactly once).
pub struct NameBuf {
    buf: [u8; MAX_RENDERED],
    len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            buf: [0; MAX_RENDERED],
            len: 0,
        }
    }
}

impl NameBuf {
    /// The name as an owned string (one allocation, of its exact length).
    pub fn to_owned_name(&self) -> String {
        self.as_str().to_owned()
    }

    /// The rendered name (printable ASCII by construction).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Appends one byte; the bound holds by [`MAX_NAME`] (see
    /// [`MAX_RENDERED`]), and a byte past it would be dropped.
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Zeek-style escaping: printable ASCII kept, other bytes as `\xNN`.
    fn push_label(&mut self, label: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in label {
            if (0x20..0x7f).contains(&b) {
                self.push(b);
            } else {
                self.push(b'\\');
                self.push(b'x');
                self.push(HEX[usize::from(b >> 4)]);
                self.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
}

/// Reads a (possibly compressed) name at `pos`; returns it and the offset
/// just after it in the original position.
pub fn read_name(msg: &[u8], pos: usize) -> Result<(String, usize), DnsError> {
    let mut name = NameBuf::default();
    let end = read_name_into(msg, pos, &mut name)?;
    Ok((name.to_owned_name(), end))
}

/// [`read_name`] into a caller's buffer (no allocation); returns the
/// offset just after the name in the original position.
pub fn read_name_into(msg: &[u8], mut pos: usize, out: &mut NameBuf) -> Result<usize, DnsError> {
    out.len = 0;
    let mut wire_len = 0usize;
    let mut end_after: Option<usize> = None;
    let mut jumps = 0usize;
    loop {
        let &len = msg.get(pos).ok_or(DnsError::TruncatedName)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok(end_after.unwrap_or(pos + 1));
                }
                let l = len as usize;
                let label = msg
                    .get(pos + 1..pos + 1 + l)
                    .ok_or(DnsError::TruncatedName)?;
                wire_len += l + 1;
                if wire_len > MAX_NAME {
                    return Err(DnsError::NameTooLong);
                }
                if out.len > 0 {
                    out.push(b'.');
                }
                out.push_label(label);
                pos += 1 + l;
            }
            0xc0 => {
                let &lo = msg.get(pos + 1).ok_or(DnsError::TruncatedName)?;
                jumps += 1;
                if jumps > MAX_POINTERS {
                    return Err(DnsError::CompressionLoop);
                }
                if end_after.is_none() {
                    end_after = Some(pos + 2);
                }
                pos = (((len & 0x3f) as usize) << 8) | lo as usize;
            }
            _ => return Err(DnsError::BadLabel),
        }
    }
}

fn u16_at(b: &[u8], p: usize) -> Result<u16, DnsError> {
    b.get(p..p + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or(DnsError::TruncatedRecord)
}

fn u32_at(b: &[u8], p: usize) -> Result<u32, DnsError> {
    b.get(p..p + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(DnsError::TruncatedRecord)
}

fn char_strings(mut d: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Some((&l, rest)) = d.split_first() {
        let l = (l as usize).min(rest.len());
        v.push(rest[..l].to_vec());
        d = &rest[l..];
    }
    v
}

fn char_string(d: &[u8], pos: &mut usize) -> String {
    let Some(&l) = d.get(*pos) else {
        return String::new();
    };
    let s = d.get(*pos + 1..*pos + 1 + l as usize).unwrap_or(&[]);
    *pos += 1 + l as usize;
    String::from_utf8_lossy(s).into_owned()
}

fn rdata(msg: &[u8], rtype: u16, start: usize, len: usize) -> Result<Rdata, DnsError> {
    let d = &msg[start..start + len];
    Ok(match rtype {
        1 if len == 4 => Rdata::A(Ipv4Addr::new(d[0], d[1], d[2], d[3])),
        28 if len == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(d);
            Rdata::Aaaa(Ipv6Addr::from(a))
        }
        2 | 5 | 12 | 6 | 39 if len > 0 => Rdata::Name(read_name(msg, start)?.0),
        15 if len > 2 => Rdata::Name(read_name(msg, start + 2)?.0),
        33 if len > 6 => Rdata::Name(read_name(msg, start + 6)?.0),
        16 | 99 => Rdata::Strings(char_strings(d)),
        46 if len >= 18 => Rdata::Rrsig {
            type_covered: u16::from_be_bytes([d[0], d[1]]),
            signer: read_name(msg, start + 18)?.0,
        },
        48 if len >= 4 => Rdata::Dnskey { algorithm: d[3] },
        43 if len >= 4 => Rdata::Ds {
            algorithm: d[2],
            digest_type: d[3],
        },
        47 if len > 0 => Rdata::Nsec {
            next: read_name(msg, start)?.0,
        },
        44 if len >= 2 => Rdata::Sshfp {
            fingerprint: d[2..].to_vec(),
        },
        29 if len >= 4 => Rdata::Loc {
            size: d[1],
            horiz: d[2],
            vert: d[3],
        },
        35 if len >= 4 => {
            let mut p = 4;
            let flags = char_string(d, &mut p);
            let service = char_string(d, &mut p);
            let regexp = char_string(d, &mut p);
            let replacement = if p < len {
                read_name(msg, start + p).map(|n| n.0).unwrap_or_default()
            } else {
                String::new()
            };
            Rdata::Naptr {
                order: u16::from_be_bytes([d[0], d[1]]),
                preference: u16::from_be_bytes([d[2], d[3]]),
                flags,
                service,
                regexp,
                replacement,
            }
        }
        _ => Rdata::Other,
    })
}

/// Parses a whole message. Errors before the end of the header are
/// returned; later errors are kept in [`Message::error`].
pub fn parse(msg: &[u8]) -> Result<Message, DnsError> {
    let header = Header::parse(msg)?;
    // Sized up front from the counts, but never past what the message's
    // bytes can hold (a question takes at least 5, a record 11).
    let body = msg.len() - 12;
    let records = usize::from(header.ancount)
        .min(MAX_RECORDS)
        .saturating_add(usize::from(header.nscount).min(MAX_RECORDS))
        .saturating_add(usize::from(header.arcount).min(MAX_RECORDS));
    let mut m = Message {
        header,
        questions: Vec::with_capacity(usize::from(header.qdcount).min(MAX_RECORDS).min(body / 5)),
        records: Vec::with_capacity(records.min(body / 11)),
        edns_udp_size: None,
        error: None,
    };
    let mut name = NameBuf::default();
    let mut pos = 12;
    let res = (|| -> Result<(), DnsError> {
        for _ in 0..header.qdcount.min(MAX_RECORDS as u16) {
            let p = read_name_into(msg, pos, &mut name)?;
            let qtype = u16_at(msg, p)?;
            let qclass = u16_at(msg, p + 2)?;
            pos = p + 4;
            m.questions.push(Question {
                name: name.to_owned_name(),
                qtype,
                qclass,
            });
        }
        let sections = [
            (Section::Answer, header.ancount),
            (Section::Authority, header.nscount),
            (Section::Additional, header.arcount),
        ];
        for (section, count) in sections {
            for _ in 0..count.min(MAX_RECORDS as u16) {
                let p = read_name_into(msg, pos, &mut name)?;
                let rtype = u16_at(msg, p)?;
                let class = u16_at(msg, p + 2)?;
                let ttl = u32_at(msg, p + 4)?;
                let rdlen = u16_at(msg, p + 8)?;
                let start = p + 10;
                if start + rdlen as usize > msg.len() {
                    return Err(DnsError::TruncatedRecord);
                }
                let data = rdata(msg, rtype, start, rdlen as usize)?;
                if rtype == 41 {
                    m.edns_udp_size = Some(class);
                }
                pos = start + rdlen as usize;
                m.records.push(Record {
                    name: name.to_owned_name(),
                    rtype,
                    class,
                    ttl,
                    rdlen,
                    data,
                    section,
                });
            }
        }
        Ok(())
    })();
    m.error = res.err();
    Ok(m)
}

/// Whether the first bytes look like a DNS message (used for detection).
pub fn plausible(b: &[u8]) -> bool {
    let Ok(h) = Header::parse(b) else {
        return false;
    };
    if !matches!(h.opcode, 0 | 1 | 2 | 4 | 5) || h.qdcount > 16 {
        return false;
    }
    if !h.qr && (h.qdcount != 1 && h.opcode == 0) {
        return false;
    }
    let total = h.qdcount as usize + h.ancount as usize + h.nscount as usize + h.arcount as usize;
    if total == 0 || total > 4096 {
        return false;
    }
    match parse(b) {
        Ok(m) => m.error.is_none() || !m.questions.is_empty(),
        Err(_) => false,
    }
}

/// Whether a header alone looks like a DNS query or response (detection
/// when the rest of a long TCP message has not arrived yet).
pub fn header_plausible(b: &[u8]) -> bool {
    let Ok(h) = Header::parse(b) else {
        return false;
    };
    matches!(h.opcode, 0 | 4 | 5)
        && h.qdcount <= 16
        && (h.qr || h.opcode != 0 || h.qdcount == 1)
        && h.z & 0x4 == 0
        && (h.qdcount as usize + h.ancount as usize + h.nscount as usize + h.arcount as usize)
            < 4096
        && (h.qr || h.ancount == 0 || h.opcode != 0)
}

/// Zeek's name for a query type.
pub fn qtype_name(t: u16) -> String {
    let n = match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "*",
        256 => "URI",
        257 => "CAA",
        32768 => "TA",
        32769 => "DLV",
        65281 => "WINS",
        65282 => "WINS-R",
        _ => return format!("query-{t}"),
    };
    n.to_string()
}

/// Zeek's name for a query class.
pub fn qclass_name(c: u16) -> String {
    match c {
        1 => "C_INTERNET".into(),
        2 => "C_CSNET".into(),
        3 => "C_CHAOS".into(),
        4 => "C_HESOD".into(),
        254 => "C_NONE".into(),
        255 => "C_ANY".into(),
        _ => format!("qclass-{c}"),
    }
}

/// Zeek's name for a response code.
pub fn rcode_name(r: u16) -> String {
    let n = match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => "?",
    };
    n.to_string()
}

/// Zeek's name for an opcode.
pub fn opcode_name(o: u8) -> String {
    match o {
        0 => "query".into(),
        1 => "inverse-query".into(),
        2 => "status".into(),
        4 => "notify".into(),
        5 => "dynamic-update".into(),
        _ => format!("opcode-{o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8]) -> Vec<u8> {
        let mut v = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(name);
        v.extend_from_slice(&[0, 1, 0, 1]);
        v
    }

    #[test]
    fn parses_query_and_answer_with_compression() {
        let mut m = query(b"\x03www\x07example\x03com\x00");
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 1;
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 1]);
        let p = parse(&m).unwrap();
        assert_eq!(p.header.id, 0x1234);
        assert!(p.header.qr && p.header.rd && p.header.ra);
        assert_eq!(p.questions[0].name, "www.example.com");
        assert_eq!(p.records[0].name, "www.example.com");
        assert_eq!(p.records[0].ttl, 3600);
        assert_eq!(p.records[0].data, Rdata::A(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(p.error.is_none());
    }

    #[test]
    fn compression_loop_is_an_error_not_a_hang() {
        let m = query(b"\xc0\x0c");
        let p = parse(&m).unwrap();
        assert_eq!(p.error, Some(DnsError::CompressionLoop));
        assert_eq!(Header::parse(b"abc"), Err(DnsError::TruncatedHeader));
    }

    #[test]
    fn names_like_zeek() {
        assert_eq!(qtype_name(65534), "query-65534");
        assert_eq!(qclass_name(1), "C_INTERNET");
        assert_eq!(rcode_name(3), "NXDOMAIN");
        let m = query(b"\x02a\x01\x00");
        assert_eq!(parse(&m).unwrap().questions[0].name, "a\\x01");
    }
}
