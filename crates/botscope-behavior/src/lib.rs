//! Bot behaviour analytics over events: exploit vectors, copy method,
//! infection sequence, IRC C&C, orders, floods, spam relays, updates, scans.
//!
//! Two halves: [`sink::BehaviorSink`], a packet-level capture sink with
//! bounded state (exploit classification, executables over TCP, floods,
//! scans, relay requests), and [`analysis::analyze`], which joins its
//! observations with dissected events into the study's tables
//! ([`analysis::Report`]); [`render`] prints and writes them.

pub mod analysis;
pub mod attribution;
pub mod herd;
pub mod orders;
pub mod pipeline;
pub mod render;
pub mod sink;
pub mod spread;
pub mod tz;

pub use analysis::{analyze, Inputs, Options, Report};
pub use sink::{BehaviorSink, Limits};
