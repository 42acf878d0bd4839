//! Peer-to-peer command channels (the study's §9): Gnutella 0.6 links
//! (handshake, then 23-byte descriptors, deflate-compressed when the peers
//! agree to it) and opaque links — TCP flows no dissector claims whose
//! payload is high-entropy both ways, the per-link shape of a WASTE-style
//! encrypted mesh. Each link becomes one `P2pLink` event when it ends; the
//! mesh shape across links (many long-lived links on one port, symmetric
//! volumes) is judged from those events in `botscope-behavior`'s `p2p`.

pub mod entropy;
pub mod opaque;
pub mod parser;
pub mod state;
