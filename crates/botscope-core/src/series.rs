//! The observation series the study's equations are fitted to (§7.1),
//! as `botscope analyze` writes them (`botscope_behavior::series`) and
//! `botscope model fit` reads them back (`botscope_model::series`): one
//! definition for the writer and the reader.

use crate::Ts;
use serde::{Deserialize, Serialize};

/// One scan of a wave: probes over a span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveSegment {
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes sent.
    pub probes: u64,
}

/// A scan wave (equation 2): the scans one order started, with the
/// bounds that order states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanWave {
    /// Index of the order in the analysis' orders.
    pub order: usize,
    /// The bot that scanned (its address as text).
    pub bot: String,
    /// `advscan`, `ntscan`, `ipscan`...
    pub command: String,
    /// When the order was seen.
    pub ordered: Ts,
    /// Scanning threads the order states.
    pub threads: Option<u32>,
    /// Seconds between attempts the order states.
    pub delay_s: Option<u32>,
    /// How long the order lets the scan run, seconds (`None`: until
    /// stopped — 0 minutes, or not stated).
    pub max_s: Option<u64>,
    /// The scans, in time order.
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

/// A window of one bot's activity (equations 3 and 4): a flood, or the
/// span over which a bot relayed spam.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotWindow {
    /// The bot (its address as text).
    pub bot: String,
    /// Start of the window.
    pub start: Ts,
    /// End of the window.
    pub end: Ts,
    /// Packets (floods) or mails (spam) in the window.
    pub count: u64,
}

impl BotWindow {
    /// Window length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end.0.saturating_sub(self.start.0) as f64 / 1e6
    }
}
