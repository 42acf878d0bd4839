//! The series `botscope analyze` writes (`DIR/series/series.json`, made by
//! `botscope_behavior::series`), read by their documented fields, and the
//! cumulative infected population from `botscope dns rate --json`.

use botscope_core::Ts;
use serde::{Deserialize, Serialize};

pub use botscope_core::series::{BotWindow, ScanWave, WaveSegment};

/// One point of the cumulative infected population M(t).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CumulativePoint {
    /// When the host was first seen infected.
    pub ts: Ts,
    /// Distinct infected hosts seen up to `ts`.
    pub infected: u64,
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
