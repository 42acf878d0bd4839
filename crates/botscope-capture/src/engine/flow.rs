//! Per-flow state: the compact flow record, its history letters, and how
//! a decoded packet finds (or opens) its flow and updates it.

use super::decode::{Ctx, L4};
use super::summary::conn_of;
use super::table::{canonical, Slot, L_CLOSED, L_OTHER, L_TCP, L_UDP};
use super::tcp_state::{tcp_packet, TcpSeg};
use super::uid::{derive_uid, Uid};
use super::Engine;
use crate::tcp::{Endpoint, EpState, Piece};
use crate::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::{FlowKey, Proto, Ts};
use std::net::IpAddr;

/// Bounded history string.
#[derive(Clone, Copy)]
pub(super) struct Hist {
    pub(super) b: [u8; 48],
    pub(super) len: u8,
}

impl Hist {
    pub(super) fn push(&mut self, c: u8) {
        // Only ASCII letters are history (what keeps `as_str` sound).
        if c.is_ascii() && (self.len as usize) < self.b.len() {
            self.b[self.len as usize] = c;
            self.len += 1;
        }
    }
    pub(super) fn as_str(&self) -> &str {
        // SAFETY: `push` stores ASCII bytes only.
        unsafe { std::str::from_utf8_unchecked(&self.b[..self.len as usize]) }
    }
}

// History masks (Zeek's HIST_* bits), one set per direction.
pub(super) const H_SYN: u16 = 1;
pub(super) const H_FIN: u16 = 2;
pub(super) const H_RST: u16 = 4;
pub(super) const H_DATA: u16 = 8;
pub(super) const H_ACK: u16 = 16;
pub(super) const H_MULTI: u16 = 32;
pub(super) const H_FINRST: u16 = 64;

pub(super) struct Flow {
    pub(super) id: u64,
    pub(super) uid: Uid,
    pub(super) key: FlowKey,
    pub(super) start: Ts,
    pub(super) last: Ts,
    /// Last time for `duration`: like Zeek, packets after both sides
    /// closed do not extend it.
    pub(super) dur_last: Ts,
    pub(super) pkts: [u64; 2],
    pub(super) ip_bytes: [u64; 2],
    /// Payload bytes (UDP/ICMP/other; TCP uses sequence space).
    pub(super) bytes: [u64; 2],
    pub(super) hist: Hist,
    pub(super) hist_seen: [u16; 2],
    /// Counts for Zeek's exponentially scaled letters T, W, C, G per
    /// direction.
    pub(super) scaled: [[u32; 4]; 2],
    pub(super) tcp: Option<Box<[Endpoint; 2]>>,
    pub(super) handshake: [bool; 2],
    pub(super) missed: u64,
    pub(super) file: u32,
    pub(super) first_pkt: u64,
    pub(super) last_pkt: u64,
    pub(super) tunnel_parent: Option<Uid>,
    pub(super) closed: bool,
}

/// Where a new flow starts: what [`Flow::open`] takes beyond its
/// identity and first timestamp.
pub(super) struct FlowStart<'a> {
    /// Endpoint state (TCP only), from the engine's pool.
    pub(super) tcp: Option<Box<[Endpoint; 2]>>,
    /// Input file index.
    pub(super) file: u32,
    /// Number of the first packet.
    pub(super) pkt_no: u64,
    /// The enclosing tunnel's uid, if any.
    pub(super) tunnel_parent: &'a Option<Uid>,
}

