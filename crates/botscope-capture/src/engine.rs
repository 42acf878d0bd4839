//! The packet engine: link/IP/transport decoding, tunnel decapsulation,
//! fragment reassembly, the flow table with idle and memory-cap eviction,
//! and Zeek-style connection summaries.

use crate::frag::{FragOutcome, FragTable};
use crate::tcp::{Endpoint, EpState, Piece};
use crate::{
    CaptureSummary, ChecksumMode, Direction, EngineConfig, FlowRef, FlowSink, PacketInfo,
    CHECKSUM_BAD_RATIO, CHECKSUM_SAMPLE,
};
use botscope_core::error::{Located, Location};
use botscope_core::events::{Conn, Evidence};
// Flow keys and tunnel endpoints come off the wire (attacker-chosen):
// the core hasher is seeded per process, so they cannot be picked to
// collide (see `botscope_core::hash`); neither table is iterated, so the
// seed never changes the output.
use botscope_core::hash::{mix64, FastMap};
use botscope_core::{FlowKey, Proto, Ts};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most tunnel layers removed from one packet.
const MAX_TUNNEL_DEPTH: u8 = 4;
/// Most VLAN tags skipped in one frame.
const MAX_VLAN_TAGS: usize = 4;
/// Most IPv6 extension headers walked.
const MAX_V6_EXT: usize = 8;
/// Most tunnels remembered for `tunnel_parents`.
const MAX_TUNNELS: usize = 65_536;
/// Most bytes of packets `auto` checksum mode holds back before deciding.
const CHECKSUM_HOLD_BYTES: usize = 16 << 20;
/// Bad-checksum bits carried in [`Ctx::bad`].
const BAD_IP: u8 = 1;
const BAD_TCP: u8 = 2;
const BAD_UDP: u8 = 4;
/// Zeek's tcp_close_delay / tcp_reset_delay.
const CLOSE_DELAY_US: i64 = 5 * 1_000_000;

/// A Zeek-style uid stored inline (no heap allocation per flow).
#[derive(Clone, Copy)]
pub struct Uid {
    b: [u8; 20],
    len: u8,
}

/// Base-62 digits of uids, as Zeek's.
const UID_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^10, the largest power of 62 whose digits fit one u64 remainder.
const P62_10: u64 = 839_299_365_868_340_224;
/// Every two-digit base-62 string, by value (0..62²).
const UID_PAIRS: [[u8; 2]; 3844] = {
    let mut t = [[0u8; 2]; 3844];
    let mut v = 0;
    while v < 3844 {
        t[v] = [UID_DIGITS[v / 62], UID_DIGITS[v % 62]];
        v += 1;
    }
    t
};

impl Uid {
    fn new(prefix: u8, seed: u64, n: u64) -> Uid {
        let a = mix64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let c = mix64(a ^ seed.rotate_left(17));
        let v: u128 = ((a as u128) << 32) | (c as u128 & 0xffff_ffff);
        // One 128-bit division splits the 96-bit value into two u64
        // halves whose digits come from u64 arithmetic (a constant
        // divisor: multiplications), instead of 17 128-bit divisions
        // (`__udivti3` calls: 6 % of the engine's instructions on
        // single-packet flows).
        let (hi, mut lo) = ((v / P62_10 as u128) as u64, (v % P62_10 as u128) as u64);
        // Digits are produced least significant first, two at a time
        // (one division by 62² and a table lookup per pair).
        let mut tmp = [0u8; 20];
        let mut i = 0;
        let mut pair = |x: u64, i: &mut usize| {
            let p = UID_PAIRS[x as usize];
            tmp[*i] = p[1];
            tmp[*i + 1] = p[0];
            *i += 2;
        };
        if hi != 0 {
            // The low part is exactly ten digits (zeros included).
            for _ in 0..5 {
                pair(lo % 3844, &mut i);
                lo /= 3844;
            }
            lo = hi;
        }
        while lo >= 62 {
            pair(lo % 3844, &mut i);
            lo /= 3844;
        }
        if lo > 0 {
            tmp[i] = UID_DIGITS[lo as usize];
            i += 1;
        }
        // (The top pair came from a value of at least 62: its high digit
        // is never a leading zero.)
        let mut b = [0u8; 20];
        b[0] = prefix & 0x7f;
        for k in 0..i {
            b[1 + k] = tmp[i - 1 - k];
        }
        Uid {
            b,
            len: (i + 1) as u8,
        }
    }
    /// The uid text.
    pub fn as_str(&self) -> &str {
        // SAFETY: `b` holds only ASCII: the prefix (masked to 7 bits in
        // `new`) and `UID_DIGITS`. Skipping the UTF-8 check matters: the
        // uid is handed to the sink with every packet.
        unsafe { std::str::from_utf8_unchecked(&self.b[..self.len as usize]) }
    }
}

/// Bounded history string.
#[derive(Clone, Copy)]
struct Hist {
    b: [u8; 48],
    len: u8,
}

