//! Protocol dissectors found by content: IRC, FTP, DNS, TFTP, HTTP, SMB/DCE-RPC, proxies; pure parsers plus per-flow state.
//!
//! Beside them, [`observe::Observer`] turns packet headers and stream
//! starts into the behaviour analyses' observations: exploit attempts,
//! executables over TCP ([`binary`]), relay requests ([`relay`]), floods
//! ([`flood`]) and scans ([`scan`]).
//!
//! Each protocol has a folder with a pure, bounded `parser.rs` and a
//! per-flow `state.rs` that emits `botscope_core::events`. [`Analyzer`] is
//! the [`FlowSink`] that the capture engine drives: it detects each flow's
//! protocol from its first bytes ([`detect`]), runs the dissector, and hands
//! every [`Record`] to a [`RecordSink`] as soon as it is complete, so a
//! multi-gigabyte capture never holds its events in memory.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod binary;
pub mod detect;
pub mod dns;
pub mod exploit;
pub mod flood;
pub mod ftp;
pub mod http;
pub mod irc;
pub mod logs;
pub mod observe;
pub mod p2p;
pub mod relay;
pub mod scan;
pub mod shell;
pub mod tftp;
pub mod undecided;

use botscope_capture::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::error::SkipCounter;
use botscope_core::events::{Conn, Event};
use botscope_core::{FlowKey, Located, Location, Proto, Ts};
use detect::{Protocol, Verdict};
use std::collections::BTreeMap;

/// One emitted event plus what only the Zeek TSV rendering needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The event.
    pub event: Event,
    /// DNS opcode (Zeek's `opcode` column).
    pub dns_opcode: Option<u8>,
    /// Whether this IRC message is one of Zeek's `irc.log` rows.
    pub irc_log_row: bool,
}

/// Where records go.
pub trait RecordSink {
    /// Receives one finished record.
    fn record(&mut self, r: Record);
}

impl RecordSink for Vec<Record> {
    fn record(&mut self, r: Record) {
        self.push(r);
    }
}

impl<F: FnMut(Record)> RecordSink for F {
    fn record(&mut self, r: Record) {
        self(r)
    }
}

/// The flow and packet a dissector is working on.
#[derive(Clone, Copy, Debug)]
pub struct FlowCtx<'a> {
    /// Flow uid.
    pub uid: &'a str,
    /// 5-tuple.
    pub key: &'a FlowKey,
    /// Time of the current packet.
    pub ts: Ts,
    /// Input file index.
    pub file: u32,
    /// 1-based packet number.
    pub pkt_no: u64,
}

/// What dissectors produce while handling one call: records, named
/// anomalies and DCC expectations.
#[derive(Debug, Default)]
pub struct Output {
    records: Vec<Record>,
    anomalies: Vec<(String, u32, u64)>,
}

impl Output {
    /// Adds a finished record.
    pub fn push(&mut self, r: Record) {
        self.records.push(r);
    }

    /// Reports a named anomaly at the current packet.
    pub fn anomaly(&mut self, ctx: &FlowCtx<'_>, reason: &str) {
        self.anomalies
            .push((reason.to_string(), ctx.file, ctx.pkt_no));
    }

    /// Drains everything (used by tests and fuzz targets that drive a
    /// state machine directly).
    pub fn take(&mut self) -> (Vec<Record>, Vec<String>) {
        (
            std::mem::take(&mut self.records),
            self.anomalies.drain(..).map(|a| a.0).collect(),
        )
    }
}

/// Counts by event kind and skips, for the run summary.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stats {
    /// Events emitted per kind (`conn`, `dns`, `irc`, `tftp`, `http`).
    pub events: BTreeMap<String, u64>,
    /// Flows per detected service.
    pub services: BTreeMap<String, u64>,
    /// Named anomalies with first places.
    pub anomalies: SkipCounter,
    /// DCC SEND offers that expired (5 minutes of capture time) before
    /// their data connection was seen.
    pub dcc_offers_expired: u64,
    /// DCC SEND offers dropped to make room for newer ones (at most
    /// [`irc::expect::MAX_EXPECTED`] wait).
    pub dcc_offers_displaced: u64,
    /// Most bytes the dissectors held at once for live flows (what
    /// [`FlowSink::held_bytes`] reports to the engine's memory cap).
    pub peak_held_bytes: u64,
}

