//! Bot behaviour analytics over events: exploit vectors, copy method,
//! infection sequence, IRC C&C, orders, floods, spam relays, updates, scans.
//!
//! No bytes are parsed here: the dissect layer turns packets into typed
//! events (IRC, DNS, HTTP... and, from `botscope_dissect::observe`,
//! exploit attempts, executables over TCP, floods, scans, relay
//! requests); [`inputs`] collects them, from a capture run
//! ([`pipeline::run`]) or from JSON Lines read back from disk
//! ([`pipeline::run_events`]); [`analysis::analyze`] joins them into the
//! study's tables ([`analysis::Report`]); [`render`] prints and writes them.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analysis;
pub mod attribution;
pub mod copy;
pub mod exploits;
pub mod floods;
pub mod herd;
pub mod http_cc;
pub mod inputs;
pub mod orders;
pub mod p2p;
pub mod pipeline;
pub mod relays;
pub mod render;
pub mod scans;
pub mod sequence;
pub mod series;
pub mod sessions;
pub mod sink;
pub use botscope_dissect::flood::spread;
pub mod updates;

pub use analysis::{analyze, Inputs, Options, Report};
pub use sink::{BehaviorSink, Limits};
