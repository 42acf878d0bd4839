//! Per-direction TCP state: Zeek's endpoint state machine (for
//! `conn_state`), sequence-space accounting (for `orig_bytes`/`resp_bytes`)
//! and bounded reassembly that delivers bytes in order.

use std::collections::BTreeMap;

/// Zeek's TCP endpoint states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EpState {
    /// Nothing seen.
    #[default]
    Inactive,
    /// SYN sent.
    SynSent,
    /// SYN-ACK sent.
    SynAckSent,
    /// Traffic seen without the handshake.
    Partial,
    /// Handshake done.
    Established,
    /// FIN sent.
    Closed,
    /// RST sent.
    Reset,
}

/// Per-segment bookkeeping cost counted against the memory cap.
pub const SEG_OVERHEAD: usize = 64;

/// Most out-of-order segments buffered per direction.
const MAX_SEGMENTS: usize = 4096;

/// What the reassembler wants the engine to hand to the sink.
pub enum Piece<'a> {
    /// In-order bytes.
    Data(&'a [u8]),
    /// Bytes that will never arrive.
    Gap(u64),
}

/// One direction of a TCP connection.
#[derive(Default)]
pub struct Endpoint {
    /// Zeek state.
    pub state: EpState,
    /// The state before the last change (Zeek's `prev_state`): a closed
    /// endpoint that was established is still "clean" for gap letters.
    pub prev_state: EpState,
    /// Whether any packet was seen from this side.
    pub seen: bool,
    /// Sequence number that maps to relative 0 (the ISN, or seq-1 when
    /// the SYN was not seen, as Zeek does).
    base: u32,
    /// Highest relative sequence (one past the last byte, SYN/FIN counted).
    pub last_rel: u64,
    /// Highest relative ack the peer sent for this side's data.
    pub acked_rel: u64,
    /// Relative sequence of the FIN, once seen.
    pub fin_rel: Option<u64>,
    /// Next relative sequence to deliver.
    next: u64,
    /// Whether sequence tracking has started.
    started: bool,
    /// Out-of-order segments by relative start.
    ooo: BTreeMap<u64, Vec<u8>>,
    /// Bytes (incl. overhead) buffered in `ooo`.
    pub buffered: usize,
    /// Gap bytes reported so far.
    pub gap_bytes: u64,
    /// Retransmitted data segments seen.
    pub retransmissions: u64,
    /// Overlaps whose bytes differed from what arrived first.
    pub conflicts: u64,
    /// Last SYN/FIN/RST relative seqs, for Zeek's repeated-letter rule.
    pub hist_last_syn: Option<u64>,
    /// See `hist_last_syn`.
    pub hist_last_fin: Option<u64>,
    /// See `hist_last_syn`.
    pub hist_last_rst: Option<u64>,
}

impl Endpoint {
    /// Zeek's `is_clean`: established, or closed from established. Only
    /// gaps between two clean endpoints get the history letter `G`/`g`
    /// (elsewhere they arise falsely from partial connections or RSTs).
    pub fn is_clean(&self) -> bool {
        self.state == EpState::Established
            || (self.state == EpState::Closed && self.prev_state == EpState::Established)
    }

    /// Unwraps a 32-bit sequence number to this side's relative space,
    /// starting tracking on the first call.
    pub fn rel(&mut self, seq: u32, syn: bool) -> u64 {
        if !self.started {
            self.started = true;
            self.base = if syn { seq } else { seq.wrapping_sub(1) };
            self.next = 1;
            self.last_rel = if syn { 0 } else { 1 };
            self.acked_rel = 0;
            return if syn { 0 } else { 1 };
        }
        let reference = self.last_rel.max(1);
        let d = seq.wrapping_sub(self.base);
        let diff = d.wrapping_sub(reference as u32) as i32 as i64;
        let r = reference as i64 + diff;
        r.max(0) as u64
    }

    /// Relative value of an ack number for this side's data (no start).
    pub fn rel_ack(&self, ack: u32) -> Option<u64> {
        if !self.started {
            return None;
        }
        let reference = self.last_rel.max(1);
        let d = ack.wrapping_sub(self.base);
        let diff = d.wrapping_sub(reference as u32) as i32 as i64;
        let r = reference as i64 + diff;
        (r >= 0).then_some(r as u64)
    }

    /// Zeek's endpoint `Size()`: sequence span without SYN and FIN octets.
    pub fn size(&self) -> u64 {
        if !self.started {
            return 0;
        }
        let mut size = self.last_rel.max(self.acked_rel).saturating_sub(1);
        if self.fin_rel.is_some() && size > 0 {
            size -= 1;
        }
        size
    }