/// Per-flow state by the engine's flow id (looked up several times per
/// packet): the core hasher, not SipHash.
type IdMap<V> = botscope_core::hash::FastMap<u64, V>;

/// Bookkeeping per flow beyond its `FlowState` (the id map's key and
/// control byte, rounded up), counted in [`FlowSink::held_bytes`].
const FLOW_ENTRY_OVERHEAD: usize = 16;

enum Dissector {
    Undecided {
        /// Stream bytes held back (one buffer per direction plus a mark
        /// per segment), replayed into the dissector once detection
        /// decides.
        held: undecided::Undecided,
        datagrams: u32,
    },
    Irc(Box<irc::state::IrcState>),
    Dns(Box<dns::state::DnsState>),
    Tftp,
    TftpData,
    Http(Box<http::state::HttpState>),
    Ftp(Box<ftp::state::FtpSession>),
    FtpData,
    Shell(Box<shell::state::ShellState>),
    Gnutella(Box<p2p::state::GnutellaState>),
    /// A TCP flow no dissector claims: its first bytes are tallied for
    /// the opaque-link test ([`p2p::opaque`]).
    Opaque(Box<p2p::opaque::OpaqueTally>),
    IrcDccData,
    Unknown,
}

struct FlowState {
    d: Dissector,
    /// Per direction (orig, resp): whether packets were seen, and whether
    /// the first one lacked a SYN (the stream was picked up mid-way).
    seen: [bool; 2],
    mid_stream: [bool; 2],
    last_ts: Ts,
    last_pkt: u64,
    file: u32,
    /// Bytes accounted for this flow in `Analyzer::held`.
    held: usize,
}

impl FlowState {
    /// Bytes this flow's state holds now (the state itself, its boxed
    /// dissector and that dissector's buffers).
    fn held_bytes(&self) -> usize {
        let d = match &self.d {
            Dissector::Undecided { held, .. } => held.held_bytes(),
            Dissector::Irc(s) => s.held_bytes(),
            Dissector::Dns(s) => s.held_bytes(),
            Dissector::Http(s) => s.held_bytes(),
            // The FTP session's own buffers are not reported yet (its
            // lines are capped at 64 KiB per direction): the box only.
            Dissector::Ftp(_) => std::mem::size_of::<ftp::state::FtpSession>(),
            Dissector::Shell(s) => s.held_bytes(),
            Dissector::Gnutella(s) => s.held_bytes(),
            Dissector::Opaque(s) => s.held_bytes(),
            Dissector::Tftp
            | Dissector::TftpData
            | Dissector::FtpData
            | Dissector::IrcDccData
            | Dissector::Unknown => 0,
        };
        std::mem::size_of::<Self>() + FLOW_ENTRY_OVERHEAD + d
    }

    /// Context at the flow's last packet (for calls that carry no packet:
    /// gaps and the flow's end).
    fn last_ctx<'a>(&self, flow: &FlowRef<'a>) -> FlowCtx<'a> {
        FlowCtx {
            uid: flow.uid,
            key: flow.key,
            ts: self.last_ts,
            file: self.file,
            pkt_no: self.last_pkt,
        }
    }
}

/// The dissection [`FlowSink`]: detection, per-protocol state machines,
/// conn records with `service` set, all streamed to a [`RecordSink`].
pub struct Analyzer<S: RecordSink> {
    sink: S,
    flows: IdMap<FlowState>,
    tftp: tftp::state::TftpTracker,
    ftp: ftp::state::FtpTracker,
    dcc_expect: irc::expect::DccExpectations,
    /// Sum of `FlowState::held` over live flows.
    held: usize,
    out: Output,
    files: Vec<String>,
    /// Run statistics.
    pub stats: Stats,
    /// Whether Conn records are emitted (on by default).
    pub emit_conn: bool,
    /// Whether the emitted Conn record is moved out of the engine's
    /// (leaving a record with empty strings behind) instead of cloned. Off by
    /// default: a sink after this one in a tuple would see the empty
    /// record. Turn it on when no later sink reads the record: the clone
    /// is a third of the per-flow cost on single-packet flows.
    pub take_conn: bool,
}

