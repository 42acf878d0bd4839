//! `capture read --workers N`: the files read over N worker threads
//! (`botscope_capture::parallel`), each with its own `Analyzer`, the
//! records merged into the same log writer as a one-thread run.
//!
//! The dissectors' cross-flow state lives per worker. Flows between the
//! same two hosts share a worker, so TFTP and FTP data claims work as in
//! one thread; what can span host pairs is handled here:
//! - the behaviour observer (JSON Lines: floods per target from many
//!   sources, scans per source over many targets) is refused: `--format
//!   json` needs `--workers 1`;
//! - an IRC DCC offer's data connection runs between the two clients, a
//!   pair other than the client–server one the offer came on, so it may
//!   reach a worker that never saw the offer and be logged without
//!   `irc-dcc-data`. [`DccCheck`] watches the merged records for exactly
//!   that (a TCP conn to an offered address and port, within the offer's
//!   5 minutes, on another worker than the offer) and the run then says
//!   so on stderr: nothing differs silently (`--workers 1` gives the
//!   exact DCC results).

use super::{progress_bar, report, Common, FormatArg, Writer};
use anyhow::Context;
use botscope_capture::parallel::{merge_counters, read_files_parallel, worker_of, WorkerSink};
use botscope_capture::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::{Conn, Event};
use botscope_dissect::{Analyzer, Record, RecordSink, Stats};
use std::path::PathBuf;
use std::process::ExitCode;

/// One worker's analyzer; its records wait in the `Vec` until the worker
/// tags them with their place in the run.
struct WorkerAnalyzer(Analyzer<Vec<Record>>);

impl FlowSink for WorkerAnalyzer {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        self.0.on_packet(pkt, flow)
    }
    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        self.0.on_datagram(flow, dir, pkt)
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        self.0.on_stream_data(flow, dir, pkt, data)
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        self.0.on_stream_gap(flow, dir, len)
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        self.0.on_flow_end(flow, conn)
    }
    fn held_bytes(&self) -> usize {
        self.0.held_bytes()
    }
}

impl WorkerSink for WorkerAnalyzer {
    type Out = Record;
    fn take_output(&mut self, key: u64, out: &mut Vec<(u64, Record)>) {
        let pending = self.0.sink_mut();
        if !pending.is_empty() {
            out.extend(pending.drain(..).map(|r| (key, r)));
        }
    }
    fn end_of_input(&mut self) {
        self.0.finish();
    }
}

/// `capture read FILE... --workers N` (N > 1).
pub(super) fn read_parallel(
    files: &[PathBuf],
    c: &Common,
    workers: usize,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        matches!(c.format, FormatArg::Zeek),
        "--workers {workers} needs --format zeek: the behaviour observer written with JSON \
         (floods per target, scans per source) keeps tallies across host pairs that one \
         worker alone does not see; use --workers 1 for JSON"
    );
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut writer = Writer::new(c)?;
    let mut dcc = DccCheck::new(workers);
    let bar = progress_bar(files);
    let mut pending = 0u64;
    let started = std::time::Instant::now();
    let (summary, sinks) = read_files_parallel(
        files,
        &super::config(c),
        workers,
        |_| {
            let mut an = Analyzer::new(Vec::new());
            // Nothing after the analyzer reads the conn record: move it.
            an.take_conn = true;
            an.set_file_names(names.clone());
            WorkerAnalyzer(an)
        },
        |r: Record| {
            dcc.see(&r.event);
            writer.record(r);
        },
        |len| {
            if let Some(b) = &bar {
                // Record header included, roughly: progress is an estimate.
                pending += len + 16;
                if pending > 1 << 22 {
                    b.inc(pending);
                    pending = 0;
                }
            }
        },
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut stats = Stats::default();
    let mut anomalies = Vec::new();
    for WorkerAnalyzer(an) in sinks {
        let s = an.stats;
        for (k, v) in s.events {
            *stats.events.entry(k).or_default() += v;
        }
        for (k, v) in s.services {
            *stats.services.entry(k).or_default() += v;
        }
        anomalies.push(s.anomalies);
        stats.dcc_offers_expired += s.dcc_offers_expired;
        stats.dcc_offers_displaced += s.dcc_offers_displaced;
        // The workers' peaks need not coincide: their sum bounds the run's.
        stats.peak_held_bytes += s.peak_held_bytes;
    }
    stats.anomalies = merge_counters(anomalies, &names);
    let logs = writer
        .close()
        .with_context(|| format!("writing logs to {}", c.out.display()))?;
    if dcc.split > 0 {
        eprintln!(
            "botscope: warning: {} IRC DCC data connection(s) ran on another worker than \
             their offer and are logged without irc-dcc-data (as plain TCP); \
             use --workers 1 for exact DCC results",
            dcc.split
        );
    }
    report(&summary, &stats, logs, started, c)
}

/// How long a DCC offer waits for its connection (as the dissector's
/// `irc::expect`: Zeek's 5 minutes), in microseconds.
const DCC_WAIT_US: i64 = 300_000_000;
/// Most offers remembered at once (oldest forgotten first).
const DCC_REMEMBERED: usize = 4096;

/// Finds DCC data connections that a one-thread run would have tied to
/// their offer but that ran on another worker than the offer's.
struct DccCheck {
    workers: usize,
    /// (offered address, port) → (offer time, the offer's worker).
    offers: std::collections::HashMap<(std::net::IpAddr, u16), (i64, usize)>,
    order: std::collections::VecDeque<(std::net::IpAddr, u16)>,
    /// Data connections on another worker than their offer.
    split: u64,
}

impl DccCheck {
    fn new(workers: usize) -> DccCheck {
        DccCheck {
            workers,
            offers: Default::default(),
            order: Default::default(),
            split: 0,
        }
    }

    fn see(&mut self, event: &Event) {
        match event {
            Event::Irc(e) => {
                let Some(o) = &e.dcc else { return };
                let (Some(host), Some(port)) = (o.host, o.port) else {
                    return;
                };
                let w = worker_of(e.id.orig_h, e.id.resp_h, self.workers);
                if self.offers.insert((host, port), (e.ts.0, w)).is_none() {
                    self.order.push_back((host, port));
                    if self.order.len() > DCC_REMEMBERED {
                        if let Some(old) = self.order.pop_front() {
                            self.offers.remove(&old);
                        }
                    }
                }
            }
            Event::Conn(c) => {
                if c.id.proto != botscope_core::Proto::Tcp {
                    return;
                }
                let Some(&(at, w)) = self.offers.get(&(c.id.resp_h, c.id.resp_p)) else {
                    return;
                };
                let waited = c.ts.0.saturating_sub(at);
                if (0..=DCC_WAIT_US).contains(&waited) {
                    // One connection takes an offer, as in the dissector.
                    self.offers.remove(&(c.id.resp_h, c.id.resp_p));
                    if worker_of(c.id.orig_h, c.id.resp_h, self.workers) != w {
                        self.split += 1;
                    }
                }
            }
            _ => {}
        }
    }
}
