//! Captures in, report out: the capture engine drives the dissectors and
//! the observer side by side; the analyses run on the events both emit.
//! [`run_events`] is the same analysis on events read back from disk.

use crate::analysis::{analyze, Options, Report};
use crate::inputs::{read_jsonl, Inputs, ReadEvents, ReadEventsError};
use botscope_capture::{
    read_files, CaptureError, CaptureSummary, EngineConfig, FlowSink, PacketInfo, ProgressSink,
};
use botscope_core::Ts;
use botscope_dissect::observe::{Evictions, Limits, Observer};
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

/// Reads `paths` as one run and analyses them.
pub fn run(
    paths: &[PathBuf],
    engine: &EngineConfig,
    limits: Limits,
    opt: &Options,
) -> Result<(Report, RunSummary), CaptureError> {
    run_with(paths, engine, limits, opt, &mut ())
}

/// [`run`], with `extra` fed by the same pass over the captures (no second
/// read): `analyze --background` counts Table 1 this way when the
/// background captures are among those analysed.
pub fn run_with(
    paths: &[PathBuf],
    engine: &EngineConfig,
    limits: Limits,
    opt: &Options,
    extra: &mut impl FlowSink,
) -> Result<(Report, RunSummary), CaptureError> {
    let mut inputs = Inputs::default();
    let (capture, dissect, sink, span) = {
        let mut analyzer = Analyzer::new(|r: Record| inputs.take(r.event));
        analyzer.emit_conn = false;
        analyzer.set_file_names(paths.iter().map(|p| p.display().to_string()).collect());
        // The span of packet times, for the report's period.
        let mut span: Option<(Ts, Ts)> = None;
        let mut timed = ProgressSink::new(Observer::new(limits), |pkt: &PacketInfo<'_>| {
            span = Some(match span {
                None => (pkt.ts, pkt.ts),
                Some((a, b)) => (a.min(pkt.ts), b.max(pkt.ts)),
            });
        });
        let capture = read_files(paths, engine, &mut (&mut analyzer, (&mut timed, extra)))?;
        analyzer.finish();
        let mut sink = timed.into_inner();
        sink.finish();
        (capture, analyzer.stats.clone(), sink, span)
    };
    for e in sink.events() {
        inputs.take(e);
    }
    inputs.finish();
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

/// Analyses JSON Lines files of events (`botscope capture read --format
/// json`'s `events.jsonl`, in the order given, as one run): the same
/// report as [`run`] on the captures they were written from. The period
/// (`days`) comes from the connection summaries' first and last packets.
pub fn run_events(
    paths: &[PathBuf],
    opt: &Options,
) -> Result<(Report, ReadEvents), ReadEventsError> {
    let mut read = read_jsonl(paths)?;
    let report = analyze(&read.inputs, opt);
    read.inputs = Inputs::default();
    Ok((report, read))
}
