//! The scenario's knobs and the study's weights the plan draws from.

use botscope_core::tz::Zone;
use serde::Serialize;

/// The antivirus hash list of the field, relative to its folder.
pub const AV_SIGNATURES: &str = "signatures/av-known.hsb";

/// 2005-05-19T00:00:00Z, inside the study's Table 8 period.
pub const DEFAULT_START: i64 = 1_116_460_800;

/// Scenario knobs.
#[derive(Clone, Debug, Serialize)]
pub struct SynthConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Days covered.
    pub days: u32,
    /// Sensor addresses of the honeypot net.
    pub addresses: u32,
    /// Linear multiplier of event counts and of the background window.
    pub scale: f64,
    /// Wrap sensor traffic in GRE (outer IPs = tunnel endpoints).
    pub gre: bool,
    /// Time zone name or offset as given.
    pub tz: String,
    /// That zone, parsed (`botscope_core::tz::Zone::parse`): the diurnal
    /// joins are planned, and counted in the truth, in its local hours with
    /// the offset in force at each instant (daylight saving included).
    #[serde(skip)]
    pub zone: Zone,
    /// Background per-address average, kbps (Table 1).
    pub background_avg_kbps: f64,
    /// Background per-address peak (one minute per hour), kbps (Table 1).
    pub background_peak_kbps: f64,
    /// Flood packet rate, packets per second (durations are real).
    pub flood_pps: u32,
    /// Start, µs since the epoch.
    pub start_us: i64,
    /// Write resolver logs.
    pub resolver_logs: bool,
    /// Resolver-log client population.
    pub resolver_clients: u32,
    /// Resolver-log infected fraction.
    pub infected_fraction: f64,
    /// Background window in minutes (default: 60 × scale, at most the period).
    pub background_minutes: Option<u32>,
    /// Write spammers' relay traffic (off: redirect orders only).
    pub spam: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            days: 2,
            addresses: 192,
            scale: 1.0,
            gre: false,
            tz: "Asia/Tokyo".into(),
            zone: Zone::Fixed(9 * 3600),
            background_avg_kbps: 0.28,
            background_peak_kbps: 2.58,
            flood_pps: 20,
            start_us: DEFAULT_START * 1_000_000,
            resolver_logs: true,
            resolver_clients: 5_000,
            infected_fraction: 0.024,
            background_minutes: None,
            spam: true,
        }
    }
}

// Table 7 weights (attempt counts in the study).
pub(super) const VECTOR_WEIGHTS: [f64; 7] = [
    371_142.0, 313_754.0, 278_586.0, 212_503.0, 1_046.0, 24.0, 12.0,
];

// Table 8 weights.
pub(super) const COPY_WEIGHTS: [f64; 3] = [5_566.0, 1_214.0, 12.0];

// Table 9: ports and percent; "others" spread over 19 ports.
pub(super) const IRC_PORTS: [(u16, f64); 9] = [
    (6667, 48.0),
    (5562, 29.0),
    (5122, 8.0),
    (65348, 6.0),
    (4150, 2.0),
    (6663, 1.0),
    (65267, 1.0),
    (10362, 1.0),
    (31337, 1.0),
];

pub(super) const IRC_OTHER_PORTS: [u16; 19] = [
    6668, 6669, 7000, 8080, 1863, 3267, 4444, 5190, 6112, 6565, 7777, 8000, 8888, 9999, 11111,
    13000, 16667, 23232, 44444,
];

// Table 11: redirect ports and percent; "others" 1 %.
pub(super) const SPAM_PORTS: [(u16, f64); 7] = [
    (3186, 37.0),
    (6329, 36.0),
    (3104, 13.0),
    (24853, 6.0),
    (47257, 4.0),
    (7430, 3.0),
    (0, 1.0),
];

pub(super) const FLOOD_KINDS: [&str; 7] = [
    "ddos.synflood",
    "ddos.phatsyn",
    "ddos.phatwolk",
    "ddos.udpflood",
    "ddos.phaticmp",
    "ddos.targa3",
    "ddos.httpflood",
];

pub(super) const FLOOD_WEIGHTS: [f64; 7] = [70.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0];

// Daytime-heavy joins per local hour.
pub(super) const DIURNAL: [f64; 24] = [
    3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 9.0,
    9.0, 8.0, 8.0, 7.0, 6.0, 4.0,
];

pub(super) const DDNS_SUFFIXES: [&str; 8] = [
    "dyndns.org",
    "no-ip.info",
    "afraid.org",
    "ath.cx",
    "hopto.org",
    "zapto.org",
    "gameservers.example.net",
    "shell-host.example.com",
];

pub(super) const WEAK_PASSWORDS: [&str; 8] = [
    "",
    "admin",
    "password",
    "123456",
    "1234",
    "root",
    "test",
    "administrator",
];
