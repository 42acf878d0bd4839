//! What the study's equations 2–4 are fitted to (issue 20, "models on
//! observations"), counted from the generated events: scan waves with the
//! bounds their orders state, floods with their packet rates, and the spam
//! each bot relayed.

use botscope_core::Ts;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// The model inputs of the field.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelTruth {
    /// Equation 2: one wave per scan order (`advscan`, `ntscan`, `ipscan`).
    pub scan_waves: Vec<ScanWaveTruth>,
    /// Equation 3: one entry per flood.
    pub floods: Vec<FloodRateTruth>,
    /// Equation 4: spam relayed per bot.
    pub spam_per_bot: Vec<SpamRateTruth>,
}

/// A scan wave and the order that started it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScanWaveTruth {
    /// Index in `scans`.
    pub scan: u32,
    /// Index in `orders`.
    pub order: u32,
    /// Bot.
    pub bot: Ipv4Addr,
    /// `advscan`, `ntscan` or `ipscan`.
    pub command: String,
    /// Threads the order states (`advscan SCANNER THREADS DELAY MINUTES`,
    /// `ntscan THREADS DELAY_MS`, `ipscan RANGE SCANNER SECONDS THREADS
    /// DELAY_MS`).
    pub threads: Option<u32>,
    /// Delay between attempts the order states, seconds.
    pub delay_s: Option<f64>,
    /// How long the order lets the scan run, seconds (`None`: until
    /// stopped — `advscan … 0`, `ntscan`).
    pub max_duration_s: Option<u64>,
    /// Order time.
    pub ordered: Ts,
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes sent.
    pub probes: u32,
    /// Probes per second over the wave (`probes / (end − start)`).
    pub probes_per_s: f64,
}

/// A flood and its packet rate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FloodRateTruth {
    /// Index in `floods`.
    pub flood: u32,
    /// Index in `orders`.
    pub order: u32,
    /// Bot.
    pub bot: Ipv4Addr,
    /// Table 10 command.
    pub kind: String,
    /// First packet.
    pub start: Ts,
    /// Last packet.
    pub end: Ts,
    /// Packets (IP packets the bot sent toward the target).
    pub packets: u64,
    /// Packets per second (`packets / (end − start)`, seconds).
    pub packets_per_s: f64,
}

/// Spam relayed through one bot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpamRateTruth {
    /// Bot.
    pub bot: Ipv4Addr,
    /// Mails relayed (one SMTP message per relay request).
    pub mails: u64,
    /// Spammer sources.
    pub spammers: u32,
    /// First relay request.
    pub first: Ts,
    /// Last relay request.
    pub last: Ts,
    /// Mails per hour over `first..last`.
    pub mails_per_hour: f64,
}

/// The bounds a scan order states, read as the behaviour analysis reads
/// them: `advscan SCANNER THREADS DELAY_S MINUTES`, `ntscan THREADS
/// DELAY`, `ipscan RANGE SCANNER SECONDS THREADS DELAY_MS` →
/// (threads, delay s, duration s; a duration of 0 means until stopped).
fn scan_bounds(command: &str, args: &[String]) -> (Option<u32>, Option<f64>, Option<u64>) {
    let num = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    let dur = |s: Option<u64>| s.filter(|&s| s > 0);
    match command {
        "advscan" => (
            num(1).map(|v| v as u32),
            num(2).map(|v| v as f64),
            dur(num(3).map(|m| m * 60)),
        ),
        "ntscan" => (num(0).map(|v| v as u32), num(1).map(|v| v as f64), None),
        "ipscan" => (
            num(3).map(|v| v as u32),
            num(4).map(|v| v as f64 / 1000.0),
            dur(num(2)),
        ),
        _ => (None, None, None),
    }
}

/// A count per second over `start..end` (µs), rounded to 4 decimals; the
/// count itself over a zero-length span.
fn per_second(n: f64, start: Ts, end: Ts) -> f64 {
    let s = (end.0 - start.0) as f64 / 1e6;
    let v = if s > 0.0 { n / s } else { n };
    (v * 10_000.0).round() / 10_000.0
}

/// Counts the model inputs from the field's events.
pub fn model_inputs(t: &super::Truth) -> ModelTruth {
    let scan_waves = t
        .scans
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let o = t.orders.get(s.order? as usize)?;
            let (threads, delay_s, max_duration_s) = scan_bounds(&o.command, &o.args);
            Some(ScanWaveTruth {
                scan: i as u32,
                order: o.id,
                bot: s.source,
                command: o.command.clone(),
                threads,
                delay_s,
                max_duration_s,
                ordered: o.ts,
                start: s.start,
                end: s.end,
                probes: s.count,
                probes_per_s: per_second(f64::from(s.count), s.start, s.end),
            })
        })
        .collect();
    let floods = t
        .floods
        .iter()
        .enumerate()
        .map(|(i, f)| FloodRateTruth {
            flood: i as u32,
            order: f.order,
            bot: f.source,
            kind: f.kind.clone(),
            start: f.start,
            end: f.end,
            packets: f.packets,
            packets_per_s: per_second(f.packets as f64, f.start, f.end),
        })
        .collect();
    let mut per_bot: std::collections::BTreeMap<Ipv4Addr, SpamRateTruth> = Default::default();
    for s in &t.spam_relays {
        let e = per_bot.entry(s.bot).or_insert(SpamRateTruth {
            bot: s.bot,
            mails: 0,
            spammers: 0,
            first: s.first,
            last: s.last,
            mails_per_hour: 0.0,
        });
        e.mails += u64::from(s.count);
        e.spammers += 1;
        e.first = e.first.min(s.first);
        e.last = e.last.max(s.last);
    }
    let spam_per_bot = per_bot
        .into_values()
        .map(|mut s| {
            s.mails_per_hour = per_second(s.mails as f64 * 3600.0, s.first, s.last);
            s
        })
        .collect();
    ModelTruth {
        scan_waves,
        floods,
        spam_per_bot,
    }
}
