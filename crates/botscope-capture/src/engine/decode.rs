//! Link, IP and transport decoding, tunnel decapsulation (IP-in-IP, GRE,
//! ERSPAN, PPTP) and IP fragment reassembly, down to a [`L4`] header that
//! the checksum stage and then the flow table receive.

use super::checksums::{fold_ok, ones_sum, Checks, BAD_IP};
use super::uid::{derive_uid, Uid};
use super::Engine;
use crate::frag::FragOutcome;
use crate::FlowSink;
use botscope_core::Ts;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most tunnel layers removed from one packet.
const MAX_TUNNEL_DEPTH: u8 = 4;
/// Most VLAN tags skipped in one frame.
const MAX_VLAN_TAGS: usize = 4;
/// Most IPv6 extension headers walked.
const MAX_V6_EXT: usize = 8;
/// Most tunnels remembered for `tunnel_parents`.
const MAX_TUNNELS: usize = 65_536;

/// Per-packet context threaded through decoding (moved along, not
/// copied: the tunnel parent's uid may hold shared text).
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) ts: Ts,
    pub(super) caplen_cut: bool,
    pub(super) tunnel_depth: u8,
    pub(super) tunnel_parent: Option<Uid>,
    pub(super) fragmented: bool,
    /// Bad checksums found so far (`BAD_*` bits).
    pub(super) bad: u8,
    /// Source MAC of the innermost Ethernet header so far.
    pub(super) src_mac: Option<[u8; 6]>,
}

/// One IP fragment's identity and place.
struct Fragment {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
    offset: u32,
    more: bool,
    /// IP header length (for the rebuilt datagram's `ip_len`).
    header_len: usize,
}

/// Decoded transport header.
#[derive(Clone, Copy)]
pub(super) enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        win: u16,
        full_len: usize,
    },
    Udp {
        sport: u16,
        dport: u16,
        ulen: usize,
    },
    Icmp {
        t: u8,
        code: u8,
        v6: bool,
    },
    Other,
}

/// What a frame's link layer holds: the one walk from a link type to the
/// IP header, shared by the engine and the worker dispatcher
/// ([`crate::parallel::pair_hash`]), so both frame packets alike.
pub(crate) enum Framing<'a> {
    /// An IP header of version `ver` (4 or 6) at the start of `data`;
    /// `src_mac` when an Ethernet header carried it.
    Ip {
        /// IP version the link layer names (4 or 6).
        ver: u8,
        /// The bytes from the IP header on.
        data: &'a [u8],
        /// The Ethernet source address, if the frame had one.
        src_mac: Option<[u8; 6]>,
    },
    /// Not IP (ARP, other ethertypes or address families).
    NonIp,
    /// A link header cut short (counted as `snaplen cut` when the capture
    /// cut the frame).
    Cut(&'static str),
    /// Skipped for this reason.
    Skip(&'static str),
}

/// Frames `data` of link type `link` (the pcap LINKTYPE_ value).
pub(crate) fn framing(link: u32, data: &[u8]) -> Framing<'_> {
    match link {
        1 => ethernet_framing(data),
        113 => match data.get(16..) {
            Some(rest) => ethertype_framing(u16::from_be_bytes([data[14], data[15]]), rest, None),
            None => Framing::Cut("truncated link header"),
        },
        276 => match data.get(20..) {
            Some(rest) => ethertype_framing(u16::from_be_bytes([data[0], data[1]]), rest, None),
            None => Framing::Cut("truncated link header"),
        },
        101 | 12 | 14 => match data.first().map(|b| b >> 4) {
            Some(ver @ (4 | 6)) => ip_framing(ver, data, None),
            None => Framing::Cut("truncated ip header"),
            _ => Framing::Skip("malformed ip header"),
        },
        228 => ip_framing(4, data, None),
        229 => ip_framing(6, data, None),
        0 | 108 => {
            if data.len() < 4 {
                return Framing::Cut("truncated link header");
            }
            let fam_le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            let fam_be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            let fam = if link == 108 {
                fam_be
            } else if fam_le < 256 {
                fam_le
            } else {
                fam_be
            };
            match fam {
                2 => ip_framing(4, &data[4..], None),
                10 | 24 | 28 | 30 => ip_framing(6, &data[4..], None),
                _ => Framing::NonIp,
            }
        }
        _ => Framing::Skip("unsupported link type"),
    }
}