impl<S: RecordSink> Analyzer<S> {
    /// A new analyzer writing to `sink`.
    pub fn new(sink: S) -> Self {
        Analyzer {
            sink,
            flows: IdMap::default(),
            tftp: Default::default(),
            ftp: Default::default(),
            dcc_expect: Default::default(),
            held: 0,
            out: Output::default(),
            files: Vec::new(),
            stats: Stats::default(),
            emit_conn: true,
            take_conn: false,
        }
    }

    /// Names of the input files (index = `PacketInfo::file`), used in
    /// anomaly locations.
    pub fn set_file_names(&mut self, names: Vec<String>) {
        self.files = names;
    }

    /// Flushes what is still open (TFTP transfers whose flows did not end).
    pub fn finish(&mut self) {
        self.tftp.finish(&mut self.out);
        self.ftp.finish(&mut self.out);
        self.drain();
    }

    /// Gives back the sink.
    pub fn into_sink(mut self) -> S {
        self.finish();
        self.sink
    }

    /// The sink.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    fn drain(&mut self) {
        for (reason, file, pkt) in self.out.anomalies.drain(..) {
            let loc = Location {
                file: self
                    .files
                    .get(file as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("#{file}")),
                packet: Some(pkt),
                ..Default::default()
            };
            self.stats.anomalies.add(&Located {
                location: loc,
                reason,
            });
        }
        for r in self.out.records.drain(..) {
            let kind = match &r.event {
                Event::Conn(_) => "conn",
                Event::Dns(_) => "dns",
                Event::Irc(_) => "irc",
                Event::Tftp(_) => "tftp",
                Event::Http(_) => "http",
                Event::Ftp(_) => "ftp",
                Event::Shell(_) => "shell",
                // The observer's events (`observe`) do not pass here.
                Event::Exploit(_) => "exploit",
                Event::Binary(_) => "binary",
                Event::Flood { .. } => "flood",
                Event::Scan(_) => "scan",
                Event::Relay(_) => "relay",
                Event::P2p(_) => "p2p",
            };
            count(&mut self.stats.events, kind);
            self.sink.record(r);
        }
    }

    fn start(proto: Protocol) -> Dissector {
        match proto {
            Protocol::Irc => Dissector::Irc(Box::default()),
            Protocol::Dns => Dissector::Dns(Box::default()),
            Protocol::Tftp => Dissector::Tftp,
            Protocol::Http => Dissector::Http(Box::default()),
            Protocol::Ftp => Dissector::Ftp(Box::default()),
            Protocol::Shell => Dissector::Shell(Box::default()),
            Protocol::Gnutella => Dissector::Gnutella(Box::default()),
        }
    }

    /// Runs the flow's dissector on bytes of one direction.
    fn feed(
        &mut self,
        flow: FlowRef<'_>,
        ctx: &FlowCtx<'_>,
        from_orig: bool,
        data: &[u8],
        datagram: bool,
    ) {
        let Some(st) = self.flows.get_mut(&flow.id) else {
            return;
        };
        match &mut st.d {
            Dissector::Irc(s) => s.on_data(ctx, from_orig, data, &mut self.out),
            Dissector::Dns(s) => {
                if datagram {
                    s.on_datagram(ctx, data, &mut self.out)
                } else {
                    s.on_stream(ctx, from_orig, data, &mut self.out)
                }
            }
            Dissector::Http(s) => {
                if from_orig {
                    s.on_request_data(ctx, data, &mut self.out)
                } else {
                    s.on_response_data(ctx, data, &mut self.out)
                }
            }
            Dissector::Ftp(s) => {
                self.ftp
                    .on_control(s, ctx, flow.id, from_orig, data, &mut self.out)
            }
            Dissector::FtpData => self
                .ftp
                .on_data(ctx, flow.id, from_orig, data, &mut self.out),
            Dissector::Shell(s) => s.on_data(ctx, from_orig, data, &mut self.out),
            Dissector::Gnutella(s) => s.on_data(ctx, from_orig, data, &mut self.out),
            Dissector::Opaque(s) => {
                s.on_data(ctx, from_orig, data);
            }
            Dissector::Tftp => self
                .tftp
                .on_request_datagram(ctx, flow.id, data, &mut self.out),
            Dissector::TftpData => self
                .tftp
                .on_data_datagram(ctx, flow.id, data, &mut self.out),
            _ => {}
        }
    }

    /// While a TCP flow is undecided: holds `data` back and runs
    /// detection on both directions' first bytes; once it decides, starts
    /// the dissector and replays what was held. True when `data` should
    /// go to the flow's dissector as usual (it was decided before).
    fn detect_tcp(
        &mut self,
        flow: FlowRef<'_>,
        ctx: &FlowCtx<'_>,
        from_orig: bool,
        data: &[u8],
    ) -> bool {
        let Some(st) = self.flows.get_mut(&flow.id) else {
            return false;
        };
        let Dissector::Undecided { held, .. } = &mut st.d else {
            return true;
        };
        if held.push(from_orig, ctx.ts, ctx.pkt_no, data) == 0 {
            return false;
        }
        let port = flow.key.resp_p;
        let mut verdict = detect::tcp_flow(held.head(0), held.head(1), port);
        if st.mid_stream.iter().any(|&m| m) && verdict != Verdict::Is(Protocol::Irc) {
            // Picked up mid-stream: the first line may be the tail of
            // one; IRC is still recognised by the next full line.
            let cut = |d: usize| -> &[u8] {
                let h = held.head(d);
                if st.mid_stream[d] {
                    memchr::memchr(b'\n', h).map_or(&[][..], |nl| &h[nl + 1..])
                } else {
                    h
                }
            };
            if detect::tcp_flow(cut(0), cut(1), port) == Verdict::Is(Protocol::Irc) {
                verdict = Verdict::Is(Protocol::Irc);
            }
        }
        let proto = match verdict {
            Verdict::Undecided if !held.full() => return false,
            Verdict::Undecided | Verdict::Unknown => {
                // None of ours: tally its bytes for the opaque-link test,
                // starting with what detection held.
                let mut t = p2p::opaque::OpaqueTally::default();
                for piece in held.replay() {
                    let c = FlowCtx {
                        pkt_no: piece.pkt_no,
                        ..*ctx
                    };
                    t.on_data(&c, piece.from_orig, piece.data);
                }
                st.d = Dissector::Opaque(Box::new(t));
                return false;
            }
            Verdict::Is(p) => p,
        };
        let Dissector::Undecided { held, .. } = std::mem::replace(&mut st.d, Self::start(proto))
        else {
            unreachable!("matched above");
        };
        // Which side runs a shell: the one that greeted.
        if let Dissector::Shell(s) = &mut st.d {
            s.shell_is_orig = !shell::parser::is_greeting(held.head(1))
                && shell::parser::is_greeting(held.head(0));
        }
        if let Dissector::Irc(s) = &mut st.d {
            for (d, mid) in st.mid_stream.iter().enumerate() {
                if *mid {
                    s.start_mid_stream(d == 0);
                }
            }
        }
        // Replay what detection held back, in arrival order.
        for piece in held.replay() {
            let c = FlowCtx {
                ts: piece.ts,
                pkt_no: piece.pkt_no,
                ..*ctx
            };
            self.feed(flow, &c, piece.from_orig, piece.data, false);
        }
        self.note_dcc();
        self.drain();
        false
    }

    /// Remembers the DCC SEND offers among the records made so far, at
    /// the time of the message that made each.
    fn note_dcc(&mut self) {
        for r in &self.out.records {
            if let Event::Irc(e) = &r.event {
                if let Some(d) = e.dcc.as_ref().filter(|d| d.kind == "SEND") {
                    if let (Some(h), Some(p)) = (d.host, d.port) {
                        self.dcc_expect.offer((h, p), e.ts);
                    }
                }
            }
        }
        self.stats.dcc_offers_expired = self.dcc_expect.expired;
        self.stats.dcc_offers_displaced = self.dcc_expect.displaced;
    }

    /// Re-measures what one flow holds and updates the running total the
    /// engine reads through [`FlowSink::held_bytes`].
    fn account(&mut self, id: u64) {
        if let Some(st) = self.flows.get_mut(&id) {
            let now = st.held_bytes();
            self.held = self.held - st.held + now;
            st.held = now;
            self.stats.peak_held_bytes = self.stats.peak_held_bytes.max(self.held as u64);
        }
    }
}