impl Hist {
    fn push(&mut self, c: u8) {
        // Only ASCII letters are history (what keeps `as_str` sound).
        if c.is_ascii() && (self.len as usize) < self.b.len() {
            self.b[self.len as usize] = c;
            self.len += 1;
        }
    }
    fn as_str(&self) -> &str {
        // SAFETY: `push` stores ASCII bytes only.
        unsafe { std::str::from_utf8_unchecked(&self.b[..self.len as usize]) }
    }
}

// History masks (Zeek's HIST_* bits), one set per direction.
const H_SYN: u16 = 1;
const H_FIN: u16 = 2;
const H_RST: u16 = 4;
const H_DATA: u16 = 8;
const H_ACK: u16 = 16;
const H_MULTI: u16 = 32;
const H_FINRST: u16 = 64;

struct Flow {
    id: u64,
    uid: Uid,
    key: FlowKey,
    start: Ts,
    last: Ts,
    /// Last time for `duration`: like Zeek, packets after both sides
    /// closed do not extend it.
    dur_last: Ts,
    pkts: [u64; 2],
    ip_bytes: [u64; 2],
    /// Payload bytes (UDP/ICMP/other; TCP uses sequence space).
    bytes: [u64; 2],
    hist: Hist,
    hist_seen: [u16; 2],
    /// Counts for Zeek's exponentially scaled letters T, W, C, G per
    /// direction.
    scaled: [[u32; 4]; 2],
    tcp: Option<Box<[Endpoint; 2]>>,
    handshake: [bool; 2],
    missed: u64,
    file: u32,
    first_pkt: u64,
    last_pkt: u64,
    tunnel_parent: Option<Uid>,
    closed: bool,
}

impl Flow {
    fn check_hist(&mut self, d: usize, mask: u16, c: u8) -> bool {
        if self.hist_seen[d] & mask != 0 {
            return true;
        }
        self.hist_seen[d] |= mask;
        self.hist
            .push(if d == 0 { c } else { c.to_ascii_lowercase() });
        false
    }
    fn add_hist(&mut self, d: usize, c: u8) {
        self.hist
            .push(if d == 0 { c } else { c.to_ascii_lowercase() });
    }
    /// Zeek's ScaledHistoryEntry: the letter at counts 1, 10, 100...
    fn scaled_hist(&mut self, d: usize, which: usize, c: u8) {
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
    fn mem_cost(&self) -> usize {
        let mut c = std::mem::size_of::<Slot>() + std::mem::size_of::<FlowKey>() + 16;
        if let Some(t) = &self.tcp {
            c += std::mem::size_of::<[Endpoint; 2]>() + t[0].buffered + t[1].buffered;
        }
        c
    }
}

struct Slot {
    flow: Option<Flow>,
    prev: u32,
    next: u32,
    list: u8,
}

const NIL: u32 = u32::MAX;
/// LRU lists: open TCP, closed TCP, UDP, other.
const L_TCP: u8 = 0;
const L_CLOSED: u8 = 1;
const L_UDP: u8 = 2;
const L_OTHER: u8 = 3;

#[derive(Default)]
struct FlowTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    map: FastMap<FlowKey, u32>,
    heads: [u32; 4],
    tails: [u32; 4],
}

