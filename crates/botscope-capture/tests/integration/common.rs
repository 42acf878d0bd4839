//! Helpers: corpus location, sinks, and a small packet/pcap writer for
//! crafted inputs.

#![allow(dead_code)]

use botscope_capture::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::Conn;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// The peer corpus in the repository (`<repo>/tests/corpus`, see its README).
pub fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// A corpus file.
pub fn corpus(rel: &str) -> PathBuf {
    let p = corpus_root().join(rel);
    assert!(p.exists(), "corpus file missing: {}", p.display());
    p
}

/// Records everything the engine hands out.
#[derive(Default)]
pub struct Recorder {
    pub conns: Vec<Conn>,
    /// (flow id, direction) → reassembled bytes.
    pub streams: BTreeMap<(u64, bool), Vec<u8>>,
    /// (flow id, direction) → gap lengths.
    pub gaps: BTreeMap<(u64, bool), Vec<u64>>,
    /// Datagram payloads in order.
    pub datagrams: Vec<Vec<u8>>,
    pub packets: u64,
}

impl FlowSink for Recorder {
    fn on_packet(&mut self, _pkt: &PacketInfo<'_>, _flow: FlowRef<'_>) {
        self.packets += 1;
    }
    fn on_datagram(&mut self, _flow: FlowRef<'_>, _dir: Direction, pkt: &PacketInfo<'_>) {
        self.datagrams.push(pkt.payload.to_vec());
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        _pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        self.streams
            .entry((flow.id, dir == Direction::FromOrig))
            .or_default()
            .extend_from_slice(data);
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        self.gaps
            .entry((flow.id, dir == Direction::FromOrig))
            .or_default()
            .push(len);
    }
    fn on_flow_end(&mut self, _flow: FlowRef<'_>, conn: &mut Conn) {
        self.conns.push(conn.clone());
    }
}

fn ones(data: &[u8]) -> u32 {
    let mut s = 0u32;
    for c in data.chunks(2) {
        s += if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]]) as u32
        } else {
            (c[0] as u32) << 8
        };
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 header + payload with a correct header checksum.
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    frag: u16,
    payload: &[u8],
) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        (id >> 8) as u8,
        id as u8,
        (frag >> 8) as u8,
        frag as u8,
        64,
        proto,
        0,
        0,
    ];
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = fold(ones(&h));
    h[10] = (c >> 8) as u8;
    h[11] = c as u8;
    h.extend_from_slice(payload);
    h
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut p = Vec::new();
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&[0, proto, (len >> 8) as u8, len as u8]);
    ones(&p)
}

/// A UDP segment with a correct checksum.
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = vec![
        (sp >> 8) as u8,
        sp as u8,
        (dp >> 8) as u8,
        dp as u8,
        (len >> 8) as u8,
        len as u8,
        0,
        0,
    ];
    u.extend_from_slice(payload);
    let c = fold(pseudo_sum(src, dst, 17, len) + ones(&u));
    u[6] = (c >> 8) as u8;
    u[7] = c as u8;
    u
}

/// A TCP segment (20-byte header) with a correct checksum.
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sp: u16,
    dp: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let c = fold(pseudo_sum(src, dst, 6, t.len()) + ones(&t));
    t[16] = (c >> 8) as u8;
    t[17] = c as u8;
    t
}

/// An Ethernet frame around an IPv4 packet.
pub fn eth(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 0x08, 0x00];
    f.extend_from_slice(ip);
    f
}

/// A TCP/IPv4 Ethernet frame.
#[allow(clippy::too_many_arguments)]
pub fn tcp_frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sp: u16,
    dp: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    eth(&ipv4(
        src,
        dst,
        6,
        1,
        0x4000,
        &tcp(src, dst, sp, dp, seq, ack, flags, payload),
    ))
}

/// A UDP/IPv4 Ethernet frame.
pub fn udp_frame(src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    eth(&ipv4(
        src,
        dst,
        17,
        1,
        0x4000,
        &udp(src, dst, sp, dp, payload),
    ))
}

/// A classic pcap file. `ts` in microseconds.
pub fn pcap(link: u32, pkts: &[(i64, Vec<u8>)], big: bool, nanos: bool) -> Vec<u8> {
    let w32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    out.extend_from_slice(&w16(2));
    out.extend_from_slice(&w16(4));
    out.extend_from_slice(&w32(0));
    out.extend_from_slice(&w32(0));
    out.extend_from_slice(&w32(65535));
    out.extend_from_slice(&w32(link));
    for (ts, data) in pkts {
        out.extend_from_slice(&w32((ts / 1_000_000) as u32));
        let frac = ts % 1_000_000;
        out.extend_from_slice(&w32(if nanos {
            (frac * 1000) as u32
        } else {
            frac as u32
        }));
        out.extend_from_slice(&w32(data.len() as u32));
        out.extend_from_slice(&w32(data.len() as u32));
        out.extend_from_slice(data);
    }
    out
}

/// A pcapng file with the given interfaces (link type, tsresol byte);
/// packets name their interface. Big-endian when `big`.
pub fn pcapng(ifaces: &[(u16, u8)], pkts: &[(u32, i64, Vec<u8>)], big: bool) -> Vec<u8> {
    let w32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, t: u32, body: &[u8]| {
        let len = 12 + body.len().div_ceil(4) * 4;
        out.extend_from_slice(&w32(t));
        out.extend_from_slice(&w32(len as u32));
        out.extend_from_slice(body);
        out.resize(out.len() + (len - 12 - body.len()), 0);
        out.extend_from_slice(&w32(len as u32));
    };
    let mut shb = Vec::new();
    shb.extend_from_slice(&w32(0x1a2b_3c4d));
    shb.extend_from_slice(&w16(1));
    shb.extend_from_slice(&w16(0));
    shb.extend_from_slice(&[0xff; 8]);
    block(&mut out, 0x0a0d_0d0a, &shb);
    for &(link, res) in ifaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&w16(link));
        idb.extend_from_slice(&w16(0));
        idb.extend_from_slice(&w32(0));
        idb.extend_from_slice(&w16(9));
        idb.extend_from_slice(&w16(1));
        idb.extend_from_slice(&[res, 0, 0, 0]);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, 1, &idb);
    }
    for (ifi, ts_us, data) in pkts {
        let res = ifaces[*ifi as usize].1;
        let units: u64 = if res & 0x80 != 0 {
            1 << (res & 0x7f)
        } else {
            10u64.pow(res as u32)
        };
        let ticks = (*ts_us as u128 * units as u128 / 1_000_000) as u64;
        let mut epb = Vec::new();
        epb.extend_from_slice(&w32(*ifi));
        epb.extend_from_slice(&w32((ticks >> 32) as u32));
        epb.extend_from_slice(&w32(ticks as u32));
        epb.extend_from_slice(&w32(data.len() as u32));
        epb.extend_from_slice(&w32(data.len() as u32));
        epb.extend_from_slice(data);
        block(&mut out, 6, &epb);
    }
    out
}

pub const A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);
