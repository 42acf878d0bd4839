//! Capture file readers: classic pcap (both byte orders, µs and ns) and
//! pcapng (SHB/IDB/EPB/SPB/PB, several interfaces), optionally gzip- or
//! zstd-compressed. Formats are detected by magic, never by file name.
//!
//! Reading is streaming and bounded: the buffer grows only up to
//! [`MAX_RECORD`] however large a length field claims to be.

use botscope_core::Ts;
use std::io::{self, Read};

/// Largest record (pcap) or block (pcapng) accepted; anything claiming to
/// be larger ends the file with "absurd record length".
pub const MAX_RECORD: usize = 16 * 1024 * 1024;

/// Largest number of pcapng interfaces kept per section.
const MAX_INTERFACES: usize = 4096;

/// Bytes read from the source per refill.
const CHUNK: usize = 256 * 1024;

/// One packet record.
#[derive(Debug)]
pub struct Record<'a> {
    /// Capture time.
    pub ts: Ts,
    /// Link type (DLT/LINKTYPE number).
    pub link: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the (decompressed) stream.
    pub offset: u64,
    /// 1-based record number in the file.
    pub no: u64,
}

/// Why a file stopped being read (the reason strings are stable keys).
#[derive(Debug)]
pub enum ReadStop {
    /// The stream ended in the middle of a record or header.
    Truncated {
        /// Stream offset of the record or header that was cut.
        offset: u64,
    },
    /// The first bytes are not a capture format we know.
    BadMagic,
    /// A length field is larger than [`MAX_RECORD`] or inconsistent.
    AbsurdLength {
        /// Stream offset of the record or block.
        offset: u64,
        /// The length it claimed.
        len: u64,
    },
    /// A structurally invalid block.
    Malformed {
        /// Stream offset of the block.
        offset: u64,
        /// What is wrong with it (a stable reason key).
        what: &'static str,
    },
    /// Reading the underlying file failed.
    Io(io::Error),
}

impl ReadStop {
    /// Stable reason string.
    pub fn reason(&self) -> String {
        match self {
            ReadStop::Truncated { .. } => "truncated file".into(),
            ReadStop::BadMagic => "unknown capture format".into(),
            ReadStop::AbsurdLength { .. } => "absurd record length".into(),
            ReadStop::Malformed { what, .. } => format!("malformed pcapng: {what}"),
            ReadStop::Io(e) => format!("read error: {}", e.kind()),
        }
    }
    /// Byte offset where the problem was found.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadStop::Truncated { offset }
            | ReadStop::AbsurdLength { offset, .. }
            | ReadStop::Malformed { offset, .. } => Some(*offset),
            ReadStop::BadMagic => Some(0),
            ReadStop::Io(_) => None,
        }
    }
}

/// A refillable window over a byte stream.
struct Stream {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    pos: u64,
    eof: bool,
}

