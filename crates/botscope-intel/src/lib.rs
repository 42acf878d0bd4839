//! C&C name classification, DNS state probing and countermeasure export
//! (RPZ, nftables, iptables, hosts, MISP, STIX) — Tables 5 and 6 of the
//! field study and the block lists an ISP deploys from them.
//!
//! - [`names`]: name checks, name lists, the public-IRC allow-list.
//! - [`classify`]: Table 5, provider category per name.
//! - [`configs`]: bot configs (which bots name which C&C host and port).
//! - [`probe`]: Table 6, DNS state per name through a resolver.
//! - [`store`]: probe history and export state in the store folder.
//! - [`export`]: the countermeasure files.
//! - [`targets`]: addresses never connected to nor exported (non-global,
//!   never-block list).

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod classify;
pub mod configs;
pub mod error;
pub mod export;
pub mod names;
pub mod probe;
pub mod store;
pub mod targets;
pub mod uuid5;
