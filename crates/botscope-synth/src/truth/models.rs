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
