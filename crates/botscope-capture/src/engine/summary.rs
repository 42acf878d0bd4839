//! The Zeek-style connection record of an ended flow (`conn_state`,
//! byte counts, history, evidence).

use super::flow::Flow;
use crate::tcp::EpState;
use botscope_core::compact::{ConnState, History, PacketNumbers};
use botscope_core::events::{Conn, ConnEvidence};
use botscope_core::Proto;

fn conn_state(f: &Flow) -> ConnState {
    match f.key.proto {
        Proto::Tcp => {
            let Some(eps) = &f.tcp else {
                return ConnState::OTH;
            };
            let (os, rs) = (eps[0].state, eps[1].state);
            let o_inactive = matches!(os, EpState::Inactive | EpState::Partial);
            let r_inactive = matches!(rs, EpState::Inactive | EpState::Partial);
            let s = if rs == EpState::Reset {
                if matches!(os, EpState::SynSent | EpState::SynAckSent)
                    || (os == EpState::Reset && eps[0].size() == 0 && eps[1].size() == 0)
                {
                    ConnState::REJ
                } else if o_inactive {
                    ConnState::RSTRH
                } else {
                    ConnState::RSTR
                }
            } else if os == EpState::Reset {
                if r_inactive {
                    if rsto_s0_history(f.hist.as_str()) {
                        ConnState::RSTOS0
                    } else {
                        ConnState::OTH
                    }
                } else {
                    ConnState::RSTO
                }
            } else if rs == EpState::Closed && os == EpState::Closed {
                ConnState::SF
            } else if os == EpState::Closed {
                if r_inactive {
                    ConnState::SH
                } else {
                    ConnState::S2
                }
            } else if rs == EpState::Closed {
                if o_inactive {
                    ConnState::SHR
                } else {
                    ConnState::S3
                }
            } else if os == EpState::SynSent && rs == EpState::Inactive {
                ConnState::S0
            } else if os == EpState::Established && rs == EpState::Established {
                ConnState::S1
            } else {
                ConnState::OTH
            };
            s
        }
        Proto::Udp => match (f.pkts[0] > 0, f.pkts[1] > 0) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::SHR,
            (false, false) => ConnState::OTH,
        },
        _ => ConnState::OTH,
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

pub(super) fn conn_of(f: &Flow) -> Conn {
    let dur = f.dur_last.0.saturating_sub(f.start.0);
    let (ob, rb) = match &f.tcp {
        Some(eps) => (eps[0].size(), eps[1].size()),
        None => (f.bytes[0], f.bytes[1]),
    };
    Conn {
        ts: f.start,
        uid: f.uid.clone(),
        id: f.key,
        service: None,
        duration: (dur > 0).then(|| dur as f64 / 1e6),
        orig_bytes: (dur > 0).then_some(ob),
        resp_bytes: (dur > 0).then_some(rb),
        conn_state: conn_state(f),
        missed_bytes: f.missed,
        history: History::from(f.hist.as_str()),
        orig_pkts: f.pkts[0],
        orig_ip_bytes: f.ip_bytes[0],
        resp_pkts: f.pkts[1],
        resp_ip_bytes: f.ip_bytes[1],
        tunnel_parents: f.tunnel_parent.iter().cloned().collect(),
        evidence: ConnEvidence {
            file: f.file,
            packets: PacketNumbers::first_last(f.first_pkt, f.last_pkt),
        },
    }
}
