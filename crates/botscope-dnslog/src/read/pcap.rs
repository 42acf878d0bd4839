//! DNS queries from packet captures (pcap, pcapng; gzip/zstd undone by the
//! caller), read through botscope's capture engine and the DNS wire parser
//! of `botscope-dissect`.
//!
//! A query is a DNS message with QR = 0, opcode QUERY and at least one
//! question, sent to port 53 over UDP, or over TCP in the two-byte
//! length-prefixed framing of RFC 1035 §4.2.2. The client is the query's
//! source address, the time the packet's capture time, the resolver the
//! destination address, the name the first question's. Responses and
//! other traffic are ignored; a message to port 53 that does not parse is
//! counted by reason with its packet number.

use super::{FileStats, Query, ReadError};
use botscope_capture::reader::CaptureReader;
use botscope_capture::{
    ChecksumMode, Direction, Engine, EngineConfig, FlowRef, FlowSink, PacketInfo,
};
use botscope_core::error::SkipCounter;
use botscope_core::events::Conn;
use botscope_core::{Located, Location};
use botscope_dissect::dns::parser::{read_name, Header};
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;

/// The DNS port queries are taken from.
pub const DNS_PORT: u16 = 53;

/// Flow and reassembly memory the engine may hold while reading a capture.
/// DNS needs little state; the cap keeps a capture with millions of
/// clients inside the resolver-log reader's memory budget.
pub const CAPTURE_MEMORY_CAP: usize = 256 << 20;

/// Longest DNS-over-TCP message (the length prefix is 16 bits).
const MAX_TCP_MESSAGE: usize = 2 + u16::MAX as usize;

/// Whether `head` (after decompression) starts like a pcap or pcapng file.
pub fn is_capture(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

/// The engine sink that turns client queries into [`Query`] values.
struct QuerySink<'a> {
    name: &'a str,
    sink: &'a mut dyn FnMut(&Query<'_>),
    skips: &'a mut SkipCounter,
    stats: &'a mut FileStats,
    /// Partial TCP messages from clients, per flow id. `None` once the
    /// stream lost bytes (framing cannot be recovered after a gap).
    tcp: HashMap<u64, Option<Vec<u8>>>,
}

impl QuerySink<'_> {
    fn skip(&mut self, packet: Option<u64>, reason: &str) {
        self.stats.skipped += 1;
        self.skips.add(&Located {
            location: Location {
                file: self.name.to_string(),
                packet,
                ..Default::default()
            },
            reason: reason.to_string(),
        });
    }

    /// Delivers `msg` if it is a client query; counts it if it is broken.
    fn message(&mut self, msg: &[u8], client: IpAddr, server: IpAddr, pkt: &PacketInfo<'_>) {
        let header = match Header::parse(msg) {
            Ok(h) => h,
            Err(e) => return self.skip(Some(pkt.pkt_no), &e.to_string()),
        };
        if header.qr || header.opcode != 0 {
            return;
        }
        if header.qdcount == 0 {
            return self.skip(Some(pkt.pkt_no), "dns_query_without_question");
        }
        let qname = match read_name(msg, 12) {
            Ok((n, _)) => n,
            Err(e) => return self.skip(Some(pkt.pkt_no), &e.to_string()),
        };
        self.stats.queries += 1;
        (self.sink)(&Query {
            ts_us: pkt.ts.0,
            client,
            qname: qname.as_bytes(),
            server: Some(server),
            rcode: None,
        });
    }
}

