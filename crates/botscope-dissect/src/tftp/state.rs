//! TFTP transfers across flows: the request goes to port 69, the transfer
//! runs on a new server port. A request leaves an expectation keyed by
//! (client address, client port, server address); the first new UDP flow
//! that matches it becomes the transfer's data flow (`uid_data`).
//!
//! Counts follow spicy-tftp's `tftp.log`: `size` is the data bytes of the
//! distinct blocks, `block_sent` the highest DATA block, `block_acked` the
//! highest ACK. The data is hashed (SHA-256) as blocks arrive in order;
//! nothing is buffered.

use super::parser::{parse, Packet};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{Event, Evidence, TftpEvent};
use botscope_core::hash::FastMap;
use botscope_core::{FlowKey, Ts};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Most transfers tracked at once; beyond it the oldest is logged early.
const MAX_TRANSFERS: usize = 4096;

#[derive(Debug)]
struct Transfer {
    ts: Ts,
    req_flow: u64,
    uid: String,
    key: FlowKey,
    file: u32,
    wrq: bool,
    fname: String,
    mode: String,
    options: Vec<(String, String)>,
    uid_data: Option<String>,
    data_flow: Option<u64>,
    size: u64,
    block_sent: u64,
    block_acked: u64,
    error_code: Option<u16>,
    error_msg: Option<String>,
    hasher: Sha256,
    /// Last block appended to the hash (0 before the first).
    next_block: u16,
    blksize: usize,
    complete: bool,
    is_mz: bool,
    packets: Vec<u64>,
}

/// All TFTP transfers of a run.
#[derive(Debug, Default)]
pub struct TftpTracker {
    transfers: FastMap<u64, Transfer>,
    expect: FastMap<(IpAddr, u16, IpAddr), u64>,
    /// Request flow id → its latest transfer.
    by_request_flow: FastMap<u64, u64>,
    /// Data flow id → transfer.
    by_data_flow: FastMap<u64, u64>,
    next_id: u64,
}

impl TftpTracker {
    /// Whether a new UDP flow is the data flow of a pending request; if so
    /// it is attached and later datagrams go to [`Self::on_data_datagram`].
    pub fn claim(&mut self, flow_id: u64, uid: &str, key: &FlowKey) -> bool {
        // Runs for every new UDP flow: no hashing while nothing is expected.
        if self.expect.is_empty() {
            return false;
        }
        let candidates = [
            (key.resp_h, key.resp_p, key.orig_h),
            (key.orig_h, key.orig_p, key.resp_h),
        ];
        for c in candidates {
            if let Some(tid) = self.expect.remove(&c) {
                if let Some(t) = self.transfers.get_mut(&tid) {
                    t.uid_data = Some(uid.to_string());
                    t.data_flow = Some(flow_id);
                    self.by_data_flow.insert(flow_id, tid);
                    return true;
                }
            }
        }
        false
    }

    /// A datagram on a request flow (to port 69 or wherever detection
    /// found a request).
    pub fn on_request_datagram(
        &mut self,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        data: &[u8],
        out: &mut Output,
    ) {
        match parse(data) {
            Ok(Packet::Rrq(r)) | Ok(Packet::Wrq(r)) => {
                let wrq = data[1] == 2;
                if self.transfers.len() >= MAX_TRANSFERS {
                    if let Some(&oldest) = self.transfers.keys().min() {
                        self.emit(oldest, out);
                    }
                }
                let blksize = r
                    .options
                    .iter()
                    .find(|(k, _)| k == "blksize")
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .filter(|&b| (8..=65464).contains(&b))
                    .unwrap_or(512);
                let id = self.next_id;
                self.next_id += 1;
                // A request retransmitted before any data replaces the old one.
                if let Some(old) = self.by_request_flow.insert(flow_id, id) {
                    if self
                        .transfers
                        .get(&old)
                        .is_some_and(|t| t.data_flow.is_none() && t.fname == r.filename)
                    {
                        self.transfers.remove(&old);
                    }
                }
                self.transfers.insert(
                    id,
                    Transfer {
                        ts: ctx.ts,
                        req_flow: flow_id,
                        uid: ctx.uid.to_string(),
                        key: *ctx.key,
                        file: ctx.file,
                        wrq,
                        fname: r.filename,
                        mode: r.mode,
                        options: r.options,
                        uid_data: None,
                        data_flow: None,
                        size: 0,
                        block_sent: 0,
                        block_acked: 0,
                        error_code: None,
                        error_msg: None,
                        hasher: Sha256::new(),
                        next_block: 0,
                        blksize,
                        complete: false,
                        is_mz: false,
                        packets: vec![ctx.pkt_no],
                    },
                );
                self.expect
                    .insert((ctx.key.orig_h, ctx.key.orig_p, ctx.key.resp_h), id);
            }
            Ok(p) => {
                // Some servers answer from port 69 itself.
                if let Some(&tid) = self.by_request_flow.get(&flow_id) {
                    if let Some(t) = self.transfers.get_mut(&tid) {
                        apply(t, ctx, &p);
                    }
                }
            }
            Err(e) => out.anomaly(ctx, &e.to_string()),
        }
    }