fn ip_framing(ver: u8, data: &[u8], src_mac: Option<[u8; 6]>) -> Framing<'_> {
    Framing::Ip { ver, data, src_mac }
}

/// An Ethernet frame: up to [`MAX_VLAN_TAGS`] 802.1Q/802.1ad tags, then
/// IP or a PPPoE session.
fn ethernet_framing(data: &[u8]) -> Framing<'_> {
    if data.len() < 14 {
        return Framing::Cut("truncated link header");
    }
    let src_mac = data[6..12].try_into().ok();
    let mut et = u16::from_be_bytes([data[12], data[13]]);
    let mut off = 14;
    let mut tags = 0;
    while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
        tags += 1;
        if tags > MAX_VLAN_TAGS || data.len() < off + 4 {
            return Framing::Cut("truncated vlan header");
        }
        et = u16::from_be_bytes([data[off + 2], data[off + 3]]);
        off += 4;
    }
    if et == 0x8864 {
        // PPPoE session: 6-byte header, then a PPP protocol number.
        if data.len() < off + 8 {
            return Framing::Cut("truncated pppoe header");
        }
        let pp = u16::from_be_bytes([data[off + 6], data[off + 7]]);
        return ppp_framing(pp, &data[off + 8..], src_mac);
    }
    ethertype_framing(et, &data[off..], src_mac)
}

fn ethertype_framing(et: u16, data: &[u8], src_mac: Option<[u8; 6]>) -> Framing<'_> {
    match et {
        0x0800 => ip_framing(4, data, src_mac),
        0x86dd => ip_framing(6, data, src_mac),
        0x8100 | 0x88a8 => {
            if data.len() < 4 {
                return Framing::Cut("truncated vlan header");
            }
            let inner = u16::from_be_bytes([data[2], data[3]]);
            if matches!(inner, 0x8100 | 0x88a8) {
                return Framing::NonIp;
            }
            ethertype_framing(inner, &data[4..], src_mac)
        }
        _ => Framing::NonIp,
    }
}

/// A PPP protocol number: IPv4 or IPv6, else not IP.
fn ppp_framing(pp: u16, data: &[u8], src_mac: Option<[u8; 6]>) -> Framing<'_> {
    match pp {
        0x0021 => ip_framing(4, data, src_mac),
        0x0057 => ip_framing(6, data, src_mac),
        _ => Framing::NonIp,
    }
}

