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
//! - an IRC DCC SEND offer's data connection runs between the two
//!   clients, a pair other than the client–server one the offer came on,
//!   so it may reach a worker that never saw the offer and be logged
//!   without `irc-dcc-data`: when an offer is seen, the run says so on
//!   stderr and in the summary (run `--workers 1` for exact DCC results).

use super::{report, Common, FormatArg, Writer};
use anyhow::Context;
use botscope_capture::parallel::{merge_counters, read_files_parallel, WorkerSink};
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
    let mut dcc_offers = 0u64;
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
            if matches!(&r.event, Event::Irc(e) if e.dcc.is_some()) {
                dcc_offers += 1;
            }
            writer.record(r);
        },
        |_| {},
    )?;
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
    if dcc_offers > 0 {
        eprintln!(
            "botscope: warning: {dcc_offers} IRC DCC SEND offer(s) seen with --workers {workers}: \
             a DCC data connection runs between other hosts than the offer and may have been \
             dissected by a worker that did not see the offer (logged without irc-dcc-data); \
             use --workers 1 for exact DCC results"
        );
    }
    report(&summary, &stats, logs, started, c)
}
