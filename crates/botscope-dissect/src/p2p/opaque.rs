//! Opaque links: TCP flows no dissector claims. Their first payload bytes
//! each way are tallied ([`ByteTally`]); when the flow ends with a
//! high-entropy sample both ways it is reported as a `P2pLink` of protocol
//! `opaque` — the per-link shape of an encrypted mesh such as WASTE. Whether
//! links form a mesh (many long-lived links on one port, symmetric
//! volumes) is judged across links, in `botscope-behavior`.

use super::entropy::ByteTally;
use super::state::round3;
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Conn, Event, Evidence, P2pLink};

/// Fewest sampled bytes each way for a link to be judged.
pub const MIN_SAMPLE: usize = 512;
/// Lowest entropy (bits per byte) of both samples: encrypted or compressed
/// bytes score near 8 (7.6 for 512 uniform bytes), text and most binary
/// protocols well below 7.
pub const MIN_ENTROPY: f64 = 7.0;

/// Tallies of one unclaimed TCP flow.
#[derive(Clone, Debug, Default)]
pub struct OpaqueTally {
    sides: [ByteTally; 2],
    first_pkt: Option<u64>,
    /// The originator's first bytes: TLS and SSH are named protocols with
    /// high-entropy payloads, not opaque links.
    head: [u8; 4],
}

/// Whether a stream starts as TLS (a handshake record) or SSH (its banner).
fn named_encrypted(head: &[u8; 4]) -> bool {
    (head[0] == 0x16 && head[1] == 0x03) || head == b"SSH-"
}

impl OpaqueTally {
    /// Bytes held.
    pub fn held_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    /// Counts one direction's bytes (until the samples are full).
    pub fn on_data(&mut self, ctx: &FlowCtx<'_>, from_orig: bool, data: &[u8]) {
        self.first_pkt.get_or_insert(ctx.pkt_no);
        let side = &mut self.sides[usize::from(!from_orig)];
        if from_orig && side.len() < 4 {
            let at = side.len();
            for (i, b) in data.iter().take(4 - at).enumerate() {
                self.head[at + i] = *b;
            }
        }
        side.add(data);
    }

    /// Whether both samples are full (later bytes change nothing).
    pub fn full(&self) -> bool {
        self.sides.iter().all(ByteTally::full)
    }

    /// The flow ended: a link event when both samples are large and
    /// high-entropy.
    pub fn on_end(&self, ctx: &FlowCtx<'_>, conn: &Conn, out: &mut Output) {
        let [o, r] = &self.sides;
        if o.len() < MIN_SAMPLE || r.len() < MIN_SAMPLE || named_encrypted(&self.head) {
            return;
        }
        let (oe, re) = (o.entropy(), r.entropy());
        if oe < MIN_ENTROPY || re < MIN_ENTROPY {
            return;
        }
        let link = P2pLink {
            ts: conn.ts,
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            protocol: "opaque".into(),
            status: None,
            user_agent: None,
            descriptors: Default::default(),
            tls: false,
            gnutella2: false,
            learnt_peers: Vec::new(),
            queries: Vec::new(),
            duration: conn.duration.unwrap_or(0.0),
            orig_bytes: conn.orig_bytes.unwrap_or(0),
            resp_bytes: conn.resp_bytes.unwrap_or(0),
            orig_entropy: round3(oe),
            resp_entropy: round3(re),
            evidence: Evidence {
                file: ctx.file,
                packets: vec![self.first_pkt.unwrap_or(ctx.pkt_no), ctx.pkt_no],
            },
        };
        out.push(Record {
            event: Event::P2p(link),
            dns_opcode: None,
            irc_log_row: false,
        });
    }
}
