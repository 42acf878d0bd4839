//! The Zeek-style connection record of an ended flow (`conn_state`,
//! byte counts, history, evidence).

use super::flow::Flow;
use crate::tcp::EpState;
use botscope_core::events::{Conn, Evidence};
use botscope_core::Proto;

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

pub(super) fn conn_of(f: &Flow) -> Conn {
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
