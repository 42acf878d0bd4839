//! Seeded synthetic field data (captures, resolver logs, specimens) with a
//! ground-truth file.
//!
//! [`scenario::generate`] writes, under one output folder, the honeypot-net
//! captures (background and exploits with binary copies), the infected
//! honeypots' capture following the study's Fig. 3, resolver logs,
//! specimens and `truth.json` ([`truth::Truth`]). The same seed gives the
//! same bytes: every choice comes from one seeded ChaCha stream, no map is
//! iterated in hash order and no wall clock is read.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod channels;
pub mod chat;
mod draw;
pub mod exploits;
pub mod herder;
pub mod orders;
pub mod pcap;
pub mod ports;
pub mod proto;
pub mod resolver;
pub mod scenario;
pub mod specimen;
pub mod tcp;
pub mod truth;

pub use scenario::{generate, SynthConfig};
pub use truth::Truth;