impl Flow {
    /// A placeholder for a new slot, overwritten by [`Flow::open`].
    pub(super) fn vacant() -> Flow {
        Flow {
            id: 0,
            uid: Uid::default(),
            key: FlowKey {
                orig_h: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                orig_p: 0,
                resp_h: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                resp_p: 0,
                proto: Proto::Other,
            },
            start: Ts(0),
            last: Ts(0),
            dur_last: Ts(0),
            pkts: [0; 2],
            ip_bytes: [0; 2],
            bytes: [0; 2],
            hist: Hist { b: [0; 48], len: 0 },
            hist_seen: [0; 2],
            scaled: [[0; 4]; 2],
            tcp: None,
            handshake: [false; 2],
            missed: 0,
            file: 0,
            first_pkt: 0,
            last_pkt: 0,
            tunnel_parent: None,
            closed: false,
        }
    }
    /// Starts a new flow in this (claimed) slot, field by field, so the
    /// flow is built where it lives instead of moved in. Every field is
    /// set: nothing of the slot's previous flow survives (the history
    /// bytes past `len` are never read).
    pub(super) fn open(&mut self, id: u64, uid: Uid, key: FlowKey, ts: Ts, at: FlowStart<'_>) {
        self.id = id;
        self.uid = uid;
        self.key = key;
        self.start = ts;
        self.last = ts;
        self.dur_last = ts;
        self.pkts = [0; 2];
        self.ip_bytes = [0; 2];
        self.bytes = [0; 2];
        self.hist.len = 0;
        self.hist_seen = [0; 2];
        self.scaled = [[0; 4]; 2];
        self.tcp = at.tcp;
        self.handshake = [false; 2];
        self.missed = 0;
        self.file = at.file;
        self.first_pkt = at.pkt_no;
        self.last_pkt = at.pkt_no;
        self.tunnel_parent.clone_from(at.tunnel_parent);
        self.closed = false;
    }
    pub(super) fn check_hist(&mut self, d: usize, mask: u16, c: u8) -> bool {
        if self.hist_seen[d] & mask != 0 {
            return true;
        }
        self.hist_seen[d] |= mask;
        self.hist
            .push(if d == 0 { c } else { c.to_ascii_lowercase() });
        false
    }
    pub(super) fn add_hist(&mut self, d: usize, c: u8) {
        self.hist
            .push(if d == 0 { c } else { c.to_ascii_lowercase() });
    }
    /// Zeek's ScaledHistoryEntry: the letter at counts 1, 10, 100...
    pub(super) fn scaled_hist(&mut self, d: usize, which: usize, c: u8) {
        let n = &mut self.scaled[d][which];
        *n += 1;
        let v = *n;
        let mut t = 1u32;
        while t < v {
            t = t.saturating_mul(10);
        }
        if t == v {
            self.add_hist(d, c);
        }
    }
    pub(super) fn mem_cost(&self) -> usize {
        let mut c = std::mem::size_of::<Slot>() + std::mem::size_of::<FlowKey>() + 16;
        if let Some(t) = &self.tcp {
            c += std::mem::size_of::<[Endpoint; 2]>() + t[0].buffered + t[1].buffered;
        }
        c
    }
}

/// Ports Zeek treats as "likely server" when orienting a flow whose first
/// packet is not a SYN.
fn likely_server_port(p: u16, proto: Proto) -> bool {
    match proto {
        Proto::Udp => matches!(
            p,
            53 | 67 | 69 | 123 | 137 | 138 | 161 | 500 | 514 | 1812 | 3544 | 4500 | 5353 | 5355
        ),
        Proto::Tcp => matches!(
            p,
            21 | 22
                | 23
                | 25
                | 53
                | 80
                | 110
                | 135
                | 139
                | 143
                | 389
                | 443
                | 445
                | 465
                | 587
                | 993
                | 995
                | 1080
                | 3128
                | 3306
                | 3389
                | 5432
                | 6379
                | 6666
                | 6667
                | 6668
                | 6669
                | 8000
                | 8080
                | 8443
        ),
        _ => false,
    }
}

/// The ICMP type a request/reply pairs with (Zeek's counterpart), if any.
fn icmp_counterpart(v6: bool, t: u8) -> Option<u8> {
    let pairs: &[(u8, u8)] = if v6 {
        &[
            (128, 129),
            (130, 131),
            (133, 134),
            (135, 136),
            (139, 140),
            (144, 145),
        ]
    } else {
        &[(8, 0), (13, 14), (15, 16), (17, 18), (10, 9)]
    };
    for &(a, b) in pairs {
        if t == a {
            return Some(b);
        }
        if t == b {
            return Some(a);
        }
    }
    None
}

/// The transport fields a flow needs from a decoded header.
struct Transport<'a> {
    proto: Proto,
    /// Ports as sent (ICMP: type and code).
    sport: u16,
    dport: u16,
    /// Ports in the flow key (ICMP: type and Zeek's counterpart type).
    key_sport: u16,
    key_dport: u16,
    tcp_flags: Option<u8>,
    payload: &'a [u8],
}

