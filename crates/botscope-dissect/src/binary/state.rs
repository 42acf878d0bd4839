//! Per-direction state: hash an executable while it flows.

use super::parser::pe_file_size;
use crate::FlowCtx;
use botscope_core::events::{BinaryTransfer, Evidence};
use botscope_core::Ts;
use sha2::{Digest, Sha256};

/// Head bytes kept for the PE header.
pub const HEAD_BYTES: usize = 4096;

/// One direction of a TCP flow that started with `MZ`.
pub struct BinaryState {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    gap: bool,
    ts: Ts,
    first_pkt: u64,
    last_pkt: u64,
}

impl BinaryState {
    /// A state when the direction's first bytes are an executable's.
    pub fn start(ctx: &FlowCtx<'_>, first_bytes: &[u8]) -> Option<Self> {
        first_bytes.starts_with(b"MZ").then(|| BinaryState {
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            gap: false,
            ts: ctx.ts,
            first_pkt: ctx.pkt_no,
            last_pkt: ctx.pkt_no,
        })
    }

    /// Hashes more bytes of the direction.
    pub fn on_data(&mut self, pkt_no: u64, data: &[u8]) {
        self.hasher.update(data);
        self.size += data.len() as u64;
        self.last_pkt = pkt_no;
        if self.head.len() < HEAD_BYTES {
            let n = (HEAD_BYTES - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
        }
    }

    /// Bytes were lost: the file cannot be complete.
    pub fn on_gap(&mut self) {
        self.gap = true;
    }

    /// The transfer, at the flow's end.
    pub fn finish(self, ctx: &FlowCtx<'_>, from_orig: bool) -> BinaryTransfer {
        let pe_size = pe_file_size(&self.head);
        let complete = !self.gap && pe_size.is_none_or(|p| self.size >= p);
        BinaryTransfer {
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            from_orig,
            ts: self.ts,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            pe_size,
            complete,
            evidence: Evidence {
                file: ctx.file,
                packets: vec![self.first_pkt, self.last_pkt],
            },
        }
    }
}
