//! Per-flow DNS state: frames TCP messages (2-byte length), pairs queries
//! with responses by transaction id the way Zeek's `dns.log` does, and
//! emits one [`DnsEvent`] per transaction.
//!
//! Pairing follows Zeek: one pending query plus per-id queues of further
//! queries and of replies seen before their query; a transaction is logged
//! when both halves were seen (multicast: at once), and anything unpaired
//! at flow end. `rtt`, `AA` and `RA` come from the first answer record, so
//! a reply without answers has no `rtt`, as in Zeek.

use super::parser::{self, Message, Rdata, Section};
use crate::{FlowCtx, Output, Record};
use botscope_core::events::{DnsEvent, Event, Evidence};
use botscope_core::Ts;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// Queues longer than this are flushed to the log (Zeek's
/// `max_pending_msgs` / `max_pending_query_ids`), bounding memory.
const MAX_PENDING: usize = 50;
/// Longest TCP DNS message buffered (the 16-bit length field's maximum).
const MAX_TCP_MSG: usize = 65_535;

#[derive(Debug, Clone)]
struct Txn {
    ts: Ts,
    trans_id: u16,
    query: Option<String>,
    qclass: Option<u16>,
    qtype: Option<u16>,
    rcode: Option<u16>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u8,
    answers: Vec<String>,
    ttls: Vec<f64>,
    rejected: bool,
    opcode: u8,
    rtt: Option<f64>,
    saw_query: bool,
    saw_reply: bool,
    packets: Vec<u64>,
}

/// State of one DNS flow (UDP or TCP).
#[derive(Debug, Default)]
pub struct DnsState {
    arena: Vec<Option<Txn>>,
    pending_query: Option<usize>,
    pending_queries: BTreeMap<u16, VecDeque<usize>>,
    pending_replies: BTreeMap<u16, VecDeque<usize>>,
    tcp_buf: [Vec<u8>; 2],
    /// Messages parsed.
    pub messages: u64,
}

fn multicast(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_multicast(),
        IpAddr::V6(v) => v.segments()[0] & 0xff00 == 0xff00,
    }
}

/// Heap bytes counted per transaction still in the arena (its name,
/// answers and packet list), an estimate that keeps accounting O(1).
const TXN_HEAP_ESTIMATE: usize = 128;

impl DnsState {
    /// Bytes this flow's state holds: itself, the transaction arena, the
    /// TCP framing buffers and the pending-id queues (transactions'
    /// strings estimated at [`TXN_HEAP_ESTIMATE`] each).
    pub fn held_bytes(&self) -> usize {
        let queues = |m: &BTreeMap<u16, VecDeque<usize>>| {
            m.len() * 64 + m.values().map(|q| q.capacity() * 8).sum::<usize>()
        };
        std::mem::size_of::<Self>()
            + self.arena.capacity() * std::mem::size_of::<Option<Txn>>()
            + self.arena.len() * TXN_HEAP_ESTIMATE
            + self.tcp_buf.iter().map(Vec::capacity).sum::<usize>()
            + queues(&self.pending_queries)
            + queues(&self.pending_replies)
    }

    /// One UDP datagram (one message).
    pub fn on_datagram(&mut self, ctx: &FlowCtx<'_>, data: &[u8], out: &mut Output) {
        self.on_message(ctx, data, out);
    }

    /// TCP stream bytes of one direction: 2-byte length framing, several
    /// messages per segment and messages split across segments.
    pub fn on_stream(&mut self, ctx: &FlowCtx<'_>, from_orig: bool, data: &[u8], out: &mut Output) {
        let i = usize::from(!from_orig);
        let mut buf = std::mem::take(&mut self.tcp_buf[i]);
        buf.extend_from_slice(data);
        let mut off = 0;
        while buf.len() - off >= 2 {
            let len = u16::from_be_bytes([buf[off], buf[off + 1]]) as usize;
            if buf.len() - off - 2 < len {
                break;
            }
            self.on_message(ctx, &buf[off + 2..off + 2 + len], out);
            off += 2 + len;
        }
        buf.drain(..off);
        if buf.len() > MAX_TCP_MSG + 2 {
            out.anomaly(ctx, "dns_tcp_overflow");
            buf.clear();
        }
        self.tcp_buf[i] = buf;
    }

