//! Resolver-log readers, watch-list matching and the deemed infection rate
//! (exact and HyperLogLog).
//!
//! Data flows one way: [`read`] turns BIND, Unbound, dnstap, Zeek and CSV
//! logs into [`read::Query`] values; [`rate::RateEngine`] counts distinct
//! clients and clients that resolved a [`watch::NameSet`] name per window
//! and group, and lists the infected clients. See `docs/dns.md`.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod clients;
pub mod dga;
pub mod hll;
pub mod lake;
pub mod name;
pub mod parallel;
pub mod pattern;
pub mod rate;
pub mod read;
pub mod suspect;
pub mod watch;

pub use rate::{GroupBy, Mode, RateConfig, RateEngine, RateReport};
pub use read::{LogFormat, Query, ReadOptions};
pub use watch::NameSet;
