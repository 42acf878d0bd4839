//! What a TCP flow sent before detection decided its protocol.
//!
//! Each direction's first bytes sit in one buffer (at most
//! [`DETECT_LIMIT`]), and every delivered segment leaves a 16-byte mark
//! (its direction, packet time and number) instead of a buffer of its
//! own: a flow of 1-byte segments costs 17 bytes per segment, not the
//! ~80 a `Vec` per segment did. Replaying the marks hands the dissector
//! the same pieces, with the same packet times, it would have seen live,
//! so records keep the time of the packet that completed them.

use botscope_core::Ts;

/// Most bytes buffered per direction before detection gives up.
pub const DETECT_LIMIT: usize = 2048;

/// One delivered segment: which direction, where its bytes end in that
/// direction's buffer, and its packet.
#[derive(Clone, Copy, Debug)]
struct Mark {
    ts: Ts,
    /// Packet number relative to the first mark's (exact within ±2^31).
    pkt_delta: i32,
    /// End offset in its direction's buffer (at most `DETECT_LIMIT`).
    end: u16,
    from_orig: bool,
}

/// Bytes held back while a flow's protocol is undecided.
#[derive(Debug, Default)]
pub struct Undecided {
    /// Per direction (orig, resp): the first bytes.
    head: [Vec<u8>; 2],
    marks: Vec<Mark>,
    base_pkt: u64,
}

/// One replayed segment.
pub struct Piece<'a> {
    /// Sent by the originator.
    pub from_orig: bool,
    /// Its packet's time.
    pub ts: Ts,
    /// Its packet's number.
    pub pkt_no: u64,
    /// Its bytes.
    pub data: &'a [u8],
}

impl Undecided {
    /// The first bytes of one direction (0: originator, 1: responder).
    pub fn head(&self, dir: usize) -> &[u8] {
        &self.head[dir]
    }

    /// Whether a direction's buffer is full (detection must decide).
    pub fn full(&self) -> bool {
        self.head.iter().any(|h| h.len() >= DETECT_LIMIT)
    }

    /// Keeps what fits of `data` (one delivered segment); returns how many
    /// bytes were kept (0 once that direction is full).
    pub fn push(&mut self, from_orig: bool, ts: Ts, pkt_no: u64, data: &[u8]) -> usize {
        let i = usize::from(!from_orig);
        let room = DETECT_LIMIT.saturating_sub(self.head[i].len());
        let kept = &data[..data.len().min(room)];
        if kept.is_empty() {
            return 0;
        }
        self.head[i].extend_from_slice(kept);
        let end = self.head[i].len() as u16;
        if self.marks.is_empty() {
            self.base_pkt = pkt_no;
        }
        let pkt_delta =
            (pkt_no as i64 - self.base_pkt as i64).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        // Several pieces released by one packet (reassembly filling a
        // hole) share its time and number: one mark.
        match self.marks.last_mut() {
            Some(m) if m.from_orig == from_orig && m.pkt_delta == pkt_delta && m.ts == ts => {
                m.end = end;
            }
            _ => self.marks.push(Mark {
                ts,
                pkt_delta,
                end,
                from_orig,
            }),
        }
        kept.len()
    }

    /// The held segments in arrival order.
    pub fn replay(&self) -> impl Iterator<Item = Piece<'_>> {
        let mut start = [0usize; 2];
        self.marks.iter().map(move |m| {
            let i = usize::from(!m.from_orig);
            let s = start[i];
            start[i] = m.end as usize;
            Piece {
                from_orig: m.from_orig,
                ts: m.ts,
                pkt_no: (self.base_pkt as i64 + m.pkt_delta as i64) as u64,
                data: &self.head[i][s..m.end as usize],
            }
        })
    }

    /// Heap bytes held (buffers and marks, by capacity).
    pub fn held_bytes(&self) -> usize {
        self.head.iter().map(Vec::capacity).sum::<usize>()
            + self.marks.capacity() * std::mem::size_of::<Mark>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_segments_in_order_with_their_packets() {
        let mut u = Undecided::default();
        assert_eq!(u.push(true, Ts(10), 4, b"NICK x\r\n"), 8);
        assert_eq!(u.push(false, Ts(11), 5, b":srv NOTICE"), 11);
        assert_eq!(u.push(true, Ts(12), 6, b"USER a"), 6);
        // Two pieces released by packet 6: one mark.
        assert_eq!(u.push(true, Ts(12), 6, b" 0 0 :a\r\n"), 9);
        let got: Vec<(bool, i64, u64, &[u8])> = u
            .replay()
            .map(|p| (p.from_orig, p.ts.0, p.pkt_no, p.data))
            .collect();
        assert_eq!(
            got,
            vec![
                (true, 10, 4, &b"NICK x\r\n"[..]),
                (false, 11, 5, &b":srv NOTICE"[..]),
                (true, 12, 6, &b"USER a 0 0 :a\r\n"[..]),
            ]
        );
        assert_eq!(u.head(0), b"NICK x\r\nUSER a 0 0 :a\r\n");
        assert_eq!(std::mem::size_of::<Mark>(), 16);
    }

    #[test]
    fn bounded_per_direction_and_17_bytes_per_one_byte_segment() {
        let mut u = Undecided::default();
        for i in 0..DETECT_LIMIT as u64 + 10 {
            let kept = u.push(true, Ts(i as i64), i + 1, b"x");
            assert_eq!(kept, usize::from(i < DETECT_LIMIT as u64));
        }
        assert!(u.full());
        assert_eq!(u.replay().count(), DETECT_LIMIT);
        assert!(u
            .replay()
            .all(|p| p.data == b"x" && p.pkt_no == p.ts.0 as u64 + 1));
        // Capacity-exact: 2048 B of data + 2048 marks of 16 B (Vec
        // doubling keeps both at powers of two here).
        assert_eq!(u.held_bytes(), DETECT_LIMIT + DETECT_LIMIT * 16);
    }
}