    /// A TCP gap: framing is lost, the partial message is dropped.
    pub fn on_gap(&mut self, ctx: &FlowCtx<'_>, from_orig: bool, out: &mut Output) {
        let i = usize::from(!from_orig);
        if !self.tcp_buf[i].is_empty() {
            out.anomaly(ctx, "dns_tcp_gap");
            self.tcp_buf[i].clear();
        }
    }

    fn new_txn(&mut self, ctx: &FlowCtx<'_>, id: u16) -> usize {
        self.arena.push(Some(Txn {
            ts: ctx.ts,
            trans_id: id,
            query: None,
            qclass: None,
            qtype: None,
            rcode: None,
            aa: false,
            tc: false,
            rd: false,
            ra: false,
            z: 0,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
            opcode: 0,
            rtt: None,
            saw_query: false,
            saw_reply: false,
            packets: Vec::new(),
        }));
        self.arena.len() - 1
    }

    fn enqueue(
        map: &mut BTreeMap<u16, VecDeque<usize>>,
        id: u16,
        t: usize,
        flushed: &mut Vec<usize>,
    ) {
        if !map.contains_key(&id) && map.len() > MAX_PENDING {
            for (_, q) in std::mem::take(map) {
                flushed.extend(q);
            }
        }
        let q = map.entry(id).or_default();
        if q.len() > MAX_PENDING {
            flushed.extend(q.drain(..));
        }
        q.push_back(t);
    }

    fn pop(map: &mut BTreeMap<u16, VecDeque<usize>>, id: u16) -> Option<usize> {
        let q = map.get_mut(&id)?;
        let t = q.pop_front();
        if q.is_empty() {
            map.remove(&id);
        }
        t
    }

    fn on_message(&mut self, ctx: &FlowCtx<'_>, data: &[u8], out: &mut Output) {
        let mut msg = match parser::parse(data) {
            Ok(m) => m,
            Err(e) => {
                out.anomaly(ctx, &e.to_string());
                return;
            }
        };
        if let Some(e) = msg.error {
            out.anomaly(ctx, &e.to_string());
        }
        self.messages += 1;
        let h = msg.header;
        if !matches!(h.opcode, 0 | 4 | 5) {
            return;
        }
        let is_query = !h.qr;
        let mut flushed = Vec::new();
        let cur = if multicast(ctx.key.resp_h) {
            let t = self.new_txn(ctx, h.id);
            let tx = self.arena[t].as_mut().expect("fresh");
            tx.saw_query = true;
            tx.saw_reply = true;
            t
        } else if is_query {
            if let Some(t) = Self::pop(&mut self.pending_replies, h.id) {
                t
            } else {
                let t = self.new_txn(ctx, h.id);
                if self.pending_query.is_none() {
                    self.pending_query = Some(t);
                } else {
                    Self::enqueue(&mut self.pending_queries, h.id, t, &mut flushed);
                }
                t
            }
        } else {
            let pq = self
                .pending_query
                .filter(|&t| self.arena[t].as_ref().is_some_and(|x| x.trans_id == h.id));
            if let Some(t) = pq {
                self.pending_query = None;
                if !self.pending_queries.is_empty() {
                    self.pending_query = Self::pop(&mut self.pending_queries, h.id).or_else(|| {
                        let first = *self.pending_queries.keys().next()?;
                        Self::pop(&mut self.pending_queries, first)
                    });
                }
                t
            } else if let Some(t) = Self::pop(&mut self.pending_queries, h.id) {
                t
            } else {
                let t = self.new_txn(ctx, h.id);
                Self::enqueue(&mut self.pending_replies, h.id, t, &mut flushed);
                t
            }
        };
        for t in flushed {
            self.emit(ctx, t, out);
        }
        self.apply(ctx, cur, &mut msg);
        let done = {
            let tx = self.arena[cur].as_mut().expect("live txn");
            if h.qr {
                tx.saw_reply = true;
            } else {
                tx.saw_query = true;
            }
            tx.saw_reply && tx.saw_query
        };
        if done {
            self.emit(ctx, cur, out);
        }
    }

