//! The series `botscope analyze` writes (`DIR/series/series.json`, made by
//! `botscope_behavior::series`), read by their documented fields, and the
//! cumulative infected population from `botscope dns rate --json`.

use botscope_core::Ts;
use serde::{Deserialize, Serialize};

/// One point of the cumulative infected population M(t).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CumulativePoint {
    /// When the host was first seen infected.
    pub ts: Ts,
    /// Distinct infected hosts seen up to `ts`.
    pub infected: u64,
}

/// One scan of a wave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveSegment {
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes.
    pub probes: u64,
}

/// The scans one scan order started, with the order's bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanWave {
    /// Index of the order in the analysis.
    pub order: usize,
    /// The scanning bot.
    pub bot: String,
    /// `advscan`, `ntscan`, `ipscan`.
    pub command: String,
    /// When the order was given.
    pub ordered: Ts,
    /// Threads the order states.
    pub threads: Option<u32>,
    /// Seconds between attempts the order states.
    pub delay_s: Option<u32>,
    /// Longest the order lets the scan run, seconds (None: until stopped).
    pub max_s: Option<u64>,
    /// The scans.
    pub segments: Vec<WaveSegment>,
}

impl ScanWave {
    /// Probes in the wave.
    pub fn probes(&self) -> u64 {
        self.segments.iter().map(|s| s.probes).sum()
    }

    /// Seconds spent scanning (sum of the scans' spans).
    pub fn scanning_s(&self) -> f64 {
        self.segments
            .iter()
            .map(|s| s.end.0.saturating_sub(s.start.0) as f64 / 1e6)
            .sum()
    }

    /// First probe to last probe, seconds: the burst length L.
    pub fn length_s(&self) -> f64 {
        let a = self.segments.iter().map(|s| s.start.0).min().unwrap_or(0);
        let b = self.segments.iter().map(|s| s.end.0).max().unwrap_or(0);
        b.saturating_sub(a) as f64 / 1e6
    }
}

/// One bot's activity window (a flood, or a bot's relaying span).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotWindow {
    /// The bot.
    pub bot: String,
    /// Start.
    pub start: Ts,
    /// End.
    pub end: Ts,
    /// Packets or mails.
    pub count: u64,
}

impl BotWindow {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end.0.saturating_sub(self.start.0) as f64 / 1e6
    }
}

/// Everything the equations are fitted to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSeries {
    /// Equation 1: cumulative infected population.
    #[serde(default)]
    pub cumulative: Vec<CumulativePoint>,
    /// Where `cumulative` comes from (`captures`, `resolver logs`).
    #[serde(default)]
    pub cumulative_source: Option<String>,
    /// Equation 2.
    #[serde(default)]
    pub scan_waves: Vec<ScanWave>,
    /// Equation 3.
    #[serde(default)]
    pub floods: Vec<BotWindow>,
    /// Equation 4.
    #[serde(default)]
    pub spam_rate: Vec<BotWindow>,
}

/// The part of `dns rate --json` read here: each infected client's first
/// sighting.
#[derive(Deserialize)]
struct DnsRate {
    infected: Vec<DnsInfected>,
}

#[derive(Deserialize)]
struct DnsInfected {
    first_us: i64,
}

/// M(t) from `botscope dns rate --json`: the distinct infected clients
/// first seen up to each client's first sighting.
pub fn cumulative_from_dns_rate(json: &[u8]) -> Result<Vec<CumulativePoint>, serde_json::Error> {
    let r: DnsRate = serde_json::from_slice(json)?;
    let mut firsts: Vec<i64> = r.infected.iter().map(|c| c.first_us).collect();
    Ok(cumulative_from_first_seen(&mut firsts))
}

/// The cumulative count over sorted first-sighting times (µs).
pub fn cumulative_from_first_seen(first_us: &mut [i64]) -> Vec<CumulativePoint> {
    first_us.sort_unstable();
    first_us
        .iter()
        .enumerate()
        .map(|(i, &t)| CumulativePoint {
            ts: Ts(t),
            infected: i as u64 + 1,
        })
        .collect()
}
