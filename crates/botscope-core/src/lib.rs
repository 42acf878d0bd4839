//! Shared vocabulary of botscope: timestamps, flow keys, the typed events
//! that sources emit and analyses read, located errors, and the rule that
//! decides where state lives.
//!
//! Data flows one way (see `DESIGN.md`): sources produce [`events`], analyses
//! consume them. Nothing here parses untrusted bytes.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
pub mod botconfig;
pub mod checksum;
pub mod cidr;
pub mod compact;
pub mod error;
pub mod events;
pub mod exploit;
pub mod hash;
pub mod name;
pub mod net;
pub mod report;
pub mod series;
pub mod store;
pub mod time;
pub mod tz;

pub use error::{Located, Location};
pub use net::{FlowKey, Proto};
pub use time::Ts;