impl Engine<'_> {
    /// Decodes one frame of link type `link` (the pcap LINKTYPE_ value).
    pub(super) fn link(&mut self, ctx: Ctx, link: u32, data: &[u8], sink: &mut dyn FlowSink) {
        self.framed(ctx, framing(link, data), sink)
    }

    /// Goes on from a framed link layer: IP is decoded, the rest counted.
    fn framed(&mut self, mut ctx: Ctx, f: Framing<'_>, sink: &mut dyn FlowSink) {
        match f {
            Framing::Ip { ver, data, src_mac } => {
                if src_mac.is_some() {
                    ctx.src_mac = src_mac;
                }
                self.ip(ctx, ver, data, sink)
            }
            Framing::NonIp => self.summary.non_ip += 1,
            Framing::Cut(reason) => self.cut(ctx, reason),
            Framing::Skip(reason) => self.skip(reason),
        }
    }

    fn cut(&mut self, ctx: Ctx, reason: &str) {
        if ctx.caplen_cut {
            self.skip("snaplen cut");
        } else {
            self.skip(reason);
        }
    }

    /// An Ethernet frame inside a tunnel (GRE 0x6558, ERSPAN).
    fn ethernet(&mut self, ctx: Ctx, data: &[u8], sink: &mut dyn FlowSink) {
        self.framed(ctx, ethernet_framing(data), sink)
    }

    /// A PPP payload inside a tunnel (enhanced GRE).
    fn ppp_proto(&mut self, ctx: Ctx, pp: u16, data: &[u8], sink: &mut dyn FlowSink) {
        self.framed(ctx, ppp_framing(pp, data, None), sink)
    }

    fn ip(&mut self, ctx: Ctx, ver: u8, data: &[u8], sink: &mut dyn FlowSink) {
        if ver == 4 {
            self.ipv4(ctx, data, sink)
        } else {
            self.ipv6(ctx, data, sink)
        }
    }

    fn ipv4(&mut self, mut ctx: Ctx, data: &[u8], sink: &mut dyn FlowSink) {
        if data.len() < 20 {
            return self.cut(ctx, "truncated ip header");
        }
        if data[0] >> 4 != 4 {
            return self.skip("malformed ip header");
        }
        let ihl = (data[0] & 0x0f) as usize * 4;
        let total = u16::from_be_bytes([data[2], data[3]]) as usize;
        if ihl < 20 || total < ihl {
            return self.skip("malformed ip header");
        }
        if data.len() < ihl {
            return self.cut(ctx, "truncated ip header");
        }
        // Trim link padding; a shorter capture keeps what there is.
        let avail = &data[..total.min(data.len())];
        if total > data.len() && !ctx.caplen_cut {
            // The IP length claims more than the frame holds.
            ctx.caplen_cut = true;
            self.anomaly("ip length beyond frame");
        }
        let src = IpAddr::V4(Ipv4Addr::new(data[12], data[13], data[14], data[15]));
        let dst = IpAddr::V4(Ipv4Addr::new(data[16], data[17], data[18], data[19]));
        let proto = data[9];
        let frag = u16::from_be_bytes([data[6], data[7]]);
        let more = frag & 0x2000 != 0;
        let offset = (frag & 0x1fff) as u32 * 8;
        if self.checks != Checks::Skip && !fold_ok(ones_sum(&data[..ihl])) {
            self.summary.checksums.bad_ip += 1;
            ctx.bad |= BAD_IP;
        }
        if more || offset > 0 {
            if ctx.bad & BAD_IP != 0 && self.checks == Checks::Verify {
                // A fragment with a bad header never joins a datagram.
                self.summary.checksums.checked += 1;
                self.summary.checksums.dropped += 1;
                self.summary.bad_checksums += 1;
                return;
            }
            self.summary.ip_fragments += 1;
            if total > data.len() {
                return self.cut(ctx, "truncated ip fragment");
            }
            let id = u16::from_be_bytes([data[4], data[5]]) as u32;
            let frag = Fragment {
                src,
                dst,
                id,
                proto,
                offset,
                more,
                header_len: ihl,
            };
            return self.fragment(ctx, frag, &avail[ihl..], sink);
        }
        self.transport(ctx, src, dst, proto, total as u32, &avail[ihl..], sink)
    }

    fn ipv6(&mut self, mut ctx: Ctx, data: &[u8], sink: &mut dyn FlowSink) {
        if data.len() < 40 {
            return self.cut(ctx, "truncated ip header");
        }
        if data[0] >> 4 != 6 {
            return self.skip("malformed ip header");
        }
        let plen = u16::from_be_bytes([data[4], data[5]]) as usize;
        let total = if plen == 0 { data.len() } else { 40 + plen };
        if total > data.len() && !ctx.caplen_cut {
            ctx.caplen_cut = true;
            self.anomaly("ip length beyond frame");
        }
        let avail = &data[..total.min(data.len())];
        let mut a = [0u8; 16];
        a.copy_from_slice(&data[8..24]);
        let src = IpAddr::V6(Ipv6Addr::from(a));
        a.copy_from_slice(&data[24..40]);
        let dst = IpAddr::V6(Ipv6Addr::from(a));
        let mut nh = data[6];
        let mut off = 40;
        let mut frag: Option<(u32, bool, u32)> = None;
        let mut steps = 0;
        loop {
            match nh {
                0 | 43 | 60 | 135 | 139 | 140 => {
                    if avail.len() < off + 8 {
                        return self.cut(ctx, "truncated ipv6 extension header");
                    }
                    let len = (avail[off + 1] as usize + 1) * 8;
                    nh = avail[off];
                    off += len;
                }
                51 => {
                    if avail.len() < off + 8 {
                        return self.cut(ctx, "truncated ipv6 extension header");
                    }
                    let len = (avail[off + 1] as usize + 2) * 4;
                    nh = avail[off];
                    off += len;
                }
                44 => {
                    if avail.len() < off + 8 {
                        return self.cut(ctx, "truncated ipv6 extension header");
                    }
                    let fo = u16::from_be_bytes([avail[off + 2], avail[off + 3]]);
                    let id = u32::from_be_bytes([
                        avail[off + 4],
                        avail[off + 5],
                        avail[off + 6],
                        avail[off + 7],
                    ]);
                    frag = Some(((fo >> 3) as u32 * 8, fo & 1 != 0, id));
                    nh = avail[off];
                    off += 8;
                }
                _ => break,
            }
            steps += 1;
            if steps > MAX_V6_EXT {
                return self.skip("too many ipv6 extension headers");
            }
            if off > avail.len() {
                return self.cut(ctx, "truncated ipv6 extension header");
            }
        }
        if let Some((offset, more, id)) = frag {
            if offset == 0 && !more {
                // Atomic fragment: nothing to reassemble.
                return self.transport(ctx, src, dst, nh, total as u32, &avail[off..], sink);
            }
            self.summary.ip_fragments += 1;
            if total > data.len() {
                return self.cut(ctx, "truncated ip fragment");
            }
            let frag = Fragment {
                src,
                dst,
                id,
                proto: nh,
                offset,
                more,
                header_len: 40,
            };
            return self.fragment(ctx, frag, &avail[off..], sink);
        }
        self.transport(ctx, src, dst, nh, total as u32, &avail[off..], sink)
    }

    /// Adds an IPv4 or IPv6 fragment; a completed datagram goes on to the
    /// transport layer.
    fn fragment(&mut self, mut ctx: Ctx, f: Fragment, payload: &[u8], sink: &mut dyn FlowSink) {
        let (out, overlap) = self.frags.add(
            ctx.ts, f.src, f.dst, f.id, f.proto, f.offset, f.more, payload,
        );
        if overlap {
            self.anomaly("ip fragment overlap");
        }
        match out {
            FragOutcome::Pending => {}
            FragOutcome::Dropped(r) => self.skip(r),
            FragOutcome::Complete(payload) => {
                self.summary.ip_reassembled += 1;
                ctx.fragmented = true;
                let ip_len = (f.header_len + payload.len()) as u32;
                self.transport(ctx, f.src, f.dst, f.proto, ip_len, &payload, sink);
            }
        }
    }

    fn tunnel_uid(&mut self, src: IpAddr, dst: IpAddr, kind: u8) -> Uid {
        let k = if (src, dst) <= (dst, src) {
            (src, dst, kind)
        } else {
            (dst, src, kind)
        };
        if let Some(u) = self.tunnels.get(&k) {
            return u.clone();
        }
        if self.tunnels.len() >= MAX_TUNNELS {
            self.tunnels.clear();
        }
        // From the tunnel's own endpoints (ordered) and kind, not from a
        // counter: every engine (one per worker thread) gives a tunnel the
        // same uid, and a tunnel forgotten when the table was cleared
        // comes back with the uid it had.
        let u = derive_uid(
            b'C',
            self.cfg.uid_seed ^ 0x7475_6e6e_656c,
            tunnel_number(k.0, k.1, kind),
        );
        self.tunnels.insert(k, u.clone());
        self.summary.tunnels += 1;
        u
    }

    #[allow(clippy::too_many_arguments)]
    fn transport(
        &mut self,
        mut ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        ip_len: u32,
        data: &[u8],
        sink: &mut dyn FlowSink,
    ) {
        match proto {
            4 | 41 if ctx.tunnel_depth < MAX_TUNNEL_DEPTH => {
                ctx.tunnel_parent = Some(self.tunnel_uid(src, dst, 1));
                ctx.tunnel_depth += 1;
                ctx.fragmented = false;
                self.summary.decapsulated += 1;
                return self.ip(ctx, if proto == 4 { 4 } else { 6 }, data, sink);
            }
            47 if ctx.tunnel_depth < MAX_TUNNEL_DEPTH => {
                return self.gre(ctx, src, dst, data, sink)
            }
            _ => {}
        }
        let l4 = match proto {
            6 => {
                if data.len() < 20 {
                    return self.cut(ctx, "truncated tcp header");
                }
                let doff = (data[12] >> 4) as usize * 4;
                if doff < 20 {
                    return self.skip("malformed tcp header");
                }
                if data.len() < doff {
                    return self.cut(ctx, "truncated tcp header");
                }
                L4::Tcp {
                    sport: u16::from_be_bytes([data[0], data[1]]),
                    dport: u16::from_be_bytes([data[2], data[3]]),
                    seq: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                    ack: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
                    flags: data[13],
                    win: u16::from_be_bytes([data[14], data[15]]),
                    full_len: doff,
                }
            }
            17 => {
                if data.len() < 8 {
                    return self.cut(ctx, "truncated udp header");
                }
                let ulen = u16::from_be_bytes([data[4], data[5]]) as usize;
                if ulen < 8 && ulen != 0 {
                    return self.skip("malformed udp header");
                }
                L4::Udp {
                    sport: u16::from_be_bytes([data[0], data[1]]),
                    dport: u16::from_be_bytes([data[2], data[3]]),
                    ulen,
                }
            }
            1 | 58 => {
                if data.len() < 4 {
                    return self.cut(ctx, "truncated icmp header");
                }
                L4::Icmp {
                    t: data[0],
                    code: data[1],
                    v6: proto == 58,
                }
            }
            _ => L4::Other,
        };
        self.check(ctx, src, dst, proto, ip_len, l4, data, sink)
    }

    fn gre(
        &mut self,
        mut ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        data: &[u8],
        sink: &mut dyn FlowSink,
    ) {
        if data.len() < 4 {
            return self.cut(ctx, "truncated gre header");
        }
        let flags = u16::from_be_bytes([data[0], data[1]]);
        let ver = flags & 0x7;
        let ptype = u16::from_be_bytes([data[2], data[3]]);
        let c = flags & 0x8000 != 0;
        let k = flags & 0x2000 != 0;
        let s = flags & 0x1000 != 0;
        let mut off = 4;
        match ver {
            0 => {
                if flags & 0x4000 != 0 {
                    // Routing present (RFC 1701): not supported.
                    return self.skip("unsupported gre routing");
                }
                off += 4 * (c as usize + k as usize + s as usize);
            }
            1 => {
                // Enhanced GRE (PPTP): key always present, optional ack.
                let a = flags & 0x0080 != 0;
                if ptype != 0x880b || !k {
                    return self.skip("malformed gre header");
                }
                off += 4 + 4 * (s as usize + a as usize);
            }
            _ => return self.skip("unsupported gre version"),
        }
        if data.len() < off {
            return self.cut(ctx, "truncated gre header");
        }
        let inner = &data[off..];
        ctx.tunnel_parent = Some(self.tunnel_uid(src, dst, 2));
        ctx.tunnel_depth += 1;
        ctx.fragmented = false;
        self.summary.decapsulated += 1;
        match ptype {
            0x0800 => self.ipv4(ctx, inner, sink),
            0x86dd => self.ipv6(ctx, inner, sink),
            0x6558 => self.ethernet(ctx, inner, sink),
            0x880b => {
                // PPP: optional address/control 0xff03, then 1- or 2-byte protocol.
                let mut p = inner;
                if p.len() >= 2 && p[0] == 0xff && p[1] == 0x03 {
                    p = &p[2..];
                }
                if p.is_empty() {
                    return self.cut(ctx, "truncated ppp header");
                }
                let (pp, hl) = if p[0] & 1 == 1 {
                    (p[0] as u16, 1)
                } else if p.len() >= 2 {
                    (u16::from_be_bytes([p[0], p[1]]), 2)
                } else {
                    return self.cut(ctx, "truncated ppp header");
                };
                self.ppp_proto(ctx, pp, &p[hl..], sink)
            }
            0x88be => {
                // ERSPAN type II has a sequence number in GRE and an 8-byte
                // header; type I has neither.
                if s {
                    if inner.len() < 8 {
                        return self.cut(ctx, "truncated erspan header");
                    }
                    self.ethernet(ctx, &inner[8..], sink)
                } else {
                    self.ethernet(ctx, inner, sink)
                }
            }
            0x22eb => {
                // ERSPAN type III: 12-byte header, plus 8 bytes when O is set.
                if inner.len() < 12 {
                    return self.cut(ctx, "truncated erspan header");
                }
                let o = inner[11] & 0x01 != 0;
                let hl = if o { 20 } else { 12 };
                if inner.len() < hl {
                    return self.cut(ctx, "truncated erspan header");
                }
                self.ethernet(ctx, &inner[hl..], sink)
            }
            _ => self.summary.non_ip += 1,
        }
    }
}

/// A stable number for a tunnel (ordered endpoint pair and kind), the
/// input of its uid: a fixed-key fold (never the per-process hasher seed),
/// so uids do not change between runs.
fn tunnel_number(a: IpAddr, b: IpAddr, kind: u8) -> u64 {
    let mut h = kind as u64;
    for ip in [a, b] {
        let v = match ip {
            IpAddr::V4(v4) => u32::from(v4) as u128,
            IpAddr::V6(v6) => u128::from(v6) ^ (1 << 127),
        };
        h = botscope_core::hash::mix64(h ^ v as u64);
        h = botscope_core::hash::mix64(h ^ (v >> 64) as u64);
    }
    h
}
