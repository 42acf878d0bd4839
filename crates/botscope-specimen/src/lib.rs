//! Specimen store, hashes, PE/UPX/strings/IOC extraction, signature scans,
//! known/unknown, families.
//!
//! - [`store`]: content-addressed quarantine plus SQLite metadata;
//! - [`ingest`]: files, folders and zip archives (with bomb caps);
//! - [`analysis`]: one specimen's static analysis ([`pe`], [`nrv`],
//!   [`strings`], [`config`], [`ioc`], [`fuzzy`]);
//! - [`sigs`]: versioned YARA-X and hash-list sets, recorded scans;
//! - [`tables`]: Table 2, Table 4, the bot FQDN watch list, families.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analysis;
pub mod config;
pub mod fuzzy;
pub mod ingest;
pub mod ioc;
pub mod pe;
pub mod sigs;
pub mod store;
pub mod strings;
pub mod tables;

pub use analysis::{analyze, Analysis};
pub use botscope_core::botconfig::{BotConfig, BotServer};
pub use botscope_deobf::upx::{nrv, unfilter};
pub use store::{Source, Store};

/// Parses a time given on the command line: epoch seconds, `YYYY-MM-DD`
/// (midnight UTC) or RFC 3339 UTC. Returns epoch seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if s.len() == 10 {
        return botscope_core::Ts::parse_rfc3339(&format!("{s}T00:00:00Z")).map(|t| t.secs());
    }
    botscope_core::Ts::parse_rfc3339(s).map(|t| t.secs())
}