    /// Folds one message into its transaction; names the transaction
    /// keeps are moved out of `msg` (it is not read afterwards).
    fn apply(&mut self, ctx: &FlowCtx<'_>, cur: usize, msg: &mut Message) {
        let h = msg.header;
        let tx = self.arena[cur].as_mut().expect("live txn");
        if tx.packets.last() != Some(&ctx.pkt_no) {
            tx.packets.push(ctx.pkt_no);
        }
        if h.qr {
            tx.rcode = Some(h.rcode as u16);
            if h.rcode != 0 && h.qdcount == 0 {
                tx.rejected = true;
            }
            // A reply with questions but no records at all is Zeek's
            // `dns_rejected`.
            if !msg.questions.is_empty() && h.ancount == 0 && h.nscount == 0 && h.arcount == 0 {
                tx.rejected = true;
            }
        }
        tx.opcode = h.opcode;
        if !h.qr {
            // Zeek does not treat an update's zone section as a question.
            let questions = if h.opcode == 5 {
                &mut [][..]
            } else {
                &mut msg.questions[..]
            };
            for q in questions {
                tx.rd = h.rd;
                tx.tc = h.tc;
                tx.qclass = Some(q.qclass);
                tx.qtype = Some(q.qtype);
                tx.z = h.z;
                tx.query = Some(std::mem::take(&mut q.name));
            }
            return;
        }
        for r in &mut msg.records {
            let update = h.opcode == 5;
            let counts =
                r.section == Section::Answer || (update && r.section == Section::Authority);
            if !counts || r.rtype == 41 {
                continue;
            }
            let Some(mut reply) = render(r, update) else {
                continue;
            };
            if tx.query.is_none() {
                // `render` has read the name; nothing reads it after.
                tx.query = Some(std::mem::take(&mut r.name));
            }
            tx.aa = h.aa;
            tx.ra = h.ra;
            if tx.rtt.is_none() {
                let rtt = (ctx.ts.0 - tx.ts.0) as f64 / 1e6;
                tx.rtt = (rtt != 0.0).then_some(rtt);
            }
            if update
                && r.section == Section::Authority
                && !reply.starts_with("del:")
                && !reply.is_empty()
            {
                reply = format!("add: {reply}");
            }
            if !reply.is_empty() {
                tx.answers.push(reply);
                tx.ttls.push(r.ttl as f64);
            }
        }
    }

    fn emit(&mut self, ctx: &FlowCtx<'_>, t: usize, out: &mut Output) {
        let Some(tx) = self.arena[t].take() else {
            return;
        };
        // The arena only grows while a flow lives; trim finished tails.
        while matches!(self.arena.last(), Some(None)) {
            self.arena.pop();
        }
        let ev = DnsEvent {
            ts: tx.ts,
            uid: ctx.uid.to_string(),
            id: *ctx.key,
            proto: ctx.key.proto.to_string(),
            trans_id: tx.trans_id,
            rtt: tx.rtt,
            query: tx.query,
            qclass: tx.qclass,
            qclass_name: tx.qclass.map(parser::qclass_name),
            qtype: tx.qtype,
            qtype_name: tx.qtype.map(parser::qtype_name),
            rcode: tx.rcode,
            rcode_name: tx.rcode.map(parser::rcode_name),
            aa: tx.aa,
            tc: tx.tc,
            rd: tx.rd,
            ra: tx.ra,
            z: tx.z,
            answers: tx.answers,
            ttls: tx.ttls,
            rejected: tx.rejected,
            evidence: Evidence {
                file: ctx.file,
                packets: tx.packets,
            },
        };
        out.push(Record {
            event: Event::Dns(ev),
            dns_opcode: Some(tx.opcode),
            irc_log_row: false,
        });
    }

    /// The flow ended: unpaired queries and replies are logged.
    pub fn on_end(&mut self, ctx: &FlowCtx<'_>, out: &mut Output) {
        let mut rest = Vec::new();
        rest.extend(self.pending_query.take());
        for (_, q) in std::mem::take(&mut self.pending_queries) {
            rest.extend(q);
        }
        for (_, q) in std::mem::take(&mut self.pending_replies) {
            rest.extend(q);
        }
        for t in rest {
            self.emit(ctx, t, out);
        }
    }
}

fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Renders one answer as Zeek's `answers` column does; `None` when Zeek
/// adds nothing for the record type.
fn render(r: &parser::Record, update: bool) -> Option<String> {
    // Zeek renders the names inside answers lower-cased (the owner only
    // where a rendering shows it).
    let owner = || r.name.to_ascii_lowercase();
    let lower = |n: &String| n.to_ascii_lowercase();
    if update {
        match (r.section, r.class) {
            (Section::Answer, 254) if r.rtype == 255 => {
                return Some(format!("pre: NameNotInUse {}", owner()))
            }
            (Section::Answer, 255) if r.rtype == 255 => {
                return Some(format!("pre: NameInUse {}", owner()))
            }
            (Section::Answer, 254) => {
                return Some(format!(
                    "pre: NoRRSet {} {}",
                    parser::qtype_name(r.rtype),
                    owner()
                ))
            }
            (Section::Answer, 255) => {
                return Some(format!(
                    "pre: RRSetExists {} {}",
                    parser::qtype_name(r.rtype),
                    owner()
                ))
            }
            (Section::Authority, 255) if r.rtype == 255 => {
                return Some(format!("del: RRSet * {}", owner()))
            }
            (Section::Authority, 255) => {
                return Some(format!("del: RRSet {}", parser::qtype_name(r.rtype)))
            }
            (Section::Authority, 254) => {
                return Some(format!(
                    "del: RR {} {}",
                    parser::qtype_name(r.rtype),
                    owner()
                ))
            }
            _ => {}
        }
    }
    let strings = |tag: &str, v: &Vec<Vec<u8>>| {
        v.iter()
            .map(|s| format!("{tag} {} {}", s.len(), escape(s)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(match (&r.data, r.rtype) {
        (Rdata::A(a), _) if update => format!("A {} {a}", owner()),
        (Rdata::Aaaa(a), _) if update => format!("AAAA {} {a}", owner()),
        (Rdata::A(a), _) => a.to_string(),
        (Rdata::Aaaa(a), _) => a.to_string(),
        (Rdata::Name(n), 2 | 5 | 12 | 15 | 6 | 33) => lower(n),
        (Rdata::Strings(v), 16) => strings("TXT", v),
        (Rdata::Strings(v), _) => strings("SPF", v),
        (
            Rdata::Rrsig {
                type_covered,
                signer,
            },
            _,
        ) => {
            format!(
                "RRSIG {type_covered} {}",
                if signer.is_empty() {
                    "<Root>".to_string()
                } else {
                    lower(signer)
                }
            )
        }
        (Rdata::Dnskey { algorithm }, _) => format!("DNSKEY {algorithm}"),
        (
            Rdata::Ds {
                algorithm,
                digest_type,
            },
            _,
        ) => format!("DS {algorithm} {digest_type}"),
        (Rdata::Nsec { next }, _) => format!("NSEC {} {}", owner(), lower(next)),
        (Rdata::Sshfp { fingerprint }, _) => format!("SSHFP: {}", hex::encode(fingerprint)),
        (Rdata::Loc { size, horiz, vert }, _) => format!("LOC:  {size} {horiz} {vert}"),
        (
            Rdata::Naptr {
                order,
                preference,
                flags,
                service,
                regexp,
                replacement,
            },
            _,
        ) => {
            let mut tmp = regexp.clone();
            if !replacement.is_empty() {
                if !tmp.is_empty() {
                    tmp.push(' ');
                }
                tmp.push_str(replacement);
            }
            format!("NAPTR {order} {preference} {flags} {service} {tmp}")
        }
        (_, 50) => "NSEC3".into(),
        (_, 51) => "NSEC3PARAM".into(),
        (_, 65534) => "BIND9 signing signal".into(),
        // WKS counts as a reply (rtt, AA, RA) but adds no answer text.
        (_, 11) => String::new(),
        // Types Zeek parses but does not treat as replies.
        (_, 13 | 41 | 64 | 65 | 249 | 250 | 257) => return None,
        (_, t) => format!("<unknown type={t}>"),
    })
}