impl FlowSink for QuerySink<'_> {
    fn on_datagram(&mut self, _flow: FlowRef<'_>, _dir: Direction, pkt: &PacketInfo<'_>) {
        if pkt.dst_port == DNS_PORT {
            self.message(pkt.payload, pkt.src, pkt.dst, pkt);
        }
    }

    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        if dir != Direction::FromOrig || flow.key.resp_p != DNS_PORT {
            return;
        }
        let (client, server) = (flow.key.orig_h, flow.key.resp_h);
        let mut buf = match self.tcp.remove(&flow.id) {
            Some(None) => {
                self.tcp.insert(flow.id, None);
                return;
            }
            Some(Some(b)) => b,
            None => Vec::new(),
        };
        buf.extend_from_slice(data);
        let mut start = 0;
        while buf.len() - start >= 2 {
            let len = u16::from_be_bytes([buf[start], buf[start + 1]]) as usize;
            if buf.len() - start < 2 + len {
                break;
            }
            let msg = buf[start + 2..start + 2 + len].to_vec();
            self.message(&msg, client, server, pkt);
            start += 2 + len;
        }
        buf.drain(..start);
        // A complete frame is consumed above, so what stays is shorter than
        // one message: the buffer never exceeds MAX_TCP_MESSAGE.
        debug_assert!(buf.len() < MAX_TCP_MESSAGE);
        self.tcp.insert(flow.id, Some(buf));
    }

    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, _len: u64) {
        if dir == Direction::FromOrig && flow.key.resp_p == DNS_PORT {
            if matches!(self.tcp.get(&flow.id), Some(Some(_)) | None) {
                self.skip(None, "dns_tcp_stream_gap");
            }
            self.tcp.insert(flow.id, None);
        }
    }

    fn on_flow_end(&mut self, flow: FlowRef<'_>, _conn: &mut Conn) {
        if let Some(Some(rest)) = self.tcp.remove(&flow.id) {
            if !rest.is_empty() {
                self.skip(None, "dns_tcp_truncated_message");
            }
        }
    }
}

/// Reads the DNS client queries of one capture stream. Packet-level
/// problems are counted in `skips`; a damaged capture (truncated record,
/// bad block) ends the file with an error after every packet before it was
/// delivered.
pub fn read_capture(
    src: Box<dyn Read + Send>,
    name: &str,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    read_capture_with(src, name, ChecksumMode::On, sink, skips, stats)
}

/// [`read_capture`] with a checksum mode; what it did is in
/// `stats.checksums`.
pub fn read_capture_with(
    src: Box<dyn Read + Send>,
    name: &str,
    checksums: ChecksumMode,
    sink: &mut dyn FnMut(&Query<'_>),
    skips: &mut SkipCounter,
    stats: &mut FileStats,
) -> Result<(), ReadError> {
    let cfg = EngineConfig {
        memory_cap: CAPTURE_MEMORY_CAP,
        checksums,
        ..Default::default()
    };
    let mut engine = Engine::new(&cfg);
    engine.begin_file(0, name);
    let mut qs = QuerySink {
        name,
        sink,
        skips,
        stats,
        tcp: HashMap::new(),
    };
    let mut stop = None;
    match CaptureReader::new(src) {
        Ok(mut rd) => loop {
            match rd.next_record() {
                Ok(Some(r)) => {
                    qs.stats.records += 1;
                    engine.packet(r.no, r.ts, r.link, r.data, r.orig_len, &mut qs);
                }
                Ok(None) => break,
                Err(e) => {
                    stop = Some((e.offset(), e.reason()));
                    break;
                }
            }
        },
        Err(e) => stop = Some((e.offset(), e.reason())),
    }
    engine.finish(&mut qs);
    qs.stats.checksums = Some(engine.summary.checksums.clone());
    // Packets the engine could not decode (bad headers, checksums) are
    // skipped records of this file as well.
    for (reason, (n, places)) in &engine.summary.skipped.by_reason {
        qs.stats.skipped += n;
        let slot = qs.skips.by_reason.entry(reason.clone()).or_default();
        slot.0 += n;
        for p in places {
            if slot.1.len() < SkipCounter::KEEP {
                slot.1.push(p.clone());
            }
        }
    }
    // Packets with a bad IP/TCP/UDP checksum were ignored (a resolver drops
    // them too); say how many, since offloaded captures have many.
    let bad = engine.summary.bad_checksums;
    if bad > 0 {
        qs.stats.skipped += bad;
        let slot = qs
            .skips
            .by_reason
            .entry("bad IP/TCP/UDP checksum (packet ignored)".into())
            .or_default();
        slot.0 += bad;
        if slot.1.len() < SkipCounter::KEEP {
            slot.1.push(name.to_string());
        }
    }
    match stop {
        Some((offset, reason)) => Err(Located {
            location: Location {
                file: name.to_string(),
                offset,
                ..Default::default()
            },
            reason,
        }),
        None => Ok(()),
    }
}