impl Stream {
    fn new(src: Box<dyn Read + Send>) -> Stream {
        Stream {
            src,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Makes at least `n` bytes available; false when the stream ends first.
    fn need(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.start + n > self.buf.len() {
                // Compact, then grow if one record is bigger than the buffer.
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if n > self.buf.len() {
                    self.buf
                        .resize(n.max(self.buf.len() * 2).min(MAX_RECORD + 64), 0);
                }
            }
            let got = loop {
                match self.src.read(&mut self.buf[self.end..]) {
                    Ok(g) => break g,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(true)
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }
}

#[derive(Clone, Copy)]
struct Iface {
    link: u32,
    /// Ticks per second.
    units: u64,
    /// Seconds added to every timestamp (if_tsoffset).
    offset_secs: i64,
}

enum Format {
    Pcap { big: bool, nanos: bool, link: u32 },
    Pcapng { big: bool, ifaces: Vec<Iface> },
}

/// Iterates packet records of one capture stream.
pub struct CaptureReader {
    s: Stream,
    fmt: Format,
    /// Records returned so far (pcapng: packet blocks only).
    pub records: u64,
}

fn u16_at(b: &[u8], big: bool) -> u16 {
    let a = [b[0], b[1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn u32_at(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// Wraps a reader in a decompressor when its first bytes are gzip or zstd.
fn decompress(mut src: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match src.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let chained: Box<dyn Read + Send> = Box::new(io::Cursor::new(head[..got].to_vec()).chain(src));
    if got >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(chained)))
    } else if got == 4 && head == [0x28, 0xb5, 0x2f, 0xfd] {
        Ok(Box::new(zstd::stream::read::Decoder::new(chained)?))
    } else {
        Ok(chained)
    }
}

impl CaptureReader {
    /// Opens a capture stream: decompresses if needed and reads the file
    /// header. Fails with [`ReadStop::BadMagic`] for unknown formats.
    pub fn new(src: Box<dyn Read + Send>) -> Result<CaptureReader, ReadStop> {
        let src = decompress(src).map_err(ReadStop::Io)?;
        let mut s = Stream::new(src);
        if !s.need(4).map_err(ReadStop::Io)? {
            return Err(if s.avail().is_empty() {
                ReadStop::BadMagic
            } else {
                ReadStop::Truncated { offset: 0 }
            });
        }
        let m = [s.avail()[0], s.avail()[1], s.avail()[2], s.avail()[3]];
        let fmt = match m {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                return Ok(CaptureReader {
                    s,
                    fmt: Format::Pcapng {
                        big: false,
                        ifaces: Vec::new(),
                    },
                    records: 0,
                })
            }
            _ => return Err(ReadStop::BadMagic),
        };
        let (big, nanos) = fmt;
        if !s.need(24).map_err(ReadStop::Io)? {
            return Err(ReadStop::Truncated { offset: 0 });
        }
        let link = u32_at(&s.avail()[20..], big) & 0xffff;
        s.consume(24);
        Ok(CaptureReader {
            s,
            fmt: Format::Pcap { big, nanos, link },
            records: 0,
        })
    }

    /// Whether the file is pcapng.
    pub fn is_pcapng(&self) -> bool {
        matches!(self.fmt, Format::Pcapng { .. })
    }

    /// The next packet record, `Ok(None)` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ReadStop> {
        match self.fmt {
            Format::Pcap { big, nanos, link } => {
                let off = self.s.pos;
                if !self.s.need(16).map_err(ReadStop::Io)? {
                    return if self.s.avail().is_empty() {
                        Ok(None)
                    } else {
                        Err(ReadStop::Truncated { offset: off })
                    };
                }
                let h = self.s.avail();
                let secs = u32_at(h, big) as i64;
                let frac = u32_at(&h[4..], big) as i64;
                let incl = u32_at(&h[8..], big) as usize;
                let orig = u32_at(&h[12..], big);
                if incl > MAX_RECORD {
                    return Err(ReadStop::AbsurdLength {
                        offset: off,
                        len: incl as u64,
                    });
                }
                if !self.s.need(16 + incl).map_err(ReadStop::Io)? {
                    return Err(ReadStop::Truncated { offset: off });
                }
                self.s.consume(16 + incl);
                self.records += 1;
                let ts = if nanos {
                    Ts::from_secs_nanos(secs, frac)
                } else {
                    Ts::from_secs_micros(secs, frac)
                };
                let end = self.s.start;
                Ok(Some(Record {
                    ts,
                    link,
                    data: &self.s.buf[end - incl..end],
                    orig_len: orig,
                    offset: off,
                    no: self.records,
                }))
            }
            Format::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn next_pcapng(&mut self) -> Result<Option<Record<'_>>, ReadStop> {
        loop {
            let off = self.s.pos;
            if !self.s.need(12).map_err(ReadStop::Io)? {
                return if self.s.avail().is_empty() {
                    Ok(None)
                } else {
                    Err(ReadStop::Truncated { offset: off })
                };
            }
            let Format::Pcapng { big, ifaces } = &mut self.fmt else {
                unreachable!()
            };
            let h = self.s.avail();
            if h[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                // Section header: its byte-order magic decides the section's order.
                let bom = [h[8], h[9], h[10], h[11]];
                *big = match bom {
                    [0x1a, 0x2b, 0x3c, 0x4d] => true,
                    [0x4d, 0x3c, 0x2b, 0x1a] => false,
                    _ => {
                        return Err(ReadStop::Malformed {
                            offset: off,
                            what: "byte-order magic",
                        })
                    }
                };
                ifaces.clear();
            }
            let big = *big;
            let btype = u32_at(h, big);
            let blen = u32_at(&h[4..], big) as usize;
            if blen > MAX_RECORD {
                return Err(ReadStop::AbsurdLength {
                    offset: off,
                    len: blen as u64,
                });
            }
            if blen < 12 || !blen.is_multiple_of(4) {
                return Err(ReadStop::Malformed {
                    offset: off,
                    what: "block length",
                });
            }
            if !self.s.need(blen).map_err(ReadStop::Io)? {
                return Err(ReadStop::Truncated { offset: off });
            }
            let Format::Pcapng { ifaces, .. } = &mut self.fmt else {
                unreachable!()
            };
            let block = &self.s.avail()[..blen];
            if u32_at(&block[blen - 4..], big) as usize != blen {
                return Err(ReadStop::Malformed {
                    offset: off,
                    what: "trailing block length",
                });
            }
            let body = &block[8..blen - 4];
            // Packet blocks yield (iface, ts ticks, data range within block, orig len).
            let pkt: Option<(usize, u64, usize, usize, u32)> = match btype {
                1 => {
                    if body.len() < 8 {
                        return Err(ReadStop::Malformed {
                            offset: off,
                            what: "interface block",
                        });
                    }
                    let link = u16_at(body, big) as u32;
                    let mut iface = Iface {
                        link,
                        units: 1_000_000,
                        offset_secs: 0,
                    };
                    parse_idb_options(&body[8..], big, &mut iface);
                    if ifaces.len() < MAX_INTERFACES {
                        ifaces.push(iface);
                    }
                    None
                }
                6 => Some(timed_packet_block(body, big, off, true)?),
                3 => {
                    if body.len() < 4 {
                        return Err(ReadStop::Malformed {
                            offset: off,
                            what: "simple packet block",
                        });
                    }
                    let orig = u32_at(body, big);
                    let cap = (orig as usize).min(body.len() - 4);
                    Some((0, 0, 12, cap, orig))
                }
                2 => Some(timed_packet_block(body, big, off, false)?),
                _ => None,
            };
            match pkt {
                None => {
                    self.s.consume(blen);
                }
                Some((ifi, ticks, dstart, cap, orig)) => {
                    let Some(iface) = ifaces.get(ifi).copied() else {
                        self.s.consume(blen);
                        self.records += 1;
                        return Err(ReadStop::Malformed {
                            offset: off,
                            what: "packet for undeclared interface",
                        });
                    };
                    let ts = ticks_to_ts(ticks, iface.units, iface.offset_secs);
                    let base = self.s.start;
                    self.s.consume(blen);
                    self.records += 1;
                    return Ok(Some(Record {
                        ts,
                        link: iface.link,
                        data: &self.s.buf[base + dstart..base + dstart + cap],
                        orig_len: orig,
                        offset: off,
                        no: self.records,
                    }));
                }
            }
        }
    }
}

/// Enhanced (EPB, `epb`) and obsolete (PB) packet blocks share their
/// layout except for the interface id: 32 bits in an EPB, 16 bits plus a
/// drop count in a PB. Returns (interface, timestamp ticks, data start
/// within the block, captured length, original length).
fn timed_packet_block(
    body: &[u8],
    big: bool,
    off: u64,
    epb: bool,
) -> Result<(usize, u64, usize, usize, u32), ReadStop> {
    if body.len() < 20 {
        return Err(ReadStop::Malformed {
            offset: off,
            what: if epb {
                "enhanced packet block"
            } else {
                "packet block"
            },
        });
    }
    let ifi = if epb {
        u32_at(body, big) as usize
    } else {
        u16_at(body, big) as usize
    };
    let ts = ((u32_at(&body[4..], big) as u64) << 32) | u32_at(&body[8..], big) as u64;
    let cap = u32_at(&body[12..], big) as usize;
    let orig = u32_at(&body[16..], big);
    if cap > body.len() - 20 {
        return Err(ReadStop::AbsurdLength {
            offset: off,
            len: cap as u64,
        });
    }
    Ok((ifi, ts, 28, cap, orig))
}

fn ticks_to_ts(ticks: u64, units: u64, offset_secs: i64) -> Ts {
    let units = units.max(1);
    let secs = (ticks / units) as i64;
    let frac = ticks % units;
    let micros = (frac as u128 * 1_000_000 / units as u128) as i64;
    Ts::from_secs_micros(secs.saturating_add(offset_secs), micros)
}

/// Reads if_tsresol (9) and if_tsoffset (14) from IDB options.
fn parse_idb_options(mut opts: &[u8], big: bool, iface: &mut Iface) {
    while opts.len() >= 4 {
        let code = u16_at(opts, big);
        let len = u16_at(&opts[2..], big) as usize;
        if code == 0 {
            break;
        }
        let padded = (len + 3) & !3;
        if opts.len() < 4 + len {
            break;
        }
        let val = &opts[4..4 + len];
        match (code, len) {
            (9, 1) => {
                let r = val[0];
                let exp = (r & 0x7f) as u32;
                iface.units = if r & 0x80 == 0 {
                    10u64.checked_pow(exp).unwrap_or(1_000_000)
                } else {
                    1u64.checked_shl(exp).unwrap_or(1_000_000)
                };
            }
            (14, 8) => {
                let v = if big {
                    i64::from_be_bytes(val.try_into().unwrap_or([0; 8]))
                } else {
                    i64::from_le_bytes(val.try_into().unwrap_or([0; 8]))
                };
                iface.offset_secs = v;
            }
            _ => {}
        }
        if opts.len() < 4 + padded {
            break;
        }
        opts = &opts[4 + padded..];
    }
}
