//! IPv4 header, TCP and UDP checksums: verification, and `auto` mode,
//! which holds the first packets back, decides whether the capture has
//! offloaded checksums, and replays them under that decision.

use super::decode::{Ctx, L4};
use super::Engine;
use crate::{ChecksumMode, FlowSink, CHECKSUM_BAD_RATIO, CHECKSUM_SAMPLE};
use botscope_core::Ts;
use std::net::IpAddr;

/// Most bytes of packets `auto` checksum mode holds back before deciding.
const CHECKSUM_HOLD_BYTES: usize = 16 << 20;
/// Bad-checksum bits carried in [`Ctx::bad`].
pub(super) const BAD_IP: u8 = 1;
pub(super) const BAD_TCP: u8 = 2;
pub(super) const BAD_UDP: u8 = 4;

/// Checksum validation state.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Checks {
    /// Validate and drop bad packets.
    Verify,
    /// Do not compute checksums at all.
    Skip,
    /// `auto`: validate, hold packets back until decided.
    Sampling,
}

/// A packet `auto` mode holds back until it has decided.
pub(super) struct Held {
    ctx: Ctx,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_len: u32,
    l4: L4,
    data: Vec<u8>,
    file: u32,
    file_name: String,
    pkt_no: u64,
    /// The packet's place in the whole run (flow uids derive from it).
    seq: u64,
}

impl Engine<'_> {
    /// Verifies a decoded packet's checksums as the mode says, then hands
    /// it on (`Verify`, `Skip`) or holds it back (`Sampling`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check(
        &mut self,
        mut ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        ip_len: u32,
        l4: L4,
        data: &[u8],
        sink: &mut dyn FlowSink,
    ) {
        if self.checks == Checks::Skip {
            return self.flow_packet(ctx, src, dst, proto, ip_len, l4, data, false, sink);
        }
        // Whether any checksum of this packet was verified (an IPv4
        // header always is).
        let mut checked = src.is_ipv4();
        if !ctx.caplen_cut {
            match l4 {
                L4::Tcp { .. } => {
                    checked = true;
                    if !checksum_ok(src, dst, 6, data) {
                        self.summary.checksums.bad_tcp += 1;
                        ctx.bad |= BAD_TCP;
                    }
                }
                L4::Udp { ulen, .. } => {
                    let zero = data[6] == 0 && data[7] == 0;
                    if !(zero && src.is_ipv4()) && ulen <= data.len() {
                        checked = true;
                        if !checksum_ok(src, dst, 17, &data[..ulen.max(8)]) {
                            self.summary.checksums.bad_udp += 1;
                            ctx.bad |= BAD_UDP;
                        }
                    }
                }
                _ => {}
            }
        }
        let checked = checked || ctx.bad != 0;
        if checked {
            self.summary.checksums.checked += 1;
        }
        if self.checks == Checks::Verify {
            let bad = ctx.bad;
            return self.deliver(ctx, src, dst, proto, ip_len, l4, data, bad, sink);
        }
        if checked {
            self.summary.checksums.sampled += 1;
            if ctx.bad != 0 {
                self.summary.checksums.sample_bad += 1;
            }
        }
        self.held_bytes += data.len() + std::mem::size_of::<Held>();
        self.held.push(Held {
            ctx,
            src,
            dst,
            proto,
            ip_len,
            l4,
            data: data.to_vec(),
            file: self.file_idx,
            file_name: self.file_name.clone(),
            pkt_no: self.pkt_no,
            seq: self.seq,
        });
        if self.summary.checksums.sampled >= CHECKSUM_SAMPLE
            || self.held_bytes > CHECKSUM_HOLD_BYTES
        {
            self.decide_checksums(sink);
        }
    }

    /// Hands a checked packet on, or drops it for a bad checksum.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        ip_len: u32,
        l4: L4,
        data: &[u8],
        bad: u8,
        sink: &mut dyn FlowSink,
    ) {
        if bad != 0 {
            self.summary.checksums.dropped += 1;
        }
        if bad & BAD_IP != 0 {
            // Like Zeek: a bad IP header checksum drops the packet before
            // it reaches any flow.
            self.summary.bad_checksums += 1;
            return;
        }
        self.flow_packet(ctx, src, dst, proto, ip_len, l4, data, bad != 0, sink);
    }

    /// `auto` mode: decides from the sample whether to keep validating,
    /// then replays the held packets under that decision.
    pub(super) fn decide_checksums(&mut self, sink: &mut dyn FlowSink) {
        let st = &mut self.summary.checksums;
        let offload = st.sample_bad * CHECKSUM_BAD_RATIO > st.sampled;
        let verify = !offload;
        (self.checks, st.mode) = if verify {
            (Checks::Verify, ChecksumMode::On)
        } else {
            (Checks::Skip, ChecksumMode::Off)
        };
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        let now = self.now;
        let (file, file_name, pkt_no, seq) = (
            self.file_idx,
            std::mem::take(&mut self.file_name),
            self.pkt_no,
            self.seq,
        );
        // Replay in capture order, expiring idle flows as time advances.
        self.now = Ts(i64::MIN);
        for h in held {
            if h.ctx.ts > self.now {
                self.now = h.ctx.ts;
                self.expire(sink);
            }
            self.file_idx = h.file;
            self.file_name = h.file_name;
            self.pkt_no = h.pkt_no;
            self.seq = h.seq;
            let bad = if verify { h.ctx.bad } else { 0 };
            self.deliver(
                h.ctx, h.src, h.dst, h.proto, h.ip_len, h.l4, &h.data, bad, sink,
            );
        }
        (self.file_idx, self.file_name, self.pkt_no, self.seq) = (file, file_name, pkt_no, seq);
        if now > self.now {
            self.now = now;
            self.expire(sink);
        }
        self.now = self.now.max(now);
    }
}

/// Verifies a TCP/UDP checksum (pseudo-header included).
fn checksum_ok(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> bool {
    let mut sum: u64 = 0;
    match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            sum += u32::from_be_bytes(a.octets()) as u64 >> 16;
            sum += u32::from_be_bytes(a.octets()) as u64 & 0xffff;
            sum += u32::from_be_bytes(b.octets()) as u64 >> 16;
            sum += u32::from_be_bytes(b.octets()) as u64 & 0xffff;
        }
        (a, b) => {
            for ip in [a, b] {
                let o = match ip {
                    IpAddr::V6(v) => v.octets(),
                    IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
                };
                for w in o.chunks_exact(2) {
                    sum += u16::from_be_bytes([w[0], w[1]]) as u64;
                }
            }
        }
    }
    sum += proto as u64 + seg.len() as u64;
    sum += ones_sum(seg);
    fold_ok(sum)
}

/// Whether a ones'-complement sum folds to all ones (a valid checksum).
pub(super) fn fold_ok(mut sum: u64) -> bool {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// Ones'-complement sum of big-endian 16-bit words (odd byte padded).
pub(super) fn ones_sum(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Summing 32-bit halves is the same ones'-complement sum once folded.
        acc += (v >> 32) + (v & 0xffff_ffff);
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(2);
    for w in &mut words {
        acc += u16::from_be_bytes([w[0], w[1]]) as u64;
    }
    if let [b] = words.remainder() {
        acc += (*b as u64) << 8;
    }
    acc
}
