//! Relay requests arriving at bots (Table 11, Fig. 5): a connection whose
//! first client bytes ask the bot to relay — SOCKS4 CONNECT, SOCKS5
//! greeting then CONNECT, HTTP `CONNECT host:port`, or an SMTP
//! `HELO`/`EHLO` sent through a raw redirect. [`parser`] reads one
//! request from bytes; [`state`] follows one flow and emits a
//! [`botscope_core::events::RelayObs`].

pub mod parser;
pub mod state;

pub use parser::{relay_request, RelayRequest};
pub use state::RelayState;
