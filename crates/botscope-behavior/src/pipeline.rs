//! Captures in, report out: the capture engine drives the dissectors and
//! the behaviour sink side by side, then the analyses run on what both saw.

use crate::analysis::{analyze, Inputs, Options, Report};
use crate::sink::{BehaviorSink, Evictions, Limits};
use botscope_capture::{
    read_files, CaptureError, CaptureSummary, EngineConfig, PacketInfo, ProgressSink,
};
use botscope_core::events::Event;
use botscope_core::Ts;
use botscope_dissect::{Analyzer, Record};
use serde::Serialize;
use std::path::PathBuf;

/// What one run read and dropped.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// The capture engine's summary.
    pub capture: CaptureSummary,
    /// The dissectors' statistics.
    pub dissect: botscope_dissect::Stats,
    /// What the behaviour sink dropped to stay within its limits.
    pub evictions: Evictions,
}

/// Collects the dissected events the analyses read.
#[derive(Default)]
struct EventBin {
    inputs: Inputs,
}

impl EventBin {
    fn take(&mut self, r: Record) {
        match r.event {
            Event::Irc(e) => self.inputs.irc.push(e),
            Event::Dns(e) => self.inputs.dns.push(e),
            Event::Tftp(e) => self.inputs.tftp.push(e),
            Event::Http(e) => self.inputs.http.push(e),
            Event::Ftp(e) => self.inputs.ftp.push(e),
            Event::Shell(e) => self.inputs.shell.push(e),
            Event::Conn(_) => {}
        }
    }
}

/// Reads `paths` as one run and analyses them.
pub fn run(
    paths: &[PathBuf],
    engine: &EngineConfig,
    limits: Limits,
    opt: &Options,
) -> Result<(Report, RunSummary), CaptureError> {
    let mut bin = EventBin::default();
    let (capture, dissect, sink, span) = {
        let mut analyzer = Analyzer::new(|r: Record| bin.take(r));
        analyzer.emit_conn = false;
        analyzer.set_file_names(paths.iter().map(|p| p.display().to_string()).collect());
        // The span of packet times, for the report's period.
        let mut span: Option<(Ts, Ts)> = None;
        let mut timed = ProgressSink::new(BehaviorSink::new(limits), |pkt: &PacketInfo<'_>| {
            span = Some(match span {
                None => (pkt.ts, pkt.ts),
                Some((a, b)) => (a.min(pkt.ts), b.max(pkt.ts)),
            });
        });
        let capture = read_files(paths, engine, &mut (&mut analyzer, &mut timed))?;
        analyzer.finish();
        let mut sink = timed.into_inner();
        sink.finish();
        (capture, analyzer.stats.clone(), sink, span)
    };
    let mut inputs = bin.inputs;
    inputs.exploits = sink.exploits;
    inputs.binaries = sink.binaries;
    inputs.floods = sink.floods;
    inputs.scans = sink.scans_found;
    inputs.relays = sink.relays;
    inputs.span = span;
    let report = analyze(&inputs, opt);
    Ok((
        report,
        RunSummary {
            capture,
            dissect,
            evictions: sink.evictions,
        },
    ))
}