    /// Accepts a segment's payload at relative seq `s`; calls `out` with
    /// in-order pieces. Returns true when the whole segment was old data
    /// (a retransmission).
    pub fn accept(
        &mut self,
        s: u64,
        data: &[u8],
        window: usize,
        out: &mut dyn FnMut(Piece<'_>),
    ) -> bool {
        if data.is_empty() {
            return false;
        }
        let end = s + data.len() as u64;
        // Never deliver past a FIN.
        let (data, end) = match self.fin_rel {
            Some(f) if end > f && s < f => (&data[..(f - s) as usize], f),
            Some(f) if s >= f => return false,
            _ => (data, end),
        };
        if end <= self.next {
            self.retransmissions += 1;
            return true;
        }
        if s > self.next {
            self.buffer(s, data);
            if self.buffered > window || self.ooo.len() > MAX_SEGMENTS {
                // Window overflow: give up on the hole before the first
                // buffered segment.
                if let Some((&first, _)) = self.ooo.iter().next() {
                    self.skip_to(first, out);
                }
            }
            return false;
        }
        // s <= next < end
        let mut cur = self.next;
        let mut piece = &data[(cur - s) as usize..];
        let mut pstart = cur;
        loop {
            // Buffered data that starts at or before `cur` arrived first: it wins.
            while let Some((&bs, _)) = self.ooo.iter().next() {
                if bs > cur {
                    break;
                }
                let (bs, seg) = self.ooo.pop_first().expect("non-empty");
                self.buffered -= seg.len() + SEG_OVERHEAD;
                let be = bs + seg.len() as u64;
                if be <= cur {
                    continue;
                }
                let tail = &seg[(cur - bs) as usize..];
                let pend = pstart + piece.len() as u64;
                if pend > cur {
                    let n = ((pend.min(be)) - cur) as usize;
                    let mine = &piece[(cur - pstart) as usize..(cur - pstart) as usize + n];
                    if mine != &tail[..n] {
                        self.conflicts += 1;
                    }
                }
                out(Piece::Data(tail));
                cur = be;
            }
            let pend = pstart + piece.len() as u64;
            if pend <= cur {
                break;
            }
            if cur > pstart {
                piece = &piece[(cur - pstart) as usize..];
                pstart = cur;
            }
            let lim = match self.ooo.iter().next() {
                Some((&bs, _)) => bs.min(pend),
                None => pend,
            };
            out(Piece::Data(&piece[..(lim - cur) as usize]));
            cur = lim;
            if cur >= pend {
                break;
            }
        }
        self.next = cur;
        false
    }

    /// Stores an out-of-order segment, keeping bytes that arrived first.
    fn buffer(&mut self, s: u64, data: &[u8]) {
        let e = s + data.len() as u64;
        let mut cur = s;
        let mut adds: Vec<(u64, u64)> = Vec::new();
        // Buffered segments never overlap each other, so only the one
        // starting at or before `s` and those starting inside [s, e) can
        // overlap the new one.
        let before = self
            .ooo
            .range(..s)
            .next_back()
            .map(|(&k, _)| k)
            .unwrap_or(s);
        for (&bs, seg) in self.ooo.range(before..e) {
            let be = bs + seg.len() as u64;
            if be <= cur {
                continue;
            }
            if bs > cur {
                adds.push((cur, bs));
            }
            let os = bs.max(cur);
            let oe = be.min(e);
            if os < oe {
                let old = &seg[(os - bs) as usize..(oe - bs) as usize];
                let new = &data[(os - s) as usize..(oe - s) as usize];
                if old != new {
                    self.conflicts += 1;
                }
            }
            cur = cur.max(be);
        }
        if cur < e {
            adds.push((cur, e));
        }
        for (a, b) in adds {
            let chunk = data[(a - s) as usize..(b - s) as usize].to_vec();
            self.buffered += chunk.len() + SEG_OVERHEAD;
            self.ooo.insert(a, chunk);
        }
    }

    /// Declares everything before `to` lost and delivers buffered data
    /// that becomes in-order.
    pub fn skip_to(&mut self, to: u64, out: &mut dyn FnMut(Piece<'_>)) {
        if to > self.next {
            let gap = to - self.next;
            self.gap_bytes += gap;
            out(Piece::Gap(gap));
            self.next = to;
        }
        self.drain(out);
    }

    /// Delivers buffered segments that are now in order.
    fn drain(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        while let Some((&bs, _)) = self.ooo.iter().next() {
            if bs > self.next {
                break;
            }
            let (bs, seg) = self.ooo.pop_first().expect("non-empty");
            self.buffered -= seg.len() + SEG_OVERHEAD;
            let be = bs + seg.len() as u64;
            if be <= self.next {
                continue;
            }
            out(Piece::Data(&seg[(self.next - bs) as usize..]));
            self.next = be;
        }
    }

    /// The peer acknowledged up to `ack` (relative): data below it that we
    /// never saw is a gap (Zeek's "ACK above hole").
    pub fn acked(&mut self, ack: u64, out: &mut dyn FnMut(Piece<'_>)) {
        let mut ack = ack;
        if let Some(f) = self.fin_rel {
            ack = ack.min(f);
        }
        // Only trust acks within what this side could have sent.
        if ack > self.last_rel.max(self.next) + (1 << 30) {
            return;
        }
        if ack > self.acked_rel {
            self.acked_rel = ack;
        }
        if ack > self.next {
            // Deliver what we have below the ack, with gaps for holes.
            while self.next < ack {
                match self.ooo.iter().next() {
                    Some((&bs, _)) if bs < ack => self.skip_to(bs, out),
                    _ => {
                        self.skip_to(ack, out);
                        break;
                    }
                }
            }
        }
    }

    /// End of the connection: flush buffered data across holes.
    pub fn flush(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        while let Some((&bs, _)) = self.ooo.iter().next() {
            self.skip_to(bs, out);
        }
    }
}