impl FlowTable {
    fn new() -> FlowTable {
        FlowTable {
            heads: [NIL; 4],
            tails: [NIL; 4],
            ..Default::default()
        }
    }
    fn unlink(&mut self, i: u32) {
        let (p, n, l) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next, s.list as usize)
        };
        if p != NIL {
            self.slots[p as usize].next = n;
        } else {
            self.heads[l] = n;
        }
        if n != NIL {
            self.slots[n as usize].prev = p;
        } else {
            self.tails[l] = p;
        }
    }
    fn push_front(&mut self, i: u32, list: u8) {
        let l = list as usize;
        let h = self.heads[l];
        {
            let s = &mut self.slots[i as usize];
            s.prev = NIL;
            s.next = h;
            s.list = list;
        }
        if h != NIL {
            self.slots[h as usize].prev = i;
        } else {
            self.tails[l] = i;
        }
        self.heads[l] = i;
    }
    fn insert(&mut self, canon: FlowKey, flow: Flow, list: u8) -> u32 {
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize].flow = Some(flow);
                i
            }
            None => {
                self.slots.push(Slot {
                    flow: Some(flow),
                    prev: NIL,
                    next: NIL,
                    list,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.push_front(i, list);
        self.map.insert(canon, i);
        i
    }
    fn touch(&mut self, i: u32, list: u8) {
        if self.heads[list as usize] == i {
            return;
        }
        self.unlink(i);
        self.push_front(i, list);
    }
    fn remove(&mut self, i: u32) -> Flow {
        self.unlink(i);
        let f = self.slots[i as usize].flow.take().expect("live slot");
        self.map.remove(&canonical(&f.key));
        self.free.push(i);
        f
    }
    fn flow(&mut self, i: u32) -> &mut Flow {
        self.slots[i as usize].flow.as_mut().expect("live slot")
    }
    fn len(&self) -> usize {
        self.map.len()
    }
}

fn canonical(k: &FlowKey) -> FlowKey {
    if (k.orig_h, k.orig_p) <= (k.resp_h, k.resp_p) {
        *k
    } else {
        k.reversed()
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

/// Per-packet context threaded through decoding.
#[derive(Clone, Copy)]
struct Ctx {
    ts: Ts,
    caplen_cut: bool,
    tunnel_depth: u8,
    tunnel_parent: Option<Uid>,
    fragmented: bool,
    /// Bad checksums found so far (`BAD_*` bits).
    bad: u8,
    /// Source MAC of the innermost Ethernet header so far.
    src_mac: Option<[u8; 6]>,
}

/// Checksum validation state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// Validate and drop bad packets.
    Verify,
    /// Do not compute checksums at all.
    Skip,
    /// `auto`: validate, hold packets back until decided.
    Sampling,
}

/// A packet `auto` mode holds back until it has decided.
struct Held {
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
enum L4 {
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

/// The engine state for one run (one or several files).
pub struct Engine<'c> {
    cfg: &'c EngineConfig,
    flows: FlowTable,
    frags: FragTable,
    tunnels: FastMap<(IpAddr, IpAddr, u8), Uid>,
    next_flow: u64,
    next_tunnel: u64,
    now: Ts,
    mem: usize,
    /// Counters.
    pub summary: CaptureSummary,
    file_idx: u32,
    file_name: String,
    pkt_no: u64,
    checks: Checks,
    held: Vec<Held>,
    held_bytes: usize,
    /// Endpoint pairs of ended TCP flows, reset and reused: a new TCP
    /// flow costs no allocation once the pool is warm. Boxed on purpose:
    /// flows hold the box, and the pool hands the same allocation back.
    #[allow(clippy::vec_box)]
    ep_pool: Vec<Box<[Endpoint; 2]>>,
}

/// Most endpoint pairs kept for reuse.
const EP_POOL_MAX: usize = 4096;

impl<'c> Engine<'c> {
    /// A fresh engine.
    pub fn new(cfg: &'c EngineConfig) -> Engine<'c> {
        let mode = cfg.checksum_mode();
        let mut summary = CaptureSummary::default();
        summary.checksums.requested = mode;
        summary.checksums.mode = mode;
        Engine {
            cfg,
            flows: FlowTable::new(),
            frags: FragTable::new(cfg.max_fragments),
            tunnels: FastMap::default(),
            next_flow: 0,
            next_tunnel: 0,
            now: Ts(i64::MIN),
            mem: 0,
            summary,
            file_idx: 0,
            file_name: String::new(),
            pkt_no: 0,
            checks: match mode {
                ChecksumMode::On => Checks::Verify,
                ChecksumMode::Off => Checks::Skip,
                ChecksumMode::Auto => Checks::Sampling,
            },
            held: Vec::new(),
            held_bytes: 0,
            ep_pool: Vec::new(),
        }
    }

    /// Starts a new input file.
    pub fn begin_file(&mut self, idx: u32, name: &str) {
        self.file_idx = idx;
        self.file_name = name.to_string();
        self.pkt_no = 0;
        self.summary.files += 1;
    }

    fn loc(&self) -> Location {
        Location {
            file: self.file_name.clone(),
            packet: Some(self.pkt_no),
            offset: None,
            line: None,
        }
    }

    fn skip(&mut self, reason: &str) {
        let e = Located {
            location: self.loc(),
            reason: reason.to_string(),
        };
        self.summary.skipped.add(&e);
    }

    fn anomaly(&mut self, reason: &str) {
        let e = Located {
            location: self.loc(),
            reason: reason.to_string(),
        };
        self.summary.anomalies.add(&e);
    }

    /// Processes one link-layer frame.
    pub fn packet(
        &mut self,
        pkt_no: u64,
        ts: Ts,
        link: u32,
        data: &[u8],
        orig_len: u32,
        sink: &mut dyn FlowSink,
    ) {
        self.pkt_no = pkt_no;
        self.summary.packets += 1;
        self.summary.bytes += data.len() as u64;
        if ts > self.now {
            self.now = ts;
            // Held packets have not reached their flows yet: expiry waits
            // for them (it runs as they are replayed).
            if self.checks != Checks::Sampling {
                self.expire(sink);
            }
        }
        let ctx = Ctx {
            ts,
            caplen_cut: (orig_len as usize) > data.len(),
            tunnel_depth: 0,
            tunnel_parent: None,
            fragmented: false,
            bad: 0,
            src_mac: None,
        };
        match link {
            1 => self.ethernet(ctx, data, sink),
            113 => {
                if data.len() < 16 {
                    return self.cut(ctx, "truncated link header");
                }
                let et = u16::from_be_bytes([data[14], data[15]]);
                self.ethertype(ctx, et, &data[16..], sink)
            }
            276 => {
                if data.len() < 20 {
                    return self.cut(ctx, "truncated link header");
                }
                let et = u16::from_be_bytes([data[0], data[1]]);
                self.ethertype(ctx, et, &data[20..], sink)
            }
            101 | 12 | 14 => self.raw_ip(ctx, data, sink),
            228 => self.ip(ctx, 4, data, sink),
            229 => self.ip(ctx, 6, data, sink),
            0 | 108 => {
                if data.len() < 4 {
                    return self.cut(ctx, "truncated link header");
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
                    2 => self.ip(ctx, 4, &data[4..], sink),
                    10 | 24 | 28 | 30 => self.ip(ctx, 6, &data[4..], sink),
                    _ => self.summary.non_ip += 1,
                }
            }
            _ => self.skip("unsupported link type"),
        }
    }

    fn cut(&mut self, ctx: Ctx, reason: &str) {
        if ctx.caplen_cut {
            self.skip("snaplen cut");
        } else {
            self.skip(reason);
        }
    }

    fn ethernet(&mut self, mut ctx: Ctx, data: &[u8], sink: &mut dyn FlowSink) {
        if data.len() < 14 {
            return self.cut(ctx, "truncated link header");
        }
        ctx.src_mac = data[6..12].try_into().ok();
        let mut et = u16::from_be_bytes([data[12], data[13]]);
        let mut off = 14;
        let mut tags = 0;
        while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
            tags += 1;
            if tags > MAX_VLAN_TAGS || data.len() < off + 4 {
                return self.cut(ctx, "truncated vlan header");
            }
            et = u16::from_be_bytes([data[off + 2], data[off + 3]]);
            off += 4;
        }
        if et == 0x8864 {
            // PPPoE session: 6-byte header, then a PPP protocol number.
            if data.len() < off + 8 {
                return self.cut(ctx, "truncated pppoe header");
            }
            let pp = u16::from_be_bytes([data[off + 6], data[off + 7]]);
            return self.ppp_proto(ctx, pp, &data[off + 8..], sink);
        }
        self.ethertype(ctx, et, &data[off..], sink)
    }

    fn ethertype(&mut self, ctx: Ctx, et: u16, data: &[u8], sink: &mut dyn FlowSink) {
        match et {
            0x0800 => self.ip(ctx, 4, data, sink),
            0x86dd => self.ip(ctx, 6, data, sink),
            0x8100 | 0x88a8 => {
                if data.len() < 4 {
                    return self.cut(ctx, "truncated vlan header");
                }
                let inner = u16::from_be_bytes([data[2], data[3]]);
                if matches!(inner, 0x8100 | 0x88a8) {
                    self.summary.non_ip += 1;
                    return;
                }
                self.ethertype(ctx, inner, &data[4..], sink)
            }
            _ => self.summary.non_ip += 1,
        }
    }

    fn ppp_proto(&mut self, ctx: Ctx, pp: u16, data: &[u8], sink: &mut dyn FlowSink) {
        match pp {
            0x0021 => self.ip(ctx, 4, data, sink),
            0x0057 => self.ip(ctx, 6, data, sink),
            _ => self.summary.non_ip += 1,
        }
    }

    fn raw_ip(&mut self, ctx: Ctx, data: &[u8], sink: &mut dyn FlowSink) {
        match data.first().map(|b| b >> 4) {
            Some(4) => self.ip(ctx, 4, data, sink),
            Some(6) => self.ip(ctx, 6, data, sink),
            None => self.cut(ctx, "truncated ip header"),
            _ => self.skip("malformed ip header"),
        }
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
            return *u;
        }
        if self.tunnels.len() >= MAX_TUNNELS {
            self.tunnels.clear();
        }
        self.next_tunnel += 1;
        let u = Uid::new(b'C', self.cfg.uid_seed ^ 0x7475_6e6e_656c, self.next_tunnel);
        self.tunnels.insert(k, u);
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
            return self.deliver(ctx, src, dst, proto, ip_len, l4, data, ctx.bad, sink);
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
    fn decide_checksums(&mut self, sink: &mut dyn FlowSink) {
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
        let (file, file_name, pkt_no) = (
            self.file_idx,
            std::mem::take(&mut self.file_name),
            self.pkt_no,
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
            let bad = if verify { h.ctx.bad } else { 0 };
            self.deliver(
                h.ctx, h.src, h.dst, h.proto, h.ip_len, h.l4, &h.data, bad, sink,
            );
        }
        (self.file_idx, self.file_name, self.pkt_no) = (file, file_name, pkt_no);
        if now > self.now {
            self.now = now;
            self.expire(sink);
        }
        self.now = self.now.max(now);
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

    fn new_uid(&mut self) -> (u64, Uid) {
        self.next_flow += 1;
        (
            self.next_flow,
            Uid::new(b'C', self.cfg.uid_seed, self.next_flow),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn flow_packet(
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
        let (proto, sp, dp, kp_s, kp_d, tcp_flags, payload) = match l4 {
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
        let _ = ip_proto;
        let pkt_key = FlowKey {
            orig_h: src,
            orig_p: kp_s,
            resp_h: dst,
            resp_p: kp_d,
            proto,
        };
        let canon = canonical(&pkt_key);
        let syn_only = matches!(tcp_flags, Some(f) if f & 0x12 == 0x02);
        let mut idx = self.flows.map.get(&canon).copied();
        if let (Some(i), true) = (idx, syn_only) {
            // A new SYN on a closed connection starts a new one (port reuse).
            if self.flows.flow(i).closed {
                self.end_flow(i, sink);
                idx = None;
            }
        }
        let i = match idx {
            Some(i) => i,
            None => {
                // Orientation: the sender is the originator, except for a
                // SYN-ACK, or a non-SYN packet from a likely server port.
                let flip = match tcp_flags {
                    Some(f) if f & 0x12 == 0x12 => true,
                    Some(f) if f & 0x02 != 0 => false,
                    _ => {
                        matches!(proto, Proto::Tcp | Proto::Udp)
                            && likely_server_port(sp, proto)
                            && !likely_server_port(dp, proto)
                    }
                };
                let key = if flip { pkt_key.reversed() } else { pkt_key };
                let (id, uid) = self.new_uid();
                let mut f = Flow {
                    id,
                    uid,
                    key,
                    start: ctx.ts,
                    last: ctx.ts,
                    dur_last: ctx.ts,
                    pkts: [0; 2],
                    ip_bytes: [0; 2],
                    bytes: [0; 2],
                    hist: Hist { b: [0; 48], len: 0 },
                    hist_seen: [0; 2],
                    scaled: [[0; 4]; 2],
                    tcp: (proto == Proto::Tcp).then(|| {
                        self.ep_pool
                            .pop()
                            .unwrap_or_else(|| Box::new([Endpoint::default(), Endpoint::default()]))
                    }),
                    handshake: [false; 2],
                    missed: 0,
                    file: self.file_idx,
                    first_pkt: self.pkt_no,
                    last_pkt: self.pkt_no,
                    tunnel_parent: ctx.tunnel_parent,
                    closed: false,
                };
                if flip {
                    f.hist.push(b'^');
                }
                let list = match proto {
                    Proto::Tcp => L_TCP,
                    Proto::Udp => L_UDP,
                    _ => L_OTHER,
                };
                self.mem += f.mem_cost();
                self.summary.flows += 1;
                let i = self.flows.insert(canon, f, list);
                self.summary.peak_flows = self.summary.peak_flows.max(self.flows.len() as u64);
                i
            }
        };
        let (file, pkt_no) = (self.file_idx, self.pkt_no);
        let mut retrans = 0u64;
        let mut conflicts = 0u64;
        let mem_before;
        let list;
        {
            let f = self.flows.slots[i as usize].flow.as_mut().expect("live");
            mem_before = f.mem_cost();
            let d = if f.key.orig_h == src && f.key.orig_p == kp_s {
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
            let pi = PacketInfo {
                ts: ctx.ts,
                file,
                pkt_no,
                src,
                dst,
                src_port: sp,
                dst_port: dp,
                proto,
                tcp_flags,
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
                    full_len,
                    ..
                } => {
                    let _ = full_len;
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

    /// Ends the least recently active flows while the engine's state plus
    /// what the sink holds for its flows ([`FlowSink::held_bytes`]) is over
    /// the cap. Each ended flow emits its conn record (and the sink what it
    /// had), so nothing already decoded is lost.
    fn enforce_cap(&mut self, sink: &mut dyn FlowSink) {
        loop {
            let own = self.mem + self.frags.bytes;
            if own + sink.held_bytes() <= self.cfg.memory_cap || self.flows.len() <= 1 {
                break;
            }
            // Evict the flow with the oldest last activity across lists.
            let mut best: Option<(Ts, u32)> = None;
            for l in 0..4 {
                let t = self.flows.tails[l];
                if t != NIL {
                    let last = self.flows.slots[t as usize]
                        .flow
                        .as_ref()
                        .map(|f| f.last)
                        .unwrap_or(Ts(0));
                    if best.is_none_or(|(b, _)| last < b) {
                        best = Some((last, t));
                    }
                }
            }
            let Some((_, victim)) = best else { break };
            self.summary.evicted_memory += 1;
            if own <= self.cfg.memory_cap {
                self.summary.evicted_sink_memory += 1;
            }
            self.end_flow(victim, sink);
        }
        // Measured after eviction: between packets the state never
        // exceeds the cap (unless one flow alone does).
        let held = sink.held_bytes();
        let used = self.mem + self.frags.bytes + held;
        self.summary.peak_memory = self.summary.peak_memory.max(used as u64);
        self.summary.peak_sink_memory = self.summary.peak_sink_memory.max(held as u64);
    }

    /// Ends flows idle longer than their timeout.
    fn expire(&mut self, sink: &mut dyn FlowSink) {
        let timeouts = [
            (self.cfg.tcp_idle_secs as i64).saturating_mul(1_000_000),
            CLOSE_DELAY_US,
            (self.cfg.udp_idle_secs as i64).saturating_mul(1_000_000),
            (self.cfg.icmp_idle_secs as i64).saturating_mul(1_000_000),
        ];
        for (l, &t) in timeouts.iter().enumerate() {
            loop {
                let tail = self.flows.tails[l];
                if tail == NIL {
                    break;
                }
                let last = self.flows.slots[tail as usize]
                    .flow
                    .as_ref()
                    .map(|f| f.last)
                    .unwrap_or(Ts(0));
                if self.now.0.saturating_sub(last.0) <= t {
                    break;
                }
                if l != L_CLOSED as usize {
                    self.summary.evicted_idle += 1;
                }
                self.end_flow(tail, sink);
            }
        }
        self.frags.expire(self.now);
    }

    fn end_flow(&mut self, i: u32, sink: &mut dyn FlowSink) {
        let mut f = self.flows.remove(i);
        self.mem = self.mem.saturating_sub(f.mem_cost());
        let Flow {
            uid,
            key,
            tcp,
            id,
            handshake,
            ..
        } = &mut f;
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
        let mut conn = conn_of(&f);
        let fr = FlowRef {
            uid: f.uid.as_str(),
            id: f.id,
            key: &f.key,
        };
        sink.on_flow_end(fr, &mut conn);
        self.summary.conns += 1;
        if let Some(mut eps) = f.tcp.take() {
            if self.ep_pool.len() < EP_POOL_MAX {
                *eps = [Endpoint::default(), Endpoint::default()];
                self.ep_pool.push(eps);
            }
        }
    }

    /// Ends every remaining flow (end of input), oldest first.
    pub fn finish(&mut self, sink: &mut dyn FlowSink) {
        if self.checks == Checks::Sampling {
            self.decide_checksums(sink);
        }
        let mut live: Vec<(u64, u32)> = self
            .flows
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.flow.as_ref().map(|f| (f.id, i as u32)))
            .collect();
        live.sort_unstable();
        for (_, i) in live {
            self.end_flow(i, sink);
        }
        self.summary.ip_fragment_overlaps = self.frags.overlaps;
        self.summary.ip_fragment_conflicts = self.frags.conflicting_overlaps;
        self.summary.ip_fragments_expired = self.frags.expired + self.frags.pending() as u64;
    }

    /// Bytes of flow state currently accounted.
    pub fn memory(&self) -> usize {
        self.mem + self.frags.bytes
    }

    /// Records a located file-level error.
    pub fn file_error(&mut self, offset: Option<u64>, reason: String) {
        let e = Located {
            location: Location {
                file: self.file_name.clone(),
                packet: Some(self.pkt_no + 1),
                offset,
                line: None,
            },
            reason,
        };
        self.summary.skipped.add(&e);
        if self.summary.file_errors.len() < 64 {
            self.summary.file_errors.push(e);
        }
    }
}

/// One TCP segment's header fields.
struct TcpSeg {
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    len: usize,
    window: usize,
}

#[allow(clippy::too_many_arguments)]
fn tcp_packet(
    f: &mut Flow,
    d: usize,
    dir: Direction,
    seg: TcpSeg,
    pi: &PacketInfo<'_>,
    sink: &mut dyn FlowSink,
    retrans: &mut u64,
    conflicts: &mut u64,
) {
    let TcpSeg {
        seq,
        ack,
        flags,
        win,
        len,
        window,
    } = seg;
    let syn = flags & 0x02 != 0;
    let fin = flags & 0x01 != 0;
    let rst = flags & 0x04 != 0;
    let ackf = flags & 0x10 != 0;
    let Some(mut eps) = f.tcp.take() else { return };
    let (a, b) = eps.split_at_mut(1);
    let (ep, peer) = if d == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    };
    let rel = ep.rel(seq, syn);
    ep.seen = true;

    // History letters (Zeek's update_history).
    let bits = syn as u8 + fin as u8 + rst as u8;
    if bits > 1 {
        if fin && rst {
            f.check_hist(d, H_FINRST, b'I');
        } else {
            f.check_hist(d, H_MULTI, b'Q');
        }
    } else if bits == 1 {
        if syn {
            let code = if ackf { b'H' } else { b'S' };
            if f.check_hist(d, H_SYN, code) && ep.hist_last_syn != Some(rel) {
                f.add_hist(d, code);
            }
            ep.hist_last_syn = Some(rel);
        }
        if fin {
            let r = rel + len as u64;
            if f.check_hist(d, H_FIN, b'F') && ep.hist_last_fin != Some(r) {
                f.add_hist(d, b'F');
            }
            ep.hist_last_fin = Some(r);
        }
        if rst {
            if f.check_hist(d, H_RST, b'R') && ep.hist_last_rst != Some(rel) {
                f.add_hist(d, b'R');
            }
            ep.hist_last_rst = Some(rel);
        }
    } else if len > 0 {
        f.check_hist(d, H_DATA, b'D');
    } else if ackf {
        f.check_hist(d, H_ACK, b'A');
    }
    if win == 0 && bits == 0 {
        f.scaled_hist(d, 1, b'W');
    }

    // Endpoint state machine (Zeek's TCP analyzer, simplified).
    let old_states = (ep.state, peer.state);
    match ep.state {
        EpState::Inactive => {
            if syn {
                if d == 0 {
                    ep.state = if ackf {
                        EpState::SynAckSent
                    } else {
                        EpState::SynSent
                    };
                } else {
                    if peer.state == EpState::SynSent {
                        peer.state = EpState::Established;
                    } else if peer.state == EpState::Inactive {
                        peer.state = EpState::Partial;
                    }
                    ep.state = EpState::SynAckSent;
                }
            }
            if fin {
                ep.state = EpState::Closed;
            }
            if rst {
                ep.state = EpState::Reset;
            }
            if ep.state == EpState::Inactive {
                ep.state = EpState::Partial;
            }
        }
        EpState::SynSent | EpState::SynAckSent => {
            if fin {
                ep.state = EpState::Closed;
            } else if rst {
                ep.state = EpState::Reset;
            } else if ackf && !syn {
                ep.state = EpState::Established;
                if peer.state == EpState::SynAckSent {
                    peer.state = EpState::Established;
                }
            }
        }
        EpState::Established | EpState::Partial => {
            if rst {
                ep.state = EpState::Reset;
            } else if fin {
                ep.state = EpState::Closed;
            } else if ackf && peer.state == EpState::SynAckSent {
                peer.state = EpState::Established;
            }
        }
        // Zeek keeps a closed endpoint closed even if it later sends a RST.
        EpState::Closed => {}
        EpState::Reset => {}
    }
    if ep.state != old_states.0 {
        ep.prev_state = old_states.0;
    }
    if peer.state != old_states.1 {
        peer.prev_state = old_states.1;
    }
    // Zeek's history letter for a content gap (`G`/`g`, scaled 1, 10,
    // 100...) is only given while both sides are established or closed
    // from established.
    let clean = ep.is_clean() && peer.is_clean();
    let (mut peer_gaps, mut own_gaps) = (0u32, 0u32);
    if syn && !ackf && d == 0 {
        f.handshake[0] = true;
    }
    if syn && ackf && d == 1 {
        f.handshake[1] = true;
    }

    // Sequence space (Zeek's update_last_seq: data ending at or below the
    // highest sequence seen is a retransmission, history T).
    let seg_end = rel + len as u64 + syn as u64 + fin as u64;
    let mut hist_rxmit = false;
    if seg_end > ep.last_rel {
        ep.last_rel = seg_end;
    } else if len > 0 {
        hist_rxmit = true;
    }
    if fin && ep.fin_rel.is_none() {
        ep.fin_rel = Some(rel + syn as u64 + len as u64);
    }
    let count_gaps = f.handshake[0] && f.handshake[1];
    let fr = FlowRef {
        uid: f.uid.as_str(),
        id: f.id,
        key: &f.key,
    };
    let other = if d == 0 {
        Direction::FromResp
    } else {
        Direction::FromOrig
    };
    let mut missed = 0u64;
    // The ack covers the peer's data: holes below it are gaps.
    if ackf && !rst {
        if let Some(a) = peer.rel_ack(ack) {
            let before = peer.gap_bytes;
            peer.acked(a, &mut |p| match p {
                Piece::Data(bytes) => sink.on_stream_data(fr, other, pi, bytes),
                Piece::Gap(n) => {
                    peer_gaps += 1;
                    sink.on_stream_gap(fr, other, n)
                }
            });
            missed += peer.gap_bytes - before;
        }
    }
    let mut was_retrans = false;
    if len > 0 && !rst {
        let before = (ep.gap_bytes, ep.conflicts);
        let start = rel + syn as u64;
        was_retrans = ep.accept(start, pi.payload, window, &mut |p| match p {
            Piece::Data(bytes) => sink.on_stream_data(fr, dir, pi, bytes),
            Piece::Gap(n) => {
                own_gaps += 1;
                sink.on_stream_gap(fr, dir, n)
            }
        });
        missed += ep.gap_bytes - before.0;
        *conflicts += ep.conflicts - before.1;
    }
    if was_retrans {
        *retrans += 1;
    }
    if count_gaps {
        f.missed += missed;
    }
    let closed = matches!(ep.state, EpState::Closed | EpState::Reset)
        && (ep.state == EpState::Reset || matches!(peer.state, EpState::Closed | EpState::Reset));
    f.tcp = Some(eps);
    if clean {
        for _ in 0..peer_gaps {
            f.scaled_hist(1 - d, 3, b'G');
        }
        for _ in 0..own_gaps {
            f.scaled_hist(d, 3, b'G');
        }
    }
    if hist_rxmit {
        f.scaled_hist(d, 0, b'T');
    }
    if closed {
        f.closed = true;
    }
}

fn conn_state(f: &Flow) -> String {
    match f.key.proto {
        Proto::Tcp => {
            let Some(eps) = &f.tcp else {
                return "OTH".into();
            };
            let (os, rs) = (eps[0].state, eps[1].state);
            let o_inactive = matches!(os, EpState::Inactive | EpState::Partial);
            let r_inactive = matches!(rs, EpState::Inactive | EpState::Partial);
            let s = if rs == EpState::Reset {
                if matches!(os, EpState::SynSent | EpState::SynAckSent)
                    || (os == EpState::Reset && eps[0].size() == 0 && eps[1].size() == 0)
                {
                    "REJ"
                } else if o_inactive {
                    "RSTRH"
                } else {
                    "RSTR"
                }
            } else if os == EpState::Reset {
                if r_inactive {
                    if rsto_s0_history(f.hist.as_str()) {
                        "RSTOS0"
                    } else {
                        "OTH"
                    }
                } else {
                    "RSTO"
                }
            } else if rs == EpState::Closed && os == EpState::Closed {
                "SF"
            } else if os == EpState::Closed {
                if r_inactive {
                    "SH"
                } else {
                    "S2"
                }
            } else if rs == EpState::Closed {
                if o_inactive {
                    "SHR"
                } else {
                    "S3"
                }
            } else if os == EpState::SynSent && rs == EpState::Inactive {
                "S0"
            } else if os == EpState::Established && rs == EpState::Established {
                "S1"
            } else {
                "OTH"
            };
            s.into()
        }
        Proto::Udp => match (f.pkts[0] > 0, f.pkts[1] > 0) {
            (true, true) => "SF",
            (true, false) => "S0",
            (false, true) => "SHR",
            (false, false) => "OTH",
        }
        .into(),
        _ => "OTH".into(),
    }
}

/// `^?S[^HAFGIQ]*R.*`
fn rsto_s0_history(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        if c == 'R' {
            return true;
        }
        if "HAFGIQ".contains(c) {
            return false;
        }
    }
    false
}

fn conn_of(f: &Flow) -> Conn {
    let dur = f.dur_last.0.saturating_sub(f.start.0);
    let (ob, rb) = match &f.tcp {
        Some(eps) => (eps[0].size(), eps[1].size()),
        None => (f.bytes[0], f.bytes[1]),
    };
    let mut packets = Vec::with_capacity(2);
    packets.push(f.first_pkt);
    if f.last_pkt != f.first_pkt {
        packets.push(f.last_pkt);
    }
    Conn {
        ts: f.start,
        uid: f.uid.as_str().to_string(),
        id: f.key,
        service: None,
        duration: (dur > 0).then(|| dur as f64 / 1e6),
        orig_bytes: (dur > 0).then_some(ob),
        resp_bytes: (dur > 0).then_some(rb),
        conn_state: conn_state(f),
        missed_bytes: f.missed,
        history: f.hist.as_str().to_string(),
        orig_pkts: f.pkts[0],
        orig_ip_bytes: f.ip_bytes[0],
        resp_pkts: f.pkts[1],
        resp_ip_bytes: f.ip_bytes[1],
        tunnel_parents: f
            .tunnel_parent
            .iter()
            .map(|u| u.as_str().to_string())
            .collect(),
        evidence: Evidence {
            file: f.file,
            packets,
        },
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
fn fold_ok(mut sum: u64) -> bool {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// Ones'-complement sum of big-endian 16-bit words (odd byte padded).
fn ones_sum(data: &[u8]) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The uid text as first defined: 96-bit value in base 62 digit by
    /// digit with 128-bit divisions. The fast path must give the same
    /// uids, so logs of one input and seed stay the same across versions.
    fn reference_uid(seed: u64, n: u64) -> String {
        let a = mix64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let c = mix64(a ^ seed.rotate_left(17));
        let mut v: u128 = ((a as u128) << 32) | (c as u128 & 0xffff_ffff);
        let mut digits = Vec::new();
        while v > 0 {
            digits.push(UID_DIGITS[(v % 62) as usize]);
            v /= 62;
        }
        digits.push(b'C');
        digits.reverse();
        String::from_utf8(digits).unwrap()
    }

    #[test]
    fn uids_equal_the_digit_by_digit_definition() {
        assert_eq!(62u64.pow(10), P62_10);
        for seed in [0, 1, 0x626f_7473_636f_7065, u64::MAX] {
            for n in (0..20_000u64).chain([u64::MAX - 1, u64::MAX]) {
                assert_eq!(Uid::new(b'C', seed, n).as_str(), reference_uid(seed, n));
            }
        }
        // Short uids (a high part of zero) keep their length.
        let short = Uid::new(b'C', 0, 0);
        assert_eq!(short.as_str(), reference_uid(0, 0));
    }

    #[test]
    fn history_keeps_ascii_only() {
        let mut h = Hist { b: [0; 48], len: 0 };
        for c in [b'S', 0xff, b'h', 0x80, b'A'] {
            h.push(c);
        }
        assert_eq!(h.as_str(), "ShA");
    }
}
