//! The packet-level half of `botscope analyze` lives in the dissect layer
//! ([`botscope_dissect::observe`]): exploit classification, executables
//! over TCP, floods, scans and relay requests are observed there and
//! arrive here as typed events. This module keeps the names the
//! behaviour crate has always exported.

pub use botscope_core::events::{BinaryTransfer, FloodObs, RelayObs, ScanObs};
pub use botscope_dissect::binary::pe_file_size;
pub use botscope_dissect::flood::{
    mac_string, FLOOD_GAP_US, FLOOD_MIN_PACKETS, MAX_MAC_HOSTS, SPOOF_MAX_PER_SOURCE,
    SPOOF_MIN_PPS, SPOOF_MIN_SOURCES,
};
pub use botscope_dissect::observe::{Evictions, Limits, Observer as BehaviorSink};
pub use botscope_dissect::relay::relay_request;
pub use botscope_dissect::scan::{covering_range, SCAN_GAP_US, SCAN_MIN_TARGETS};