    /// A datagram on a data flow.
    pub fn on_data_datagram(
        &mut self,
        ctx: &FlowCtx<'_>,
        flow_id: u64,
        data: &[u8],
        out: &mut Output,
    ) {
        let Some(&tid) = self.by_data_flow.get(&flow_id) else {
            return;
        };
        let Some(t) = self.transfers.get_mut(&tid) else {
            return;
        };
        match parse(data) {
            Ok(p) => apply(t, ctx, &p),
            Err(e) => out.anomaly(ctx, &e.to_string()),
        }
    }

    /// Whether a flow is a known TFTP data flow.
    pub fn is_data_flow(&self, flow_id: u64) -> bool {
        self.by_data_flow.contains_key(&flow_id)
    }

    /// A flow ended: its data flow's transfer is logged; a request flow's
    /// transfers without a data flow are logged too.
    pub fn on_flow_end(&mut self, flow_id: u64, out: &mut Output) {
        // Runs for every flow that ends: no hashing while no transfer lives.
        if self.by_data_flow.is_empty() && self.by_request_flow.is_empty() {
            return;
        }
        if let Some(tid) = self.by_data_flow.remove(&flow_id) {
            self.emit(tid, out);
        }
        if self.by_request_flow.remove(&flow_id).is_some() {
            let mut orphans: Vec<u64> = self
                .transfers
                .iter()
                .filter(|(_, t)| t.req_flow == flow_id && t.data_flow.is_none())
                .map(|(&k, _)| k)
                .collect();
            orphans.sort_unstable();
            for tid in orphans {
                self.emit(tid, out);
            }
        }
    }

    /// End of input: everything still open is logged.
    pub fn finish(&mut self, out: &mut Output) {
        let mut ids: Vec<u64> = self.transfers.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.emit(id, out);
        }
    }

    fn emit(&mut self, tid: u64, out: &mut Output) {
        let Some(t) = self.transfers.remove(&tid) else {
            return;
        };
        self.expect.retain(|_, v| *v != tid);
        if let Some(f) = t.data_flow {
            self.by_data_flow.remove(&f);
        }
        let ev = TftpEvent {
            ts: t.ts,
            uid: t.uid,
            id: t.key,
            wrq: t.wrq,
            fname: t.fname,
            mode: t.mode,
            uid_data: t.uid_data,
            size: t.size,
            block_sent: t.block_sent,
            block_acked: t.block_acked,
            error_code: t.error_code,
            error_msg: t.error_msg,
            options: t.options,
            sha256: t.complete.then(|| hex::encode(t.hasher.finalize())),
            is_executable: t.is_mz,
            evidence: Evidence {
                file: t.file,
                packets: t.packets,
            },
        };
        out.push(Record {
            event: Event::Tftp(ev),
            dns_opcode: None,
            irc_log_row: false,
        });
    }
}

fn apply(t: &mut Transfer, ctx: &FlowCtx<'_>, p: &Packet<'_>) {
    if t.packets.len() < 2 {
        t.packets.push(ctx.pkt_no);
    } else {
        t.packets[1] = ctx.pkt_no;
    }
    match p {
        Packet::Data { block, data } => {
            t.block_sent = t.block_sent.max(*block as u64);
            // Only the next block in order extends the file; duplicates
            // (retransmissions) do not count twice.
            if *block == t.next_block.wrapping_add(1) && !t.complete {
                if t.next_block == 0 {
                    t.is_mz = data.starts_with(b"MZ");
                }
                t.next_block = *block;
                t.size += data.len() as u64;
                t.hasher.update(data);
                if data.len() < t.blksize {
                    t.complete = true;
                }
            }
        }
        Packet::Ack { block } => t.block_acked = t.block_acked.max(*block as u64),
        Packet::Error { code, msg } => {
            t.error_code = Some(*code);
            t.error_msg = Some(msg.clone());
        }
        Packet::Oack { options } => {
            if let Some(b) = options
                .iter()
                .find(|(k, _)| k == "blksize")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .filter(|&b| (8..=65464).contains(&b))
            {
                t.blksize = b;
            }
        }
        Packet::Rrq(_) | Packet::Wrq(_) => {}
    }
}