/// Adds one to a named count, allocating the name only the first time
/// (this runs per event and per flow).
fn count(counts: &mut BTreeMap<String, u64>, name: &str) {
    match counts.get_mut(name) {
        Some(n) => *n += 1,
        None => {
            counts.insert(name.to_string(), 1);
        }
    }
}

fn ctx_of<'a>(flow: &FlowRef<'a>, pkt: &PacketInfo<'_>) -> FlowCtx<'a> {
    FlowCtx {
        uid: flow.uid,
        key: flow.key,
        ts: pkt.ts,
        file: pkt.file,
        pkt_no: pkt.pkt_no,
    }
}

impl<S: RecordSink> FlowSink for Analyzer<S> {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        let mut new = false;
        let st = self.flows.entry(flow.id).or_insert_with(|| {
            new = true;
            FlowState {
                d: Dissector::Undecided {
                    held: Default::default(),
                    datagrams: 0,
                },
                seen: [false; 2],
                mid_stream: [false; 2],
                last_ts: pkt.ts,
                last_pkt: pkt.pkt_no,
                file: pkt.file,
                held: 0,
            }
        });
        if let Some(flags) = pkt.tcp_flags {
            let d = usize::from(!(pkt.src == flow.key.orig_h && pkt.src_port == flow.key.orig_p));
            if !st.seen[d] {
                st.seen[d] = true;
                st.mid_stream[d] = flags & 0x02 == 0;
            }
        }
        st.last_ts = pkt.ts;
        st.last_pkt = pkt.pkt_no;
        st.file = pkt.file;
        if new {
            let k = flow.key;
            if k.proto == Proto::Udp && self.tftp.claim(flow.id, flow.uid, k) {
                st.d = Dissector::TftpData;
            } else if k.proto == Proto::Tcp && self.ftp.claim(flow.id, flow.uid, k) {
                st.d = Dissector::FtpData;
            } else if k.proto == Proto::Tcp
                // With no offer waiting none can expire: skip the lookups.
                && !self.dcc_expect.is_empty()
                && (self.dcc_expect.take(&(k.resp_h, k.resp_p), pkt.ts)
                    || self.dcc_expect.take(&(k.orig_h, k.orig_p), pkt.ts))
            {
                st.d = Dissector::IrcDccData;
            }
            self.stats.dcc_offers_expired = self.dcc_expect.expired;
            // `account` for the state just made, without looking it up again.
            let now = st.held_bytes();
            self.held = self.held - st.held + now;
            st.held = now;
            self.stats.peak_held_bytes = self.stats.peak_held_bytes.max(self.held as u64);
        }
    }

    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        let ctx = ctx_of(&flow, pkt);
        let from_orig = dir == Direction::FromOrig;
        let Some(st) = self.flows.get_mut(&flow.id) else {
            return;
        };
        if let Dissector::Undecided { datagrams, .. } = &mut st.d {
            *datagrams += 1;
            match detect::udp(pkt.payload, flow.key.orig_p, flow.key.resp_p) {
                Verdict::Is(p) => st.d = Self::start(p),
                _ if *datagrams >= 4 => st.d = Dissector::Unknown,
                _ => return,
            }
        }
        self.feed(flow, &ctx, from_orig, pkt.payload, true);
        self.drain();
        self.account(flow.id);
    }

    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        let ctx = ctx_of(&flow, pkt);
        let from_orig = dir == Direction::FromOrig;
        if self.detect_tcp(flow, &ctx, from_orig, data) {
            self.feed(flow, &ctx, from_orig, data, false);
            self.note_dcc();
            self.drain();
        }
        self.account(flow.id);
    }

    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        let from_orig = dir == Direction::FromOrig;
        let Some(st) = self.flows.get_mut(&flow.id) else {
            return;
        };
        let ctx = st.last_ctx(&flow);
        match &mut st.d {
            Dissector::Irc(s) => s.on_gap(&ctx, from_orig, &mut self.out),
            Dissector::Dns(s) => s.on_gap(&ctx, from_orig, &mut self.out),
            Dissector::Http(s) => s.on_gap(&ctx, from_orig, len, &mut self.out),
            Dissector::Ftp(s) => self.ftp.on_control_gap(s, &ctx, &mut self.out),
            Dissector::FtpData => self.ftp.on_data_gap(flow.id, len),
            Dissector::Undecided { .. } => st.d = Dissector::Unknown,
            _ => {}
        }
        self.drain();
        self.account(flow.id);
    }

    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        if let Some(mut st) = self.flows.remove(&flow.id) {
            self.held -= st.held;
            let ctx = st.last_ctx(&flow);
            let service = match &mut st.d {
                Dissector::Irc(s) => {
                    s.on_end(&ctx, &mut self.out);
                    Some("irc")
                }
                Dissector::Dns(s) => {
                    s.on_end(&ctx, &mut self.out);
                    Some("dns")
                }
                Dissector::Http(s) => {
                    s.on_end(&ctx, &mut self.out);
                    Some("http")
                }
                Dissector::Ftp(s) => {
                    self.ftp.on_control_end(s, &ctx, flow.id, &mut self.out);
                    Some("ftp")
                }
                Dissector::FtpData => {
                    self.ftp.on_data_end(flow.id, &mut self.out);
                    Some("ftp-data")
                }
                Dissector::Shell(s) => {
                    s.on_end(&ctx, &mut self.out);
                    Some("shell")
                }
                Dissector::Gnutella(s) => {
                    s.on_end(&ctx, conn, &mut self.out);
                    Some("gnutella")
                }
                Dissector::Opaque(s) => {
                    s.on_end(&ctx, conn, &mut self.out);
                    None
                }
                Dissector::Tftp => Some("tftp"),
                Dissector::TftpData => Some("tftp_data"),
                Dissector::IrcDccData => Some("irc-dcc-data"),
                Dissector::Undecided { held, .. } if flow.key.proto == Proto::Tcp => {
                    // Ended before detection decided: judge what was held.
                    let mut t = p2p::opaque::OpaqueTally::default();
                    for piece in held.replay() {
                        let c = FlowCtx {
                            pkt_no: piece.pkt_no,
                            ..ctx
                        };
                        t.on_data(&c, piece.from_orig, piece.data);
                    }
                    t.on_end(&ctx, conn, &mut self.out);
                    None
                }
                Dissector::Undecided { .. } | Dissector::Unknown => None,
            };
            self.tftp.on_flow_end(flow.id, &mut self.out);
            if let Some(s) = service {
                conn.service = Some(s.to_string());
                count(&mut self.stats.services, s);
            }
        }
        if self.emit_conn {
            let conn = if self.take_conn {
                // What is left behind holds no heap memory.
                let husk = Conn {
                    uid: Default::default(),
                    service: None,
                    conn_state: Default::default(),
                    history: Default::default(),
                    tunnel_parents: Vec::new(),
                    evidence: Default::default(),
                    ..*conn
                };
                std::mem::replace(conn, husk)
            } else {
                conn.clone()
            };
            self.out.push(Record {
                event: Event::Conn(conn),
                dns_opcode: None,
                irc_log_row: false,
            });
        }
        self.drain();
    }
    fn held_bytes(&self) -> usize {
        self.held
    }
}
