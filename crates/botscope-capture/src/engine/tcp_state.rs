//! A TCP segment's effect on its flow: Zeek's history letters, the
//! endpoint state machine, and reassembly (in-order data and gaps handed
//! to the sink).

use super::flow::{Flow, H_ACK, H_DATA, H_FIN, H_FINRST, H_MULTI, H_RST, H_SYN};
use crate::tcp::{Endpoint, EpState, Piece};
use crate::{Direction, FlowRef, FlowSink, PacketInfo};

/// One TCP segment's header fields.
pub(super) struct TcpSeg {
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) flags: u8,
    pub(super) win: u16,
    pub(super) len: usize,
    pub(super) window: usize,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn tcp_packet(
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

    history_letters(f, d, ep, flags, rel, len, win);

    advance_states(ep, peer, d, flags);

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

/// Zeek's `update_history`: the letters one segment adds to its flow's
/// history (repeated SYN, FIN and RST letters only when the sequence
/// number changed).
#[allow(clippy::too_many_arguments)]
fn history_letters(
    f: &mut Flow,
    d: usize,
    ep: &mut Endpoint,
    flags: u8,
    rel: u64,
    len: usize,
    win: u16,
) {
    let syn = flags & 0x02 != 0;
    let fin = flags & 0x01 != 0;
    let rst = flags & 0x04 != 0;
    let ackf = flags & 0x10 != 0;
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
}

/// The endpoint state machine (Zeek's TCP analyzer, simplified): one
/// segment from direction `d` moves its endpoint `ep` and maybe the peer.
fn advance_states(ep: &mut Endpoint, peer: &mut Endpoint, d: usize, flags: u8) {
    let syn = flags & 0x02 != 0;
    let fin = flags & 0x01 != 0;
    let rst = flags & 0x04 != 0;
    let ackf = flags & 0x10 != 0;
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
}
