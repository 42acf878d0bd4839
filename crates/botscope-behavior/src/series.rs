//! The series the study's equations are fitted to (§7.1), taken from the
//! analysis' own tables — no bytes are read here:
//!
//! - equation 1: the cumulative infected population M(t), the distinct
//!   hosts whose infection sequence (Fig. 3) has begun by time t;
//! - equation 2: the scan waves that follow `advscan`/`ntscan`/`ipscan`
//!   orders, with the bounds the order states (threads, delay, minutes);
//! - equation 3: the floods, one bot each, with their packets;
//! - equation 4: the spam relay rate per bot (mails relayed per bot over
//!   the span it relayed).
//!
//! [`write_series`] writes them as CSV files whose columns
//! `botscope model fit` reads directly, and as one `series.json`.

use crate::analysis::Report;
use crate::orders::OrderKind;
use botscope_core::Ts;
use serde::Serialize;

pub use botscope_core::series::{BotWindow, ScanWave, WaveSegment};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

/// One point of the cumulative infected population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CumulativePoint {
    /// When the host's first stage was seen.
    pub ts: Ts,
    /// Hours since the first infected host was seen.
    pub t_hours: f64,
    /// Distinct infected hosts seen up to `ts`, this one included.
    pub infected: u64,
    /// The host.
    pub host: IpAddr,
}

/// All the series of one analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Series {
    /// Equation 1.
    pub cumulative: Vec<CumulativePoint>,
    /// Equation 2.
    pub scan_waves: Vec<ScanWave>,
    /// Equation 3: one window per flood.
    pub floods: Vec<BotWindow>,
    /// Equation 4: one window per relaying bot.
    pub spam_rate: Vec<BotWindow>,
}

/// Builds the series from an analysis report.
pub fn series(r: &Report) -> Series {
    Series {
        cumulative: cumulative(r),
        scan_waves: scan_waves(r),
        floods: r
            .floods
            .iter()
            .map(|f| BotWindow {
                bot: f.flood.source.to_string(),
                start: f.flood.start,
                end: f.flood.end,
                count: f.flood.packets,
            })
            .collect(),
        spam_rate: spam_rate(r),
    }
}

/// M(t): each host counted once, at the first stage of its sequence.
fn cumulative(r: &Report) -> Vec<CumulativePoint> {
    let mut first: BTreeMap<IpAddr, Ts> = BTreeMap::new();
    for s in &r.sequences {
        if let Some(t) = s.stages.iter().map(|st| st.ts).min() {
            let e = first.entry(s.bot).or_insert(t);
            *e = (*e).min(t);
        }
    }
    let mut v: Vec<(Ts, IpAddr)> = first.into_iter().map(|(h, t)| (t, h)).collect();
    v.sort();
    let t0 = v.first().map(|p| p.0 .0).unwrap_or(0);
    v.into_iter()
        .enumerate()
        .map(|(i, (ts, host))| CumulativePoint {
            ts,
            t_hours: ts.0.saturating_sub(t0) as f64 / 3.6e9,
            infected: i as u64 + 1,
            host,
        })
        .collect()
}

/// The scans grouped by the order that started them (the link the scan
/// table made: same bot, at most 60 s after the order).
fn scan_waves(r: &Report) -> Vec<ScanWave> {
    let mut waves: BTreeMap<usize, ScanWave> = BTreeMap::new();
    for s in &r.scans {
        let Some(oi) = s.order else { continue };
        let Some(o) = r.orders.get(oi) else { continue };
        let OrderKind::Scan {
            threads,
            delay_s,
            minutes,
            ..
        } = &o.order.kind
        else {
            continue;
        };
        let w = waves.entry(oi).or_insert_with(|| ScanWave {
            order: oi,
            bot: o.bot.to_string(),
            command: o.order.command.clone(),
            ordered: o.ts,
            threads: *threads,
            delay_s: *delay_s,
            max_s: minutes.filter(|m| *m > 0).map(|m| u64::from(m) * 60),
            segments: Vec::new(),
        });
        w.segments.push(WaveSegment {
            start: s.scan.start,
            end: s.scan.end,
            probes: s.scan.probes,
        });
    }
    let mut out: Vec<ScanWave> = waves.into_values().collect();
    for w in &mut out {
        w.segments.sort_by_key(|s| (s.start, s.end));
    }
    out
}

/// Mails relayed per bot over the span from its first to its last relay
/// request (all spammers and ports together).
fn spam_rate(r: &Report) -> Vec<BotWindow> {
    let mut per: BTreeMap<IpAddr, BotWindow> = BTreeMap::new();
    for x in &r.relays {
        let w = per.entry(x.bot).or_insert_with(|| BotWindow {
            bot: x.bot.to_string(),
            start: x.first,
            end: x.last,
            count: 0,
        });
        w.start = w.start.min(x.first);
        w.end = w.end.max(x.last);
        w.count += x.count;
    }
    per.into_values().collect()
}

/// Writes `infected_cumulative.csv` (`ts,t,infected,host`; t in hours),
/// `scan_waves.csv` (`order,bot,command,ordered,threads,delay_s,max_s,t,
/// probes`: cumulative probes at t seconds after the order, one point at
/// the order, one at each scan's first and last probe), `ddos_rate.csv`
/// and `spam_rate.csv` (`bot,start,end,bots,duration,count`) and
/// `series.json` into `dir`.
pub fn write_series(s: &Series, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.join("infected_cumulative.csv"))?);
    writeln!(f, "ts,t,infected,host")?;
    for p in &s.cumulative {
        writeln!(
            f,
            "{},{},{},{}",
            p.ts.rfc3339(),
            p.t_hours,
            p.infected,
            p.host
        )?;
    }
    f.flush()?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("scan_waves.csv"))?);
    writeln!(
        f,
        "order,bot,command,ordered,threads,delay_s,max_s,t,probes"
    )?;
    let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    for w in &s.scan_waves {
        let head = format!(
            "{},{},{},{},{},{},{}",
            w.order,
            w.bot,
            w.command,
            w.ordered.rfc3339(),
            opt(w.threads.map(u64::from)),
            opt(w.delay_s.map(u64::from)),
            opt(w.max_s)
        );
        writeln!(f, "{head},0,0")?;
        let mut total = 0u64;
        for seg in &w.segments {
            let at = |t: Ts| t.0.saturating_sub(w.ordered.0) as f64 / 1e6;
            writeln!(f, "{head},{},{total}", at(seg.start))?;
            total += seg.probes;
            writeln!(f, "{head},{},{total}", at(seg.end))?;
        }
    }
    f.flush()?;
    for (name, rows) in [
        ("ddos_rate.csv", &s.floods),
        ("spam_rate.csv", &s.spam_rate),
    ] {
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
        writeln!(f, "bot,start,end,bots,duration,count")?;
        for w in rows {
            writeln!(
                f,
                "{},{},{},1,{},{}",
                w.bot,
                w.start.rfc3339(),
                w.end.rfc3339(),
                w.duration_s(),
                w.count
            )?;
        }
        f.flush()?;
    }
    let json = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("series.json"), json)
}
