//! Integration tests of botscope-capture: peer baselines (Zeek, tshark),
//! the peer corpus (`tests/corpus`), crafted hostile inputs and live
//! capture on `lo`.

#[path = "integration/checksums.rs"]
mod checksums;
#[path = "integration/common.rs"]
mod common;
#[path = "integration/corpus.rs"]
mod corpus;
#[path = "integration/crafted.rs"]
mod crafted;
#[path = "integration/live.rs"]
mod live;
#[path = "integration/parallel.rs"]
mod parallel;
#[path = "integration/sink_memory.rs"]
mod sink_memory;
#[path = "integration/zeek.rs"]
mod zeek;