impl<'a> Transport<'a> {
    fn of(l4: L4, data: &'a [u8]) -> Transport<'a> {
        let (proto, sport, dport, key_sport, key_dport, tcp_flags, payload) = match l4 {
            L4::Tcp {
                sport,
                dport,
                flags,
                full_len,
                ..
            } => (
                Proto::Tcp,
                sport,
                dport,
                sport,
                dport,
                Some(flags),
                &data[full_len..],
            ),
            L4::Udp { sport, dport, ulen } => {
                let end = if ulen == 0 {
                    data.len()
                } else {
                    ulen.min(data.len())
                };
                (
                    Proto::Udp,
                    sport,
                    dport,
                    sport,
                    dport,
                    None,
                    &data[8..end.max(8)],
                )
            }
            L4::Icmp { t, code, v6, .. } => {
                let kd = icmp_counterpart(v6, t).unwrap_or(code) as u16;
                (
                    Proto::Icmp,
                    t as u16,
                    code as u16,
                    t as u16,
                    kd,
                    None,
                    &data[data.len().min(8)..],
                )
            }
            L4::Other => (Proto::Other, 0, 0, 0, 0, None, data),
        };
        Transport {
            proto,
            sport,
            dport,
            key_sport,
            key_dport,
            tcp_flags,
            payload,
        }
    }
}

/// Most endpoint pairs kept for reuse.
const EP_POOL_MAX: usize = 4096;

impl Engine<'_> {
    /// A new flow's dense id (per engine) and uid. The uid derives from
    /// the run-wide number of the packet that opened the flow (a packet
    /// opens at most one flow), not from a per-engine counter: with
    /// worker threads (`crate::parallel`) each worker's engine sees only
    /// some flows, and the same flow must get the same uid whatever the
    /// number of workers.
    fn new_uid(&mut self) -> (u64, Uid) {
        self.next_flow += 1;
        (
            self.next_flow,
            derive_uid(b'C', self.cfg.uid_seed, self.seq),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn flow_packet(
        &mut self,
        ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        ip_proto: u8,
        ip_len: u32,
        l4: L4,
        data: &[u8],
        bad_sum: bool,
        sink: &mut dyn FlowSink,
    ) {
        let _ = ip_proto;
        let t = Transport::of(l4, data);
        let pkt_key = FlowKey {
            orig_h: src,
            orig_p: t.key_sport,
            resp_h: dst,
            resp_p: t.key_dport,
            proto: t.proto,
        };
        let i = self.find_or_open(&ctx, pkt_key, &t, sink);
        let (file, pkt_no) = (self.file_idx, self.pkt_no);
        let mut retrans = 0u64;
        let mut conflicts = 0u64;
        let mem_before;
        let list;
        {
            let f = &mut self.flows.slots[i as usize].flow;
            mem_before = f.mem_cost();
            let d = if f.key.orig_h == src && f.key.orig_p == t.key_sport {
                0
            } else {
                1
            };
            if bad_sum {
                // Like Zeek: the packet is noted (history C) and ignored.
                f.scaled_hist(d, 2, b'C');
                self.summary.bad_checksums += 1;
                let list = self.flows.slots[i as usize].list;
                self.flows.touch(i, list);
                // The flow may be new: its state counts like any other's.
                self.enforce_cap(sink);
                return;
            }
            let dir = if d == 0 {
                Direction::FromOrig
            } else {
                Direction::FromResp
            };
            f.last = f.last.max(ctx.ts);
            let both_closed = f.tcp.as_ref().is_some_and(|e| {
                e.iter()
                    .all(|ep| matches!(ep.state, EpState::Closed | EpState::Reset))
            });
            if !both_closed {
                f.dur_last = f.dur_last.max(ctx.ts);
            }
            f.last_pkt = pkt_no;
            f.pkts[d] += 1;
            f.ip_bytes[d] += ip_len as u64;
            let payload = t.payload;
            let pi = PacketInfo {
                ts: ctx.ts,
                file,
                pkt_no,
                src,
                dst,
                src_port: t.sport,
                dst_port: t.dport,
                proto: t.proto,
                tcp_flags: t.tcp_flags,
                ip_len,
                fragmented: ctx.fragmented,
                tunnel_depth: ctx.tunnel_depth,
                payload,
                src_mac: ctx.src_mac,
            };
            let fr = FlowRef {
                uid: f.uid.as_str(),
                id: f.id,
                key: &f.key,
            };
            sink.on_packet(&pi, fr);
            match l4 {
                L4::Udp { ulen, .. } => {
                    f.bytes[d] += if ulen >= 8 {
                        (ulen - 8) as u64
                    } else {
                        payload.len() as u64
                    };
                    f.check_hist(d, H_DATA, b'D');
                    let fr = FlowRef {
                        uid: f.uid.as_str(),
                        id: f.id,
                        key: &f.key,
                    };
                    sink.on_datagram(fr, dir, &pi);
                }
                L4::Icmp { .. } | L4::Other => {
                    f.bytes[d] += payload.len() as u64;
                }
                L4::Tcp {
                    seq,
                    ack,
                    flags,
                    win,
                    ..
                } => {
                    let seg = TcpSeg {
                        seq,
                        ack,
                        flags,
                        win,
                        len: payload.len(),
                        window: self.cfg.reassembly_window,
                    };
                    tcp_packet(f, d, dir, seg, &pi, sink, &mut retrans, &mut conflicts);
                }
            }
            list = if f.closed {
                L_CLOSED
            } else {
                self.flows.slots[i as usize].list
            };
        }
        let f = self.flows.flow(i);
        let after = f.mem_cost();
        self.mem = self.mem + after - mem_before.min(self.mem + after);
        if retrans > 0 {
            self.summary.tcp_retransmissions += retrans;
        }
        if conflicts > 0 {
            self.summary.tcp_overlap_conflicts += conflicts;
            self.anomaly("tcp overlap with different data");
        }
        self.flows.touch(i, list);
        self.enforce_cap(sink);
    }

    /// The slot of the packet's flow: the live one for its canonical key,
    /// or a new one (oriented by Zeek's rules) when there is none or a new
    /// SYN arrives on a closed connection (port reuse).
    fn find_or_open(
        &mut self,
        ctx: &Ctx,
        pkt_key: FlowKey,
        t: &Transport<'_>,
        sink: &mut dyn FlowSink,
    ) -> u32 {
        let canon = canonical(&pkt_key);
        let proto = t.proto;
        let syn_only = matches!(t.tcp_flags, Some(f) if f & 0x12 == 0x02);
        let mut idx = self.flows.map.get(&canon).copied();
        if let (Some(i), true) = (idx, syn_only) {
            // A new SYN on a closed connection starts a new one (port reuse).
            if self.flows.flow(i).closed {
                self.end_flow(i, sink);
                idx = None;
            }
        }
        if let Some(i) = idx {
            return i;
        }
        // Orientation: the sender is the originator, except for a
        // SYN-ACK, or a non-SYN packet from a likely server port.
        let flip = match t.tcp_flags {
            Some(f) if f & 0x12 == 0x12 => true,
            Some(f) if f & 0x02 != 0 => false,
            _ => {
                matches!(proto, Proto::Tcp | Proto::Udp)
                    && likely_server_port(t.sport, proto)
                    && !likely_server_port(t.dport, proto)
            }
        };
        let key = if flip { pkt_key.reversed() } else { pkt_key };
        let (id, uid) = self.new_uid();
        let tcp = (proto == Proto::Tcp).then(|| {
            self.ep_pool
                .pop()
                .unwrap_or_else(|| Box::new([Endpoint::default(), Endpoint::default()]))
        });
        let list = match proto {
            Proto::Tcp => L_TCP,
            Proto::Udp => L_UDP,
            _ => L_OTHER,
        };
        let i = self.flows.claim(canon, list);
        let f = &mut self.flows.slots[i as usize].flow;
        let at = FlowStart {
            tcp,
            file: self.file_idx,
            pkt_no: self.pkt_no,
            tunnel_parent: &ctx.tunnel_parent,
        };
        f.open(id, uid, key, ctx.ts, at);
        if flip {
            f.hist.push(b'^');
        }
        self.mem += f.mem_cost();
        self.summary.flows += 1;
        self.summary.peak_flows = self.summary.peak_flows.max(self.flows.len() as u64);
        i
    }

    /// Ends the flow in slot `i`: flushes its streams' gaps, hands its
    /// conn record to the sink, then frees the slot. The flow is read
    /// where it lies, never moved out.
    pub(super) fn end_flow(&mut self, i: u32, sink: &mut dyn FlowSink) {
        let f = self.flows.flow(i);
        self.mem = self.mem.saturating_sub(f.mem_cost());
        let Flow {
            uid,
            key,
            tcp,
            id,
            handshake,
            ..
        } = &mut *f;
        let mut missed = 0;
        if let Some(eps) = tcp {
            for (d, ep) in eps.iter_mut().enumerate() {
                let dir = if d == 0 {
                    Direction::FromOrig
                } else {
                    Direction::FromResp
                };
                let fr = FlowRef {
                    uid: uid.as_str(),
                    id: *id,
                    key,
                };
                let before = ep.gap_bytes;
                ep.flush(&mut |p| match p {
                    Piece::Gap(n) => sink.on_stream_gap(fr, dir, n),
                    Piece::Data(_) => {}
                });
                if handshake[0] && handshake[1] {
                    missed += ep.gap_bytes - before;
                }
            }
        }
        f.missed += missed;
        let mut conn = conn_of(f);
        let fr = FlowRef {
            uid: f.uid.as_str(),
            id: f.id,
            key: &f.key,
        };
        sink.on_flow_end(fr, &mut conn);
        let eps = f.tcp.take();
        self.flows.release(i);
        self.summary.conns += 1;
        if let Some(mut eps) = eps {
            if self.ep_pool.len() < EP_POOL_MAX {
                *eps = [Endpoint::default(), Endpoint::default()];
                self.ep_pool.push(eps);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_ascii_only() {
        let mut h = Hist { b: [0; 48], len: 0 };
        for c in [b'S', 0xff, b'h', 0x80, b'A'] {
            h.push(c);
        }
        assert_eq!(h.as_str(), "ShA");
    }
}
